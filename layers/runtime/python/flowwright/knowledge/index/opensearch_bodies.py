"""Request bodies and response handling of the OpenSearch knowledge index, as OpenSearch
documents them: the index (``knn_vector``, ``cjk`` analyzer, metadata templates), the
search pipelines (``normalization-processor``, ``score-ranker-processor``), queries, chunk
documents and hits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowwright.knowledge.index import fusion
from flowwright.knowledge.index.base import KnowledgeIndexError
from flowwright.knowledge.models import Chunk, Hit

__all__ = [
    "RANK_CONSTANT",
    "SOURCE",
    "chunk_source",
    "hits_of",
    "index_body",
    "is_newest",
    "knn_query",
    "latest",
    "match_query",
    "newest_generations",
    "pipeline_body",
    "pipeline_names",
    "unit",
]

#: Searches return everything but the vector.
SOURCE = {"excludes": ["vector"]}
RANK_CONSTANT = 60


def unit(vector: Sequence[float]) -> list[float]:
    """``vector`` scaled to length 1 (a zero vector stays zero)."""
    norm = sum(x * x for x in vector) ** 0.5
    return [float(x) / norm for x in vector] if norm > 0 else [float(x) for x in vector]


def index_body(dimension: int) -> dict[str, Any]:
    """Settings and mappings of a knowledge base index."""
    return {
        "settings": {"index": {"knn": True}},
        "mappings": {
            "dynamic": False,
            "date_detection": False,
            "numeric_detection": False,
            "dynamic_templates": [
                {
                    "metadata_strings": {
                        "path_match": "metadata.*",
                        "match_mapping_type": "string",
                        "mapping": {
                            "type": "text",
                            "fields": {"keyword": {"type": "keyword", "ignore_above": 4096}},
                        },
                    }
                },
                {
                    "metadata_integers": {
                        "path_match": "metadata.*",
                        "match_mapping_type": "long",
                        "mapping": {"type": "double", "ignore_malformed": True},
                    }
                },
                {
                    "metadata_numbers": {
                        "path_match": "metadata.*",
                        "match_mapping_type": "double",
                        "mapping": {"type": "double", "ignore_malformed": True},
                    }
                },
            ],
            "properties": {
                "chunk_id": {"type": "keyword"},
                "document_id": {"type": "keyword"},
                "parent_id": {"type": "keyword"},
                "position": {"type": "integer"},
                "page": {"type": "integer"},
                "generation": {"type": "long"},
                "content": {"type": "text", "analyzer": "cjk"},
                "parent_content": {"type": "text", "index": False},
                "metadata": {"type": "object", "dynamic": True},
                "vector": {
                    "type": "knn_vector",
                    "dimension": dimension,
                    "method": {
                        "name": "hnsw",
                        "engine": "faiss",
                        "space_type": "innerproduct",
                        "parameters": {"m": 16, "ef_construction": 128},
                    },
                },
            },
        },
    }


def pipeline_names(prefix: str, vector_weight: float | None) -> str:
    """``<prefix>-v070`` for a vector weight of 0.70 (rounded to 0.01), ``<prefix>-rrf``
    for None."""
    if vector_weight is None:
        return f"{prefix}-rrf"
    _, vector = fusion.hybrid_weights(vector_weight)
    return f"{prefix}-v{round(vector * 100):03d}"


def pipeline_body(prefix: str, name: str) -> dict[str, Any]:
    """The body of the pipeline called ``name`` (see :func:`pipeline_names`)."""
    if name == f"{prefix}-rrf":
        return {
            "description": "flowwright hybrid search: reciprocal rank fusion",
            "phase_results_processors": [
                {
                    "score-ranker-processor": {
                        "combination": {"technique": "rrf", "rank_constant": RANK_CONSTANT}
                    }
                }
            ],
        }
    percent = int(name.rsplit("-v", 1)[1])
    keyword, vector = (100 - percent) / 100, percent / 100
    return {
        "description": (
            f"flowwright hybrid search: min_max, arithmetic_mean, "
            f"keyword {keyword:.2f} / vector {vector:.2f}"
        ),
        "phase_results_processors": [
            {
                "normalization-processor": {
                    "normalization": {"technique": "min_max"},
                    "combination": {
                        "technique": "arithmetic_mean",
                        "parameters": {"weights": [keyword, vector]},
                    },
                }
            }
        ],
    }


def match_query(text: str, filter_query: dict[str, Any] | None) -> dict[str, Any]:
    """Full-text sub-query on ``content``, restricted by ``filter_query``."""
    match = {"match": {"content": {"query": text}}}
    if filter_query is None:
        return match
    return {"bool": {"must": [match], "filter": [filter_query]}}


def knn_query(vector: list[float], k: int, filter_query: dict[str, Any] | None) -> dict[str, Any]:
    """k-NN sub-query on ``vector``; the filter applies during the search (faiss efficient
    filtering), not after it."""
    knn: dict[str, Any] = {"vector": vector, "k": k}
    if filter_query is not None:
        knn["filter"] = filter_query
    return {"knn": {"vector": knn}}


def chunk_source(chunk: Chunk, document_id: str, generation: int, dimension: int) -> dict[str, Any]:
    """The indexed document of ``chunk``, tagged with its ``generation``."""
    if chunk.document_id != document_id:
        raise KnowledgeIndexError(
            f"chunk {chunk.chunk_id!r} belongs to document {chunk.document_id!r}, "
            f"not {document_id!r}"
        )
    source: dict[str, Any] = {
        "chunk_id": chunk.chunk_id,
        "document_id": document_id,
        "position": chunk.position,
        "content": chunk.content,
        "parent_id": chunk.parent_id,
        "parent_content": chunk.parent_content,
        "page": chunk.page,
        "metadata": chunk.metadata,
        "generation": generation,
    }
    if chunk.vector is not None:
        if len(chunk.vector) != dimension:
            raise KnowledgeIndexError(
                f"chunk {chunk.chunk_id!r} has a {len(chunk.vector)}-dimension vector; "
                f"the knowledge base has {dimension} dimensions"
            )
        source["vector"] = unit(chunk.vector)
    return source


def hits_of(hits: list[dict[str, Any]], top_k: int, *, cosine: bool = False) -> list[Hit]:
    """The first ``top_k`` response hits as Hits; ``cosine`` turns k-NN scores back into
    cosine similarities."""
    result: list[Hit] = []
    for hit in hits[:top_k]:
        source = hit["_source"]
        score = float(hit["_score"])
        content = source.get("content", "")
        result.append(
            Hit(
                chunk_id=source["chunk_id"],
                document_id=source["document_id"],
                content=content,
                score=fusion.cosine_from_knn_score(score) if cosine else score,
                text=source.get("parent_content") or content,
                page=source.get("page"),
                metadata=source.get("metadata") or {},
            )
        )
    return result


def newest_generations(hits: list[dict[str, Any]]) -> dict[str, int]:
    """document_id -> the newest generation among ``hits``."""
    newest: dict[str, int] = {}
    for hit in hits:
        source = hit["_source"]
        document, generation = source["document_id"], int(source.get("generation", 0))
        newest[document] = max(newest.get(document, generation), generation)
    return newest


def is_newest(hit: dict[str, Any], newest: dict[str, int]) -> bool:
    """Whether ``hit`` belongs to its document's newest generation."""
    source = hit["_source"]
    return int(source.get("generation", 0)) == newest[source["document_id"]]


def latest(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hits of each document's newest generation among ``hits``, order kept."""
    newest = newest_generations(hits)
    return [hit for hit in hits if is_newest(hit, newest)]
