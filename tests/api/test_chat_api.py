"""Chat (advanced-chat) apps over real HTTP: memory across turns, conversations, feedback."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow


def ask(http: Any, query: str, conversation_id: str | None = None, user: str = "ann") -> Any:
    body = {"inputs": {}, "query": query, "response_mode": "blocking", "user": user}
    if conversation_id:
        body["conversation_id"] = conversation_id
    return http.post("/v1/chat-messages", json=body)


def test_three_turns_remember_and_count(server: Any, models: Any, scripted: Any) -> None:
    scripted({"reply": lambda request: f"reply {len(request.messages)}"})
    with server.client("chat-assistant") as http:
        first = ask(http, "my name is Ann").json()
        cid = first["conversation_id"]
        second = ask(http, "what is my name?", cid).json()
        third = ask(http, "and again?", cid).json()
    assert first["event"] == "message" and first["mode"] == "advanced-chat"
    assert first["answer"].endswith("(turn 1)") and third["answer"].endswith("(turn 3)")
    assert second["conversation_id"] == third["conversation_id"] == cid
    # the third call saw the two earlier turns (memory window) plus system and query
    last_messages = models.requests[-1].messages
    texts = [m["content"] for m in last_messages]
    assert "my name is Ann" in texts and "what is my name?" in texts


def test_conversations_messages_feedback_rename_delete(server: Any, scripted: Any) -> None:
    scripted({"reply": "hello"})
    with server.client("chat-assistant") as http:
        turn = ask(http, "hi there", user="bob").json()
        cid, message_id = turn["conversation_id"], turn["message_id"]
        listed = http.get("/v1/conversations", params={"user": "bob"}).json()
        assert [c["id"] for c in listed["data"]] == [cid]
        history = http.get("/v1/messages", params={"conversation_id": cid, "user": "bob"}).json()
        assert [(m["query"], m["id"]) for m in history["data"]] == [("hi there", message_id)]
        liked = http.post(
            f"/v1/messages/{message_id}/feedbacks", json={"rating": "like", "user": "bob"}
        )
        assert liked.json() == {"result": "success"}
        history = http.get("/v1/messages", params={"conversation_id": cid, "user": "bob"}).json()
        assert history["data"][0]["feedback"]["rating"] == "like"
        renamed = http.post(f"/v1/conversations/{cid}/name", json={"name": "Bob", "user": "bob"})
        assert renamed.json()["name"] == "Bob"
        variables = http.get(f"/v1/conversations/{cid}/variables", params={"user": "bob"}).json()
        assert variables["data"][0]["name"] == "turns" and variables["data"][0]["value"] == "1"
        # another user sees none of it
        assert http.get("/v1/conversations", params={"user": "eve"}).json()["data"] == []
        other = http.get("/v1/messages", params={"conversation_id": cid, "user": "eve"})
        assert other.status_code == 404
        deleted = http.request("DELETE", f"/v1/conversations/{cid}", json={"user": "bob"})
        assert deleted.status_code == 204
        assert http.get("/v1/conversations", params={"user": "bob"}).json()["data"] == []


def test_unknown_conversation_is_404(server: Any) -> None:
    with server.client("chat-assistant") as http:
        reply = ask(http, "hi", conversation_id="00000000-0000-0000-0000-000000000000")
    assert reply.status_code == 404
    assert reply.json()["message"] == "Conversation Not Exists."
