"""Streaming over real HTTP: SSE parsed as a client would, tokens before the run ends."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def events(lines: Any) -> list[dict[str, Any]]:
    return list(each_event(lines))


def each_event(lines: Any) -> Any:
    """Events as the client reads them (lazily, line by line)."""
    for line in lines:
        if line.startswith("data: "):
            yield json.loads(line[6:])


def test_workflow_stream_has_difys_events_in_order(server: Any, scripted: Any) -> None:
    scripted({"llm": "Paris is the capital."})
    with (
        server.client("echo") as http,
        http.stream(
            "POST",
            "/v1/workflows/run",
            json={"inputs": {"q": "capital?"}, "response_mode": "streaming", "user": "u1"},
        ) as reply,
    ):
        assert reply.headers["content-type"].startswith("text/event-stream")
        got = events(reply.iter_lines())
    names = [e["event"] for e in got]
    assert names[0] == "workflow_started" and names[-1] == "workflow_finished"
    assert names.count("node_started") == names.count("node_finished") == 3
    text = "".join(e["data"]["text"] for e in got if e["event"] == "text_chunk")
    assert text == "Paris is the capital."
    assert len([e for e in got if e["event"] == "text_chunk"]) > 1  # word by word
    finished = got[-1]["data"]
    assert finished["status"] == "succeeded" and finished["outputs"]["answer"] == text
    assert {e["workflow_run_id"] for e in got} == {got[0]["workflow_run_id"]}


def test_tokens_reach_the_client_before_the_model_finishes(server: Any, scripted: Any) -> None:
    """The scripted model waits between words; the client must see the first word while the
    model is still generating (not after the node ends)."""
    release = threading.Event()
    released_by_client: list[bool] = []

    def slow_reply(request: Any) -> str:
        return "first second third"

    scripted({"llm": slow_reply})
    from flowwright.models import gateway

    original = gateway.LitellmGateway.chat

    def chat(self: Any, request: Any, on_chunk: Any = None) -> Any:
        if on_chunk is None:
            return original(self, request, on_chunk)

        def paced(piece: str) -> None:
            on_chunk(piece)
            if piece.startswith("first"):
                # True only if the client saw "first" while this call was still running
                released_by_client.append(release.wait(10))

        return original(self, request, paced)

    gateway.LitellmGateway.chat = chat  # type: ignore[method-assign]
    try:
        seen_at: dict[str, float] = {}
        with (
            server.client("echo") as http,
            http.stream(
                "POST",
                "/v1/workflows/run",
                json={"inputs": {"q": "go"}, "response_mode": "streaming", "user": "u1"},
            ) as reply,
        ):
            for event in each_event(reply.iter_lines()):
                if event["event"] == "text_chunk" and "first" not in seen_at:
                    seen_at["first"] = time.monotonic()
                    release.set()  # only now may the model go on
                if event["event"] == "workflow_finished":
                    seen_at["end"] = time.monotonic()
        assert released_by_client == [True]
        assert seen_at["first"] < seen_at["end"]
    finally:
        gateway.LitellmGateway.chat = original  # type: ignore[method-assign]
        release.set()


def test_chat_stream_messages_then_message_end(server: Any, scripted: Any) -> None:
    scripted({"reply": "Hello Ann"})
    with (
        server.client("chat-assistant") as http,
        http.stream(
            "POST",
            "/v1/chat-messages",
            json={"inputs": {}, "query": "hi", "response_mode": "streaming", "user": "ann"},
        ) as reply,
    ):
        got = events(reply.iter_lines())
    names = [e["event"] for e in got]
    assert "message" in names and "message_end" in names and names[-1] == "workflow_finished"
    answer = "".join(e["answer"] for e in got if e["event"] == "message")
    assert answer == "Hello Ann\n\n(turn 1)"
    assert {e["conversation_id"] for e in got if "conversation_id" in e} == {
        got[0]["conversation_id"]
    }


def test_a_client_that_disconnects_does_not_break_the_run(server: Any) -> None:
    with server.client("slow") as http:
        with http.stream(
            "POST",
            "/v1/workflows/run",
            json={"inputs": {"seconds": 1}, "response_mode": "streaming", "user": "u1"},
        ) as reply:
            first = next(reply.iter_lines())
            run_id = json.loads(first[6:])["workflow_run_id"]
        deadline = time.monotonic() + 30
        while (detail := http.get(f"/v1/workflows/run/{run_id}").json())["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert detail["status"] == "succeeded" and detail["outputs"] == {"slept": 1}
