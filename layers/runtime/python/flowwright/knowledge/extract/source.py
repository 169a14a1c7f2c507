"""What every format extractor receives: the bytes plus the context to judge them."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ErrorCode, ExtractionError
from .limits import Deadline, ExtractLimits

__all__ = ["Source"]


@dataclass(frozen=True)
class Source:
    """One file being extracted."""

    data: bytes
    #: File name without folders, used in error reasons.
    name: str
    limits: ExtractLimits
    deadline: Deadline
    #: ``charset`` parameter of the caller's content type, if any.
    charset: str | None = None

    def error(self, code: ErrorCode, message: str) -> ExtractionError:
        """An :class:`ExtractionError` whose reason starts with the file name."""
        return ExtractionError(code, f"{self.name}: {message}")
