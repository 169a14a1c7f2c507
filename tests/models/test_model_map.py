"""Model map: which litellm model answers a Dify provider/name, per profile and overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flowwright.models.model_map import LOCAL_CHAT_MODEL, ModelMap


@pytest.mark.parametrize(
    ("provider", "name", "requested"),
    [
        ("langgenius/openai/openai", "gpt-4o", "openai/gpt-4o"),
        ("anthropic", "claude-3-5-sonnet", "anthropic/claude-3-5-sonnet"),
        ("somebody/new_vendor/new_vendor", "m1", "new_vendor/m1"),
    ],
)
def test_offline_profile_sends_everything_to_the_local_model(
    provider: str, name: str, requested: str
) -> None:
    choice = ModelMap("offline").resolve(provider, name)
    assert choice.model == LOCAL_CHAT_MODEL == "flowwright-local/smollm2"
    assert choice.requested == requested
    assert choice.note is not None and requested in choice.note


def test_offline_is_the_default_profile() -> None:
    assert ModelMap().resolve("openai", "gpt-4o").model == LOCAL_CHAT_MODEL


@pytest.mark.parametrize(
    ("provider", "name", "model"),
    [
        ("langgenius/openai/openai", "gpt-4o", "openai/gpt-4o"),
        ("openai", "gpt-4o-mini", "openai/gpt-4o-mini"),
        ("langgenius/anthropic/anthropic", "claude-3-5-sonnet", "anthropic/claude-3-5-sonnet"),
        ("bedrock", "anthropic.claude-v2", "bedrock/anthropic.claude-v2"),
        ("langgenius/azure_openai/azure_openai", "my-deploy", "azure/my-deploy"),
        ("tongyi", "qwen-max", "dashscope/qwen-max"),
        ("acme/llamas/llamas", "big", "llamas/big"),
        ("", "gpt-4o", "gpt-4o"),
    ],
)
def test_cloud_profile_prefixes(provider: str, name: str, model: str) -> None:
    choice = ModelMap("cloud").resolve(provider, name)
    assert choice.model == model
    assert choice.note is None


@pytest.mark.parametrize("provider", ["openai", "unknown"])
def test_cloud_profile_needs_a_model_name(provider: str) -> None:
    with pytest.raises(ValueError, match="names no model"):
        ModelMap("cloud").resolve(provider, "")


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model profile 'online'"):
        ModelMap("online")


def test_overrides_win_over_the_profile() -> None:
    # GIVEN overrides for one exact model (raw and short provider spellings) and a wildcard
    overrides = {
        "langgenius/openai/openai/gpt-4o": "bedrock/raw-key",
        "anthropic/claude": "openai/short-key",
        "*": "ollama/llama3",
    }
    models = ModelMap("offline", overrides)
    # THEN exact keys are used first, then the wildcard; the note names the request
    exact = models.resolve("langgenius/openai/openai", "gpt-4o")
    assert (exact.model, exact.note) == ("bedrock/raw-key", "model map: openai/gpt-4o")
    assert models.resolve("langgenius/anthropic/anthropic", "claude").model == "openai/short-key"
    assert models.resolve("openai", "gpt-4o-mini").model == "ollama/llama3"


def test_without_wildcard_unmatched_models_follow_the_profile() -> None:
    models = ModelMap("cloud", {"openai/gpt-4o": "azure/gpt4o-prod"})
    assert models.resolve("openai", "gpt-4o").model == "azure/gpt4o-prod"
    assert models.resolve("openai", "gpt-4o-mini").model == "openai/gpt-4o-mini"


def test_from_env_reads_profile_and_override_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a model map file and the cloud profile in the environment
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"openai/gpt-4o": "anthropic/claude-x"}), encoding="utf-8")
    monkeypatch.setenv("FLOWWRIGHT_MODEL_MAP", str(path))
    monkeypatch.setenv("FLOWWRIGHT_MODEL_PROFILE", "cloud")
    # WHEN a map is built from the environment
    models = ModelMap.from_env()
    # THEN the file's exact key applies and other models get cloud prefixes
    assert models.profile == "cloud"
    assert models.resolve("langgenius/openai/openai", "gpt-4o").model == "anthropic/claude-x"
    assert models.resolve("bedrock", "titan").model == "bedrock/titan"


def test_from_env_wildcard_file_with_default_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"*": "openai/gpt-4o-mini"}), encoding="utf-8")
    monkeypatch.setenv("FLOWWRIGHT_MODEL_MAP", str(path))
    monkeypatch.delenv("FLOWWRIGHT_MODEL_PROFILE", raising=False)
    models = ModelMap.from_env()
    assert models.profile == "offline"
    assert models.resolve("anthropic", "claude").model == "openai/gpt-4o-mini"


def test_from_env_without_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWWRIGHT_MODEL_MAP", raising=False)
    monkeypatch.delenv("FLOWWRIGHT_MODEL_PROFILE", raising=False)
    models = ModelMap.from_env()
    assert (models.profile, models.overrides) == ("offline", {})


def test_from_env_unknown_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWWRIGHT_MODEL_MAP", raising=False)
    monkeypatch.setenv("FLOWWRIGHT_MODEL_PROFILE", "CLOUD")
    with pytest.raises(ValueError, match="unknown model profile"):
        ModelMap.from_env()


def test_inline_json_map_from_the_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWWRIGHT_MODEL_MAP", raising=False)
    monkeypatch.setenv("FLOWWRIGHT_MODEL_PROFILE", "cloud")
    monkeypatch.setenv(
        "FLOWWRIGHT_MODEL_MAP_JSON", '{"openai/gpt-4o": "bedrock/anthropic.claude-3-haiku"}'
    )
    choice = ModelMap.from_env().resolve("langgenius/openai/openai", "gpt-4o")
    assert choice.model == "bedrock/anthropic.claude-3-haiku"
