"""Embeddings through litellm: batched, retried with backoff on transient provider errors.

The default model is the embedded multilingual-e5-small
(:data:`~flowwright.models.local_embed.LOCAL_EMBED_MODEL`); any litellm embedding model
string works (``openai/text-embedding-3-small``, ``bedrock/amazon.titan-embed-text-v2:0``...).
"""

from __future__ import annotations

import functools
import os
import random
import time
from collections.abc import Callable
from typing import Any, Literal

from flowwright.models.local_embed import LOCAL_EMBED_DIMENSION, LOCAL_EMBED_MODEL

__all__ = ["EmbeddingError", "Kind", "dimension", "embed_query", "embed_texts"]

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

Kind = Literal["query", "passage"]

_BASE_DELAY = 1.0  # seconds before the first retry (before jitter)
_MAX_DELAY = 30.0


class EmbeddingError(Exception):
    """An embedding call failed for a non-transient reason, or kept failing."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"embedding model {model}: {reason}")
        self.model = model
        self.reason = reason


def embed_texts(
    texts: list[str],
    *,
    model: str,
    kind: Kind = "passage",
    batch_size: int = 32,
    max_retries: int = 5,
    sleep: Callable[[float], None] = time.sleep,
) -> list[list[float]]:
    """One vector per text, in order, calling ``litellm.embedding`` once per batch.

    ``kind`` says whether the texts are search queries or indexed passages, for models
    that embed them differently (the local e5 model, Cohere); others ignore it. Rate
    limits, timeouts, connection errors and 5xx answers are retried up to ``max_retries``
    times per batch with exponential backoff and jitter (waiting with ``sleep``); other
    failures, exhausted retries and malformed answers raise :class:`EmbeddingError`.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    _register(model)
    params = _kind_params(model, kind)
    vectors: list[list[float]] = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        vectors.extend(_embed_batch(batch, model, params, max_retries, sleep))
    return vectors


def embed_query(text: str, *, model: str) -> list[float]:
    """The vector of one search query."""
    return embed_texts([text], model=model, kind="query")[0]


@functools.lru_cache(maxsize=64)
def dimension(model: str) -> int:
    """How many dimensions ``model``'s vectors have (probes the model once if not local)."""
    if model == LOCAL_EMBED_MODEL:
        return LOCAL_EMBED_DIMENSION
    return len(embed_texts(["dimension probe"], model=model)[0])


def _register(model: str) -> None:
    if model.startswith("flowwright-local/"):
        from flowwright.models.local_chat import register

        register()


def _kind_params(model: str, kind: Kind) -> dict[str, Any]:
    """Provider parameters telling queries from passages."""
    provider = model.split("/", 1)[0]
    if provider == "flowwright-local":
        return {"input_type": kind}
    if provider == "cohere" or (provider == "bedrock" and "cohere.embed" in model):
        return {"input_type": "search_query" if kind == "query" else "search_document"}
    return {}


def _embed_batch(
    batch: list[str],
    model: str,
    params: dict[str, Any],
    max_retries: int,
    sleep: Callable[[float], None],
) -> list[list[float]]:
    import litellm

    attempt = 0
    while True:
        try:
            response = litellm.embedding(model=model, input=batch, **params)
        except Exception as exc:  # litellm raises many provider-specific types
            reason = f"{type(exc).__name__}: {exc}"
            if not _is_transient(exc):
                raise EmbeddingError(model, reason) from exc
            if attempt >= max_retries:
                raise EmbeddingError(
                    model, f"gave up after {attempt + 1} attempts: {reason}"
                ) from exc
            sleep(_backoff(attempt))
            attempt += 1
        else:
            return _vectors(response, len(batch), model)


def _is_transient(exc: Exception) -> bool:
    """Rate limits, timeouts, connection failures and 5xx answers."""
    import litellm

    transient = (
        litellm.RateLimitError,
        litellm.Timeout,
        litellm.APIConnectionError,
        litellm.InternalServerError,
        litellm.ServiceUnavailableError,
        litellm.BadGatewayError,
        TimeoutError,
    )
    if isinstance(exc, transient):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(exc, litellm.APIError) and isinstance(status, int) and status >= 500


def _backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt + 1``: ``1 s * 2**attempt`` (at most 30 s),
    jittered down by up to half."""
    delay = min(_MAX_DELAY, _BASE_DELAY * 2**attempt)
    return delay * (0.5 + random.random() / 2)


def _vectors(response: Any, expected: int, model: str) -> list[list[float]]:
    items = list(getattr(response, "data", None) or [])
    if len(items) != expected:
        raise EmbeddingError(model, f"expected {expected} vectors, got {len(items)}")
    items.sort(key=lambda item: _field(item, "index") or 0)
    return [[float(x) for x in _field(item, "embedding")] for item in items]


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)
