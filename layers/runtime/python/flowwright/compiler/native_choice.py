"""If/else nodes decided by a native Choice state, with no Lambda call, where that is exact.

Eligible: conditions on the Start node's text or number inputs (or ``sys.query``) with
literal expected values and operators whose Dify semantics ASL can express exactly. The
Choice first checks that every value has a type it can judge (a string or null for text
operators, a number or null for numbers); anything else (an offloaded value, say) goes to
the if-else function, so the result is always Dify's.
"""

from __future__ import annotations

import re
from typing import Any

from flowwright.dsl.models import App, Node
from flowwright.nodes.if_else.config import Condition, IfElseConfig
from flowwright.runtime.addresses import node_key

__all__ = ["native_rules"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TEXT_TYPES = {"text-input", "paragraph", "select"}
_TEXT_OPS = {
    "contains",
    "not contains",
    "start with",
    "end with",
    "is",
    "is not",
    "empty",
    "not empty",
}
_NUMBER_OPS = {
    "=": "NumericEquals",
    "≠": "NumericEquals",
    ">": "NumericGreaterThan",
    "<": "NumericLessThan",
    "≥": "NumericGreaterThanEquals",
    "≤": "NumericLessThanEquals",
}


def _escape(text: str) -> str:
    """Escape ``*`` and ``\\`` for StringMatches."""
    return text.replace("\\", "\\\\").replace("*", "\\*")


def _path_and_kind(app: App, condition: Condition) -> tuple[str, str] | None:
    selector = condition.variable_selector
    if len(selector) != 2 or not _NAME.match(selector[1]):
        return None
    if selector == ["sys", "query"]:
        return "$.sys.query", "text"
    start = app.start_node
    if selector[0] != start.id:
        return None
    for var in getattr(start.config, "variables", []):
        if var.variable == selector[1]:
            if var.type in _TEXT_TYPES:
                return f"$.{node_key(start.id)}.o.{selector[1]}", "text"
            if var.type == "number":
                return f"$.{node_key(start.id)}.o.{selector[1]}", "number"
    return None


def _text_rule(path: str, op: str, expected: str) -> dict[str, Any]:
    var = {"Variable": path}
    empty = {**var, "StringEquals": ""}
    null = {**var, "IsNull": True}
    if op == "contains":
        return {
            "And": [
                {"Not": null},
                {"Not": empty},
                {**var, "StringMatches": f"*{_escape(expected)}*"},
            ]
        }
    if op == "not contains":
        return {"Or": [null, empty, {"Not": {**var, "StringMatches": f"*{_escape(expected)}*"}}]}
    if op == "start with":
        return {
            "And": [
                {"Not": null},
                {"Not": empty},
                {**var, "StringMatches": f"{_escape(expected)}*"},
            ]
        }
    if op == "end with":
        return {
            "And": [
                {"Not": null},
                {"Not": empty},
                {**var, "StringMatches": f"*{_escape(expected)}"},
            ]
        }
    if op == "is":
        return {"And": [{"Not": null}, {**var, "StringEquals": expected}]}
    if op == "is not":
        return {"And": [{"Not": null}, {"Not": {**var, "StringEquals": expected}}]}
    if op == "empty":
        return {"Or": [null, empty]}
    return {"And": [{"Not": null}, {"Not": empty}]}  # not empty


def _number_rule(path: str, op: str, expected: float) -> dict[str, Any]:
    var = {"Variable": path}
    compare = {**var, _NUMBER_OPS[op]: expected}
    if op == "≠":
        compare = {"Not": compare}
    return {"And": [{"Not": {**var, "IsNull": True}}, compare]}


def _rule(app: App, condition: Condition) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(decidable check, rule) for one condition, or ``None`` when not expressible."""
    found = _path_and_kind(app, condition)
    if found is None:
        return None
    path, kind = found
    op = condition.comparison_operator
    decidable_type = "IsString" if kind == "text" else "IsNumeric"
    decidable = {
        "And": [
            {"Variable": path, "IsPresent": True},
            {"Or": [{"Variable": path, "IsNull": True}, {"Variable": path, decidable_type: True}]},
        ]
    }
    if kind == "text" and op in _TEXT_OPS:
        expected = condition.value if condition.value is not None else ""
        if not isinstance(expected, str) or "{{#" in expected:
            return None
        return decidable, _text_rule(path, op, expected)
    if kind == "number" and op in _NUMBER_OPS:
        if not isinstance(condition.value, (str, int, float)) or isinstance(condition.value, bool):
            return None
        try:
            number = float(condition.value)
        except ValueError:
            return None
        literal = str(condition.value).strip()
        if op in ("=", "≠") and not re.fullmatch(r"-?\d+", literal):
            return None  # Dify compares integers with int(expected), which fails on "1.0" or "1.5"
        return decidable, _number_rule(path, op, int(number) if number.is_integer() else number)
    return None


def native_rules(
    app: App, node: Node
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]] | None:
    """For an eligible if-else node: (all-decidable check, [(case id, rule)]), else ``None``."""
    config = node.config
    if not isinstance(config, IfElseConfig) or config.handles_errors or config.retry_config.enabled:
        return None
    checks: list[dict[str, Any]] = []
    cases: list[tuple[str, dict[str, Any]]] = []
    for case in config.cases:
        if not case.conditions:
            return None
        rules = []
        for condition in case.conditions:
            if condition.sub_variable_condition is not None:
                return None
            built = _rule(app, condition)
            if built is None:
                return None
            checks.append(built[0])
            rules.append(built[1])
        combined = (
            rules[0]
            if len(rules) == 1
            else {"And" if case.logical_operator == "and" else "Or": rules}
        )
        cases.append((case.case_id, combined))
    decidable = checks[0] if len(checks) == 1 else {"And": checks}
    return decidable, cases
