"""The one exception extraction raises, with a stable machine-readable code."""

from __future__ import annotations

from typing import Literal

__all__ = ["ErrorCode", "ExtractionError"]

ErrorCode = Literal[
    "empty_file",  # zero bytes
    "too_large",  # more bytes than ExtractLimits.max_bytes
    "unsupported_type",  # not a format we read
    "encrypted",  # needs a password we do not have
    "image_only",  # a PDF without a text layer
    "corrupt",  # the parser gave up on the file
    "no_text",  # read fine, but there is no text in it
    "timeout",  # took longer than ExtractLimits.max_seconds
    "memory",  # needed more than ExtractLimits.max_memory_mb
    "bomb",  # a zip that inflates far beyond its size
    "decode",  # bytes that are not text in any encoding we can find, or invalid JSON
    "crashed",  # the isolated extractor process died (signal or unexpected exit)
]


class ExtractionError(Exception):
    """Extraction failed. ``code`` is stable (see :data:`ErrorCode`); ``reason`` is a
    sentence for people that names the file; ``str(err) == reason``."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code: ErrorCode = code
        self.reason = reason

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self) -> tuple[type[ExtractionError], tuple[ErrorCode, str]]:
        return (type(self), (self.code, self.reason))
