"""DOCX: body paragraphs and tables in order, as one page."""

from __future__ import annotations

from typing import Any

from flowwright.knowledge.models import ExtractedDocument, Page

from .ooxml import Package, local
from .ooxml_text import blocks
from .source import Source
from .tidy import tidy

__all__ = ["extract_docx"]


def extract_docx(source: Source) -> ExtractedDocument:
    """The main document's body (headers, footers, comments and notes are left out)."""
    package = Package(source)
    root = package.xml(package.main_part("word/document.xml"))
    body = next((child for child in root if local(child.tag) == "body"), root)
    text = tidy("\n\n".join(blocks(body)))
    metadata: dict[str, Any] = {}
    title = package.title()
    if title:
        metadata["title"] = title
    return ExtractedDocument(pages=[Page(text=text)], metadata=metadata)
