"""Small builders for ASL states (JSONPath query language)."""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_MERGE_ARGS", "choice", "merge_deltas", "merge_writes", "pass_result"]

#: Intrinsic functions nest at most this deep in one field.
MAX_MERGE_ARGS = 8


def pass_result(result: Any, result_path: str, next_state: str) -> dict[str, Any]:
    """A Pass state writing a constant ``result`` at ``result_path``."""
    return {"Type": "Pass", "Result": result, "ResultPath": result_path, "Next": next_state}


def merge_writes(record_key: str, next_state: str) -> dict[str, Any]:
    """A Pass state merging a record's ``w`` (flat writes) into the state."""
    return {
        "Type": "Pass",
        "Parameters": {"s.$": f"States.JsonMerge($, $.{record_key}.w, false)"},
        "OutputPath": "$.s",
        "Next": next_state,
    }


def merge_deltas(count: int, next_state: str) -> dict[str, Any]:
    """A Pass state merging the ``count`` branch deltas of a Parallel (at ``$.par``)."""
    expression = "$"
    for index in range(count):
        expression = f"States.JsonMerge({expression}, $.par[{index}], false)"
    return {
        "Type": "Pass",
        "Parameters": {"s.$": expression},
        "OutputPath": "$.s",
        "Next": next_state,
    }


def choice(rules: list[dict[str, Any]], default: str) -> dict[str, Any]:
    return {"Type": "Choice", "Choices": rules, "Default": default}
