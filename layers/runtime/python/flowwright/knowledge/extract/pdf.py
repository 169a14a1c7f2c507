"""PDF text with pypdf: one page per PDF page, empty-password decryption, clean failures."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from flowwright.knowledge.models import ExtractedDocument, Page

from .errors import ExtractionError
from .source import Source
from .tidy import tidy

__all__ = ["extract_pdf"]

_NO_TEXT_LAYER = "has no text layer (image-only or scanned PDF; OCR is not supported)"


class _StreamErrors(logging.Handler):
    """Counts pypdf's warnings about undecodable streams logged by this thread."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and record.name.startswith("pypdf.filters"):
            self.count += 1


@contextmanager
def _stream_errors() -> Iterator[_StreamErrors]:
    handler = _StreamErrors()
    logger = logging.getLogger("pypdf")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def extract_pdf(source: Source) -> ExtractedDocument:
    """One :class:`Page` per PDF page (1-based ``number``); title from /Title."""
    reader = _open(source)
    try:
        pages = list(reader.pages)
    except MemoryError:
        raise
    except Exception as exc:  # pypdf raises many types on a broken page tree
        raise _corrupt(source, exc) from exc
    failed: list[Exception] = []
    texts: list[str] = []
    with _stream_errors() as stream_errors:
        for page in pages:
            source.deadline.check()
            try:
                texts.append(tidy(page.extract_text() or ""))
            except MemoryError:
                raise
            except Exception as exc:  # one bad page must not lose the others
                failed.append(exc)
                texts.append("")
    if not any(texts):
        if pages and len(failed) == len(pages):
            raise _corrupt(source, failed[0])
        if failed or stream_errors.count:
            raise source.error("corrupt", "its content streams are damaged; no text could be read")
        raise source.error("image_only", _NO_TEXT_LAYER)
    metadata: dict[str, Any] = {"page_count": len(pages)}
    if failed:
        metadata["pages_failed"] = len(failed)
    title = _title(reader)
    if title:
        metadata["title"] = title
    document_pages = [Page(text=text, number=i) for i, text in enumerate(texts, 1)]
    return ExtractedDocument(pages=document_pages, metadata=metadata)


def _open(source: Source) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(source.data), strict=False)
        encrypted = reader.is_encrypted
    except MemoryError:
        raise
    except Exception as exc:
        raise _corrupt(source, exc) from exc
    if encrypted:
        _decrypt(reader, source)
    return reader


def _decrypt(reader: PdfReader, source: Source) -> None:
    """Many "encrypted" PDFs only restrict permissions and open with an empty password."""
    try:
        result = reader.decrypt("")
    except DependencyError as exc:
        raise source.error(
            "encrypted", "PDF is AES-encrypted and the 'cryptography' package is missing"
        ) from exc
    except MemoryError:
        raise
    except Exception as exc:
        raise source.error(
            "encrypted", f"PDF is encrypted and could not be decrypted ({_short(exc)})"
        ) from exc
    if result == PasswordType.NOT_DECRYPTED:
        raise source.error("encrypted", "PDF is encrypted and needs a password")


def _title(reader: PdfReader) -> str | None:
    try:
        info = reader.metadata
        title = info.title if info is not None else None
    except MemoryError:
        raise
    except Exception:  # unreadable metadata is no reason to lose the text
        return None
    if not title:
        return None
    return " ".join(str(title).split()) or None


def _corrupt(source: Source, exc: BaseException) -> ExtractionError:
    if isinstance(exc, ExtractionError):
        return exc
    if isinstance(exc, RecursionError):
        return source.error("corrupt", "PDF is nested too deeply to read")
    return source.error("corrupt", f"PDF could not be read ({_short(exc)})")


def _short(exc: BaseException, limit: int = 120) -> str:
    text = " ".join(str(exc).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
