"""CSV (and other delimiter-separated) files, rendered row by row with their header."""

from __future__ import annotations

import csv
import io

from flowwright.knowledge.models import ExtractedDocument, Page

from .decode import decode_text
from .source import Source
from .table import render_rows

__all__ = ["extract_csv"]

_SNIFF_CHARS = 64 * 1024


def extract_csv(source: Source) -> ExtractedDocument:
    """Sniff the dialect, take the first row as header, render ``Header: value`` rows."""
    text, encoding = decode_text(source)
    sample = text[:_SNIFF_CHARS]
    dialect = _dialect(sample.rpartition("\n")[0] or sample)
    rows = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        rendered = render_rows(dict(enumerate(row)) for row in rows)
    except csv.Error as exc:
        raise source.error("corrupt", f"malformed CSV ({exc})") from exc
    return ExtractedDocument(pages=[Page(text=rendered)], metadata={"encoding": encoding})


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel
