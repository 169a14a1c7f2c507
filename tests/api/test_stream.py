"""Dify streaming events from node events: order, answer text token by token, schemas."""

from __future__ import annotations

import json
import uuid
from functools import cache
from typing import Any

import pytest
from flowwright.api.stream import StreamTranslator, error_event, ping, sse
from flowwright.runtime.events import NodeEvent
from flowwright.runtime.result import RunResult
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.support import SHARED, app_from_yaml

OPENAPI = SHARED / "conformance" / "dify-api" / "openapi_service.json"
TASK, RUN, CONVERSATION, MESSAGE = (str(uuid.uuid4()) for _ in range(4))
T0 = 1_700_000_000

#: Fields real Dify sends that the OpenAPI document does not list (top level; under ``data``:
#: the chatflow variants of the container events omit what the workflow variants list).
UNDOCUMENTED = {"message": {"id", "from_variable_selector"}, "message_end": {"files"}}
UNDOCUMENTED_DATA = {
    "iteration_completed": {"inputs", "extras", "execution_metadata"},
    "loop_completed": {"inputs", "extras", "execution_metadata"},
}

# --------------------------------------------------------------------------- schemas


def _openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable`` as JSON Schema (``discriminator`` dropped: ``allOf`` decides)."""
    if isinstance(node, list):
        return [_openapi_to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: _openapi_to_json_schema(v)
        for k, v in node.items()
        if k not in ("nullable", "discriminator")
    }
    if node.get("nullable") is True:
        out = (
            {**out, "type": [out["type"], "null"]}
            if "type" in out
            else {"anyOf": [out, {"type": "null"}]}
        )
    return out


@cache
def _document() -> dict[str, Any]:
    return _openapi_to_json_schema(json.loads(OPENAPI.read_text(encoding="utf-8")))


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(_document(), default_specification=DRAFT202012)
    return Registry().with_resource("urn:dify", resource)


def _schema_name(event: str, chat: bool) -> str:
    base = "ChunkChatEvent" if chat else "ChunkWorkflowEvent"
    mapping = json.loads(OPENAPI.read_text(encoding="utf-8"))["components"]["schemas"][base]
    return str(mapping["discriminator"]["mapping"][event]).rsplit("/", 1)[-1]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = _document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _documented(name: str) -> tuple[set[str], set[str]]:
    """Property names the document gives an event, at the top level and under ``data``."""
    top: set[str] = set()
    data: set[str] = set()

    def walk(schema: dict[str, Any]) -> None:
        schema = _resolve(schema)
        for part in schema.get("allOf", []):
            walk(part)
        for key, prop in schema.get("properties", {}).items():
            top.add(key)
            if key == "data":
                data.update(_resolve(prop).get("properties", {}))

    walk({"$ref": f"#/components/schemas/{name}"})
    return top, data


def check(event: dict[str, Any], chat: bool) -> None:
    """``event`` validates against its schema and has no field the schema does not know."""
    name = _schema_name(event["event"], chat)
    validator = Draft202012Validator(
        {"$ref": f"urn:dify#/components/schemas/{name}"},
        registry=_registry(),
        format_checker=FormatChecker(),
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(event)]
    assert not errors, (name, errors, event)
    top, data = _documented(name)
    assert set(event) - top <= UNDOCUMENTED.get(event["event"], set()), (name, set(event) - top)
    extra = set(event.get("data") or {}) - data
    assert extra <= UNDOCUMENTED_DATA.get(event["event"], set()), (name, extra)


# --------------------------------------------------------------------------- helpers


class Feed:
    """A translator whose every event is checked against Dify's schemas."""

    def __init__(self, app_yaml: str, **kwargs: Any) -> None:
        self.app = app_from_yaml(app_yaml)
        self.chat = self.app.mode == "advanced-chat"
        ids = (CONVERSATION, MESSAGE) if self.chat else (None, None)
        self.tr = StreamTranslator(self.app, TASK, RUN, *ids, {"q": "x"}, T0, **kwargs)
        self.events: list[dict[str, Any]] = []
        self.add(self.tr.started())

    def add(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for event in events:
            check(event, self.chat)
            sse(event)  # encodable
        self.events += events
        return events

    def __call__(self, *node_events: NodeEvent) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for e in node_events:
            out += self.add(self.tr.on_event(e))
        return out

    def finish(self, status: str = "succeeded", **kwargs: Any) -> list[dict[str, Any]]:
        result = RunResult(run_id=RUN, app=self.app.name, status=status, elapsed_ms=1500, **kwargs)
        return self.add(self.tr.finished(result))

    def names(self) -> list[str]:
        return [e["event"] for e in self.events]

    def answer(self) -> str:
        return "".join(e["answer"] for e in self.events if e["event"] == "message")


def started(node_id: str, node_type: str, ts: float = T0, **kw: Any) -> NodeEvent:
    return NodeEvent(
        run_id=RUN,
        event="node_started",
        node_id=node_id,
        node_type=node_type,
        status="running",
        ts=ts,
        **kw,
    )


def finished(
    node_id: str,
    node_type: str,
    outputs: dict[str, Any] | None = None,
    status: str = "succeeded",
    **kw: Any,
) -> NodeEvent:
    kw.setdefault("ts", T0 + 1)
    kw.setdefault("elapsed_ms", 250.0)
    return NodeEvent(
        run_id=RUN,
        event="node_finished",
        node_id=node_id,
        node_type=node_type,
        status=status,
        outputs=outputs,
        **kw,
    )


def chunk(node_id: str, text: str, **kw: Any) -> NodeEvent:
    return NodeEvent(
        run_id=RUN,
        event="text_chunk",
        node_id=node_id,
        node_type="llm",
        status="running",
        text=text,
        **kw,
    )


def texts(events: list[dict[str, Any]]) -> list[str]:
    """The answer pieces among ``events`` (chat ``message`` or workflow ``text_chunk``)."""
    return [
        e.get("answer") or e.get("data", {}).get("text")
        for e in events
        if e["event"] in ("message", "text_chunk")
    ]


LLM = "{type: llm, title: %s, model: {provider: openai, name: gpt-4o, mode: chat}, prompt_template: [{role: user, text: hi}]}"

CHAT = f"""
nodes:
  - id: start
    data: {{type: start, variables: []}}
  - id: llm
    data: {LLM % "LLM"}
  - id: answer
    data: {{type: answer, title: Answer, answer: "Hi {{{{#llm.text#}}}}!"}}
edges:
  - {{source: start, target: llm}}
  - {{source: llm, target: answer}}
"""


# --------------------------------------------------------------------------- chat text


def test_chat_answer_streams_token_by_token_in_order() -> None:
    feed = Feed(CHAT)
    # the start node starts: the answer is certain to run, its static prefix goes at once
    assert texts(feed(started("start", "start"))) == ["Hi "]
    feed(finished("start", "start", {}), started("llm", "llm"))
    assert texts(feed(chunk("llm", "Hel"))) == ["Hel"]
    assert texts(feed(chunk("llm", "lo"))) == ["lo"]
    # the model's whole text is the authority: what the chunks missed comes with node_finished
    out = feed(finished("llm", "llm", {"text": "Hello you"}))
    assert texts(out) == [" you", "!"] and out[-1]["event"] == "node_finished"
    feed(started("answer", "answer"), finished("answer", "answer", {"answer": "Hi Hello you!"}))
    feed.finish(outputs={"answer": "Hi Hello you!"})
    assert feed.answer() == "Hi Hello you!"
    assert "message_replace" not in feed.names()
    messages = [e for e in feed.events if e["event"] == "message"]
    assert [m["from_variable_selector"] for m in messages] == [
        ["answer", "answer"],
        ["llm", "text"],
        ["llm", "text"],
        ["llm", "text"],
        ["answer", "answer"],
    ]
    assert all(m["id"] == MESSAGE and m["conversation_id"] == CONVERSATION for m in messages)


def test_chat_event_order_and_envelopes() -> None:
    feed = Feed(CHAT)
    feed(
        started("start", "start"),
        finished("start", "start", {}),
        started("llm", "llm", ts=T0 + 1),
        chunk("llm", "A"),
        finished(
            "llm",
            "llm",
            {"text": "A"},
            ts=T0 + 3,
            usage={
                "prompt_tokens": 5,
                "completion_tokens": 1,
                "total_tokens": 6,
                "total_price": 0.0012,
                "currency": "USD",
            },
            tokens=6,
        ),
        started("answer", "answer", ts=T0 + 3),
        finished("answer", "answer", {"answer": "Hi A!"}, ts=T0 + 3),
    )
    feed.finish(outputs={"answer": "Hi A!"}, total_tokens=6)
    assert feed.names() == [
        "workflow_started",
        "message",  # "Hi "
        "node_started",
        "node_finished",
        "node_started",
        "message",  # "A"
        "message",  # "!"
        "node_finished",
        "node_started",
        "node_finished",
        "message_end",
        "workflow_finished",
    ]
    for event in feed.events:
        assert (event["conversation_id"], event["message_id"], event["created_at"]) == (
            CONVERSATION,
            MESSAGE,
            T0,
        )
        assert event["task_id"] == TASK
    nodes = [e["data"] for e in feed.events if e["event"].startswith("node_")]
    assert [n["index"] for n in nodes] == [1, 1, 2, 2, 3, 3]
    assert nodes[3]["predecessor_node_id"] == "start"
    llm_done = nodes[3]
    assert llm_done["elapsed_time"] == 0.25 and llm_done["status"] == "succeeded"
    assert llm_done["execution_metadata"] == {
        "total_tokens": 6,
        "total_price": 0.0012,
        "currency": "USD",
    }
    assert (
        llm_done["id"] == nodes[2]["id"]
        and llm_done["created_at"] == T0 + 1
        and llm_done["finished_at"] == T0 + 3
    )
    end = feed.events[-2]
    assert end["id"] == MESSAGE and end["metadata"]["usage"]["total_tokens"] == 6
    assert end["metadata"]["usage"]["total_price"] == "0.0012000"
    run = feed.events[-1]["data"]
    assert run["status"] == "succeeded" and run["total_steps"] == 3 and run["elapsed_time"] == 1.5


def test_two_parallel_llms_stream_in_template_order() -> None:
    app = f"""
nodes:
  - id: start
    data: {{type: start, variables: []}}
  - id: a
    data: {LLM % "A"}
  - id: b
    data: {LLM % "B"}
  - id: answer
    data: {{type: answer, answer: "{{{{#a.text#}}}} / {{{{#b.text#}}}}"}}
edges:
  - {{source: start, target: a}}
  - {{source: start, target: b}}
  - {{source: a, target: answer}}
  - {{source: b, target: answer}}
"""
    feed = Feed(app)
    feed(
        started("start", "start"),
        finished("start", "start", {}),
        started("a", "llm"),
        started("b", "llm"),
    )
    assert texts(feed(chunk("b", "b1"))) == []  # b's turn has not come: buffered
    assert texts(feed(chunk("a", "a1"))) == ["a1"]
    assert texts(feed(chunk("b", "b2"))) == []
    assert texts(feed(chunk("a", "a2"))) == ["a2"]
    # a finishes: the separator, then b's buffered chunks one by one, in order
    assert texts(feed(finished("a", "llm", {"text": "a1a2"}))) == [" / ", "b1", "b2"]
    assert texts(feed(chunk("b", "b3"))) == ["b3"]  # then b streams live
    assert texts(feed(finished("b", "llm", {"text": "b1b2b3"}))) == []
    feed(started("answer", "answer"), finished("answer", "answer", {"answer": "a1a2 / b1b2b3"}))
    feed.finish(outputs={"answer": "a1a2 / b1b2b3"})
    assert feed.answer() == "a1a2 / b1b2b3"


def test_other_values_are_sent_when_their_node_finishes() -> None:
    app = """
nodes:
  - id: start
    data: {type: start, variables: []}
  - id: code
    data:
      type: code
      code: "def main():\\n    return {'n': 3, 'obj': {'k': 'v'}}"
      variables: []
      outputs: {n: {type: number}, obj: {type: object}}
  - id: answer
    data: {type: answer, answer: "n={{#code.n#}} k={{#code.obj.k#}} obj={{#code.obj#}}"}
edges:
  - {source: start, target: code}
  - {source: code, target: answer}
"""
    feed = Feed(app)
    assert texts(feed(started("start", "start"), finished("start", "start", {}))) == ["n="]
    assert texts(feed(started("code", "code"))) == []
    out = feed(finished("code", "code", {"n": 3, "obj": {"k": "v"}}))
    assert texts(out) == ["3", " k=", "v", " obj=", '{\n  "k": "v"\n}']
    assert out[-1]["event"] == "node_finished"  # the text comes before the node's event


def test_a_branch_not_taken_never_streams() -> None:
    app = f"""
nodes:
  - id: start
    data: {{type: start, variables: []}}
  - id: llm
    data: {LLM % "LLM"}
  - id: check
    data:
      type: if-else
      cases: [{{case_id: "yes", conditions: [{{variable_selector: [llm, text], comparison_operator: contains, value: "yes"}}]}}]
  - id: yes_answer
    data: {{type: answer, answer: "YES {{{{#llm.text#}}}}"}}
  - id: no_answer
    data: {{type: answer, answer: "NO {{{{#llm.text#}}}}"}}
edges:
  - {{source: start, target: llm}}
  - {{source: llm, target: check}}
  - {{source: check, target: yes_answer, sourceHandle: "yes"}}
  - {{source: check, target: no_answer, sourceHandle: "false"}}
"""
    feed = Feed(app)
    before = feed(
        started("start", "start"),
        finished("start", "start", {}),
        started("llm", "llm"),
        chunk("llm", "nope"),
        chunk("llm", "!"),
        finished("llm", "llm", {"text": "nope!"}),
        started("check", "if-else"),
        finished("check", "if-else", {"result": False, "selected_case_id": None}),
    )
    assert texts(before) == []  # which answer runs is not known yet: the chunks wait
    assert texts(feed(started("no_answer", "answer"))) == ["NO ", "nope", "!"]
    feed(finished("no_answer", "answer", {"answer": "NO nope!"}))
    feed.finish(outputs={"answer": "NO nope!"})
    assert feed.answer() == "NO nope!"
    assert "YES" not in json.dumps(feed.events)


def test_a_reference_to_a_skipped_node_renders_empty() -> None:
    app = f"""
nodes:
  - id: start
    data: {{type: start, variables: []}}
  - id: check
    data:
      type: if-else
      cases: [{{case_id: "yes", conditions: [{{variable_selector: [sys, query], comparison_operator: contains, value: "yes"}}]}}]
  - id: a
    data: {LLM % "A"}
  - id: b
    data: {LLM % "B"}
  - id: answer
    data: {{type: answer, answer: "[{{{{#a.text#}}}}][{{{{#b.text#}}}}]"}}
edges:
  - {{source: start, target: check}}
  - {{source: check, target: a, sourceHandle: "yes"}}
  - {{source: check, target: b, sourceHandle: "false"}}
  - {{source: a, target: answer}}
  - {{source: b, target: answer}}
"""
    feed = Feed(app)
    feed(
        started("start", "start"),
        finished("start", "start", {}),
        started("check", "if-else"),
        finished("check", "if-else", {}),
    )
    # b starts: the answer is now certain; a's segment waits (a may still be running elsewhere)
    assert texts(feed(started("b", "llm"), chunk("b", "B!"))) == ["["]
    assert texts(feed(finished("b", "llm", {"text": "B!"}))) == []
    # the answer starts and a never did: a was skipped, its segment is empty
    assert texts(feed(started("answer", "answer"))) == ["][", "B!", "]"]
    feed(finished("answer", "answer", {"answer": "[][B!]"}))
    feed.finish(outputs={"answer": "[][B!]"})
    assert feed.answer() == "[][B!]" and "message_replace" not in feed.names()


def test_a_retried_llm_is_corrected_by_the_answer() -> None:
    app = CHAT.replace(
        "prompt_template:", "retry_config: {enabled: true, max_retries: 2}, prompt_template:"
    )
    feed = Feed(app)
    feed(
        started("start", "start"),
        finished("start", "start", {}),
        started("llm", "llm"),
        chunk("llm", "bro"),
    )
    retry = feed(finished("llm", "llm", status="retry", error="timeout"))
    assert [e["event"] for e in retry] == ["node_retry"]
    assert retry[0]["data"]["retry_index"] == 0 and retry[0]["data"]["status"] == "retry"
    again = feed(
        started("llm", "llm", attempt=1),
        chunk("llm", "stale", attempt=0),
        chunk("llm", "ok", attempt=1),
    )
    assert [e["event"] for e in again] == ["message"] and texts(again) == [
        "ok"
    ]  # no second node_started
    done = feed(finished("llm", "llm", {"text": "ok"}, attempt=1))
    assert done[-1]["data"]["id"] == retry[0]["data"]["id"] and done[-1]["data"]["index"] == 2
    feed(started("answer", "answer"))
    out = feed(finished("answer", "answer", {"answer": "Hi ok!"}))
    # "Hi brook!" was shown; the answer's output says otherwise: the message is replaced
    assert out[0]["event"] == "message_replace" and out[0]["answer"] == "Hi ok!"
    feed.finish(outputs={"answer": "Hi ok!"})
    assert feed.names()[-2:] == ["message_end", "workflow_finished"]


def test_answers_stream_one_after_another_in_graph_order() -> None:
    app = f"""
nodes:
  - id: start
    data: {{type: start, variables: []}}
  - id: first
    data: {{type: answer, answer: "Thinking... "}}
  - id: llm
    data: {LLM % "LLM"}
  - id: second
    data: {{type: answer, answer: "{{{{#llm.text#}}}}"}}
edges:
  - {{source: start, target: first}}
  - {{source: first, target: llm}}
  - {{source: llm, target: second}}
"""
    feed = Feed(app)
    assert texts(feed(started("start", "start"))) == ["Thinking... "]
    feed(finished("start", "start", {}), started("llm", "llm"))
    # the first answer has not finished: the second one's text waits for it
    assert texts(feed(chunk("llm", "x"))) == []
    out = feed(started("first", "answer"), finished("first", "answer", {"answer": "Thinking... "}))
    assert texts(out) == ["x"]
    assert texts(feed(chunk("llm", "y"))) == ["y"]


SCOPED = """
app: {name: scoped, mode: advanced-chat}
kind: app
version: 0.5.0
workflow:
  environment_variables:
    - {name: greet, value_type: string, value: Hey}
    - {name: token, value_type: secret, value: ""}
  conversation_variables: [{name: n, value_type: number, value: 0}]
  graph:
    nodes:
      - id: start
        data: {type: start, variables: []}
      - id: answer
        data: {type: answer, answer: "%s"}
    edges:
      - {source: start, target: answer}
"""


@pytest.mark.parametrize("unknown", ["{{#conversation.n#}}", "{{#env.token#}}"])
def test_known_variables_stream_and_unknown_ones_wait_for_the_answer(unknown: str) -> None:
    feed = Feed(
        SCOPED % f"{{{{#env.greet#}}}}! {{{{#sys.query#}}}}; {unknown}.", system={"query": "hi"}
    )
    assert texts(feed(started("start", "start"))) == ["Hey", "! ", "hi", "; "]
    feed(started("answer", "answer"))
    assert texts(feed(finished("answer", "answer", {"answer": "Hey! hi; 4."}))) == ["4."]
    assert feed.answer() == "Hey! hi; 4."


def test_the_run_answer_is_the_last_word() -> None:
    feed = Feed(CHAT)
    feed(started("start", "start"), started("llm", "llm"), chunk("llm", "A"))
    # the run ends before the answer node reported: what is missing is sent...
    out = feed.finish(outputs={"answer": "Hi A and more"})
    assert texts(out) == [" and more"] and out[0]["from_variable_selector"] is None
    assert feed.answer() == "Hi A and more"
    # ...and a message that went wrong is replaced as a whole
    feed = Feed(CHAT)
    feed(started("start", "start"), started("llm", "llm"), chunk("llm", "A"))
    out = feed.finish(outputs={"answer": "Bye"})
    assert out[0]["event"] == "message_replace" and out[0]["answer"] == "Bye"
    assert [e["event"] for e in out[1:]] == ["message_end", "workflow_finished"]


# --------------------------------------------------------------------------- endings


def test_a_failed_chat_ends_with_workflow_finished_then_error() -> None:
    feed = Feed(CHAT)
    feed(
        started("start", "start"),
        started("llm", "llm"),
        finished("llm", "llm", status="failed", error="boom"),
    )
    out = feed.finish("failed", error="node 'LLM' (llm) failed: boom")
    assert [e["event"] for e in out] == ["workflow_finished", "error"]
    assert (
        out[0]["data"]["status"] == "failed"
        and out[0]["data"]["error"] == "node 'LLM' (llm) failed: boom"
    )
    assert out[1]["status"] == 400 and out[1]["code"] == "invalid_param"
    assert out[1]["message"] == "Run failed: node 'LLM' (llm) failed: boom"
    assert "task_id" not in out[1]
    assert feed.events[-3]["data"]["status"] == "failed"  # the node's own node_finished


def test_a_stopped_chat_still_ends_the_message() -> None:
    feed = Feed(CHAT)
    out = feed.finish("stopped", error="stopped by the user")
    assert [e["event"] for e in out] == ["message_end", "workflow_finished"]
    assert out[1]["data"]["status"] == "stopped"


# --------------------------------------------------------------------------- workflows


WORKFLOW = f"""
nodes:
  - id: start
    data: {{type: start, variables: []}}
  - id: llm
    data: {LLM % "LLM"}
  - id: code
    data:
      type: code
      code: "def main():\\n    return {{'n': 1}}"
      variables: []
      outputs: {{n: {{type: number}}}}
  - id: end
    data: {{type: end, outputs: [{{variable: n, value_selector: [code, n]}}, {{variable: text, value_selector: [llm, text]}}]}}
edges:
  - {{source: start, target: llm}}
  - {{source: start, target: code}}
  - {{source: llm, target: end}}
  - {{source: code, target: end}}
"""


def test_workflow_streams_llm_end_outputs_as_text_chunks() -> None:
    feed = Feed(WORKFLOW)
    feed(
        started("start", "start"),
        finished("start", "start", {}),
        started("code", "code"),
        started("llm", "llm"),
    )
    out = feed(chunk("llm", "Bon"), chunk("llm", "jour"))
    assert [e["event"] for e in out] == ["text_chunk", "text_chunk"]
    assert [e["data"] for e in out] == [
        {"text": "Bon", "from_variable_selector": ["llm", "text"]},
        {"text": "jour", "from_variable_selector": ["llm", "text"]},
    ]
    assert texts(feed(finished("code", "code", {"n": 1}))) == []  # not an LLM text: no text_chunk
    feed(
        finished("llm", "llm", {"text": "Bonjour"}),
        started("end", "end"),
        finished("end", "end", {"n": 1, "text": "Bonjour"}),
    )
    end = feed.finish(outputs={"n": 1, "text": "Bonjour"}, total_tokens=9)
    assert [e["event"] for e in end] == ["workflow_finished"]
    run = end[0]["data"]
    assert (
        run["outputs"] == {"n": 1, "text": "Bonjour"}
        and run["total_tokens"] == 9
        and run["total_steps"] == 4
    )
    for event in feed.events:
        assert event["task_id"] == TASK and event["workflow_run_id"] == RUN
        assert "conversation_id" not in event and "created_at" not in event
    assert feed.events[0]["data"] == {
        "id": RUN,
        "workflow_id": feed.tr.workflow_id,
        "inputs": {"q": "x"},
        "created_at": T0,
        "reason": "initial",
    }


def test_a_failed_workflow_ends_with_workflow_finished_only() -> None:
    feed = Feed(WORKFLOW)
    out = feed.finish("failed", error="boom")
    assert [e["event"] for e in out] == ["workflow_finished"]
    assert feed.tr.error(500, "internal_server_error", "x") == {
        "event": "error",
        "workflow_run_id": RUN,
        "status": 500,
        "code": "internal_server_error",
        "message": "x",
    }


ITERATION = """
nodes:
  - id: start
    data: {type: start, variables: [{variable: items, type: json_object}]}
  - id: it
    data:
      type: iteration
      title: Each
      iterator_selector: [start, items]
      output_selector: [double, r]
      start_node_id: it_start
  - id: it_start
    parentId: it
    data: {type: iteration-start}
  - id: double
    parentId: it
    data:
      type: code
      code: "def main(x):\\n    return {'r': 2 * x}"
      variables: [{variable: x, value_selector: [it, item]}]
      outputs: {r: {type: number}}
  - id: end
    data: {type: end, outputs: [{variable: out, value_selector: [it, output]}]}
edges:
  - {source: start, target: it}
  - {source: it_start, target: double}
  - {source: it, target: end}
"""


def test_iteration_events() -> None:
    feed = Feed(ITERATION)
    feed(started("start", "start"), finished("start", "start", {}), started("it", "iteration"))
    for i in range(2):
        feed(
            started("it_start", "iteration-start", position=[i]),
            finished("it_start", "iteration-start", {}, position=[i]),
            started("double", "code", position=[i]),
            finished("double", "code", {"r": 2 * i}, position=[i], usage={"total_tokens": 3}),
        )
    feed(finished("it", "iteration", {"output": [0, 2]}, ts=T0 + 5, elapsed_ms=None))
    assert feed.names() == [
        "workflow_started",
        "node_started",
        "node_finished",
        "iteration_started",
        "iteration_next",
        "node_started",
        "node_finished",
        "iteration_next",
        "node_started",
        "node_finished",
        "iteration_completed",
    ]
    nexts = [e["data"] for e in feed.events if e["event"] == "iteration_next"]
    assert [n["index"] for n in nexts] == [0, 1] and {n["node_id"] for n in nexts} == {"it"}
    inner = [
        e["data"]
        for e in feed.events
        if e["event"].startswith("node_") and e["data"]["node_id"] == "double"
    ]
    assert {d["iteration_id"] for d in inner} == {"it"} and {d["loop_id"] for d in inner} == {None}
    assert inner[1]["execution_metadata"]["iteration_index"] == 0
    assert inner[0]["id"] != inner[2]["id"]
    assert "iteration-start" not in json.dumps(feed.events)
    done = feed.events[-1]["data"]
    assert done["outputs"] == {"output": [0, 2]} and done["status"] == "succeeded"
    assert done["steps"] == 2 and done["total_tokens"] == 6 and done["elapsed_time"] == 5.0
    assert done["id"] == feed.events[3]["data"]["id"]


def test_loop_events() -> None:
    app = """
nodes:
  - id: start
    data: {type: start, variables: []}
  - id: loop
    data:
      type: loop
      loop_count: 2
      loop_variables: [{label: n, var_type: number, value_type: constant, value: "0"}]
      start_node_id: loop_start
  - id: loop_start
    parentId: loop
    data: {type: loop-start}
  - id: add
    parentId: loop
    data:
      type: assigner
      version: "2"
      items: [{variable_selector: [loop, n], input_type: constant, operation: "+=", value: 1}]
  - id: end
    data: {type: end, outputs: [{variable: n, value_selector: [loop, n]}]}
edges:
  - {source: start, target: loop}
  - {source: loop_start, target: add}
  - {source: loop, target: end}
"""
    feed = Feed(app)
    feed(started("loop", "loop"))
    for i in range(2):
        feed(
            started("add", "assigner", position=[i]), finished("add", "assigner", {}, position=[i])
        )
    feed(finished("loop", "loop", {"n": 2, "loop_round": 2}))
    assert feed.names()[1:] == [
        "loop_started",
        "loop_next",
        "node_started",
        "node_finished",
        "loop_next",
        "node_started",
        "node_finished",
        "loop_completed",
    ]
    assert {e["data"]["loop_id"] for e in feed.events if e["event"].startswith("node_")} == {"loop"}


def test_a_node_failure_and_an_exception_keep_dify_statuses() -> None:
    feed = Feed(WORKFLOW)
    out = feed(
        started("code", "code"),
        finished("code", "code", status="exception", error="ZeroDivisionError"),
        started("llm", "llm"),
        finished("llm", "llm", status="failed", error="boom"),
    )
    statuses = [e["data"]["status"] for e in out if e["event"] == "node_finished"]
    assert statuses == ["exception", "failed"]


# --------------------------------------------------------------------------- encoding


def test_sse_encoding() -> None:
    assert (
        sse({"event": "message", "answer": "é"})
        == 'data: {"event":"message","answer":"é"}\n\n'.encode()
    )
    assert sse(ping()) == b"event: ping\n\n"  # Dify's ping has no data line
    assert error_event(400, "invalid_param", "bad") == {
        "event": "error",
        "status": 400,
        "code": "invalid_param",
        "message": "bad",
    }


def test_a_chat_stream_needs_its_ids() -> None:
    with pytest.raises(ValueError, match="conversation_id"):
        StreamTranslator(app_from_yaml(CHAT), TASK, RUN, None, None, {}, T0)
