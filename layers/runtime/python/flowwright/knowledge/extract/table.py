"""Rows of cells to text an LLM reads well: ``Header: value; Header: value`` per row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["render_rows"]


def render_rows(rows: Iterable[Mapping[int, str]]) -> str:
    """Render sparse rows (0-based column -> value). The first non-empty row is the header;
    each later row becomes one line of ``Header: value`` pairs (empty cells are left out,
    cells without a header are named ``Column N``). A lone header row is rendered as
    ``a | b | c``."""
    header: dict[int, str] | None = None
    lines: list[str] = []
    for row in rows:
        cells = {col: " ".join(value.split()) for col, value in row.items() if value}
        cells = {col: value for col, value in cells.items() if value}
        if not cells:
            continue
        if header is None:
            header = cells
            continue
        pairs = (f"{header.get(col) or f'Column {col + 1}'}: {cells[col]}" for col in sorted(cells))
        lines.append("; ".join(pairs))
    if header is not None and not lines:
        return " | ".join(header[col] for col in sorted(header))
    return "\n".join(lines)
