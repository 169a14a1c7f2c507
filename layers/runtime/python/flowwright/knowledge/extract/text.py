"""Plain text, Markdown and JSON files."""

from __future__ import annotations

import json

from flowwright.knowledge.models import ExtractedDocument, Page

from .decode import decode_text
from .source import Source

__all__ = ["extract_json", "extract_plain"]


def extract_plain(source: Source) -> ExtractedDocument:
    """TXT and Markdown: the decoded text, unchanged."""
    text, encoding = decode_text(source)
    return ExtractedDocument(pages=[Page(text=text)], metadata={"encoding": encoding})


def extract_json(source: Source) -> ExtractedDocument:
    """JSON, parsed and pretty-printed (indent 2, non-ASCII kept)."""
    text, encoding = decode_text(source)
    try:
        value = json.loads(text)
        pretty = json.dumps(value, indent=2, ensure_ascii=False)
    except json.JSONDecodeError as exc:
        raise source.error("decode", f"not valid JSON ({exc})") from exc
    except (RecursionError, ValueError) as exc:
        raise source.error("decode", f"JSON could not be read ({type(exc).__name__})") from exc
    return ExtractedDocument(pages=[Page(text=pretty)], metadata={"encoding": encoding})
