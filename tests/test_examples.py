"""The examples in examples/ run (model replies scripted; `make demo` runs them on the local model)."""

from __future__ import annotations

from typing import Any

import pytest
from flowwright.dsl import load_app

from tests.support import EXAMPLES

pytestmark = pytest.mark.slow


def test_support_triage_both_branches(runtime: Any, scripted: Any) -> None:
    app = load_app(EXAMPLES / "support-triage.yml")
    scripted({"summarize": "Checkout fails with 500."})
    urgent = runtime.run(app, {"ticket": "URGENT: checkout returns 500", "customer": "Ada"})
    calm = runtime.run(app, {"ticket": "How do I change my invoice address?"})
    assert urgent.outputs["reply"] == (
        "Hi Ada, this looks urgent (urgent, 500). Platform on-call is on it.\nSummary: Checkout fails with 500."
    )
    assert calm.outputs == {
        "reply": "Hi there, thanks for writing (7 words). We will answer within one business day.",
        "urgent": False,
        "words": 7,
    }


def test_chat_assistant_counts_turns(runtime: Any, scripted: Any) -> None:
    app = load_app(EXAMPLES / "chat-assistant.yml")
    scripted({"reply": lambda request: f"{len(request.messages)} messages"})
    first = runtime.run(app, {}, query="hi", conversation_id="ex-1")
    second = runtime.run(app, {}, query="again", conversation_id="ex-1")
    assert first.outputs == {"answer": "2 messages\n\n(turn 1)"}
    assert second.outputs == {"answer": "4 messages\n\n(turn 2)"}


@pytest.mark.model
def test_the_embedded_model_answers(tmp_path: Any) -> None:
    """The offline profile really runs SmolLM2 through litellm's custom provider."""
    from flowwright.runtime.local import LocalRuntime

    with LocalRuntime(tmp_path) as local:
        result = local.run(
            load_app(EXAMPLES / "chat-assistant.yml"), {}, query="Say hello.", conversation_id="m"
        )
    assert result.status == "succeeded", result.error
    reply = next(n for n in result.nodes if n.id == "reply")
    assert reply.tokens and reply.tokens > 0
    assert "offline profile: SmolLM2-135M" in (reply.note or "")
    assert result.outputs["answer"].endswith("(turn 1)") and len(result.outputs["answer"]) > len(
        "\n\n(turn 1)"
    )


def test_handbook_qa_cites_the_ingested_handbook(
    runtime: Any, scripted: Any, tmp_path_factory: Any
) -> None:
    from flowwright.knowledge.local import LocalKnowledge

    with LocalKnowledge(runtime.data_dir) as knowledge:
        records = knowledge.add_files("handbook", [EXAMPLES / "knowledge"])
    assert sorted(r.name for r in records) == ["leave-policy.md", "travel.md", "休假制度.txt"]
    assert all(r.status == "completed" for r in records)
    scripted({"answer": lambda request: request.messages[0]["content"]})  # echo the prompt
    result = runtime.run(
        load_app(EXAMPLES / "handbook-qa.yml"), {"question": "How many days of paid leave?"}
    )
    assert result.status == "succeeded", result.error
    assert "25 days of paid annual leave" in result.outputs["answer"]  # the context reached it
    sources = result.outputs["sources"]
    assert sources[0]["title"] == "leave-policy.md"
    assert sources[0]["metadata"]["doc_metadata"]["department"] == "people"
