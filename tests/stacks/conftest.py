"""One synthesized stack per session (bundling skipped: layers are built by the size test)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import ROOT

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")


def cdk_context(**overrides: Any) -> dict[str, Any]:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context["aws:cdk:bundling-stacks"] = []
    context.update(overrides)
    return context


@pytest.fixture(scope="session")
def synthesized() -> Iterator[Any]:
    import aws_cdk as cdk

    from stacks.app import build_app

    app = cdk.App(context=cdk_context())
    build_app(app)
    app.synth()  # raises if cdk-nag reports a finding nobody acknowledged
    stack = next(c for c in app.node.children if isinstance(c, cdk.Stack))
    yield stack


@pytest.fixture(scope="session")
def template(synthesized: Any) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_stack(synthesized)
