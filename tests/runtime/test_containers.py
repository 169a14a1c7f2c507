"""Iterations (Map) and loops (cycles) beyond Dify's fixtures: error modes, nesting, edge cases."""

from __future__ import annotations

from typing import Any

import pytest
from flowwright.runtime.local import LocalRuntime

from tests.support import app_from_yaml

pytestmark = pytest.mark.slow

ITERATION = """
nodes:
  - id: start
    data: {type: start, variables: [{variable: items, type: json_object}]}
  - id: it
    data:
      type: iteration
      iterator_selector: [start, items, list]
      output_selector: [double, r]
      is_parallel: %(parallel)s
      parallel_nums: 3
      error_handle_mode: %(mode)s
      start_node_id: it_start
  - id: it_start
    parentId: it
    data: {type: iteration-start}
  - id: double
    parentId: it
    data:
      type: code
      code: "def main(x):\\n    return {'r': 10 // x}"
      variables: [{variable: x, value_selector: [it, item]}]
      outputs: {r: {type: number}}
  - id: end
    data: {type: end, outputs: [{variable: out, value_selector: [it, output]}]}
edges:
  - {source: start, target: it}
  - {source: it_start, target: double}
  - {source: it, target: end}
"""


def iteration_app(mode: str, parallel: bool = False) -> Any:
    return app_from_yaml(ITERATION % {"mode": mode, "parallel": str(parallel).lower()})


@pytest.mark.parametrize("parallel", [False, True])
def test_iteration_terminated_mode_fails_the_run(runtime: LocalRuntime, parallel: bool) -> None:
    result = runtime.run(iteration_app("terminated", parallel), {"items": {"list": [1, 0, 5]}})
    assert result.status == "failed"
    assert "ZeroDivisionError" in (result.error or "")


@pytest.mark.parametrize("parallel", [False, True])
def test_iteration_continue_on_error_keeps_a_null(runtime: LocalRuntime, parallel: bool) -> None:
    result = runtime.run(
        iteration_app("continue-on-error", parallel), {"items": {"list": [1, 0, 5]}}
    )
    assert result.status == "succeeded", result.error
    assert result.outputs == {"out": [10, None, 2]}


def test_iteration_remove_abnormal_output_drops_failures(runtime: LocalRuntime) -> None:
    result = runtime.run(iteration_app("remove-abnormal-output"), {"items": {"list": [1, 0, 5, 0]}})
    assert result.outputs == {"out": [10, 2]}


def test_iteration_over_nothing(runtime: LocalRuntime) -> None:
    result = runtime.run(iteration_app("terminated"), {"items": {"list": []}})
    assert result.status == "succeeded" and result.outputs == {"out": []}


def test_iteration_over_a_non_list_names_the_selector(runtime: LocalRuntime) -> None:
    result = runtime.run(iteration_app("terminated"), {"items": {"list": "abc"}})
    assert result.status == "failed"
    assert "{{#start.items.list#}} must be an array, got str" in (result.error or "")


def test_parallel_iteration_keeps_item_order(runtime: LocalRuntime) -> None:
    items = list(range(1, 13))
    result = runtime.run(iteration_app("terminated", parallel=True), {"items": {"list": items}})
    assert result.outputs == {"out": [10 // x for x in items]}


LOOP = """
nodes:
  - id: start
    data: {type: start, variables: [{variable: limit, type: number}]}
  - id: loop
    data:
      type: loop
      loop_count: %(count)s
      logical_operator: and
      break_conditions: [{variable_selector: [loop, n], comparison_operator: "≥", value: "100"}]
      loop_variables:
        - {label: n, var_type: number, value_type: constant, value: "0"}
        - {label: seen, var_type: "array[number]", value_type: constant, value: "[]"}
      start_node_id: loop_start
  - id: loop_start
    parentId: loop
    data: {type: loop-start}
  - id: add
    parentId: loop
    data:
      type: assigner
      version: "2"
      items:
        - {variable_selector: [loop, n], input_type: constant, operation: "+=", value: 1}
        - {variable_selector: [loop, seen], input_type: variable, operation: append, value: [loop, n]}
  - id: enough
    parentId: loop
    data:
      type: if-else
      cases:
        - case_id: "stop"
          conditions: [{variable_selector: [loop, n], comparison_operator: "≥", value: "{{#start.limit#}}"}]
  - id: exit
    parentId: loop
    data: {type: loop-end}
  - id: end
    data:
      type: end
      outputs:
        - {variable: n, value_selector: [loop, n]}
        - {variable: seen, value_selector: [loop, seen]}
        - {variable: rounds, value_selector: [loop, loop_round]}
edges:
  - {source: start, target: loop}
  - {source: loop_start, target: add}
  - {source: add, target: enough}
  - {source: enough, target: exit, sourceHandle: stop}
  - {source: loop, target: end}
"""


def test_loop_end_node_breaks_the_loop(runtime: LocalRuntime) -> None:
    result = runtime.run(app_from_yaml(LOOP % {"count": 10}), {"limit": 3})
    assert result.status == "succeeded", result.error
    assert result.outputs == {"n": 3, "seen": [1, 2, 3], "rounds": 3}


def test_loop_stops_at_its_count(runtime: LocalRuntime) -> None:
    result = runtime.run(app_from_yaml(LOOP % {"count": 4}), {"limit": 50})
    assert result.outputs == {"n": 4, "seen": [1, 2, 3, 4], "rounds": 4}


def test_loop_of_zero_rounds(runtime: LocalRuntime) -> None:
    result = runtime.run(app_from_yaml(LOOP % {"count": 0}), {"limit": 5})
    assert result.outputs == {"n": 0, "seen": [], "rounds": 0}


def test_loop_inside_iteration(runtime: LocalRuntime) -> None:
    text = """
nodes:
  - id: start
    data: {type: start, variables: [{variable: cfg, type: json_object}]}
  - id: it
    data: {type: iteration, iterator_selector: [start, cfg, limits], output_selector: [loop, n], start_node_id: s}
  - id: s
    parentId: it
    data: {type: iteration-start}
  - id: loop
    parentId: it
    data:
      type: loop
      loop_count: 10
      logical_operator: and
      break_conditions: [{variable_selector: [loop, n], comparison_operator: "≥", value: "{{#it.item#}}"}]
      loop_variables: [{label: n, var_type: number, value_type: constant, value: "0"}]
      start_node_id: ls
  - id: ls
    parentId: loop
    data: {type: loop-start}
  - id: inc
    parentId: loop
    data:
      type: assigner
      version: "2"
      items: [{variable_selector: [loop, n], input_type: constant, operation: "+=", value: 2}]
  - id: end
    data: {type: end, outputs: [{variable: out, value_selector: [it, output]}]}
edges:
  - {source: start, target: it}
  - {source: s, target: loop}
  - {source: ls, target: inc}
  - {source: it, target: end}
"""
    result = runtime.run(app_from_yaml(text), {"cfg": {"limits": [1, 4, 5]}})
    assert result.status == "succeeded", result.error
    assert result.outputs == {"out": [2, 4, 6]}


def test_parallel_branches_merge_their_conversation_writes(runtime: LocalRuntime) -> None:
    text = """
app: {name: twowrites, mode: advanced-chat}
kind: app
version: 0.5.0
workflow:
  conversation_variables:
    - {name: a, value_type: string, value: "-"}
    - {name: b, value_type: string, value: "-"}
  graph:
    nodes:
      - id: start
        data: {type: start, variables: []}
      - id: set_a
        data: {type: assigner, version: "2", items: [{variable_selector: [conversation, a], input_type: constant, operation: over-write, value: "A"}]}
      - id: set_b
        data: {type: assigner, version: "2", items: [{variable_selector: [conversation, b], input_type: constant, operation: over-write, value: "B"}]}
      - id: answer
        data: {type: answer, answer: "{{#conversation.a#}}{{#conversation.b#}}"}
    edges:
      - {source: start, target: set_a}
      - {source: start, target: set_b}
      - {source: set_a, target: answer}
      - {source: set_b, target: answer}
"""
    result = runtime.run(app_from_yaml(text), {}, query="x")
    assert result.outputs == {"answer": "AB"}


def test_a_crashed_function_still_takes_the_fail_branch(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failures the node function cannot report itself (a crash, a timeout) reach the ASL Catch."""
    import flowwright.runtime.local as local

    real = local.handle_node_event

    def crash(event: dict[str, Any], services: Any) -> Any:
        if event.get("id") == "risky":
            raise MemoryError("function ran out of memory")
        return real(event, services)

    monkeypatch.setattr(local, "handle_node_event", crash)
    text = """
nodes:
  - id: start
    data: {type: start, variables: []}
  - id: risky
    data: {type: template-transform, template: x, error_strategy: fail-branch}
  - id: ok
    data: {type: end, outputs: [{variable: v, value_selector: [risky, output]}]}
  - id: bad
    data: {type: end, outputs: [{variable: kind, value_selector: [risky, error_type]}]}
edges:
  - {source: start, target: risky}
  - {source: risky, target: ok, sourceHandle: source}
  - {source: risky, target: bad, sourceHandle: fail-branch}
"""
    result = runtime.run(app_from_yaml(text), {})
    assert result.status == "partial-succeeded", result.error
    assert result.outputs == {"kind": "MemoryError"}
    assert result.exceptions_count == 1


def test_a_failing_iteration_with_default_value(runtime: LocalRuntime) -> None:
    text = ITERATION % {"mode": "terminated", "parallel": "false"}
    text = text.replace(
        "      start_node_id: it_start\n",
        "      start_node_id: it_start\n      error_strategy: default-value\n"
        '      default_value: [{key: output, type: "array[number]", value: [-1]}]\n',
        1,
    )
    result = runtime.run(app_from_yaml(text), {"items": {"list": [1, 0]}})
    assert result.status == "partial-succeeded", result.error
    assert result.outputs == {"out": [-1]}
    ok = runtime.run(app_from_yaml(text), {"items": {"list": [1, 2]}})
    assert ok.status == "succeeded" and ok.outputs == {"out": [10, 5]}
