"""In-process extraction: checks, type detection, the format extractor, common metadata."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from flowwright.knowledge.models import ExtractedDocument

from .decode import charset_from_content_type
from .detect import DocumentType, detect_type, display_name
from .errors import ExtractionError
from .limits import Deadline, ExtractLimits
from .source import Source

__all__ = ["EXTRACTORS", "check_size", "extract"]


# Formats import their parser only when used (pypdf is the heavy one).
def _pdf(source: Source) -> ExtractedDocument:
    from .pdf import extract_pdf

    return extract_pdf(source)


def _docx(source: Source) -> ExtractedDocument:
    from .docx import extract_docx

    return extract_docx(source)


def _pptx(source: Source) -> ExtractedDocument:
    from .pptx import extract_pptx

    return extract_pptx(source)


def _xlsx(source: Source) -> ExtractedDocument:
    from .xlsx import extract_xlsx

    return extract_xlsx(source)


def _csv(source: Source) -> ExtractedDocument:
    from .delimited import extract_csv

    return extract_csv(source)


def _html(source: Source) -> ExtractedDocument:
    from .html import extract_html

    return extract_html(source)


def _plain(source: Source) -> ExtractedDocument:
    from .text import extract_plain

    return extract_plain(source)


def _json(source: Source) -> ExtractedDocument:
    from .text import extract_json

    return extract_json(source)


EXTRACTORS: dict[DocumentType, Callable[[Source], ExtractedDocument]] = {
    "pdf": _pdf,
    "docx": _docx,
    "pptx": _pptx,
    "xlsx": _xlsx,
    "csv": _csv,
    "html": _html,
    "markdown": _plain,
    "txt": _plain,
    "json": _json,
}


def check_size(data: bytes, filename: str, limits: ExtractLimits) -> None:
    """Raise ``empty_file`` or ``too_large`` before any parsing."""
    name = display_name(filename)
    if not data:
        raise ExtractionError("empty_file", f"{name}: the file is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise ExtractionError(
            "too_large",
            f"{name}: the file is {len(data) / 2**20:.1f} MiB; "
            f"the limit is {limits.max_bytes / 2**20:.1f} MiB",
        )


def extract(
    data: bytes,
    *,
    filename: str,
    content_type: str | None = None,
    limits: ExtractLimits | None = None,
) -> ExtractedDocument:
    """Extract the text of one file in this process (for trusted or small input; use
    :func:`extract_isolated` for uploads). Raises :class:`ExtractionError`."""
    limits = limits or ExtractLimits()
    check_size(data, filename, limits)
    kind = detect_type(filename, data, content_type)
    name = display_name(filename)
    source = Source(
        data=data,
        name=name,
        limits=limits,
        deadline=Deadline(limits.max_seconds, name),
        charset=charset_from_content_type(content_type),
    )
    try:
        document = EXTRACTORS[kind](source)
    except ExtractionError:
        raise
    except MemoryError as exc:
        raise source.error("memory", "extraction ran out of memory") from exc
    except RecursionError as exc:
        raise source.error("corrupt", "the file is nested too deeply to read") from exc
    except Exception as exc:  # a parser failing in a way we did not foresee
        raise source.error(
            "corrupt", f"the file could not be read ({type(exc).__name__}: {exc})"
        ) from exc
    if not any(page.text.strip() for page in document.pages):
        label = {"markdown": "Markdown", "txt": "text"}.get(kind, kind.upper())
        raise source.error("no_text", f"the {label} file contains no text")
    metadata = {
        **document.metadata,
        "title": document.metadata.get("title") or PurePosixPath(name).stem or name,
        "content_type": kind,
        "size": len(data),
    }
    return ExtractedDocument(pages=document.pages, metadata=metadata)
