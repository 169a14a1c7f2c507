"""The compiler: deterministic ASL, the shapes DESIGN calls for, golden definitions."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from flowwright.compiler import compile_app
from flowwright.compiler.plan import Par, plan_app

from tests.support import FIXTURES, ROOT, app_from_yaml, load_fixture

GOLDEN_DIR = ROOT / "statemachines" / "golden"
GOLDEN = [
    "conditional_parallel_code_execution_workflow.yml",
    "dual_switch_variable_aggregator_workflow.yml",
    "iteration_flatten_output_enabled_workflow.yml",
    "loop_contains_answer.yml",
    "test_complex_branch.yml",
]


def states_of_type(definition: dict[str, Any], kind: str) -> list[str]:
    """Names of all states of one type, nested ones included."""
    found: list[str] = []

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            if state["Type"] == kind:
                found.append(name)
            for branch in state.get("Branches", []):
                walk(branch["States"])
            if "ItemProcessor" in state:
                walk(state["ItemProcessor"]["States"])

    walk(definition["States"])
    return found


@pytest.mark.parametrize("fixture", GOLDEN)
def test_golden_definitions(fixture: str) -> None:
    """Compiled ASL equals the reviewed golden file (set FLOWWRIGHT_UPDATE_GOLDEN=1 to refresh)."""
    compiled = json.dumps(compile_app(load_fixture(fixture)), indent=2, ensure_ascii=False) + "\n"
    golden = GOLDEN_DIR / fixture.replace(".yml", ".asl.json")
    if os.environ.get("FLOWWRIGHT_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(compiled, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == compiled


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yml"))[:12], ids=lambda p: p.name)
def test_compilation_is_deterministic(path) -> None:
    from flowwright.dsl import load_app
    from flowwright.errors import DslError

    try:
        first = json.dumps(compile_app(load_app(path)))
    except DslError:
        pytest.skip("fixture waits for a later node type")
    assert json.dumps(compile_app(load_app(path))) == first


def chain(n: int) -> str:
    nodes = ["  - id: start\n    data: {type: start, variables: [{variable: x, type: text-input}]}"]
    edges = []
    previous = "start"
    for i in range(n):
        nodes.append(
            f"  - id: t{i}\n    data: {{type: template-transform, template: 'x', variables: []}}"
        )
        edges.append(f"  - {{source: {previous}, target: t{i}}}")
        previous = f"t{i}"
    return "nodes:\n" + "\n".join(nodes) + "\nedges:\n" + "\n".join(edges) + "\n"


def test_a_chain_needs_no_parallel_and_no_guards() -> None:
    definition = compile_app(app_from_yaml(chain(20)))
    assert states_of_type(definition, "Parallel") == []
    assert states_of_type(definition, "Choice") == []
    assert len(states_of_type(definition, "Task")) == 22  # start, 20 templates, finish


def test_fan_out_and_join_become_parallel_then_join() -> None:
    text = """
nodes:
  - id: start
    data: {type: start, variables: []}
  - id: a
    data: {type: template-transform, template: a}
  - id: b
    data: {type: template-transform, template: b}
  - id: a2
    data: {type: template-transform, template: a2}
  - id: join
    data: {type: end, outputs: [{variable: a, value_selector: [a2, output]}, {variable: b, value_selector: [b, output]}]}
edges:
  - {source: start, target: a}
  - {source: start, target: b}
  - {source: a, target: a2}
  - {source: a2, target: join}
  - {source: b, target: join}
"""
    app = app_from_yaml(text)
    steps = plan_app(app).regions[None].steps
    assert steps[0] == "start"
    assert isinstance(steps[1], Par)
    assert steps[1].branches == [["a", "a2"], ["b"]]
    assert steps[2] == "join"


def test_branch_node_targets_get_guards() -> None:
    definition = compile_app(load_fixture("conditional_parallel_code_execution_workflow.yml"))
    guards = [name for name in states_of_type(definition, "Choice") if name.endswith(".guard")]
    # three code nodes behind the IF/ELSE and the End they join into
    assert len(guards) == 4


def test_iteration_is_a_map_with_concurrency() -> None:
    serial = compile_app(load_fixture("array_iteration_formatting_workflow.yml"))
    parallel = compile_app(load_fixture("parallel_iteration_formatting_workflow.yml"))

    def map_state(definition: dict[str, Any]) -> dict[str, Any]:
        name = states_of_type(definition, "Map")[0]
        return definition["States"][name]

    assert map_state(serial)["MaxConcurrency"] == 1
    assert map_state(parallel)["MaxConcurrency"] == 10


def test_loop_is_a_cycle() -> None:
    definition = compile_app(load_fixture("increment_loop_with_break_condition_workflow.yml"))
    states = definition["States"]
    choice = next(
        name for name, s in states.items() if s["Type"] == "Choice" and name.endswith(".next")
    )
    check = next(name for name, s in states.items() if name.endswith(".check"))
    # the check's writes lead back to the loop's Choice
    assert states[check]["Next"] == choice


def test_retry_and_error_strategy() -> None:
    text = """
nodes:
  - id: start
    data: {type: start, variables: []}
  - id: t
    data:
      type: template-transform
      template: x
      retry_config: {enabled: true, max_retries: 3, retry_interval: 1500}
      error_strategy: fail-branch
  - id: ok
    data: {type: end, outputs: [{variable: v, value_selector: [t, output]}]}
  - id: bad
    data: {type: end, outputs: [{variable: e, value_selector: [t, error_message]}]}
edges:
  - {source: start, target: t}
  - {source: t, target: ok, sourceHandle: source}
  - {source: t, target: bad, sourceHandle: fail-branch}
"""
    definition = compile_app(app_from_yaml(text))
    task = definition["States"]["t"]
    retry = task["Retry"]
    assert (
        retry[0]["ErrorEquals"] == ["NodeConfigError", "NodeInputError"]
        and retry[0]["MaxAttempts"] == 0
    )
    assert retry[1]["MaxAttempts"] == 3 and retry[1]["IntervalSeconds"] == 2
    assert task["Catch"][0]["ErrorEquals"] == ["States.ALL"]


def test_resources_are_placeholders_by_default() -> None:
    definition = compile_app(load_fixture("simple_passthrough_workflow.yml"))
    resources = {s["Resource"] for s in definition["States"].values() if s["Type"] == "Task"}
    assert resources == {"${Fn_start}", "${Fn_end}"}


def test_state_names_are_unique_and_short() -> None:
    definition = compile_app(load_fixture("dual_switch_variable_aggregator_workflow.yml"))
    names: list[str] = []

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            names.append(name)
            for branch in state.get("Branches", []):
                walk(branch["States"])

    walk(definition["States"])
    assert len(names) == len(set(names))
    assert all(len(n) <= 80 for n in names)


def test_simple_if_else_becomes_a_native_choice() -> None:
    definition = compile_app(load_fixture("conditional_hello_branching_workflow.yml"))
    native = definition["States"]["1754217359748.native"]
    first, second = native["Choices"]
    # undecidable values (not a string: e.g. offloaded) still go to the if-else function
    assert first["Next"] == "1754217359748" and "Not" in first
    assert {"Variable": "$.n_1754154032319.o.query", "StringMatches": "*hello*"} in second["And"]
    assert native["Default"] == "1754217359748.case.false"


def test_templated_conditions_stay_in_the_function() -> None:
    text = """
nodes:
  - id: start
    data: {type: start, variables: [{variable: a, type: text-input}, {variable: b, type: text-input}]}
  - id: check
    data:
      type: if-else
      cases:
        - case_id: "true"
          conditions: [{variable_selector: [start, a], comparison_operator: is, value: "{{#start.b#}}"}]
  - id: end
    data: {type: end, outputs: []}
edges:
  - {source: start, target: check}
  - {source: check, target: end, sourceHandle: "true"}
"""
    definition = compile_app(app_from_yaml(text))
    assert "check.native" not in definition["States"]
    assert definition["States"]["check"]["Type"] == "Task"


@pytest.mark.parametrize(
    ("value", "native"), [("1", True), (2, True), ("1.0", False), ("1.5", False), ("x", False)]
)
def test_number_equality_is_native_only_for_integer_literals(value: Any, native: bool) -> None:
    text = f"""
nodes:
  - id: start
    data: {{type: start, variables: [{{variable: n, type: number}}]}}
  - id: check
    data:
      type: if-else
      cases:
        - case_id: "true"
          conditions: [{{variable_selector: [start, n], comparison_operator: "=", value: {json.dumps(value)}}}]
  - id: end
    data: {{type: end, outputs: []}}
edges:
  - {{source: start, target: check}}
  - {{source: check, target: end, sourceHandle: "true"}}
"""
    definition = compile_app(app_from_yaml(text))
    assert ("check.native" in definition["States"]) is native
