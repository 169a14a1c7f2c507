"""Variable assigner executor: Dify's v2 operations (v1 nodes arrive as v2 items).

Declared variable types come from the pool scope ``#types`` (``"conversation.x" -> "string"``);
an undeclared variable's type is inferred from its current value and its input is not checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flowwright.errors import NodeConfigError, NodeExecutionError, NodeInputError
from flowwright.nodes.assigner.config import AssignerConfig, AssignItem
from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.variables import MISSING, Selector, VariablePool

__all__ = ["run"]

TYPES_SCOPE = "#types"
_NUMBER = {"number", "integer", "float"}
_NO_INPUT = {"clear", "remove-first", "remove-last"}
_ARITHMETIC = {"+=", "-=", "*=", "/="}
_ARRAY_OPS = {"append", "extend", "remove-first", "remove-last"}
# Dify: array[any] takes str/number/object items; bool passes as an int, lists do not.
_ITEM_CHECKS: dict[str, Callable[[Any], bool]] = {
    "array[any]": lambda v: isinstance(v, (str, float, int, dict)),
    "array[string]": lambda v: isinstance(v, str),
    "array[number]": lambda v: isinstance(v, (int, float)),
    "array[object]": lambda v: isinstance(v, dict),
    "array[boolean]": lambda v: isinstance(v, bool),
}
_SCALAR_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    # Dify: a boolean passes as a number (bool is an int in Python).
    "number": lambda v: isinstance(v, (int, float)),
    "object": lambda v: isinstance(v, dict),
}


def _base(var_type: str) -> str:
    return "number" if var_type in _NUMBER else var_type


def _infer_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    for python_type, name in ((str, "string"), (dict, "object"), (list, "array[any]")):
        if isinstance(value, python_type):
            return name
    return None


def _describe(value: Any) -> str:
    """``a number``, ``an object``, ``null`` ... for error messages."""
    name = {bool: "boolean", str: "string", dict: "object", list: "array"}.get(type(value))
    if name is None:
        name = "number" if isinstance(value, (int, float)) else "null" if value is None else "value"
    return name if name == "null" else ("an " if name[0] in "aeio" else "a ") + name


def _where(selector: Selector) -> str:
    if selector[0] == "conversation":
        return f"conversation variable '{'.'.join(selector[1:])}'"
    return f"variable '{'.'.join(selector)}'"


def _operation_supported(var_type: str | None, operation: str) -> bool:
    if operation in ("over-write", "clear"):
        return True
    if var_type is None:
        return False
    if operation == "set":
        return _base(var_type) in _SCALAR_CHECKS
    if operation in _ARITHMETIC:
        return var_type in _NUMBER
    return var_type.startswith("array[")


def _constant_supported(var_type: str | None, operation: str) -> bool:
    if var_type is None:
        return operation == "over-write"
    if var_type in _NUMBER:
        return operation in _ARITHMETIC or operation in ("over-write", "set")
    # Dify: array variables take no constant input at all (only variables).
    return _base(var_type) in _SCALAR_CHECKS and operation in ("over-write", "set")


def _message(operation: str, what: str, target: str) -> str:
    if operation == "append":
        return f"cannot append {what} to {target}"
    if operation == "extend":
        return f"cannot extend {target} with {what}"
    if operation in _ARITHMETIC:
        return f"cannot apply {operation} to {target} with {what}"
    return f"cannot assign {what} to {target}"


def _input_error(item: AssignItem, var_type: str, value: Any, selector: Selector) -> str | None:
    """Why ``value`` cannot be used on a variable of ``var_type``, or ``None`` when it can."""
    operation = item.operation
    target = f"{_where(selector)} of type {var_type}"
    scalar = _SCALAR_CHECKS.get(_base(var_type))
    if scalar is not None:
        return None if scalar(value) else _message(operation, _describe(value), target)
    check = _ITEM_CHECKS.get(var_type)
    if check is None:
        return f"{_where(selector)} has unsupported type {var_type}"
    if operation == "append":
        return None if check(value) else _message(operation, _describe(value), target)
    if not isinstance(value, list):
        return _message(operation, _describe(value), target)
    bad = next((v for v in value if not check(v)), MISSING)
    if bad is MISSING:
        return None
    return _message(operation, f"an array containing {_describe(bad)}", target)


def _zero(var_type: str | None, current: Any, selector: Selector) -> Any:
    if var_type is not None:
        if var_type in _ITEM_CHECKS:
            return []
        if var_type == "number" and isinstance(current, float):
            return 0.0  # Dify: a number variable holding a float is cleared to 0.0
        zero = {"string": "", "number": 0, "integer": 0, "float": 0.0, "object": {}}
        if var_type in zero:
            return zero[var_type]
        if var_type == "boolean":
            return False
    raise NodeExecutionError(f"cannot clear {_where(selector)} of type {var_type or 'unknown'}")


def _apply(
    operation: str, current: Any, value: Any, selector: Selector, var_type: str | None
) -> Any:
    if operation in ("over-write", "set"):
        return value
    if operation == "clear":
        return _zero(var_type, current, selector)
    if operation in _ARRAY_OPS:
        if not isinstance(current, list):
            raise NodeExecutionError(
                f"cannot {operation} on {_where(selector)}: it is not an array"
            )
        if operation == "append":
            return [*current, value]
        if operation == "extend":
            if not isinstance(value, list):
                raise NodeExecutionError(
                    f"cannot extend {_where(selector)} with {_describe(value)}"
                )
            return [*current, *value]
        # Dify: removing from an empty array leaves it empty.
        return current[1:] if operation == "remove-first" else current[:-1]
    if not isinstance(current, (int, float)) or not isinstance(value, (int, float)):
        raise NodeExecutionError(
            f"cannot apply {operation} to {_where(selector)} ({_describe(current)})"
            f" with {_describe(value)}: both must be numbers"
        )
    if operation == "/=" and value == 0:
        raise NodeExecutionError(f"division by zero in {operation} on {_where(selector)}")
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "+=": lambda a, b: a + b,
        "-=": lambda a, b: a - b,
        "*=": lambda a, b: a * b,
        "/=": lambda a, b: a / b,
    }
    return ops[operation](current, value)


def _is_v1(config: AssignerConfig) -> bool:
    return config.version != "2" and bool(
        (config.model_extra or {}).get("assigned_variable_selector")
    )


def run(config: AssignerConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Apply the items in order (each sees the earlier updates); return the final values.

    Raises :class:`NodeInputError` for a missing variable or an input of the wrong type,
    :class:`NodeConfigError` for an operation the variable's type does not support.
    """
    declared: dict[str, Any] = pool.scope(TYPES_SCOPE)
    v1 = _is_v1(config)
    writes: dict[Selector, Any] = {}
    for item in config.items:
        selector: Selector = tuple(item.variable_selector)
        current = pool.get(selector)
        if len(selector) < 2 or current is MISSING:
            raise NodeInputError(f"Variable {'.'.join(selector)} not found")
        known = declared.get(".".join(selector))
        var_type = known if isinstance(known, str) else _infer_type(current)
        operation = item.operation
        error = NodeConfigError if known else NodeInputError
        if not _operation_supported(var_type, operation):
            raise error(
                f"operation {operation} is not supported for {_where(selector)} of type {var_type}"
            )
        if item.input_type == "variable" and (operation == "set" or operation in _ARITHMETIC):
            raise NodeConfigError(f"input type variable is not supported for operation {operation}")
        if item.input_type == "constant" and not _constant_supported(var_type, operation):
            where = _where(selector)
            raise error(f"input type constant is not supported for {operation} on {where}")
        value = item.value
        if item.input_type == "variable" and operation not in _NO_INPUT and value is not None:
            if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
                raise NodeConfigError(
                    f"input of {_where(selector)} is not a variable selector: {value!r}"
                )
            value = pool.get(value)
            if value is MISSING:
                raise NodeInputError(
                    f"Variable {'.'.join(item.value)} not found (input of {_where(selector)})"
                )
            if value is None and not v1:
                continue  # Dify (v2): a null input leaves the variable unchanged.
        if operation == "set" and var_type == "object" and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise NodeInputError(f"invalid JSON for {_where(selector)}: {value!r}") from None
        # Dify: v1 assigners never check the input's type.
        checked = known and not v1 and operation not in _NO_INPUT
        if checked and (message := _input_error(item, str(known), value, selector)):
            raise NodeInputError(message)
        new_value = _apply(operation, current, value, selector, var_type)
        pool.set(selector, new_value)
        writes[selector] = new_value
    return NodeResult(
        outputs={},
        writes=writes,
        process_data={
            "updated_variables": [
                {"name": sel[-1], "selector": list(sel), "new_value": val}
                for sel, val in writes.items()
            ]
        },
    )
