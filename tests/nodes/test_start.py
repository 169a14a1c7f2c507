"""Start node: input checks and coercion, defaults, conversation state of chatflows."""

from __future__ import annotations

from typing import Any

import pytest
from flowwright.errors import NodeInputError
from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.nodes.start.config import StartConfig
from flowwright.nodes.start.run import run
from flowwright.runtime.addresses import conversation_key
from flowwright.runtime.blobs import InMemoryBlobStore
from flowwright.runtime.conversations import InMemoryConversationStore, Message
from flowwright.runtime.services import Services
from flowwright.runtime.values import REF_KEY, Resolver
from flowwright.variables import VariablePool

SYS = {"query": "hello", "user_id": "u1", "app_id": "a", "workflow_run_id": "r"}


class RecordingStore(InMemoryConversationStore):
    """A conversation store that records every read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def variables(self, app: str, conversation_id: str) -> dict[str, Any] | None:
        self.reads.append(f"variables:{app}/{conversation_id}")
        return super().variables(app, conversation_id)

    def messages(self, app: str, conversation_id: str, limit: int | None = None) -> list[Message]:
        self.reads.append(f"messages:{app}/{conversation_id}")
        return super().messages(app, conversation_id, limit)


def start(
    variables: list[dict[str, Any]],
    inputs: dict[str, Any],
    *,
    mode: str = "workflow",
    conversation_id: str | None = None,
    store: InMemoryConversationStore | None = None,
    defaults: dict[str, Any] | None = None,
    resolve: Any = None,
) -> NodeResult:
    config = StartConfig.model_validate({"type": "start", "title": "Start", "variables": variables})
    pool = VariablePool(
        {
            "#inputs": inputs,
            "sys": dict(SYS),
            "#conversation": {"defaults": defaults or {}, "types": {}},
        },
        resolve=resolve,
    )
    ctx = NodeContext(
        app_id="a",
        run_id="r",
        node_id="start",
        node_type="start",
        mode=mode,  # type: ignore[arg-type]
        conversation_id=conversation_id,
        services=Services(conversations=store or InMemoryConversationStore()),
    )
    return run(config, pool, ctx)


def var(name: str, type_: str = "text-input", **fields: Any) -> dict[str, Any]:
    return {"variable": name, "label": name.title(), "type": type_, **fields}


# --------------------------------------------------------------------------- required inputs


@pytest.mark.parametrize("given", [{}, {"name": None}, {"name": ""}])
def test_missing_required_input_is_named(given: dict[str, Any]) -> None:
    with pytest.raises(NodeInputError, match="input 'name' is required"):
        start([var("name", required=True)], given)


def test_all_problems_are_reported_together() -> None:
    # GIVEN three inputs that are each wrong in a different way
    variables = [
        var("name", required=True),
        var("age", "number"),
        var("color", "select", options=["red", "blue"]),
        var("ok", "text-input"),
    ]
    # WHEN the start node runs
    with pytest.raises(NodeInputError) as caught:
        start(variables, {"age": "old", "color": "green", "ok": "fine"})
    # THEN one error names every problem, in declaration order, and nothing about valid inputs
    message = str(caught.value)
    assert message == (
        "input 'name' is required; "
        "input 'age' must be a number, got 'old'; "
        "input 'color' must be one of: red, blue"
    )


def test_zero_and_false_count_as_given() -> None:
    result = start(
        [var("n", "number", required=True), var("b", "checkbox", required=True)],
        {"n": 0, "b": False},
    )
    assert result.outputs == {"n": 0, "b": False}


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("given", "expected"),
    [("3", 3), (" 42 ", 42), ("2.5", 2.5), ("3.0", 3.0), ("-7", -7), (4, 4), (1.25, 1.25)],
)
def test_number_coercion(given: Any, expected: Any) -> None:
    [value] = start([var("n", "number")], {"n": given}).outputs.values()
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("given", ["abc", "1,5", "nan", "inf", [1], {"n": 1}])
def test_non_numbers_are_refused(given: Any) -> None:
    with pytest.raises(NodeInputError, match="input 'n' must be a"):
        start([var("n", "number")], {"n": given})


@pytest.mark.parametrize("given", [True, False])
def test_booleans_are_not_numbers(given: bool) -> None:
    with pytest.raises(NodeInputError, match="input 'n' must be a number, got a boolean"):
        start([var("n", "number")], {"n": given})


# --------------------------------------------------------------------------- text and select


def test_text_max_length() -> None:
    variables = [var("t", "text-input", max_length=5), var("p", "paragraph", max_length=3)]
    assert start(variables, {"t": "héllo", "p": "abc"}).outputs == {"t": "héllo", "p": "abc"}
    with pytest.raises(NodeInputError, match="input 't' is 6 characters long; the limit is 5"):
        start(variables, {"t": "héllo!", "p": "abc"})
    with pytest.raises(NodeInputError, match="input 'p' is 4 characters long; the limit is 3"):
        start(variables, {"t": "x", "p": "abcd"})


def test_text_accepts_numbers_as_text_but_not_booleans_or_objects() -> None:
    assert start([var("t")], {"t": 12}).outputs == {"t": "12"}
    for bad in (True, {"a": 1}, ["a"]):
        with pytest.raises(NodeInputError, match="input 't' must be a string"):
            start([var("t")], {"t": bad})


def test_select_options() -> None:
    variables = [var("color", "select", options=["red", "blue"], max_length=1)]
    # max_length does not apply to selects
    assert start(variables, {"color": "blue"}).outputs == {"color": "blue"}
    with pytest.raises(NodeInputError, match="input 'color' must be one of: red, blue"):
        start(variables, {"color": "Blue"})


def test_select_without_options_accepts_any_text() -> None:
    assert start([var("s", "select")], {"s": "anything"}).outputs == {"s": "anything"}


# --------------------------------------------------------------------------- checkbox, json


@pytest.mark.parametrize(
    ("given", "expected"), [("true", True), ("false", False), ("TRUE", True), (True, True)]
)
def test_checkbox_coercion(given: Any, expected: bool) -> None:
    assert start([var("b", "checkbox")], {"b": given}).outputs == {"b": expected}


@pytest.mark.parametrize("given", ["yes", "1", 1, 0])
def test_checkbox_refuses_other_values(given: Any) -> None:
    with pytest.raises(NodeInputError, match="input 'b' must be true or false"):
        start([var("b", "checkbox")], {"b": given})


def test_json_object_from_string_or_dict() -> None:
    variables = [var("j", "json_object"), var("k", "json_object")]
    result = start(variables, {"j": '{"a": [1, 2.5], "ü": null}', "k": {"x": 1}})
    assert result.outputs == {"j": {"a": [1, 2.5], "ü": None}, "k": {"x": 1}}


@pytest.mark.parametrize("given", ["{not json", "[1, 2]", "3", [1]])
def test_json_object_refuses_non_objects(given: Any) -> None:
    with pytest.raises(NodeInputError, match="input 'j' must be a JSON object"):
        start([var("j", "json_object")], {"j": given})


# --------------------------------------------------------------------------- defaults, writes


def test_optional_missing_inputs_take_their_default() -> None:
    variables = [var("a", default="fallback"), var("b", "number"), var("c", default="x")]
    result = start(variables, {"c": ""})
    assert result.outputs == {"a": "fallback", "b": None, "c": "x"}


def test_undeclared_inputs_are_not_outputs() -> None:
    result = start([var("a")], {"a": "1", "extra": "2"})
    assert result.outputs == {"a": "1"}
    assert result.inputs == {"a": "1", "extra": "2"}


def test_offloaded_input_is_resolved_before_checks() -> None:
    store = InMemoryBlobStore()
    uri = store.put_json("k", "7")
    result = start([var("n", "number")], {"n": {REF_KEY: uri, "bytes": 3}}, resolve=Resolver(store))
    assert result.outputs == {"n": 7}


def test_writes_clear_inputs_and_carry_sys() -> None:
    result = start([var("a")], {"a": "x"})
    writes = result.extra["w"]
    assert "inputs" in writes and writes["inputs"] is None
    assert writes["sys"] == SYS
    assert "dialogue_count" not in writes["sys"]


# --------------------------------------------------------------------------- conversations


def test_chatflow_loads_stored_conversation_variables_and_counts_dialogue() -> None:
    # GIVEN a conversation with two finished turns and one stored variable
    store = RecordingStore()
    store.save_variables("a", "c1", {"topic": "cats", "unknown": "dropped"})
    store.append_message("a", "c1", Message(query="q1", answer="a1"))
    store.append_message("a", "c1", Message(query="q2", answer="a2"))
    defaults = {"topic": "", "count": 0, "my-list": []}
    # WHEN the start node of the next turn runs
    result = start(
        [], {}, mode="advanced-chat", conversation_id="c1", store=store, defaults=defaults
    )
    # THEN stored values override defaults, other variables keep their defaults
    writes = result.extra["w"]
    assert writes[conversation_key("topic")] == "cats"
    assert writes[conversation_key("count")] == 0
    assert writes[conversation_key("my-list")] == []
    assert conversation_key("unknown") not in writes
    # AND this is the third turn of the dialogue
    assert writes["sys"]["dialogue_count"] == 3
    assert writes["sys"]["query"] == "hello"


def test_new_conversation_uses_defaults_and_counts_first_turn() -> None:
    store = RecordingStore()
    result = start(
        [], {}, mode="advanced-chat", conversation_id="new", store=store, defaults={"n": 5}
    )
    assert result.extra["w"]["cv_n"] == 5
    assert result.extra["w"]["sys"]["dialogue_count"] == 1


def test_conversations_of_other_apps_are_not_read() -> None:
    store = RecordingStore()
    store.save_variables("other-app", "c1", {"n": 99})
    store.append_message("other-app", "c1", Message(query="q", answer="a"))
    result = start(
        [], {}, mode="advanced-chat", conversation_id="c1", store=store, defaults={"n": 1}
    )
    assert result.extra["w"]["cv_n"] == 1
    assert result.extra["w"]["sys"]["dialogue_count"] == 1


def test_workflow_mode_does_not_touch_the_store() -> None:
    # GIVEN a store holding state for this app and conversation id
    store = RecordingStore()
    store.save_variables("a", "c1", {"n": 99})
    # WHEN a workflow (not a chatflow) starts with that conversation id
    result = start([], {}, mode="workflow", conversation_id="c1", store=store, defaults={"n": 1})
    # THEN the store is never read and no conversation variables are written
    assert store.reads == []
    assert set(result.extra["w"]) == {"inputs", "sys"}
    assert "dialogue_count" not in result.extra["w"]["sys"]
