"""Compile a Dify app into an AWS Step Functions state machine (ASL, JSONPath)."""

from __future__ import annotations

from typing import Any

from flowwright.compiler.emit import Emitter, Resources
from flowwright.compiler.plan import plan_app
from flowwright.dsl.models import App

__all__ = ["Resources", "compile_app"]


def compile_app(app: App, resources: Resources | None = None) -> dict[str, Any]:
    """The ASL definition of ``app``. Deterministic: the same app gives the same JSON.

    ``resources`` maps node function keys to Lambda ARNs; by default each Task's
    ``Resource`` is a ``${Fn_<key>}`` placeholder for ``DefinitionSubstitutions``.
    """
    return Emitter(app, plan_app(app), resources or Resources()).machine()
