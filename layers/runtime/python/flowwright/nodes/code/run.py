"""Code node executor: runs the user's ``main`` in the sandbox and checks its outputs."""

from __future__ import annotations

import os
from typing import Any

from flowwright.errors import NodeConfigError, NodeExecutionError
from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.nodes.code.checks import DEFAULT_LIMITS, check_outputs
from flowwright.nodes.code.config import CodeConfig
from flowwright.nodes.code.sandbox import run_python
from flowwright.variables import VariablePool

__all__ = ["MEMORY_ENV", "TIMEOUT_ENV", "code_limits", "run"]

TIMEOUT_ENV = "FLOWWRIGHT_CODE_TIMEOUT_S"
MEMORY_ENV = "FLOWWRIGHT_CODE_MEMORY_MB"


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise NodeConfigError(f"{name} must be a positive number, got {raw!r}")
    return value


def code_limits() -> tuple[float, int]:
    """``(timeout_s, memory_mb)`` for code nodes, from the environment (defaults 10 s, 256 MiB)."""
    return _env_number(TIMEOUT_ENV, 10.0), int(_env_number(MEMORY_ENV, 256))


def run(config: CodeConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Run the node's ``main(**inputs)`` and return its checked outputs."""
    if config.code_language != "python3":
        raise NodeConfigError(
            "javascript code nodes are not supported; use python3", node_id=ctx.node_id
        )
    inputs: dict[str, Any] = {
        v.variable: pool.resolve_deep(pool.value(v.value_selector)) for v in config.variables
    }
    try:
        timeout_s, memory_mb = code_limits()
        result = run_python(config.code, inputs, timeout_s=timeout_s, memory_mb=memory_mb)
        outputs = check_outputs(result, config.outputs, DEFAULT_LIMITS)
    except NodeExecutionError as exc:
        exc.node_id = exc.node_id or ctx.node_id
        raise
    return NodeResult(outputs=outputs, inputs=inputs)
