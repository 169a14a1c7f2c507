"""LLM node: Dify's prompt building (templates, context, jinja2, memory) and the model call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flowwright.errors import NodeConfigError, NodeExecutionError
from flowwright.models.gateway import ChatReply, ChatRequest
from flowwright.nodes.base import NodeContext
from flowwright.nodes.llm.config import LLMConfig
from flowwright.nodes.llm.run import DEFAULT_HISTORY_TURNS, build_messages, run
from flowwright.runtime.conversations import InMemoryConversationStore, Message
from flowwright.runtime.services import Services
from flowwright.variables import VariablePool

MODEL = {"provider": "openai", "name": "gpt-4o", "mode": "chat"}
SCOPES: dict[str, Any] = {
    "sys": {"query": "What about dogs?"},
    "start": {"name": "Ada", "topic": "pets", "n": 3},
    "kr": {
        "text": "Dogs bark.",
        "docs": [{"content": "Doc one."}, {"content": "Doc two.", "title": "t"}, "loose"],
    },
}


class FakeGateway:
    """A model gateway that records requests and answers with a fixed reply."""

    def __init__(self, reply: ChatReply) -> None:
        self.reply = reply
        self.requests: list[ChatRequest] = []
        self.on_chunks: list[Any] = []

    def chat(
        self, request: ChatRequest, on_chunk: Callable[[str], None] | None = None
    ) -> ChatReply:
        self.requests.append(request)
        self.on_chunks.append(on_chunk)
        return self.reply


def llm(**fields: Any) -> LLMConfig:
    data: dict[str, Any] = {"type": "llm", "title": "LLM", "model": MODEL, **fields}
    return LLMConfig.model_validate(data)


def context(
    *,
    mode: str = "workflow",
    conversation_id: str | None = None,
    store: InMemoryConversationStore | None = None,
    gateway: Any = None,
    stream: Callable[[str], None] | None = None,
) -> NodeContext:
    return NodeContext(
        app_id="app",
        run_id="r",
        node_id="llm1",
        node_type="llm",
        mode=mode,  # type: ignore[arg-type]
        conversation_id=conversation_id,
        services=Services(
            conversations=store or InMemoryConversationStore(),
            model_factory=(lambda: gateway) if gateway is not None else None,
        ),
        stream=stream,
    )


def pool(**extra: dict[str, Any]) -> VariablePool:
    return VariablePool({**SCOPES, **extra})


def store_with_turns(count: int) -> InMemoryConversationStore:
    store = InMemoryConversationStore()
    for i in range(1, count + 1):
        store.append_message("app", "c1", Message(query=f"q{i}", answer=f"a{i}"))
    return store


# --------------------------------------------------------------------------- chat prompts


def test_chat_prompt_renders_variable_templates() -> None:
    config = llm(
        prompt_template=[
            {"role": "system", "text": "You help {{#start.name#}} with {{#start.topic#}}."},
            {"role": "user", "text": "{{#sys.query#}} ({{#start.n#}}x){{#start.missing#}}"},
            {"role": "assistant", "text": "Sure."},
        ]
    )
    assert build_messages(config, pool(), context()) == [
        {"role": "system", "content": "You help Ada with pets."},
        {"role": "user", "content": "What about dogs? (3x)"},
        {"role": "assistant", "content": "Sure."},
    ]


def test_context_placeholder_from_a_string() -> None:
    config = llm(
        context={"enabled": True, "variable_selector": ["kr", "text"]},
        prompt_template=[{"role": "system", "text": "Use this:\n{{#context#}}\nEnd."}],
    )
    [message] = build_messages(config, pool(), context())
    assert message["content"] == "Use this:\nDogs bark.\nEnd."


def test_context_placeholder_from_a_list_of_chunks() -> None:
    config = llm(
        context={"enabled": True, "variable_selector": ["kr", "docs"]},
        prompt_template=[{"role": "system", "text": "[{{#context#}}]"}],
    )
    [message] = build_messages(config, pool(), context())
    assert message["content"] == "[Doc one.\nDoc two.\nloose]"


def test_context_placeholder_is_empty_when_context_is_disabled() -> None:
    config = llm(
        context={"enabled": False, "variable_selector": ["kr", "text"]},
        prompt_template=[{"role": "system", "text": "ctx=[{{#context#}}]"}],
    )
    [message] = build_messages(config, pool(), context())
    assert message["content"] == "ctx=[]"


def test_empty_messages_are_dropped() -> None:
    config = llm(
        prompt_template=[
            {"role": "system", "text": ""},
            {"role": "system", "text": None},
            {"role": "user", "text": "{{#start.missing#}}"},
            {"role": "user", "text": "kept"},
        ]
    )
    assert build_messages(config, pool(), context()) == [{"role": "user", "content": "kept"}]


def test_jinja2_messages_use_jinja2_variables() -> None:
    config = llm(
        prompt_template=[
            {
                "role": "system",
                "text": "ignored {{#start.name#}}",
                "edition_type": "jinja2",
                "jinja2_text": "Hi {{ who }}{% for d in docs %} | {{ d.content }}{% endfor %}",
            },
            {"role": "user", "text": "basic {{#start.name#}}", "edition_type": "basic"},
        ],
        prompt_config={
            "jinja2_variables": [
                {"variable": "who", "value_selector": ["start", "name"]},
                {"variable": "docs", "value_selector": ["kr", "docs"]},
            ]
        },
    )
    messages = build_messages(config, pool(), context())
    assert messages[0] == {"role": "system", "content": "Hi Ada | Doc one. | Doc two. | "}
    assert messages[1] == {"role": "user", "content": "basic Ada"}


# --------------------------------------------------------------------------- memory


def test_memory_adds_history_window_then_the_query() -> None:
    # GIVEN a conversation with three earlier turns and a memory window of two
    config = llm(
        prompt_template=[{"role": "system", "text": "Be brief."}],
        memory={
            "window": {"enabled": True, "size": 2},
            "query_prompt_template": "{{#sys.query#}} (for {{#start.name#}})",
        },
    )
    ctx = context(mode="advanced-chat", conversation_id="c1", store=store_with_turns(3))
    # WHEN the messages are built
    messages = build_messages(config, pool(), ctx)
    # THEN the prompt comes first, then the last two turns oldest first, then the query
    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "q3"},
        {"role": "assistant", "content": "a3"},
        {"role": "user", "content": "What about dogs? (for Ada)"},
    ]


def test_memory_without_window_uses_the_default_turn_limit() -> None:
    config = llm(prompt_template=[], memory={"window": {"enabled": False, "size": 1}})
    ctx = context(
        mode="advanced-chat",
        conversation_id="c1",
        store=store_with_turns(DEFAULT_HISTORY_TURNS + 2),
    )
    messages = build_messages(config, pool(), ctx)
    history = [m["content"] for m in messages[:-1] if m["role"] == "user"]
    assert len(history) == DEFAULT_HISTORY_TURNS
    assert history[0] == "q3" and history[-1] == f"q{DEFAULT_HISTORY_TURNS + 2}"
    # Without a query template the query is sys.query
    assert messages[-1] == {"role": "user", "content": "What about dogs?"}


def test_memory_history_is_ignored_in_workflow_mode() -> None:
    # GIVEN a store with turns for the same app and conversation id
    config = llm(
        prompt_template=[{"role": "user", "text": "Hi"}],
        memory={"window": {"enabled": True, "size": 5}},
    )
    ctx = context(mode="workflow", conversation_id="c1", store=store_with_turns(2))
    # WHEN a workflow builds its messages
    messages = build_messages(config, pool(), ctx)
    # THEN no history is read
    assert all(m["content"] not in {"q1", "a1", "q2", "a2"} for m in messages)
    assert messages[0] == {"role": "user", "content": "Hi"}


def test_memory_needs_a_conversation_id() -> None:
    config = llm(prompt_template=[], memory={"window": {"enabled": True, "size": 5}})
    ctx = context(mode="advanced-chat", conversation_id=None, store=store_with_turns(2))
    assert build_messages(config, pool(), ctx) == [{"role": "user", "content": "What about dogs?"}]


def test_completion_prompt_with_histories_and_query() -> None:
    config = llm(
        model={**MODEL, "mode": "completion"},
        prompt_template={"text": "Chat of {{#start.name#}}:\n#histories#\nHuman: #sys.query#"},
        memory={
            "window": {"enabled": True, "size": 2},
            "role_prefix": {"user": "U", "assistant": "A"},
        },
    )
    ctx = context(mode="advanced-chat", conversation_id="c1", store=store_with_turns(3))
    assert build_messages(config, pool(), ctx) == [
        {
            "role": "user",
            "content": "Chat of Ada:\nU: q2\nA: a2\nU: q3\nA: a3\nHuman: What about dogs?",
        }
    ]


def test_completion_prompt_without_histories_marker_prepends_history() -> None:
    config = llm(
        prompt_template={"text": "Q: {{#sys.query#}}"},
        memory={"window": {"enabled": True, "size": 1}},
    )
    ctx = context(mode="advanced-chat", conversation_id="c1", store=store_with_turns(2))
    [message] = build_messages(config, pool(), ctx)
    assert message["content"] == "Human: q2\nAssistant: a2\nQ: What about dogs?"


def test_completion_prompt_without_memory_is_rendered_as_is() -> None:
    config = llm(
        prompt_template={
            "text": "ctx={{#context#}} q=#sys.query#",
            "edition_type": "basic",
        },
        context={"enabled": True, "variable_selector": ["kr", "text"]},
    )
    assert build_messages(config, pool(), context()) == [
        {"role": "user", "content": "ctx=Dogs bark. q=#sys.query#"}
    ]


# --------------------------------------------------------------------------- run


def reply(text: str, **fields: Any) -> ChatReply:
    values: dict[str, Any] = {
        "model": "openai/gpt-4o",
        "prompt_tokens": 11,
        "completion_tokens": 7,
        "cost": 0.0025,
    }
    values.update(fields)
    return ChatReply(text=text, **values)


def test_run_calls_the_gateway_and_reports_usage() -> None:
    # GIVEN a gateway that answers with a known reply and usage
    gateway = FakeGateway(reply("Hello Ada", finish_reason="length", note="model map: x"))
    chunks: list[str] = []
    config = llm(
        prompt_template=[{"role": "user", "text": "Greet {{#start.name#}}"}],
        model={**MODEL, "completion_params": {"temperature": 0.2}},
    )
    # WHEN the node runs
    result = run(config, pool(), context(gateway=gateway, stream=chunks.append))
    # THEN the request carries the Dify model, messages, params and node id
    [request] = gateway.requests
    assert (request.provider, request.name, request.node_id) == ("openai", "gpt-4o", "llm1")
    assert request.messages == [{"role": "user", "content": "Greet Ada"}]
    assert request.params == {"temperature": 0.2}
    assert request.json_schema is None
    assert gateway.on_chunks == [chunks.append]
    # AND the outputs, usage and note come from the reply
    assert result.outputs == {
        "text": "Hello Ada",
        "reasoning_content": "",
        "usage": {
            "prompt_tokens": 11,
            "completion_tokens": 7,
            "total_tokens": 18,
            "total_price": 0.0025,
            "currency": "USD",
        },
        "finish_reason": "length",
    }
    assert result.usage is not None and result.usage.total_tokens == 18
    assert result.note == "model map: x"
    assert result.process_data == {
        "model": "openai/gpt-4o",
        "prompts": [{"role": "user", "content": "Greet Ada"}],
    }


def test_run_sends_one_empty_turn_when_every_message_is_empty() -> None:
    gateway = FakeGateway(reply("ok"))
    config = llm(prompt_template=[{"role": "user", "text": "{{#start.missing#}}"}])
    run(config, pool(), context(gateway=gateway))
    assert gateway.requests[0].messages == [{"role": "user", "content": ""}]


def test_run_without_services_is_a_config_error() -> None:
    ctx = NodeContext(app_id="a", run_id="r", node_id="n", node_type="llm")
    with pytest.raises(NodeConfigError, match="no model gateway"):
        run(llm(prompt_template=[{"role": "user", "text": "x"}]), pool(), ctx)


SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}


@pytest.mark.parametrize(
    "text",
    [
        '{"answer": "yes", "n": [1, 2]}',
        '```json\n{"answer": "yes", "n": [1, 2]}\n```',
        '```\n{"answer": "yes", "n": [1, 2]}\n```',
        'Here you go: {"answer": "yes", "n": [1, 2]} Hope it helps.',
    ],
)
def test_structured_output_is_parsed(text: str) -> None:
    gateway = FakeGateway(reply(text))
    config = llm(
        prompt_template=[{"role": "user", "text": "x"}],
        structured_output_enabled=True,
        structured_output={"schema": SCHEMA},
    )
    result = run(config, pool(), context(gateway=gateway))
    assert result.outputs["structured_output"] == {"answer": "yes", "n": [1, 2]}
    assert result.outputs["text"] == text
    assert gateway.requests[0].json_schema == SCHEMA


@pytest.mark.parametrize("text", ["not json at all", '```json\n{"answer": \n```', "{broken}"])
def test_invalid_structured_output_fails_the_node(text: str) -> None:
    gateway = FakeGateway(reply(text))
    config = llm(
        prompt_template=[{"role": "user", "text": "x"}],
        structured_output={"enabled": True},
    )
    with pytest.raises(NodeExecutionError, match="not valid JSON"):
        run(config, pool(), context(gateway=gateway))


def test_no_structured_output_when_disabled() -> None:
    gateway = FakeGateway(reply("not json"))
    config = llm(
        prompt_template=[{"role": "user", "text": "x"}],
        structured_output_enabled=False,
        structured_output={"schema": SCHEMA},
    )
    result = run(config, pool(), context(gateway=gateway))
    assert "structured_output" not in result.outputs
    assert gateway.requests[0].json_schema is None
