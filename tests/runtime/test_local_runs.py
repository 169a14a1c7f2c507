"""End-to-end runs on moto's Step Functions interpreter: payload limits, failures, memory."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flowwright.models.gateway import ModelCallError
from flowwright.runtime.local import LocalRuntime

from tests.support import app_from_yaml

pytestmark = pytest.mark.slow

MEGABYTE_APP = """
nodes:
  - id: start
    data: {type: start, variables: [{variable: n, type: number, required: true}]}
  - id: make
    data:
      type: code
      title: Make a big list
      code: "def main(n):\\n    return {'parts': ['x' * (int(n) // 4)] * 4}"
      variables: [{variable: n, value_selector: [start, n]}]
      outputs: {parts: {type: "array[string]"}}
  - id: ask
    data:
      type: llm
      title: Echo
      model: {provider: openai, name: gpt-4o, mode: chat}
      prompt_template: [{role: user, text: "{{#make.parts#}}"}]
  - id: end
    data:
      type: end
      outputs:
        - {variable: text, value_selector: [ask, text]}
        - {variable: parts, value_selector: [make, parts]}
edges:
  - {source: start, target: make}
  - {source: make, target: ask}
  - {source: ask, target: end}
"""


def test_a_one_megabyte_string_crosses_the_state_machine(
    runtime: LocalRuntime, scripted: Any
) -> None:
    # GIVEN nodes that build and pass on 1 MB, four times Step Functions' 256 KiB state limit
    # (Dify caps a code node's strings at 400,000 characters, so it builds four pieces)
    size = 1024 * 1024
    scripted({"ask": lambda request: request.messages[-1]["content"]})
    # WHEN the model node echoes its 1 MB prompt to the outputs
    result = runtime.run(app_from_yaml(MEGABYTE_APP), {"n": size})
    # THEN the run succeeds and the whole string arrives, as do the list it was built from
    assert result.status == "succeeded", result.error
    assert result.outputs["text"] == json.dumps(["x" * (size // 4)] * 4)
    assert len(result.outputs["text"]) > size
    assert [len(p) for p in result.outputs["parts"]] == [size // 4] * 4


def test_a_one_megabyte_input_is_offloaded_before_the_run(runtime: LocalRuntime) -> None:
    app = app_from_yaml(
        """
nodes:
  - id: start
    data: {type: start, variables: [{variable: text, type: paragraph}]}
  - id: count
    data:
      type: code
      code: "def main(text):\\n    return {'n': len(text)}"
      variables: [{variable: text, value_selector: [start, text]}]
      outputs: {n: {type: number}}
  - id: end
    data: {type: end, outputs: [{variable: n, value_selector: [count, n]}]}
edges:
  - {source: start, target: count}
  - {source: count, target: end}
"""
    )
    result = runtime.run(app, {"text": "é" * (1024 * 1024)})
    assert result.status == "succeeded", result.error
    assert result.outputs == {"n": 1024 * 1024}


BRANCHY = """
nodes:
  - id: start
    data: {type: start, variables: []}
  - id: ask
    data:
      type: llm
      title: Ask
      model: {provider: openai, name: gpt-4o, mode: chat}
      prompt_template: [{role: user, text: hi}]
      error_strategy: %s
      default_value: [{key: text, type: string, value: "fallback"}]
  - id: ok
    data: {type: end, title: OK, outputs: [{variable: said, value_selector: [ask, text]}]}
  - id: failed
    data:
      type: end
      title: Failed
      outputs: [{variable: why, value_selector: [ask, error_message]}, {variable: kind, value_selector: [ask, error_type]}]
edges:
  - {source: start, target: ask}
  - {source: ask, target: ok, sourceHandle: source}
  - {source: ask, target: failed, sourceHandle: fail-branch}
"""

PLAIN = """
nodes:
  - id: start
    data: {type: start, variables: []}
  - id: ask
    data:
      type: llm
      title: Ask
      model: {provider: openai, name: gpt-4o, mode: chat}
      prompt_template: [{role: user, text: hi}]
      %s
  - id: ok
    data: {type: end, title: OK, outputs: [{variable: said, value_selector: [ask, text]}]}
edges:
  - {source: start, target: ask}
  - {source: ask, target: ok}
"""


def test_fail_branch_takes_the_other_edge(runtime: LocalRuntime, scripted: Any) -> None:
    scripted({"ask": ModelCallError("provider is down")})
    result = runtime.run(app_from_yaml(BRANCHY % "fail-branch"), {})
    assert result.status == "partial-succeeded"
    assert result.exceptions_count == 1
    assert result.outputs["why"].endswith("provider is down")
    assert result.outputs["kind"] == "ModelCallError"
    statuses = {n.id: n.status for n in result.nodes}
    assert (
        statuses["ask"] == "exception"
        and statuses["ok"] == "skipped"
        and statuses["failed"] == "succeeded"
    )


def test_fail_branch_success_path(runtime: LocalRuntime, scripted: Any) -> None:
    scripted({"ask": "all good"})
    result = runtime.run(app_from_yaml(BRANCHY % "fail-branch"), {})
    assert result.status == "succeeded"
    assert result.outputs == {"said": "all good"}


def test_default_value_keeps_going(runtime: LocalRuntime, scripted: Any) -> None:
    scripted({"ask": ModelCallError("boom")})
    app = app_from_yaml(BRANCHY.replace("fail-branch}", "source}") % "default-value")
    result = runtime.run(app, {})
    assert result.status == "partial-succeeded"
    assert result.outputs["said"] == "fallback"


def test_retry_then_success(runtime: LocalRuntime, scripted: Any) -> None:
    calls = {"n": 0}

    def flaky(request: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ModelCallError("rate limited")
        return "second time lucky"

    scripted({"ask": flaky})
    text = PLAIN % "retry_config: {enabled: true, max_retries: 2, retry_interval: 10}"
    result = runtime.run(app_from_yaml(text), {})
    assert result.status == "succeeded", result.error
    assert result.outputs == {"said": "second time lucky"}
    assert calls["n"] == 2


def test_unhandled_failure_names_node_and_reason(runtime: LocalRuntime, scripted: Any) -> None:
    scripted({"ask": ModelCallError("quota exceeded")})
    result = runtime.run(app_from_yaml(PLAIN % ""), {})
    assert result.status == "failed"
    assert result.failed_node == "ask"
    assert "'Ask' (ask)" in (result.error or "") and "quota exceeded" in (result.error or "")
    assert result.as_cli_json()["nodes"][-1]["status"] == "failed"


def test_missing_required_input_fails_at_start(runtime: LocalRuntime) -> None:
    result = runtime.run(app_from_yaml(MEGABYTE_APP), {})
    assert result.status == "failed"
    assert result.failed_node == "start"
    assert "input 'n' is required" in (result.error or "")


CHAT = """
app: {name: memo, mode: advanced-chat}
kind: app
version: 0.3.1
workflow:
  conversation_variables:
    - {name: turns, value_type: number, value: 0}
  graph:
    nodes:
      - id: start
        data: {type: start, variables: []}
      - id: count
        data:
          type: assigner
          version: "2"
          items: [{variable_selector: [conversation, turns], input_type: constant, operation: "+=", value: 1}]
      - id: llm
        data:
          type: llm
          model: {provider: openai, name: gpt-4o, mode: chat}
          prompt_template: [{role: system, text: "Be brief."}]
          memory: {window: {enabled: true, size: 5}, query_prompt_template: "{{#sys.query#}}"}
      - id: answer
        data: {type: answer, answer: "{{#llm.text#}} (turn {{#conversation.turns#}})"}
    edges:
      - {source: start, target: count}
      - {source: count, target: llm}
      - {source: llm, target: answer}
"""


def test_a_conversation_remembers_across_runs_and_processes(
    tmp_path: Any, models: Any, scripted: Any
) -> None:
    from flowwright.dsl import load_app_text

    app = load_app_text(CHAT)
    scripted({"llm": lambda request: f"echo {request.messages[-1]['content']}"})
    # GIVEN a first turn in one runtime
    with LocalRuntime(tmp_path, model_factory=models.factory) as first:
        one = first.run(app, {}, query="My name is Ada.", conversation_id="c1")
    assert one.outputs == {"answer": "echo My name is Ada. (turn 1)"}
    # WHEN a second and third turn run in fresh runtimes (as separate CLI calls do)
    with LocalRuntime(tmp_path, model_factory=models.factory) as second:
        two = second.run(app, {}, query="What is my name?", conversation_id="c1")
        three = second.run(app, {}, query="And again?", conversation_id="c1")
        other = second.run(app, {}, query="Who am I?", conversation_id="c2")
    # THEN the conversation variable and the memory carried over; other conversations are separate
    assert two.outputs == {"answer": "echo What is my name? (turn 2)"}
    assert three.outputs == {"answer": "echo And again? (turn 3)"}
    assert other.outputs == {"answer": "echo Who am I? (turn 1)"}
    third_call = next(r for r in models.requests if r.messages[-1]["content"] == "And again?")
    assert [m["content"] for m in third_call.messages] == [
        "Be brief.",
        "My name is Ada.",
        "echo My name is Ada. (turn 1)",
        "What is my name?",
        "echo What is my name? (turn 2)",
        "And again?",
    ]


def test_trace_rows_carry_timing_and_tokens(runtime: LocalRuntime, scripted: Any) -> None:
    scripted({"ask": "a reply of several words"})
    result = runtime.run(app_from_yaml(BRANCHY % "fail-branch"), {})
    assert any(n.id == "ask" for n in result.nodes), result.nodes
    row = next(n for n in result.nodes if n.id == "ask")
    assert row.status == "succeeded" and row.elapsed_ms is not None and row.elapsed_ms >= 0
    assert row.tokens and row.tokens > 0
    cli = result.as_cli_json()
    assert set(cli) >= {"status", "outputs", "nodes"}
    assert set(cli["nodes"][0]) == {"id", "type", "status", "elapsed_ms", "tokens", "error"}
    json.dumps(cli)


def test_native_choice_falls_back_to_the_function_for_offloaded_values(
    runtime: LocalRuntime,
) -> None:
    from tests.support import load_fixture

    app = load_fixture("conditional_hello_branching_workflow.yml")
    big = "x" * 200_000 + " hello"
    result = runtime.run(app, {"query": big})
    assert result.status == "succeeded", result.error
    assert result.outputs == {"true": big}
    ran = {n.id for n in result.nodes if n.elapsed_ms is not None}
    assert "1754217359748" in ran  # decided by the if-else function, not the native Choice
    small = runtime.run(app, {"query": "hello"})
    assert "1754217359748" not in {n.id for n in small.nodes if n.elapsed_ms is not None}


def test_without_offloading_the_interpreter_refuses_the_megabyte(
    tmp_path: Any, models: Any, scripted: Any
) -> None:
    """moto enforces Step Functions' 256 KiB limit: offloading is what makes the run above pass."""
    scripted({"ask": lambda request: request.messages[-1]["content"]})
    with LocalRuntime(tmp_path, model_factory=models.factory) as bare:
        assert bare.services is not None
        bare.services.blobs = None
        result = bare.run(app_from_yaml(MEGABYTE_APP), {"n": 1024 * 1024})
    assert result.status == "failed"
    assert "States.DataLimitExceeded" in (result.error or "")


def test_secret_environment_variables_never_reach_the_definition(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowwright.dsl import load_app_text

    text = """
app: {name: secrets, mode: workflow}
kind: app
version: 0.3.1
workflow:
  environment_variables:
    - {name: API_KEY, value_type: secret, value: ""}
    - {name: REGION, value_type: string, value: eu-west-1}
  graph:
    nodes:
      - id: start
        data: {type: start, variables: []}
      - id: end
        data: {type: end, outputs: [{variable: k, value_selector: [env, API_KEY]}, {variable: r, value_selector: [env, REGION]}]}
    edges:
      - {source: start, target: end}
"""
    app = load_app_text(text)
    monkeypatch.setenv("FLOWWRIGHT_ENV_API_KEY", "s3cr3t")
    assert "s3cr3t" not in json.dumps(runtime.definition(app))
    result = runtime.run(app, {})
    assert result.outputs == {"k": "s3cr3t", "r": "eu-west-1"}


def test_event_listeners_end_with_their_run(runtime: LocalRuntime) -> None:
    from tests.support import load_fixture

    assert runtime.services is not None
    sink = runtime.services.events
    seen: list[Any] = []
    before = len(sink._listeners)
    runtime.run(
        load_fixture("simple_passthrough_workflow.yml"), {"query": "q"}, on_event=seen.append
    )
    assert {e.node_id for e in seen} >= {"1754154032319", "1754154034161"}
    assert len(sink._listeners) == before
    runtime.run(load_fixture("simple_passthrough_workflow.yml"), {"query": "q"})
    assert len({e.run_id for e in seen}) == 1
