"""Dify's condition evaluation (``ConditionProcessor``), shared by if-else and loop breaks.

Every operator follows Dify's rules exactly, including its surprises (each marked "Dify:").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowwright.errors import NodeExecutionError
from flowwright.nodes.if_else.config import OPERATOR_ALIASES, Condition, SubCondition
from flowwright.variables import MISSING, VariablePool

__all__ = ["ConditionCheck", "check_conditions", "compare", "evaluate_conditions", "is_file"]

_FILE_IDENTITY = "__dify__file__"
_ARRAY_FILE_OPERATORS = {"contains", "not contains", "all of"}


@dataclass
class ConditionCheck:
    """The outcome of one condition group: per-condition inputs and results, and the verdict."""

    inputs: list[dict[str, Any]] = field(default_factory=list)
    results: list[bool] = field(default_factory=list)
    result: bool = False


def is_file(value: Any) -> bool:
    """Whether ``value`` is a Dify file (a dict carrying Dify's file identity or file fields)."""
    if not isinstance(value, dict):
        return False
    return value.get("dify_model_identity") == _FILE_IDENTITY or (
        "transfer_method" in value and "type" in value
    )


def _is_file_list(value: Any) -> bool:
    # Dify: an empty list is an array[any] segment, never array[file].
    return isinstance(value, list) and bool(value) and all(is_file(v) for v in value)


def _is_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, bool) for v in value)


def evaluate_conditions(
    conditions: Sequence[Condition], logical_operator: str, pool: VariablePool
) -> bool:
    """Whether ``conditions`` hold, combined with ``and``/``or`` (short-circuit, as Dify)."""
    return check_conditions(conditions, logical_operator, pool).result


def check_conditions(
    conditions: Sequence[Condition], logical_operator: str, pool: VariablePool
) -> ConditionCheck:
    """Evaluate ``conditions`` in order, stopping as soon as the verdict is known.

    Raises :class:`NodeExecutionError` when a variable is missing or a value has the wrong type.
    """
    check = ConditionCheck()
    for condition in conditions:
        result = _check_one(condition, pool, check.inputs)
        check.results.append(result)
        if (logical_operator == "and") != result:
            check.result = result
            return check
    check.result = all(check.results) if logical_operator == "and" else any(check.results)
    return check


def _check_one(condition: Condition, pool: VariablePool, inputs: list[dict[str, Any]]) -> bool:
    selector = condition.variable_selector
    operator = condition.comparison_operator
    name = ".".join(selector)
    value = pool.get(selector)
    if value is MISSING:
        raise NodeExecutionError(f"Variable {name} not found (condition {operator!r})")
    try:
        if _is_file_list(value) and operator in _ARRAY_FILE_OPERATORS:
            group = condition.sub_variable_condition
            if group is None:
                raise ValueError("Sub variable is required")
            return _check_files(value, group.conditions, group.logical_operator)
        if operator in ("exists", "not exists"):
            # Dify: exists / not exists record no inputs.
            return compare(operator, value, None)
        expected = condition.value
        if isinstance(expected, str):
            expected = pool.render(expected)
        if _is_boolean(value) and expected is not None:
            # Dify: the expected value is converted when the variable is a boolean.
            if isinstance(expected, list):
                expected = [_to_bool(item) for item in expected]
            else:
                expected = _to_bool(expected)
        inputs.append(
            {"actual_value": value, "expected_value": expected, "comparison_operator": operator}
        )
        return compare(operator, value, expected)
    except (ValueError, TypeError) as exc:
        raise NodeExecutionError(f"condition on {name} ({operator!r}) failed: {exc}") from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, int):
        return bool(value)
    if isinstance(value, str):
        loaded = json.loads(value)  # Dify: "true"/"false"/"1"/"0" only; "True" is an error
        if isinstance(loaded, (int, bool)):
            return bool(loaded)
    raise TypeError(f"unexpected value: type={type(value)}, value={value}")


# ---- file sub-conditions


def _file_attr(file: dict[str, Any], key: str) -> Any:
    match key:
        case "type" | "mime_type" | "transfer_method" | "extension":
            return file.get(key)
        case "size":
            return file.get("size", -1)
        case "name":
            return file.get("filename", file.get("name"))
        case "url":
            return file.get("url") or file.get("remote_url")
        case "related_id":
            return file.get("related_id") or file.get("reference")
    raise ValueError(f"'{key}' is not a valid FileAttribute")


def _check_files(
    files: list[Any], conditions: Sequence[SubCondition], logical_operator: str
) -> bool:
    results: list[bool] = []
    for condition in conditions:
        operator = OPERATOR_ALIASES.get(
            condition.comparison_operator, condition.comparison_operator
        )
        values = [_file_attr(file, condition.key) for file in files]
        expected = condition.value
        if condition.key == "extension":
            if not isinstance(expected, str):
                raise TypeError("Expected value must be a string when key is extension")
            if expected and not expected.startswith("."):
                expected = "." + expected
            values = [
                "." + v if v and isinstance(v, str) and not v.startswith(".") else v for v in values
            ]
        found = [compare(operator, value, expected) for value in values]
        # Dify: operators spelled with "not" must hold for every file, others for any file.
        results.append(all(found) if "not" in operator else any(found))
    # Dify: sub-conditions do not short-circuit.
    return all(results) if logical_operator == "and" else any(results)


# ---- operators


def _contains(value: Any, expected: Any) -> bool:
    if not isinstance(value, (str, list)):
        raise ValueError("Invalid actual value type: string or array")
    if isinstance(value, str):
        return (expected if isinstance(expected, str) else str(expected)) in value
    # Dify: array members are compared as-is, so "1" is not in [1].
    return expected in value


def _text_affix(value: Any, expected: Any, start: bool) -> bool:
    if not value:
        return False
    if not isinstance(value, str):
        raise ValueError("Invalid actual value type: string")
    if not isinstance(expected, str):
        raise ValueError(f"Expected value must be a string for {'starts' if start else 'ends'}with")
    return value.startswith(expected) if start else value.endswith(expected)


def _is(value: Any, expected: Any) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, (str, bool)):
        raise ValueError("Invalid actual value type: string or boolean")
    return bool(value == expected)


def _equal(value: Any, expected: Any) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, (int, float, bool)):
        raise ValueError("Invalid actual value type: number or boolean")
    if isinstance(value, bool):
        if not isinstance(expected, (bool, int, str)):
            raise ValueError(f"Cannot convert {type(expected)} to bool")
        return value == bool(expected)
    if not isinstance(expected, (int, float, str)):
        raise ValueError(f"Cannot convert {type(expected)} to number")
    # Dify: an integer variable converts with int(), so "3.0" is an error and 3.5 becomes 3.
    return value == (int(expected) if isinstance(value, int) else float(expected))


def _numbers(value: Any, expected: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)):
        raise ValueError("Invalid actual value type: number")
    if not isinstance(expected, (int, float, str)):
        raise ValueError(f"Cannot convert {type(expected)} to number")
    if isinstance(expected, str):
        try:
            number = float(expected)
        except ValueError:
            raise ValueError(f"Cannot convert '{expected}' to number") from None
        if isinstance(value, int) and number.is_integer():
            return value, int(number)
        return value, number
    return value, expected


def _ordered(test: Callable[[float, float], bool]) -> Callable[[Any, Any], bool]:
    def check(value: Any, expected: Any) -> bool:
        pair = _numbers(value, expected)
        return pair is not None and test(*pair)

    return check


def _in(value: Any, expected: Any) -> bool:
    if not isinstance(expected, list):
        raise ValueError("Invalid expected value type: array")
    return value in expected


def _all_of(value: Any, expected: Any) -> bool:
    if not isinstance(expected, list):
        raise ValueError("Unsupported operator: all of")  # Dify: a non-list falls through
    if all(isinstance(item, str) for item in expected):
        containers: tuple[type, ...] = (list, tuple, set, str)
    elif all(isinstance(item, bool) for item in expected):
        containers = (list, tuple, set)
    else:
        raise ValueError("all of operator expects homogeneous list of strings or booleans")
    if not value or not isinstance(value, containers):
        return False
    members: Any = value
    return all(item in members for item in expected)


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "contains": lambda v, e: bool(v) and _contains(v, e),
    "not contains": lambda v, e: not v or not _contains(v, e),
    "start with": lambda v, e: _text_affix(v, e, start=True),
    "end with": lambda v, e: _text_affix(v, e, start=False),
    "is": lambda v, e: _is(v, e) is True,
    # Dify: "is not" and "≠" are False (not True) when the variable is null.
    "is not": lambda v, e: _is(v, e) is False,
    "empty": lambda v, e: not v,
    "not empty": lambda v, e: bool(v),
    "=": lambda v, e: _equal(v, e) is True,
    "≠": lambda v, e: _equal(v, e) is False,
    ">": _ordered(lambda a, b: a > b),
    "<": _ordered(lambda a, b: a < b),
    "≥": _ordered(lambda a, b: a >= b),
    "≤": _ordered(lambda a, b: a <= b),
    "null": lambda v, e: v is None,
    "not null": lambda v, e: v is not None,
    "in": lambda v, e: bool(v) and _in(v, e),
    # Dify: an empty variable is "not in" anything, whatever the expected value.
    "not in": lambda v, e: not v or not _in(v, e),
    "all of": _all_of,
    "exists": lambda v, e: v is not None,
    "not exists": lambda v, e: v is None,
}


def compare(operator: str, value: Any, expected: Any) -> bool:
    """Apply one Dify comparison operator; raises ``ValueError``/``TypeError`` on bad types."""
    test = _OPERATORS.get(OPERATOR_ALIASES.get(operator, operator))
    if test is None:
        raise ValueError(f"Unsupported operator: {operator}")
    return test(value, expected)
