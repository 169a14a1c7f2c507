"""Resource limits for one extraction, and the deadline they imply."""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field

from .errors import ExtractionError

__all__ = ["MIB", "Deadline", "ExtractLimits"]

MIB = 1024 * 1024


class ExtractLimits(BaseModel):
    """How much one file may cost. ``max_seconds`` and ``max_memory_mb`` are enforced by
    :func:`extract_isolated`; in-process :func:`extract` only checks the clock between
    pages, sheets and slides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = Field(default=50 * MIB, ge=1)
    max_seconds: float = Field(default=60.0, gt=0)
    #: Address space the extraction may add to the child process it runs in.
    max_memory_mb: int = Field(default=1024, ge=16)
    #: Zip-based office files: total declared size of all entries.
    max_uncompressed_bytes: int = Field(default=200 * MIB, ge=1)
    #: Zip-based office files: largest allowed uncompressed/compressed size ratio.
    max_compression_ratio: float = Field(default=100.0, gt=1)
    #: Zip-based office files: most entries an archive may have.
    max_zip_entries: int = Field(default=10_000, ge=1)


class Deadline:
    """Wall-clock budget, checked cooperatively by the extractors."""

    def __init__(self, seconds: float, name: str) -> None:
        self.seconds = seconds
        self.name = name
        self.ends = time.monotonic() + seconds

    def check(self) -> None:
        """Raise ``ExtractionError(timeout)`` once the budget is spent."""
        if time.monotonic() > self.ends:
            raise ExtractionError(
                "timeout", f"{self.name}: extraction took longer than {self.seconds:g} s"
            )
