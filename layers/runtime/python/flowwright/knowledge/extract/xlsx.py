"""XLSX: one page per sheet, rows as ``Header: value`` lines, then cell comments."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

from flowwright.knowledge.models import ExtractedDocument, Page

from .ooxml import Package, local, relationship_id
from .source import Source
from .table import render_rows
from .xlsx_cells import CellFormats, column_index, rich_text, shared_strings

__all__ = ["extract_xlsx"]

_DEADLINE_EVERY = 1000  # rows


class _Workbook:
    """Sheet list, shared strings and cell formats of one workbook."""

    def __init__(self, package: Package) -> None:
        self.package = package
        self.part = package.main_part("xl/workbook.xml")
        root = package.xml(self.part)
        rels = package.relationships(self.part)
        by_type = {rel.type.rpartition("/")[2]: rel.target for rel in rels.values()}
        date1904 = any(
            local(e.tag) == "workbookPr" and e.get("date1904") in ("1", "true") for e in root
        )
        #: (name, relationship type, part) in tab order
        self.sheets = [
            (sheet.get("name") or f"Sheet{i}", rel.type.rpartition("/")[2], rel.target)
            for i, sheet in enumerate((e for e in root.iter() if local(e.tag) == "sheet"), 1)
            if (rel := rels.get(relationship_id(sheet))) is not None
        ]
        self.strings = shared_strings(package, by_type.get("sharedStrings"))
        self.formats = CellFormats(package, by_type.get("styles"), date1904)

    def value(self, cell: ET.Element) -> str:
        """A cell's displayed value as text."""
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            return "".join(rich_text(c) for c in cell if local(c.tag) == "is")
        raw = next((c.text or "" for c in cell if local(c.tag) == "v"), "")
        if kind == "s":
            try:
                return self.strings[int(raw)]
            except (ValueError, IndexError):
                return ""
        if kind == "b":
            return "TRUE" if raw.strip() in ("1", "true") else "FALSE"
        if kind == "n" and raw:
            return self.formats.number(raw, cell.get("s"))
        return raw  # str (formula result), e (error), d (ISO date)


def extract_xlsx(source: Source) -> ExtractedDocument:
    """Worksheets in tab order (``number`` = tab position); chart sheets give empty pages."""
    package = Package(source)
    workbook = _Workbook(package)
    pages: list[Page] = []
    for number, (name, kind, part) in enumerate(workbook.sheets, 1):
        source.deadline.check()
        text = ""
        if kind == "worksheet" and package.has(part):
            text = _sheet_text(workbook, source, name, part)
        pages.append(Page(text=text, number=number))
    metadata: dict[str, Any] = {"page_count": len(pages)}
    title = package.title()
    if title:
        metadata["title"] = title
    return ExtractedDocument(pages=pages, metadata=metadata)


def _sheet_text(workbook: _Workbook, source: Source, name: str, part: str) -> str:
    body = render_rows(_rows(workbook, source, part))
    comments = _comments(workbook.package, part)
    if comments:
        body = f"{body}\n\nComments:\n{comments}" if body else f"Comments:\n{comments}"
    return f"Sheet: {name}\n{body}" if body else ""


def _rows(workbook: _Workbook, source: Source, part: str) -> Iterator[dict[int, str]]:
    """Sparse rows (column -> value), streamed; finished rows are dropped from the tree."""
    parent: ET.Element | None = None
    count = 0
    for event, element in workbook.package.iterxml(part):
        name = local(element.tag)
        if event == "start":
            if name == "sheetData":
                parent = element
            continue
        if name != "row":
            continue
        row: dict[int, str] = {}
        for cell in element:
            if local(cell.tag) != "c":
                continue
            column = column_index(cell.get("r"))
            column = column if column is not None else (max(row) + 1 if row else 0)
            value = workbook.value(cell)
            if value:
                row[column] = value
        if parent is not None:
            parent.remove(element)
        count += 1
        if count % _DEADLINE_EVERY == 0:
            source.deadline.check()
        yield row


def _comments(package: Package, sheet: str) -> str:
    """``A1: text`` lines from the sheet's comments part."""
    lines: list[str] = []
    for rel in package.relationships(sheet).values():
        if rel.type.endswith("/comments") and package.has(rel.target):
            for comment in package.xml(rel.target).iter():
                if local(comment.tag) == "comment":
                    text = " ".join(rich_text(comment).split())
                    if text:
                        lines.append(f"{comment.get('ref', '?')}: {text}")
    return "\n".join(lines)
