"""Knowledge-base search engines behind one protocol: OpenSearch in AWS, SQLite locally.

``EmbeddedIndex`` (numpy) and ``OpenSearchIndex`` (opensearch-py) load on first use, so
importing this package pulls in neither dependency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowwright.knowledge.index.base import KnowledgeIndex, KnowledgeIndexError

if TYPE_CHECKING:
    from flowwright.knowledge.index.embedded import EmbeddedIndex
    from flowwright.knowledge.index.opensearch import OpenSearchIndex

__all__ = ["EmbeddedIndex", "KnowledgeIndex", "KnowledgeIndexError", "OpenSearchIndex"]


def __getattr__(name: str) -> Any:
    if name == "EmbeddedIndex":
        from flowwright.knowledge.index.embedded import EmbeddedIndex

        return EmbeddedIndex
    if name == "OpenSearchIndex":
        from flowwright.knowledge.index.opensearch import OpenSearchIndex

        return OpenSearchIndex
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
