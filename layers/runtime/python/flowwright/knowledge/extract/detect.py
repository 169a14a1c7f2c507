"""Which format a file is: extension first, then content type, then magic bytes."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath
from typing import Literal

from .errors import ExtractionError

__all__ = ["DocumentType", "detect_type", "display_name"]

DocumentType = Literal["pdf", "docx", "pptx", "xlsx", "csv", "html", "markdown", "txt", "json"]

_EXTENSIONS: dict[str, DocumentType] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdown": "markdown",
    ".txt": "txt",
    ".text": "txt",
    ".json": "json",
}
_CONTENT_TYPES: dict[str, DocumentType] = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/csv": "csv",
    "application/csv": "csv",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/plain": "txt",
    "application/json": "json",
    "text/json": "json",
}
_ZIP_FOLDERS: dict[str, DocumentType] = {"word/": "docx", "ppt/": "pptx", "xl/": "xlsx"}
_LEGACY = {".doc", ".xls", ".ppt", ".rtf", ".odt", ".ods", ".odp", ".epub", ".pages"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SUPPORTED = "PDF, DOCX, PPTX, XLSX, CSV, HTML, Markdown, TXT and JSON"


def display_name(filename: str) -> str:
    """The file name without folders (S3 keys and paths become their last part)."""
    return PurePosixPath(filename.replace("\\", "/")).name or "file"


def detect_type(filename: str, data: bytes, content_type: str | None = None) -> DocumentType:
    """Return one of pdf, docx, pptx, xlsx, csv, html, markdown, txt, json, or raise
    ``ExtractionError(unsupported_type)``."""
    name = display_name(filename)
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _CONTENT_TYPES:
        return _CONTENT_TYPES[mime]
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        found = _zip_kind(data)
        if found:
            return found
    if data.startswith(_OLE_MAGIC):
        what = "a legacy Microsoft Office file (.doc/.xls/.ppt) or a password-protected one"
        raise ExtractionError("unsupported_type", f"{name}: {what}; save it as DOCX/XLSX/PPTX")
    if suffix in _LEGACY:
        raise ExtractionError(
            "unsupported_type", f"{name}: {suffix} files are not supported ({_SUPPORTED} are)"
        )
    shown = suffix or mime or "no extension"
    raise ExtractionError(
        "unsupported_type", f"{name}: unsupported file type ({shown}); {_SUPPORTED} are supported"
    )


def _zip_kind(data: bytes) -> DocumentType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    for folder, kind in _ZIP_FOLDERS.items():
        if any(n.startswith(folder) for n in names):
            return kind
    return None
