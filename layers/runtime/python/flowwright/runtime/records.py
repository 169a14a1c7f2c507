"""Reading node records (``{"o": outputs, "h": handle, "a": answer}``) from the state."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeGuard

from flowwright.runtime.addresses import SKIPPED

__all__ = ["answer_text", "ran"]


def ran(record: Any) -> TypeGuard[dict[str, Any]]:
    """Whether a record is that of a node that ran (not a skip record or a placeholder)."""
    return isinstance(record, dict) and record.get("h") != SKIPPED


def answer_text(
    records: Mapping[str, Any], order: Iterable[str], resolve: Callable[[Any], Any]
) -> str:
    """The answers of the nodes in ``order`` that ran, joined (offloaded texts resolved)."""
    parts = []
    for node_id in order:
        record = records.get(node_id)
        if ran(record) and record.get("a"):
            parts.append(str(resolve(record["a"])))
    return "".join(parts)
