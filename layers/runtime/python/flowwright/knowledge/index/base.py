"""The contract every knowledge-base search engine implements, and its error type."""

from __future__ import annotations

import hashlib
import re
from typing import Protocol, runtime_checkable

from flowwright.errors import FlowwrightError
from flowwright.knowledge.models import Chunk, Hit, SearchRequest

__all__ = ["KnowledgeIndex", "KnowledgeIndexError", "candidate_depth", "safe_name"]


class KnowledgeIndexError(FlowwrightError):
    """A knowledge index operation failed; the message says which base and why."""


@runtime_checkable
class KnowledgeIndex(Protocol):
    """One search engine holding any number of knowledge bases (one index each)."""

    def ensure(self, kb_id: str, dimension: int) -> None:
        """Create the knowledge base's index if missing; idempotent.

        Raises KnowledgeIndexError when it exists with another vector dimension."""
        ...

    def replace_document(self, kb_id: str, document_id: str, chunks: list[Chunk]) -> None:
        """Swap all chunks of ``document_id`` for ``chunks`` (vectors included).

        Readers never see the document missing or its chunks doubled."""
        ...

    def delete_document(self, kb_id: str, document_id: str) -> int:
        """Remove every chunk of ``document_id``; returns how many were removed."""
        ...

    def search(
        self, kb_id: str, request: SearchRequest, query_vector: list[float] | None
    ) -> list[Hit]:
        """Top ``request.top_k`` hits, best first. ``query_vector`` is required for the
        semantic and hybrid modes."""
        ...

    def count(self, kb_id: str) -> int:
        """Number of chunks in the knowledge base."""
        ...

    def drop(self, kb_id: str) -> None:
        """Delete the knowledge base's index and everything in it; no-op when missing."""
        ...


_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def safe_name(kb_id: str, max_length: int = 100) -> str:
    """A lowercase ``[a-z0-9_-]`` name for ``kb_id`` (file or index name).

    Ids that are already safe map to themselves; any other id gets a hash suffix so two
    ids that differ only in case or punctuation never share a name."""
    if not kb_id or not kb_id.strip():
        raise KnowledgeIndexError("knowledge base id must not be empty")
    slug = _UNSAFE.sub("-", kb_id.lower()).strip("-_") or "kb"
    if slug == kb_id and len(slug) <= max_length:
        return slug
    digest = hashlib.sha256(kb_id.encode("utf-8")).hexdigest()[:10]
    return f"{slug[: max_length - 11]}-{digest}"


def candidate_depth(top_k: int) -> int:
    """How many results each side of a hybrid search contributes to fusion."""
    return max(top_k * 5, 50)
