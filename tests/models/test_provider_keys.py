"""Provider keys come from Secrets Manager in AWS and never from the definition or env files."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import boto3
import pytest
from flowwright.models import provider_keys
from moto import mock_aws


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(provider_keys, "_loaded", False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    yield


@pytest.fixture
def name() -> str:
    """A fresh secret name: moto keeps state while another test's mock is open."""
    return f"fw/keys-{uuid.uuid4().hex}"


def test_keys_are_loaded_once_from_the_secret(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name=name, SecretString=json.dumps({"OPENAI_API_KEY": "sk-test"}))
        monkeypatch.setenv("FLOWWRIGHT_PROVIDER_SECRET", name)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "already-set")
        assert provider_keys.load_provider_keys(client) == ["OPENAI_API_KEY"]
        assert os.environ["OPENAI_API_KEY"] == "sk-test"
        assert provider_keys.load_provider_keys(client) == []  # once per container


def test_variables_already_set_win(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(
            Name=name, SecretString=json.dumps({"ANTHROPIC_API_KEY": "from-secret"})
        )
        monkeypatch.setenv("FLOWWRIGHT_PROVIDER_SECRET", name)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "from-env")
        provider_keys.load_provider_keys(client)
        assert os.environ["ANTHROPIC_API_KEY"] == "from-env"


def test_a_secret_that_is_not_an_object_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name=name, SecretString="sk-plain")
        monkeypatch.setenv("FLOWWRIGHT_PROVIDER_SECRET", name)
        with pytest.raises(ValueError, match="must be a JSON object"):
            provider_keys.load_provider_keys(client)


def test_nothing_is_loaded_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWWRIGHT_PROVIDER_SECRET", raising=False)
    assert provider_keys.load_provider_keys(object()) == []
