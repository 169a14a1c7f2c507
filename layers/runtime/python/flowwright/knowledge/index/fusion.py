"""Score fusion for hybrid search, computed exactly as OpenSearch's search pipelines do.

``min_max_weighted`` is the ``normalization-processor`` with ``min_max`` normalization and
``arithmetic_mean`` combination (neural-search ``MinMaxScoreNormalizationTechnique`` and
``ArithmeticMeanScoreCombinationTechnique``):

* each sub-query is normalized on its own, over the results it returned:
  ``(s - min) / (max - min)``;
* a sub-query whose results all have the same score (one result included) gives them 1.0;
* a score that normalizes to exactly 0 (the sub-query's minimum) becomes 0.001, so the
  weakest result of a sub-query still ranks above documents that sub-query did not return;
* a document a sub-query did not return scores 0 there, and that sub-query's weight still
  counts in the divisor: ``sum(w_i * s_i) / sum(w_i)`` over *all* sub-queries.

``rrf`` is the ``score-ranker-processor``: ``sum(w_i / (rank_constant + rank_i))`` with
1-based ranks, each term rounded to 10 decimals as OpenSearch does, weights default 1.

Results are sorted by score, best first; ties go to the smaller id.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "MIN_SCORE",
    "SINGLE_RESULT_SCORE",
    "cosine_from_knn_score",
    "hybrid_weights",
    "knn_score",
    "min_max_weighted",
    "rrf",
]

#: What a sub-query's minimum normalizes to (OpenSearch's ``MIN_SCORE``).
MIN_SCORE = 0.001
#: What every result of a sub-query with max == min normalizes to.
SINGLE_RESULT_SCORE = 1.0

Ranked = Sequence[tuple[str, float]]


def _ordered(scores: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _first_scores(results: Ranked) -> dict[str, float]:
    """id -> score, keeping the first (best-ranked) occurrence of an id."""
    scores: dict[str, float] = {}
    for doc_id, score in results:
        scores.setdefault(doc_id, score)
    return scores


def _normalize(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return dict.fromkeys(scores, SINGLE_RESULT_SCORE)
    span = high - low
    return {doc_id: ((score - low) / span) or MIN_SCORE for doc_id, score in scores.items()}


def _check_weights(results: Sequence[Ranked], weights: Sequence[float]) -> None:
    if len(weights) != len(results):
        raise ValueError(
            f"number of weights [{len(weights)}] must match number of sub-queries [{len(results)}]"
        )
    if any(w < 0 for w in weights):
        raise ValueError(f"weights must not be negative, got {list(weights)}")


def min_max_weighted(
    results: Sequence[Ranked], weights: Sequence[float]
) -> list[tuple[str, float]]:
    """Fuse sub-query results (id, raw score) with min-max + weighted arithmetic mean."""
    _check_weights(results, weights)
    total = float(sum(weights))
    normalized = [_normalize(_first_scores(r)) for r in results]
    combined: dict[str, float] = {}
    for scores, weight in zip(normalized, weights, strict=True):
        for doc_id, score in scores.items():
            combined[doc_id] = combined.get(doc_id, 0.0) + weight * score
    if total == 0:
        return _ordered(dict.fromkeys(combined, 0.0))
    return _ordered({doc_id: value / total for doc_id, value in combined.items()})


def rrf(
    results: Sequence[Ranked],
    rank_constant: int = 60,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion of sub-query results, each list in rank order."""
    if rank_constant < 1:
        raise ValueError(f"rank_constant must be at least 1, got {rank_constant}")
    if weights is None:
        weights = [1.0] * len(results)
    _check_weights(results, weights)
    combined: dict[str, float] = {}
    for ranked, weight in zip(results, weights, strict=True):
        for rank, doc_id in enumerate(_first_scores(ranked), start=1):
            term = round(1.0 / (rank_constant + rank), 10)
            combined[doc_id] = combined.get(doc_id, 0.0) + weight * term
    return _ordered(combined)


def hybrid_weights(vector_weight: float) -> tuple[float, float]:
    """(keyword, semantic) weights for a request's ``vector_weight``, rounded to 0.01.

    Both engines use this rounding; OpenSearch needs one pipeline per weight pair."""
    if not 0.0 <= vector_weight <= 1.0:
        raise ValueError(f"vector_weight must be within [0, 1], got {vector_weight}")
    percent = round(vector_weight * 100)
    return (100 - percent) / 100, percent / 100


def knn_score(cosine: float) -> float:
    """OpenSearch's k-NN score for unit vectors in the faiss ``innerproduct`` space.

    ``1 + dot`` for a positive dot product, ``1 / (1 - dot)`` otherwise. Hybrid search
    normalizes these scores, so the embedded engine fuses the same numbers."""
    return 1.0 + cosine if cosine > 0 else 1.0 / (1.0 - cosine)


def cosine_from_knn_score(score: float) -> float:
    """Inverse of :func:`knn_score`."""
    return score - 1.0 if score > 1.0 else 1.0 - 1.0 / score
