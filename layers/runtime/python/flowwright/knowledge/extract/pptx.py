"""PPTX: one page per slide (text boxes, tables, then speaker notes)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from flowwright.knowledge.models import ExtractedDocument, Page

from .ooxml import Package, local, relationship_id
from .ooxml_text import blocks
from .source import Source
from .tidy import tidy

__all__ = ["extract_pptx"]

_SLIDE = re.compile(r"ppt/slides/slide(\d+)\.xml")


def extract_pptx(source: Source) -> ExtractedDocument:
    """Slides in presentation order (``number`` = slide number); notes follow the slide."""
    package = Package(source)
    pages: list[Page] = []
    for number, slide in enumerate(_slide_parts(package), 1):
        source.deadline.check()
        text = "\n".join(blocks(package.xml(slide)))
        notes = _notes(package, slide)
        if notes:
            text = f"{text}\n\nNotes:\n{notes}" if text else f"Notes:\n{notes}"
        pages.append(Page(text=tidy(text), number=number))
    metadata: dict[str, Any] = {"page_count": len(pages)}
    title = package.title()
    if title:
        metadata["title"] = title
    return ExtractedDocument(pages=pages, metadata=metadata)


def _slide_parts(package: Package) -> list[str]:
    """Slide parts from presentation.xml's slide list; ppt/slides/slideN.xml by N if the
    list is missing."""
    presentation = package.main_part("ppt/presentation.xml")
    if package.has(presentation):
        rels = package.relationships(presentation)
        ordered: list[str] = []
        for element in package.xml(presentation).iter():
            if local(element.tag) == "sldId":
                rel = rels.get(relationship_id(element))
                if rel is not None and package.has(rel.target):
                    ordered.append(rel.target)
        if ordered:
            return ordered
    numbered = [(int(m.group(1)), n) for n in package.entries if (m := _SLIDE.fullmatch(n))]
    return [name for _, name in sorted(numbered)]


def _notes(package: Package, slide: str) -> str:
    """Text of the notes placeholder of the slide's notes page, if it has one."""
    for rel in package.relationships(slide).values():
        if rel.type.endswith("/notesSlide") and package.has(rel.target):
            root = package.xml(rel.target)
            return "\n".join(
                text
                for shape in root.iter()
                if local(shape.tag) == "sp" and _placeholder(shape) == "body"
                for text in blocks(shape)
            )
    return ""


def _placeholder(shape: ET.Element) -> str | None:
    """The placeholder type of a shape (``body`` when unstated), None if not one."""
    for element in shape.iter():
        if local(element.tag) == "ph":
            return str(element.get("type", "body"))
    return None
