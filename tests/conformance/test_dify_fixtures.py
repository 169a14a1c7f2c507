"""Dify's own workflow fixtures, run through the real compiler and moto's interpreter.

Inputs and expected outputs come from ../shared/conformance/dify/EXPECTED.md. Model
replies are scripted only where the expectation fixes them (Dify's tests mock those nodes).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from flowwright.dsl import load_app_text
from flowwright.errors import DslError
from flowwright.models.gateway import ModelCallError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import FIXTURES, load_fixture

pytestmark = pytest.mark.slow

# (fixture, inputs, query, model replies by node id, expected outputs, expected status)
CASES: list[tuple[str, dict[str, Any], str | None, dict[str, Any], dict[str, Any], str]] = [
    (
        "simple_passthrough_workflow.yml",
        {"query": "echo me"},
        None,
        {},
        {"query": "echo me"},
        "succeeded",
    ),
    (
        "end_node_without_value_type_field_workflow.yml",
        {"query": "test query"},
        None,
        {},
        {"query": "test query"},
        "succeeded",
    ),
    (
        "answer_end_with_text.yml",
        {},
        "Hello, AI!",
        {},
        {"answer": "prefixHello, AI!suffix"},
        "succeeded",
    ),
    (
        "conditional_hello_branching_workflow.yml",
        {"query": "hello world"},
        None,
        {},
        {"true": "hello world"},
        "succeeded",
    ),
    (
        "conditional_hello_branching_workflow.yml",
        {"query": "say hello to everyone"},
        None,
        {},
        {"true": "say hello to everyone"},
        "succeeded",
    ),
    (
        "conditional_hello_branching_workflow.yml",
        {"query": "goodbye world"},
        None,
        {},
        {"false": "goodbye world"},
        "succeeded",
    ),
    (
        "conditional_hello_branching_workflow.yml",
        {"query": "HELLO"},
        None,
        {},
        {"false": "HELLO"},
        "succeeded",
    ),
    (
        "conditional_hello_branching_workflow.yml",
        {"query": " hello "},
        None,
        {},
        {"true": " hello "},
        "succeeded",
    ),
    (
        "conditional_parallel_code_execution_workflow.yml",
        {"switch": 1},
        None,
        {},
        {"1": "Code 1", "2": "Code 2", "3": None},
        "succeeded",
    ),
    (
        "conditional_parallel_code_execution_workflow.yml",
        {"switch": 0},
        None,
        {},
        {"1": None, "2": "Code 2", "3": "Code 3"},
        "succeeded",
    ),
    (
        "conditional_parallel_code_execution_workflow.yml",
        {"switch": 7},
        None,
        {},
        {"1": None, "2": "Code 2", "3": "Code 3"},
        "succeeded",
    ),
    *[
        (
            "dual_switch_variable_aggregator_workflow.yml",
            {"switch1": a, "switch2": b},
            None,
            {},
            {
                "group1": f"switch 1 {'on' if a else 'off'}",
                "group2": f"switch 2 {'on' if b else 'off'}",
            },
            "succeeded",
        )
        for a in (0, 1)
        for b in (0, 1)
    ],
    (
        "array_iteration_formatting_workflow.yml",
        {},
        None,
        {},
        {"output": ["output: 1", "output: 2", "output: 3"]},
        "succeeded",
    ),
    (
        "parallel_iteration_formatting_workflow.yml",
        {},
        None,
        {},
        {"output": ["output: 1", "output: 2", "output: 3"]},
        "succeeded",
    ),
    (
        "iteration_flatten_output_disabled_workflow.yml",
        {},
        None,
        {},
        {"output": [[1, 2], [2, 4], [3, 6]]},
        "succeeded",
    ),
    (
        "iteration_flatten_output_enabled_workflow.yml",
        {},
        None,
        {},
        {"output": [1, 2, 2, 4, 3, 6]},
        "succeeded",
    ),
    ("increment_loop_with_break_condition_workflow.yml", {}, None, {}, {"num": 5}, "succeeded"),
    ("iteration_contains_answer.yml", {}, "hi", {}, {"answer": "apple\nbanana\ndone"}, "succeeded"),
    ("loop_contains_answer.yml", {}, "hi", {}, {"answer": "1\n2\nhi + 2"}, "succeeded"),
    ("loop_contains_answer.yml", {}, "1", {}, {"answer": "1\n2\n1 + 2"}, "succeeded"),
    (
        "test_streaming_conversation_variables.yml",
        {},
        "Hello, this is my test query",
        {},
        {"answer": "Hello, this is my test query"},
        "succeeded",
    ),
    (
        "test_streaming_conversation_variables_v1_overwrite.yml",
        {},
        "overwrite-value",
        {},
        {"answer": "Current Value Of `conv_var` is:overwrite-value"},
        "succeeded",
    ),
    (
        "update-conversation-variable-in-iteration.yml",
        {},
        "ensure conversation variable syncs",
        {},
        {"answer": "ensure conversation variable syncs"},
        "succeeded",
    ),
    (
        "builder_restricted/scalar.yml",
        {"text": "真实 native"},
        None,
        {},
        {"out": "真实 native"},
        "succeeded",
    ),
    ("builder_restricted/code_increment.yml", {"n": 41}, None, {}, {"out": 42}, "succeeded"),
    (
        "builder_restricted/template_greeting.yml",
        {"name": "Ada"},
        None,
        {},
        {"out": "Hello, Ada!"},
        "succeeded",
    ),
    (
        "basic_chatflow.yml",
        {},
        "hi",
        {"llm": "mocked llm response"},
        {"answer": "mocked llm response"},
        "succeeded",
    ),
    (
        "basic_llm_chat_workflow.yml",
        {"query": "Hello, how are you?"},
        None,
        {"llm_node": "This is a test response from mocked LLM"},
        {"answer": "This is a test response from mocked LLM"},
        "succeeded",
    ),
    (
        "basic_llm_chat_workflow.yml",
        {"query": "Test query"},
        None,
        {"llm_node": "Custom response for this specific node"},
        {"answer": "Custom response for this specific node"},
        "succeeded",
    ),
    (
        "test-answer-order.yml",
        {},
        "",
        {"1759052580454": "mocked llm text"},
        {"answer": "--- answer 1 ---\n\nfoo\n--- answer 2 ---\n\nmocked llm text\n"},
        "succeeded",
    ),
    (
        "test_complex_branch.yml",
        {},
        "hello world",
        {"1755502777322": "This is a mocked LLM response for hello world"},
        {"answer": "contains 'hello'This is a mocked LLM response for hello world"},
        "succeeded",
    ),
    (
        "test_complex_branch.yml",
        {},
        "say hello to everyone",
        {"1755502777322": "Mocked response for greeting"},
        {"answer": "contains 'hello'Mocked response for greeting"},
        "succeeded",
    ),
    (
        "test_complex_branch.yml",
        {},
        "goodbye world",
        {"1755502777322": "Mocked LLM response for goodbye"},
        {"answer": "Mocked LLM response for goodbye"},
        "succeeded",
    ),
    (
        "test_complex_branch.yml",
        {},
        "test message",
        {"1755502777322": "Mocked response for test"},
        {"answer": "Mocked response for test"},
        "succeeded",
    ),
    (
        "response_stream_filter_issue_170_workflow.yml",
        {},
        "1",
        {"llm": "Quiet Night Thought", "dufu": "Spring View"},
        {"answer": "# Du Fu\n\nSpring View\n\n# Li Bai\n\nQuiet Night Thought"},
        "succeeded",
    ),
    (
        "multilingual_parallel_llm_streaming_workflow.yml",
        {},
        "Tell me about yourself",
        {"1754339718571": "Hello, I am an AI assistant.", "1754339725656": "你好，我是AI助手。"},
        {"answer": "你好，我是AI助手。Hello, I am an AI assistant."},
        "succeeded",
    ),
    (
        "conditional_streaming_vs_template_workflow.yml",
        {"query": "Hello, how are you?", "blocking": 1},
        None,
        {"*": "mocked llm"},
        {"query": "Hello, how are you?", "text": "mocked llm"},
        "succeeded",
    ),
    (
        "conditional_streaming_vs_template_workflow.yml",
        {"query": "Hello, how are you?", "blocking": 2},
        None,
        {"*": "mocked llm"},
        {"query": "Hello, how are you?", "text": "mocked llm"},
        "succeeded",
    ),
]

#: Fixtures that wait for node types of later issues, with the reason.
WAITING = {
    "chatflow_time_tool_static_output_workflow.yml": "tool node",
    "http_request_with_json_tool_workflow.yml": "http-request and tool nodes",
    "search_dify_from_2023_to_2025.yml": "tool node",
    "builder_restricted/http_default_output.yml": "http-request node",
    "builder_restricted/http_text.yml": "http-request node",
}


@pytest.mark.parametrize(
    ("fixture", "inputs", "query", "replies", "expected", "status"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_fixture(
    runtime: Any,
    scripted: Any,
    fixture: str,
    inputs: dict[str, Any],
    query: str | None,
    replies: dict[str, Any],
    expected: dict[str, Any],
    status: str,
) -> None:
    # GIVEN Dify's fixture and the model replies its test mocks
    scripted(replies)
    # WHEN it runs through the compiled state machine
    result = runtime.run(load_fixture(fixture), inputs, query=query)
    # THEN the outputs are the ones Dify's tests expect
    assert result.status == status, result.error
    for key, value in expected.items():
        assert result.outputs.get(key) == value, (key, result.outputs)


def test_conditional_hello_outputs_only_the_taken_branch(runtime: Any) -> None:
    result = runtime.run(
        load_fixture("conditional_hello_branching_workflow.yml"), {"query": "hello"}
    )
    assert result.outputs == {"true": "hello"}


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=200))
def test_passthrough_property(runtime: Any, query: str) -> None:
    result = runtime.run(load_fixture("simple_passthrough_workflow.yml"), {"query": query})
    if query == "":
        # A required input left empty is refused, as Dify refuses it.
        assert result.status == "failed" and "required" in (result.error or "")
    else:
        assert result.outputs == {"query": query}


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(alphabet=st.sampled_from("helo wrdHL!"), min_size=1, max_size=20))
def test_hello_branch_property(runtime: Any, query: str) -> None:
    result = runtime.run(load_fixture("conditional_hello_branching_workflow.yml"), {"query": query})
    assert result.outputs == {("true" if "hello" in query else "false"): query}


def test_llm_failure_with_default_value_is_partial_success(runtime: Any, scripted: Any) -> None:
    # GIVEN basic_chatflow with its LLM set to error_strategy default-value (as Dify's test does)
    doc = yaml.safe_load((FIXTURES / "basic_chatflow.yml").read_text())
    for node in doc["workflow"]["graph"]["nodes"]:
        if node["data"]["type"] == "llm":
            node["data"]["error_strategy"] = "default-value"
            node["data"]["default_value"] = [
                {"key": "text", "type": "string", "value": "fallback response"}
            ]
    app = load_app_text(yaml.safe_dump(doc), source="basic_chatflow_default.yml")
    scripted({"*": ModelCallError("Simulated LLM API error")})
    # WHEN the model fails
    result = runtime.run(app, {}, query="hello")
    # THEN the run ends partial-succeeded with the default answer and one exception
    assert result.status == "partial-succeeded"
    assert result.exceptions_count == 1
    assert result.outputs == {"answer": "fallback response"}


def test_llm_failure_fails_the_run(runtime: Any, scripted: Any) -> None:
    scripted({"llm_node": ModelCallError("Simulated LLM API error")})
    result = runtime.run(load_fixture("basic_llm_chat_workflow.yml"), {"query": "x"})
    assert result.status == "failed"
    assert result.failed_node == "llm_node"
    assert "Simulated LLM API error" in (result.error or "")


@pytest.mark.parametrize(("fixture", "reason"), sorted(WAITING.items()))
def test_waiting_fixtures_are_refused_clearly(fixture: str, reason: str) -> None:
    with pytest.raises(DslError) as caught:
        load_fixture(fixture)
    assert "unsupported_node_type" in caught.value.codes


def test_not_an_app_is_refused() -> None:
    with pytest.raises(DslError) as caught:
        load_fixture("minimal_not_an_app.yml")
    assert caught.value.codes == ["not_an_app"]


def test_non_uuid_conversation_variable_loads_and_runs(runtime: Any) -> None:
    app = load_fixture("minimal_non_uuid_conversation_variable.yml")
    result = runtime.run(app, {}, query="hello there")
    assert result.status == "succeeded"
    assert result.outputs == {"answer": "- produced"}
