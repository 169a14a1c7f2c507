"""Searching knowledge bases: one way for the node, the CLI and the API.

The query is embedded with each knowledge base's own embedding model; the index fuses BM25
and k-NN itself (hybrid); results from several knowledge bases are merged by score, or
reranked by a rerank model through litellm.
"""

from __future__ import annotations

from typing import Any

from flowwright.knowledge.documents import KnowledgeBase
from flowwright.knowledge.embed import embed_query
from flowwright.knowledge.models import Hit, MetadataFilter, SearchMode, SearchRequest
from flowwright.knowledge.services import KnowledgeServices

__all__ = ["KnowledgeBaseNotFound", "chunk_position", "rerank", "search_kb", "search_many"]


def chunk_position(chunk_id: str) -> int | None:
    """1-based position of a chunk in its document (ids end in ``:<n>`` or ``:<n>.<child>``)."""
    tail = chunk_id.rsplit(":", 1)[-1].split(".")[0]
    return int(tail) + 1 if tail.isdigit() else None


class KnowledgeBaseNotFound(LookupError):
    """A knowledge base id that nothing was ever ingested into."""

    def __init__(self, kb_id: str) -> None:
        super().__init__(f"knowledge base {kb_id!r} does not exist (no document was ingested)")
        self.kb_id = kb_id


def search_kb(
    services: KnowledgeServices,
    kb_id: str,
    query: str,
    *,
    mode: SearchMode | None = None,
    top_k: int | None = None,
    vector_weight: float | None = None,
    score_threshold: float | None = None,
    filters: list[MetadataFilter] | None = None,
    filter_logic: str = "and",
) -> list[Hit]:
    """Search one knowledge base with its own retrieval settings, overridden by arguments."""
    kb = _kb(services, kb_id)
    settings = kb.settings.retrieval
    request = SearchRequest(
        query=query,
        mode=mode or settings.search_method,
        top_k=top_k or settings.top_k,
        vector_weight=settings.vector_weight if vector_weight is None else vector_weight,
        fusion=settings.fusion,
        filters=filters or [],
        filter_logic="or" if filter_logic == "or" else "and",
    )
    vector = None
    if request.mode != "full_text" and query.strip():
        vector = embed_query(query, model=kb.settings.embedding_model)
    hits = services.index.search(kb_id, request, vector)
    for hit in hits:
        hit.metadata.setdefault("dataset_id", kb.kb_id)
        hit.metadata.setdefault("dataset_name", kb.name)
    threshold = settings.score_threshold if score_threshold is None else score_threshold
    return [h for h in hits if threshold is None or h.score >= threshold]


def search_many(
    services: KnowledgeServices,
    kb_ids: list[str],
    query: str,
    *,
    top_k: int,
    score_threshold: float | None = None,
    vector_weight: float | None = None,
    rerank_model: str | None = None,
    filters: list[MetadataFilter] | None = None,
    filter_logic: str = "and",
) -> list[Hit]:
    """Dify's multiple-retrieval mode: ``top_k`` from each, then one ranking across all."""
    hits: list[Hit] = []
    for kb_id in kb_ids:
        hits.extend(
            search_kb(
                services,
                kb_id,
                query,
                top_k=top_k,
                vector_weight=vector_weight,
                score_threshold=0.0 if score_threshold is not None else None,
                filters=filters,
                filter_logic=filter_logic,
            )
        )
    if rerank_model and hits:
        hits = rerank(rerank_model, query, hits)
    hits.sort(key=lambda h: (-h.score, h.chunk_id))
    if score_threshold is not None:
        hits = [h for h in hits if h.score >= score_threshold]
    return hits[:top_k]


def rerank(model: str, query: str, hits: list[Hit]) -> list[Hit]:
    """Rescore ``hits`` with a litellm rerank model (Cohere, Jina, Bedrock, ...)."""
    import litellm

    response: Any = litellm.rerank(model=model, query=query, documents=[h.text for h in hits])
    results = response.results if hasattr(response, "results") else response["results"]
    rescored = []
    for item in results:
        index = item["index"] if isinstance(item, dict) else item.index
        score = item["relevance_score"] if isinstance(item, dict) else item.relevance_score
        rescored.append(hits[int(index)].model_copy(update={"score": float(score)}))
    return rescored


def _kb(services: KnowledgeServices, kb_id: str) -> KnowledgeBase:
    kb = services.documents.get_kb(kb_id)
    if kb is None:
        raise KnowledgeBaseNotFound(kb_id)
    return kb
