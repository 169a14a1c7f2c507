"""Deployment configuration and the synth-time gates (bad apps, cdk-nag)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flowwright.errors import DslError
from pydantic import ValidationError

from stacks.config import DeployConfig
from tests.stacks.conftest import cdk_context

pytestmark = pytest.mark.slow


def synth(tmp_path: Path, **overrides: Any) -> Any:
    import aws_cdk as cdk

    from stacks.app import build_app

    app = cdk.App(context=cdk_context(**overrides), outdir=str(tmp_path / "cdk.out"))
    build_app(app)
    return app.synth()


def test_stage_override_makes_a_separate_stack(tmp_path: Path) -> None:
    assembly = synth(tmp_path, stage="prod")
    assert [s.stack_name for s in assembly.stacks] == ["Flowwright-prod"]


def test_stage_names_are_checked() -> None:
    with pytest.raises(ValidationError):
        DeployConfig.model_validate({"stage": "Prod Stage!"})


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="appDir"):
        DeployConfig.model_validate({"appDir": "typo"})


def test_machine_type_per_app() -> None:
    config = DeployConfig.model_validate({"stateMachineTypes": {"a": "EXPRESS"}})
    assert (config.machine_type("a"), config.machine_type("b")) == ("EXPRESS", "STANDARD")


def test_a_broken_app_stops_the_synth_with_its_problems(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "broken.yml").write_text("nodes:\n  - id: a\n    data: {type: teleport}\nedges: []\n")
    with pytest.raises(DslError, match="unknown node type 'teleport'"):
        synth(tmp_path, appsDir=str(apps))


def test_missing_apps_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such folder"):
        synth(tmp_path, appsDir=str(tmp_path / "nope"))


def test_cdk_nag_stops_an_unacknowledged_finding(tmp_path: Path) -> None:
    """The gate the stack passes is real: a bucket without TLS enforcement fails synth."""
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3
    from cdk_nag import AwsSolutionsChecks

    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "Probe")
    s3.Bucket(stack, "Plain")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="AwsSolutions-S10"):
        app.synth()
