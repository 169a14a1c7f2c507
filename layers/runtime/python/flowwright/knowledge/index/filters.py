"""Dify's manual metadata filters: evaluated in Python (embedded engine) or turned into an
OpenSearch bool query.

Semantics follow Dify's SQL filters (``process_metadata_filter_func``):

* a condition whose value is None is skipped, except ``empty`` / ``not empty``;
* string operators (contains, start with, end with) are case-sensitive substring tests on
  the value's text; ``is`` / ``=`` compare text for a string value, numbers for a number;
* ``>`` ``<`` ``≥`` ``≤`` ``before`` ``after`` compare numbers; ISO-8601 dates are read as
  Unix seconds (Dify stores time metadata as Unix timestamps);
* ``in`` / ``not in`` take a list or a comma-separated string; ``in []`` is false and
  ``not in []`` true;
* like SQL NULL, a missing (or None) field fails every condition but ``empty`` and
  ``not in []`` -- ``not contains``, ``is not`` and ``not in`` included;
* a list-valued field matches when any element does (the negative operators: when none does).

In OpenSearch, string operators run on the ``metadata.<name>.keyword`` subfield and number
comparisons on ``metadata.<name>`` (mapped as double); equality with a numeric-looking
string also matches a number field.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from flowwright.knowledge.models import MetadataFilter

__all__ = [
    "MATCH_ALL",
    "OPERATORS",
    "Condition",
    "Predicate",
    "compile_filters",
    "conditions",
    "matches",
    "to_opensearch",
]

Logic = Literal["and", "or"]
Predicate = Callable[[Mapping[str, Any]], bool]

_ALIASES = {
    "=": "is",
    "≠": "is not",
    "!=": "is not",
    "before": "<",
    "after": ">",
    "≥": ">=",
    "≤": "<=",
}
_CANONICAL = frozenset(
    {"contains", "not contains", "start with", "end with", "is", "is not", "empty"}
    | {"not empty", ">", "<", ">=", "<=", "in", "not in"}
)
#: Every operator name accepted (Dify's, plus ``!=``, ``>=`` and ``<=``).
OPERATORS = _CANONICAL | frozenset(_ALIASES)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}
_RANGE_KEY = {">": "gt", "<": "lt", ">=": "gte", "<=": "lte"}
MATCH_ALL: dict[str, Any] = {"match_all": {}}
_MATCH_NONE: dict[str, Any] = {"bool": {"must_not": [{"match_all": {}}]}}


@dataclass(frozen=True)
class Condition:
    """One validated condition: canonical operator, value prepared for it."""

    name: str
    op: str
    value: Any


# ---- value helpers -------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _timestamp(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _number(value: Any) -> float | None:
    """A number, a numeric string or an ISO-8601 date/datetime as float; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, date):
        return _timestamp(datetime(value.year, value.month, value.day))
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            try:
                return _timestamp(datetime.fromisoformat(text))
            except ValueError:
                return None
        return number if math.isfinite(number) else None
    return None


def _numeric_string(value: str) -> float | None:
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _options(value: Any) -> list[Any]:
    """Dify's ``in`` operand: comma-separated string or list, None and blanks dropped."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple | set | frozenset):
        return [item for item in value if item is not None]
    return [value]


def _field_values(metadata: Mapping[str, Any], name: str) -> list[Any]:
    value = metadata.get(name)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [item for item in value if item is not None]
    return [value]


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return _text(actual) == _text(expected)
    if isinstance(expected, int | float):
        number = _number(actual)
        return number is not None and number == float(expected)
    text = _text(expected)
    if _text(actual) == text:
        return True
    if isinstance(actual, int | float):
        wanted = _numeric_string(text)
        return wanted is not None and wanted == float(actual)
    return False


# ---- conditions ----------------------------------------------------------------------------


def _canonical(op: str) -> str:
    key = " ".join(op.strip().lower().split())
    key = _ALIASES.get(key, key)
    if key not in _CANONICAL:
        known = ", ".join(sorted(OPERATORS))
        raise ValueError(f"unknown metadata filter operator {op!r}; known operators: {known}")
    return key


def conditions(filters: Sequence[MetadataFilter]) -> list[Condition]:
    """Validate ``filters`` and drop the ones Dify skips (value None, not an emptiness test).

    Raises ValueError for an unknown operator or a non-numeric comparison value."""
    result: list[Condition] = []
    for item in filters:
        op = _canonical(item.comparison_operator)
        value = item.value
        if value is None and op not in ("empty", "not empty"):
            continue
        if op in _COMPARE:
            number = _number(value)
            if number is None:
                raise ValueError(
                    f"metadata filter {item.name!r} {item.comparison_operator!r} needs a "
                    f"number or an ISO-8601 date, got {value!r}"
                )
            value = number
        elif op in ("in", "not in"):
            value = _options(value)
        elif op in ("contains", "not contains", "start with", "end with"):
            value = _text(value)
        result.append(Condition(item.name, op, value))
    return result


def _holds(condition: Condition, metadata: Mapping[str, Any]) -> bool:
    values = _field_values(metadata, condition.name)
    op, wanted = condition.op, condition.value
    if op == "empty":
        return not values
    if op == "not empty":
        return bool(values)
    if op == "not in" and not wanted:
        return True
    if not values:
        return False
    if op in ("contains", "not contains"):
        found = any(wanted in _text(v) for v in values)
        return found if op == "contains" else not found
    if op == "start with":
        return any(_text(v).startswith(wanted) for v in values)
    if op == "end with":
        return any(_text(v).endswith(wanted) for v in values)
    if op in ("is", "is not"):
        found = any(_equal(v, wanted) for v in values)
        return found if op == "is" else not found
    if op in ("in", "not in"):
        found = any(_equal(v, option) for v in values for option in wanted)
        return found if op == "in" else not found
    compare = _COMPARE[op]
    return any((n := _number(v)) is not None and compare(n, wanted) for v in values)


def compile_filters(filters: Sequence[MetadataFilter], logic: Logic = "and") -> Predicate:
    """A predicate over a chunk's metadata; validates operators up front."""
    checks = conditions(filters)
    if not checks:
        return lambda metadata: True
    combine = all if logic == "and" else any
    return lambda metadata: combine(_holds(c, metadata) for c in checks)


def matches(
    metadata: Mapping[str, Any], filters: Sequence[MetadataFilter], logic: Logic = "and"
) -> bool:
    """Whether ``metadata`` passes ``filters`` joined with ``logic``."""
    return compile_filters(filters, logic)(metadata)


# ---- OpenSearch ----------------------------------------------------------------------------


def _wildcard_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def _any_of(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    if len(clauses) == 1:
        return clauses[0]
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _exact(field: str, values: Sequence[Any]) -> dict[str, Any]:
    """Equality with any of ``values``: text on the keyword subfield, numbers (and
    numeric-looking strings) on the field itself, which numbers map to as double."""
    strings: list[str] = []
    numbers: list[float] = []
    flags: list[bool] = []
    for value in values:
        if isinstance(value, bool):
            flags.append(value)
            continue
        strings.append(_text(value))
        number = float(value) if isinstance(value, int | float) else _numeric_string(_text(value))
        if number is not None:
            numbers.append(number)
    clauses: list[dict[str, Any]] = []
    if strings:
        clauses.append({"terms": {f"{field}.keyword": strings}})
    if numbers:
        clauses.append({"terms": {field: numbers}})
    if flags:
        clauses.append({"terms": {field: flags}})
    return _any_of(clauses) if clauses else _MATCH_NONE


def _present_and_not(field: str, clause: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {"filter": [{"exists": {"field": field}}], "must_not": [clause]}}


def _clause(condition: Condition, prefix: str) -> dict[str, Any]:
    field = f"{prefix}{condition.name}"
    keyword = f"{field}.keyword"
    op, value = condition.op, condition.value
    if op == "empty":
        return {"bool": {"must_not": [{"exists": {"field": field}}]}}
    if op == "not empty":
        return {"exists": {"field": field}}
    if op in ("contains", "not contains"):
        clause = {"wildcard": {keyword: {"value": f"*{_wildcard_escape(value)}*"}}}
        return clause if op == "contains" else _present_and_not(field, clause)
    if op == "start with":
        return {"prefix": {keyword: {"value": value}}}
    if op == "end with":
        return {"wildcard": {keyword: {"value": f"*{_wildcard_escape(value)}"}}}
    if op in ("is", "is not"):
        clause = _exact(field, [value])
        return clause if op == "is" else _present_and_not(field, clause)
    if op == "in":
        return _exact(field, value) if value else _MATCH_NONE
    if op == "not in":
        return _present_and_not(field, _exact(field, value)) if value else MATCH_ALL
    return {"range": {field: {_RANGE_KEY[op]: value}}}


def to_opensearch(
    filters: Sequence[MetadataFilter], logic: Logic = "and", *, prefix: str = "metadata."
) -> dict[str, Any]:
    """An OpenSearch query matching the chunks that pass ``filters`` (``match_all`` when no
    condition applies)."""
    clauses = [_clause(c, prefix) for c in conditions(filters)]
    if not clauses:
        return dict(MATCH_ALL)
    if logic == "and":
        return {"bool": {"filter": clauses}}
    return {"bool": {"should": clauses, "minimum_should_match": 1}}
