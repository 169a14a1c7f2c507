"""Litellm gateway with scripted replies: text, usage, streaming, fall-through, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flowwright.models.gateway import (
    ChatRequest,
    LitellmGateway,
    ModelCallError,
    parse_mock,
)
from flowwright.models.model_map import ModelMap


def request(node_id: str = "llm1", **fields: Any) -> ChatRequest:
    values: dict[str, Any] = {
        "provider": "langgenius/openai/openai",
        "name": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello to the world, please."},
        ],
        "node_id": node_id,
    }
    values.update(fields)
    return ChatRequest(**values)


def test_scripted_reply_text_and_usage() -> None:
    # GIVEN a gateway whose mock always answers "hello world"
    seen: list[ChatRequest] = []

    def mock(req: ChatRequest) -> str:
        seen.append(req)
        return "hello world"

    gateway = LitellmGateway(mock=mock)
    # WHEN a node asks for a completion
    reply = gateway.chat(request())
    # THEN the reply is the scripted text, litellm counted tokens, and nothing was paid
    assert reply.text == "hello world"
    assert reply.finish_reason == "stop"
    assert reply.prompt_tokens > 0 and reply.completion_tokens > 0
    assert reply.cost == 0.0
    assert reply.note == "scripted reply"
    assert [r.node_id for r in seen] == ["llm1"]


def test_streaming_chunks_join_to_the_full_text() -> None:
    gateway = LitellmGateway(mock=lambda req: "hello streaming world, ünïcode 🚀")
    chunks: list[str] = []
    reply = gateway.chat(request(), on_chunk=chunks.append)
    assert len(chunks) > 1
    assert "".join(chunks) == reply.text == "hello streaming world, ünïcode 🚀"
    assert reply.prompt_tokens > 0 and reply.completion_tokens > 0
    assert reply.cost == 0.0


def test_mock_returning_none_falls_through_to_the_model_map(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a mock with no reply for this node and a model map sending everything to gpt-4o
    import litellm

    calls: list[dict[str, Any]] = []

    def failing_completion(**kwargs: Any) -> Any:
        calls.append(kwargs)
        raise ConnectionError("provider unreachable")

    monkeypatch.setattr(litellm, "completion", failing_completion)
    gateway = LitellmGateway(ModelMap("offline", {"*": "openai/gpt-4o"}), mock=lambda req: None)
    # WHEN the node asks for a completion
    with pytest.raises(ModelCallError) as caught:
        gateway.chat(request(params={"temperature": 0.3, "unsupported": 1, "top_p": None}))
    # THEN litellm was called with the mapped model, no scripted reply and only known params
    [kwargs] = calls
    assert kwargs["model"] == "openai/gpt-4o"
    assert "mock_response" not in kwargs
    assert kwargs["temperature"] == 0.3
    assert "unsupported" not in kwargs and "top_p" not in kwargs
    # AND the provider failure is wrapped, naming the model and the cause
    message = str(caught.value)
    assert "openai/gpt-4o" in message
    assert "ConnectionError" in message and "provider unreachable" in message
    assert isinstance(caught.value.__cause__, ConnectionError)


def test_json_schema_becomes_response_format(monkeypatch: pytest.MonkeyPatch) -> None:
    import litellm

    calls: list[dict[str, Any]] = []

    def failing_completion(**kwargs: Any) -> Any:
        calls.append(kwargs)
        raise RuntimeError("stop here")

    monkeypatch.setattr(litellm, "completion", failing_completion)
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    gateway = LitellmGateway(ModelMap("cloud"))
    with pytest.raises(ModelCallError, match="openai/gpt-4o: RuntimeError: stop here"):
        gateway.chat(request(json_schema=schema))
    assert calls[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema},
    }


def test_mock_exceptions_propagate_unwrapped() -> None:
    def broken(req: ChatRequest) -> str:
        raise KeyError("script bug")

    with pytest.raises(KeyError, match="script bug"):
        LitellmGateway(mock=broken).chat(request())


def test_parse_mock_plain_text_answers_every_node() -> None:
    mock = parse_mock("just this text")
    assert mock(request("a")) == "just this text"
    assert mock(request("b")) == "just this text"


def test_parse_mock_json_object_per_node() -> None:
    mock = parse_mock(json.dumps({"classify": "positive", "*": "fallback", "n": 3}))
    assert mock(request("classify")) == "positive"
    assert mock(request("n")) == "3"
    assert mock(request("other")) == "fallback"


def test_parse_mock_json_object_without_default_returns_none() -> None:
    mock = parse_mock('{"classify": "positive"}')
    assert mock(request("classify")) == "positive"
    assert mock(request("other")) is None


def test_parse_mock_json_number_is_text() -> None:
    assert parse_mock("42")(request()) == "42"


@pytest.mark.parametrize("spec", ['["a", "b"]', "true", "null"])
def test_parse_mock_plain_text_that_is_json_is_kept_verbatim(spec: str) -> None:
    # GIVEN reply text (README: "a text, or {node_id: text}") that also parses as JSON
    # WHEN it is used as the scripted reply
    # THEN the model "replies" exactly that text
    assert parse_mock(spec)(request()) == spec


def test_gateway_uses_parse_mock_per_node() -> None:
    gateway = LitellmGateway(mock=parse_mock('{"a": "from a", "*": "default"}'))
    assert gateway.chat(request("a")).text == "from a"
    assert gateway.chat(request("z")).text == "default"
