"""Document text extraction for the knowledge pipeline.

``extract`` reads PDF, DOCX, PPTX, XLSX, CSV, HTML, Markdown, TXT and JSON in this process;
``extract_isolated`` does the same in a memory- and time-limited child process (use it for
uploads). Both return :class:`~flowwright.knowledge.models.ExtractedDocument` or raise
:class:`ExtractionError` with a stable ``code``.
"""

from __future__ import annotations

from .detect import detect_type
from .dispatch import extract
from .errors import ErrorCode, ExtractionError
from .isolated import extract_isolated
from .limits import ExtractLimits

__all__ = [
    "ErrorCode",
    "ExtractLimits",
    "ExtractionError",
    "detect_type",
    "extract",
    "extract_isolated",
]
