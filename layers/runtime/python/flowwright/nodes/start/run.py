"""Start node: checks the user's inputs against the declared variables, loads conversation state."""

from __future__ import annotations

import json
import math
from typing import Any

from flowwright.errors import NodeInputError
from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.nodes.start.config import StartConfig, StartVariable
from flowwright.runtime.addresses import conversation_key
from flowwright.variables import VariablePool

__all__ = ["coerce_input", "run"]

_TEXT_TYPES = {"text-input", "paragraph", "select"}


def coerce_input(var: StartVariable, value: Any) -> Any:
    """``value`` converted to ``var``'s type, or a :class:`NodeInputError` saying why not."""
    name = var.variable
    if var.type in _TEXT_TYPES:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise NodeInputError(f"input '{name}' must be a string, got {type(value).__name__}")
        value = str(value) if not isinstance(value, str) else value
        if var.max_length and var.type != "select" and len(value) > var.max_length:
            raise NodeInputError(
                f"input '{name}' is {len(value)} characters long; the limit is {var.max_length}"
            )
        if var.type == "select" and var.options and value not in [str(o) for o in var.options]:
            choices = ", ".join(str(o) for o in var.options)
            raise NodeInputError(f"input '{name}' must be one of: {choices}")
        return value
    if var.type == "number":
        if isinstance(value, bool):
            raise NodeInputError(f"input '{name}' must be a number, got a boolean")
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise NodeInputError(f"input '{name}' must be a number, got {value!r}") from None
            value = int(number) if number.is_integer() and "." not in value else number
        if not isinstance(value, (int, float)) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise NodeInputError(f"input '{name}' must be a finite number")
        return value
    if var.type in ("checkbox", "boolean"):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise NodeInputError(f"input '{name}' must be true or false")
        return value
    if var.type == "json_object":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise NodeInputError(f"input '{name}' must be a JSON object") from None
        if not isinstance(value, dict):
            raise NodeInputError(f"input '{name}' must be a JSON object")
        return value
    if var.type == "file":
        if not isinstance(value, dict):
            raise NodeInputError(f"input '{name}' must be a file object")
        return value
    if var.type == "file-list":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise NodeInputError(f"input '{name}' must be a list of file objects")
        return value
    return value


def run(config: StartConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Validate inputs; in chatflows, load conversation variables and count the dialogue."""
    given = pool.scope("#inputs")
    outputs: dict[str, Any] = {}
    problems: list[str] = []
    for var in config.variables:
        value = given.get(var.variable)
        if value is None or value == "":
            if var.required:
                problems.append(f"input '{var.variable}' is required")
                continue
            value = var.default
            outputs[var.variable] = value
            continue
        try:
            outputs[var.variable] = coerce_input(var, pool.resolve(value))
        except NodeInputError as exc:
            problems.append(str(exc))
    if problems:
        raise NodeInputError("; ".join(problems))

    sys_vars = dict(pool.scope("sys"))
    writes: dict[str, Any] = {"inputs": None}
    conversation = pool.scope("#conversation")
    defaults = conversation.get("defaults") or {}
    if ctx.mode == "advanced-chat" and ctx.conversation_id and ctx.services is not None:
        store = ctx.services.conversations
        stored = store.variables(ctx.app_id, ctx.conversation_id) or {}
        for name, default in defaults.items():
            writes[conversation_key(name)] = stored.get(name, default)
        sys_vars["dialogue_count"] = len(store.messages(ctx.app_id, ctx.conversation_id)) + 1
    writes["sys"] = sys_vars
    return NodeResult(outputs=outputs, inputs=dict(given), extra={"w": writes})
