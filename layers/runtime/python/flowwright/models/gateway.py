"""Every chat model call goes through litellm here.

Tests and demos script replies with a :data:`Mock` (request -> reply text or ``None``);
scripted replies still go through ``litellm.completion(mock_response=...)``, so message
shaping, streaming and usage accounting are litellm's own.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowwright.models.model_map import LOCAL_CHAT_MODEL, ModelChoice, ModelMap

__all__ = ["ChatReply", "ChatRequest", "LitellmGateway", "Mock", "ModelCallError", "ModelGateway"]

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


class ModelCallError(Exception):
    """The model provider failed (after litellm's own retries)."""


@dataclass
class ChatRequest:
    """One chat completion as a node asks for it (Dify model names, OpenAI-style messages)."""

    provider: str
    name: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    node_id: str = ""
    json_schema: dict[str, Any] | None = None


@dataclass
class ChatReply:
    """The model's reply with usage and the model that actually answered."""

    text: str
    model: str
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    note: str | None = None


Mock = Callable[[ChatRequest], str | None]


class ModelGateway(Protocol):
    def chat(
        self, request: ChatRequest, on_chunk: Callable[[str], None] | None = None
    ) -> ChatReply: ...


#: Parameters Dify stores in ``completion_params`` that litellm accepts under the same name.
_PARAMS = {
    "temperature",
    "top_p",
    "max_tokens",
    "presence_penalty",
    "frequency_penalty",
    "stop",
    "seed",
    "response_format",
}


class LitellmGateway:
    """Calls litellm with the model the :class:`ModelMap` picks."""

    def __init__(self, model_map: ModelMap | None = None, *, mock: Mock | None = None) -> None:
        self.model_map = model_map or ModelMap()
        self.mock = mock
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> LitellmGateway:
        """Model map and provider keys from the environment; ``FLOWWRIGHT_MOCK_LLM`` scripts
        every reply."""
        from flowwright.models.provider_keys import load_provider_keys

        load_provider_keys()
        scripted = os.environ.get("FLOWWRIGHT_MOCK_LLM")
        mock: Mock | None = None
        if scripted is not None:
            mock = lambda request: scripted  # noqa: E731
        return cls(ModelMap.from_env(), mock=mock)

    def chat(
        self, request: ChatRequest, on_chunk: Callable[[str], None] | None = None
    ) -> ChatReply:
        import litellm

        litellm.suppress_debug_info = True  # no "Provider List" banners on stdout
        scripted = self.mock(request) if self.mock is not None else None
        if scripted is not None:
            choice = ModelChoice(
                "openai/gpt-4o-mini", f"{request.provider}/{request.name}", "scripted reply"
            )
        else:
            choice = self.model_map.resolve(request.provider, request.name)
        if choice.model == LOCAL_CHAT_MODEL:
            from flowwright.models.local_chat import register

            register()
        params = {k: v for k, v in request.params.items() if k in _PARAMS and v is not None}
        if request.json_schema is not None and choice.model != LOCAL_CHAT_MODEL:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": request.json_schema},
            }
        kwargs: dict[str, Any] = {"model": choice.model, "messages": request.messages, **params}
        if scripted is not None:
            kwargs["mock_response"] = scripted
        try:
            if on_chunk is None or scripted is not None:
                response = litellm.completion(**kwargs)
                text = response.choices[0].message.content or ""
                finish = response.choices[0].finish_reason or "stop"
                usage = getattr(response, "usage", None)
                if on_chunk is not None:  # a scripted reply streams word by word
                    for piece in re.findall(r"\S+\s*|\s+", text):
                        on_chunk(piece)
            else:
                chunks = []
                text = ""
                for chunk in litellm.completion(stream=True, **kwargs):
                    chunks.append(chunk)
                    piece = chunk.choices[0].delta.content or "" if chunk.choices else ""
                    if piece:
                        text += piece
                        on_chunk(piece)
                built = litellm.stream_chunk_builder(chunks, messages=request.messages)
                finish = built.choices[0].finish_reason if built and built.choices else "stop"
                usage = getattr(built, "usage", None)
                response = built
        except Exception as exc:  # litellm raises many provider-specific types
            raise ModelCallError(f"{choice.model}: {type(exc).__name__}: {exc}") from exc
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        return ChatReply(
            text=text,
            model=choice.model,
            finish_reason=str(finish or "stop"),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=_cost(response) if scripted is None and choice.model != LOCAL_CHAT_MODEL else 0.0,
            note=choice.note,
        )


def _cost(response: Any) -> float:
    """The call's price in USD; unknown models cost 0 rather than failing the run."""
    try:
        import litellm

        return float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:
        return 0.0


def script(replies: dict[str, str] | str) -> Mock:
    """A mock replying per node id (``{"node_id": "text", "*": "default"}``) or always the same."""
    if isinstance(replies, str):
        return lambda request: replies
    table = dict(replies)
    return lambda request: table.get(request.node_id, table.get("*"))


def parse_mock(spec: str) -> Mock:
    """A mock from CLI text: a JSON object (replies per node id) or a reply used as given."""
    try:
        loaded = json.loads(spec)
    except ValueError:
        return script(spec)
    if isinstance(loaded, dict):
        return script(
            {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in loaded.items()}
        )
    return script(spec)
