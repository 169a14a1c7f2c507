"""Dify's checks and conversions of a code node's result against its declared outputs.

Mirrors ``graphon.nodes.code.code_node.CodeNode._transform_result``, including what Dify lets
through: a ``boolean`` output is not type-checked, ``array[number]`` elements are not range
checked, and an ``object`` without ``children`` is validated but returned unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flowwright.errors import NodeConfigError, NodeExecutionError
from flowwright.nodes.code.config import CodeOutput

__all__ = ["DEFAULT_LIMITS", "CodeLimits", "CodeOutputError", "check_outputs"]


@dataclass(frozen=True)
class CodeLimits:
    """Dify's ``CODE_MAX_*`` settings (defaults as in Dify and the peer harness)."""

    max_string_length: int = 400_000
    max_number: int | float = 9223372036854775807
    min_number: int | float = -9223372036854775808
    max_precision: int = 20
    max_depth: int = 5
    max_number_array_length: int = 1000
    max_string_array_length: int = 30
    max_object_array_length: int = 30


DEFAULT_LIMITS = CodeLimits()

_TYPES = frozenset(
    {"string", "number", "boolean", "object"}
    | {f"array[{t}]" for t in ("number", "string", "object", "boolean")}
)


class CodeOutputError(NodeExecutionError):
    """The result of ``main()`` does not match the node's declared outputs."""


def check_outputs(
    result: dict[str, Any], outputs: dict[str, CodeOutput], limits: CodeLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """Check ``result`` against the declared ``outputs`` and return the converted values.

    Every declared output must be present and no other key may be (as in Dify). Strings lose
    NUL characters; booleans in ``number``/``array[number]`` outputs become ``0``/``1``.
    """
    return _typed(result, outputs, limits, "", 1)


def _name(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _kind(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def _depth(name: str, depth: int, limits: CodeLimits) -> None:
    if depth > limits.max_depth:
        raise CodeOutputError(
            f"output '{name}' is nested too deeply (at most {limits.max_depth} levels)"
        )


def _typed(
    result: dict[str, Any],
    schema: dict[str, CodeOutput],
    limits: CodeLimits,
    prefix: str,
    depth: int,
) -> dict[str, Any]:
    _depth(prefix, depth, limits)
    checked: dict[str, Any] = {}
    for key, spec in schema.items():
        name = _name(prefix, key)
        if key not in result:
            raise CodeOutputError(f"output '{name}' is missing from the result of main()")
        checked[key] = _value(result[key], spec, limits, name, depth)
    extra = [_name(prefix, key) for key in result if key not in schema]
    if extra:
        listed = ", ".join(f"'{name}'" for name in extra)
        raise CodeOutputError(f"main() returned undeclared outputs: {listed}")
    return checked


def _value(value: Any, spec: CodeOutput, limits: CodeLimits, name: str, depth: int) -> Any:
    kind = spec.type
    if kind not in _TYPES:
        raise NodeConfigError(f"output '{name}' has type '{kind}', which code nodes do not support")
    if kind == "boolean":
        return value  # Dify does not check booleans
    if value is None:
        return None
    if kind == "string":
        if not isinstance(value, str):
            raise CodeOutputError(f"output '{name}' must be a string, got {_kind(value)}")
        return _string(value, limits, name)
    if kind == "number":
        if not isinstance(value, int | float):
            raise CodeOutputError(f"output '{name}' must be a number, got {_kind(value)}")
        number = _number(value, limits, name)
        return int(number) if isinstance(number, bool) else number
    if kind == "object":
        if not isinstance(value, dict):
            raise CodeOutputError(f"output '{name}' must be an object, got {_kind(value)}")
        return _object(value, spec, limits, name, depth + 1)
    if not isinstance(value, list):
        raise CodeOutputError(f"output '{name}' must be an array, got {_kind(value)}")
    if kind == "array[boolean]":
        for i, item in enumerate(value):
            if item is not None and not isinstance(item, bool):
                raise CodeOutputError(f"output '{name}[{i}]' must be a boolean, got {_kind(item)}")
        return list(value)
    longest = {
        "array[number]": limits.max_number_array_length,
        "array[string]": limits.max_string_array_length,
        "array[object]": limits.max_object_array_length,
    }[kind]
    if len(value) > longest:
        raise CodeOutputError(
            f"output '{name}' has {len(value)} elements, more than the limit of {longest}"
        )
    if kind == "array[number]":
        for i, item in enumerate(value):
            if not isinstance(item, int | float):
                raise CodeOutputError(f"output '{name}[{i}]' must be a number, got {_kind(item)}")
        return [int(item) if isinstance(item, bool) else item for item in value]
    if kind == "array[string]":
        for i, item in enumerate(value):
            if item is not None and not isinstance(item, str):
                raise CodeOutputError(f"output '{name}[{i}]' must be a string, got {_kind(item)}")
        return [
            None if s is None else _string(s, limits, f"{name}[{i}]") for i, s in enumerate(value)
        ]
    for i, item in enumerate(value):
        if item is not None and not isinstance(item, dict):
            raise CodeOutputError(f"output '{name}[{i}]' must be an object, got {_kind(item)}")
    return [
        None if item is None else _object(item, spec, limits, f"{name}[{i}]", depth + 1)
        for i, item in enumerate(value)
    ]


def _object(
    value: dict[str, Any], spec: CodeOutput, limits: CodeLimits, name: str, depth: int
) -> dict[str, Any]:
    if spec.children is not None:
        return _typed(value, spec.children, limits, name, depth)
    _untyped(value, limits, name, depth)
    return value


def _string(value: str, limits: CodeLimits, name: str) -> str:
    if len(value) > limits.max_string_length:
        raise CodeOutputError(
            f"output '{name}' is {len(value)} characters long, "
            f"more than the limit of {limits.max_string_length}"
        )
    return value.replace("\x00", "")


def _number(value: int | float, limits: CodeLimits, name: str) -> int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise CodeOutputError(f"output '{name}' must be a finite number, got {value}")
    if value > limits.max_number or value < limits.min_number:
        raise CodeOutputError(
            f"output '{name}' is out of range, "
            f"it must be between {limits.min_number} and {limits.max_number}"
        )
    if isinstance(value, float):
        exponent = Decimal(str(value)).normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > limits.max_precision:
            raise CodeOutputError(
                f"output '{name}' has {-exponent} decimal places, "
                f"more than the limit of {limits.max_precision}"
            )
    return value


def _untyped(value: dict[str, Any], limits: CodeLimits, name: str, depth: int) -> None:
    """Validate an object without declared children, as Dify does (values unchanged)."""
    _depth(name, depth, limits)
    for key, item in value.items():
        _untyped_item(item, limits, _name(name, key), depth)


def _untyped_item(item: Any, limits: CodeLimits, name: str, depth: int) -> None:
    if item is None or isinstance(item, bool):
        return
    if isinstance(item, dict):
        _untyped(item, limits, name, depth + 1)
    elif isinstance(item, int | float):
        _number(item, limits, name)
    elif isinstance(item, str):
        _string(item, limits, name)
    elif isinstance(item, list):
        _untyped_list(item, limits, name, depth)
    else:
        raise CodeOutputError(f"output '{name}' has an unsupported type {_kind(item)}")


def _untyped_list(items: list[Any], limits: CodeLimits, name: str, depth: int) -> None:
    if not items or items[0] is None:
        return  # Dify only checks arrays whose first element is not null
    for kinds in ((int, float), (str,), (dict,)):
        if isinstance(items[0], kinds) and all(v is None or isinstance(v, kinds) for v in items):
            for i, item in enumerate(items):
                if item is not None:
                    _untyped_item(item, limits, f"{name}[{i}]", depth)
            return
    if all(v is None or isinstance(v, list) for v in items):
        raise CodeOutputError(f"output '{name}' is an array of arrays, which Dify does not accept")
    raise CodeOutputError(
        f"output '{name}' is not a valid array: all its elements must have the same type"
    )
