"""Text of WordprocessingML and DrawingML trees: paragraphs and tables in document order.

Both vocabularies use the local names p, tbl, tr, tc, t, tab and br, so one walker serves
DOCX bodies and PPTX slides. The walks are iterative: deep nesting cannot overflow."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .ooxml import local

__all__ = ["blocks", "paragraph_text"]

#: Subtrees with no readable text: properties (tab stops live there), deleted text, field
#: codes, and the fallback copy of alternate content (the chosen copy is read instead).
_SKIP = {"pPr", "rPr", "tblPr", "trPr", "tcPr", "delText", "instrText", "Fallback"}


def blocks(root: ET.Element) -> list[str]:
    """Non-empty paragraph texts and rendered tables under ``root``, in document order."""
    out: list[str] = []
    stack = [root]
    while stack:
        element = stack.pop()
        name = local(element.tag)
        if name in _SKIP:
            continue
        if name == "p":
            out.append(paragraph_text(element))
        elif name == "tbl":
            out.append(_table(element))
        else:
            stack.extend(reversed(element))
    return [block for block in out if block]


def paragraph_text(paragraph: ET.Element) -> str:
    """Runs of one paragraph; tabs and breaks kept, nested paragraphs (text boxes) on their
    own lines."""
    parts: list[str] = []
    stack = [paragraph]
    while stack:
        element = stack.pop()
        name = local(element.tag)
        if name in _SKIP:
            continue
        if name == "t":
            parts.append(element.text or "")
        elif name == "tab":
            parts.append("\t")
        elif name in ("br", "cr") or (name == "p" and element is not paragraph):
            parts.append("\n")
        stack.extend(reversed(element))
    return "".join(parts).strip()


def _table(table: ET.Element) -> str:
    """One line per row, cells joined with `` | ``; empty rows left out."""
    lines: list[str] = []
    for row in table:
        if local(row.tag) != "tr":
            continue
        cells = [
            " ".join(" ".join(blocks(cell)).split()) for cell in row if local(cell.tag) == "tc"
        ]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            lines.append(" | ".join(cells))
    return "\n".join(lines)
