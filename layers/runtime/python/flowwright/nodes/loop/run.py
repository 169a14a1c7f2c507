"""Loop: ``init`` sets the loop variables, ``check`` ends each round and decides whether to stop."""

from __future__ import annotations

import json
import time
from typing import Any

from flowwright.errors import NodeExecutionError, NodeInputError
from flowwright.nodes.base import NodeConfig, NodeContext, NodeResult, as_selector
from flowwright.nodes.if_else.conditions import evaluate_conditions
from flowwright.nodes.loop.config import LoopConfig, LoopVariable
from flowwright.runtime.records import answer_text, ran
from flowwright.variables import MISSING, VariablePool

__all__ = ["EVENTS", "check", "constant_value", "init"]

EVENTS = {"init": ("started", "finished"), "check": ("finished",)}


def constant_value(var: LoopVariable) -> Any:
    """A constant loop variable converted to its type (JSON text is decoded, as Dify does)."""
    value = var.value
    kind = var.var_type
    if isinstance(value, str) and kind != "string":
        try:
            value = json.loads(value) if value.strip() else _empty(kind)
        except ValueError:
            raise NodeInputError(
                f"loop variable '{var.label}': {value!r} is not a valid {kind}"
            ) from None
    if value is None:
        return _empty(kind)
    if not _matches(kind, value):
        raise NodeInputError(
            f"loop variable '{var.label}' must be of type {kind}, got {type(value).__name__}"
        )
    return value


def _empty(kind: str) -> Any:
    return {"string": "", "number": 0, "object": {}, "boolean": False}.get(kind, [])


def _matches(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    return isinstance(value, list)


def init(config: LoopConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Initial loop variables; stops at once when the count is 0 or a break condition holds."""
    values: dict[str, Any] = {}
    for var in config.loop_variables:
        if var.value_type == "constant":
            value = constant_value(var)
        else:
            selector = as_selector(var.value)
            value = pool.get(selector) if selector else MISSING
            if value is MISSING or value is None:
                raise NodeInputError(
                    f"invalid value for loop variable '{var.label}': {var.value!r} not found"
                )
            value = pool.resolve_deep(value)
        values[var.label] = value
        pool.set((ctx.node_id, var.label), value)
    stop = config.loop_count <= 0
    if not stop and config.break_conditions:
        try:
            stop = evaluate_conditions(config.break_conditions, config.logical_operator, pool)
        except NodeExecutionError:
            stop = False  # Dify ignores errors of the check before the first round
    return NodeResult(
        outputs={**values, "loop_round": 0},
        writes={(ctx.node_id, label): value for label, value in values.items()},
        extra={"round": 0, "stop": stop, "a": "", "t0": time.time()},
        finished=stop,
        inputs={"loop_count": config.loop_count, **values},
    )


def check(config: NodeConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """End one round: collect its answers, then stop on a loop-end node, the count or a condition."""
    assert isinstance(config, LoopConfig)
    state = pool.scope("#loop")
    body = pool.scope("#body")
    round_no = int(state.get("round", 0)) + 1
    answer = str(pool.resolve(state.get("a") or ""))
    answer += answer_text(body, pool.scope("#answers").get("order", []), pool.resolve)
    broke = any(ran(body.get(node_id)) for node_id in pool.scope("#breaks").get("order", []))
    stop = broke or round_no >= config.loop_count
    if not stop and config.break_conditions:
        stop = evaluate_conditions(config.break_conditions, config.logical_operator, pool)
    values = {var.label: pool.value((ctx.node_id, var.label)) for var in config.loop_variables}
    return NodeResult(
        outputs={**values, "loop_round": round_no},
        answer=answer,
        extra={"round": round_no, "stop": stop, "t0": state.get("t0")},
        finished=stop,
        started_at=state.get("t0"),
    )
