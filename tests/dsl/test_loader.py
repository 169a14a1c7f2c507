"""Loading Dify DSL: every supported form loads; every broken file gets precise errors."""

from __future__ import annotations

import contextlib

import pytest
import yaml
from flowwright.dsl import load_app, load_app_text
from flowwright.errors import DslError
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import FIXTURES, TEMPLATES, app_from_yaml

SUPPORTED_FIXTURES = [
    p
    for p in sorted(FIXTURES.rglob("*.yml"))
    if p.name
    not in {
        "chatflow_time_tool_static_output_workflow.yml",
        "http_request_with_json_tool_workflow.yml",
        "knowledge_retrieval_v2_workflow.yml",
        "search_dify_from_2023_to_2025.yml",
        "http_default_output.yml",
        "http_text.yml",
        "minimal_not_an_app.yml",
    }
]

GRAPH = """
nodes:
  - id: start
    data: {type: start, title: Start, variables: [{variable: q, label: Q, type: text-input}]}
  - id: end
    data: {type: end, title: End, outputs: [{variable: out, value_selector: [start, q]}]}
edges:
  - {source: start, target: end}
"""


def codes(text: str) -> list[str]:
    with pytest.raises(DslError) as caught:
        app_from_yaml(text)
    return caught.value.codes


def app_doc(mode: str = "workflow", version: str = "0.3.1", graph: str = GRAPH) -> str:
    doc = {
        "app": {"name": "t", "mode": mode},
        "kind": "app",
        "version": version,
        "workflow": {"graph": yaml.safe_load(graph)},
    }
    return yaml.safe_dump(doc)


@pytest.mark.parametrize("path", SUPPORTED_FIXTURES, ids=lambda p: p.name)
def test_every_supported_fixture_loads(path) -> None:
    app = load_app(path)
    assert app.nodes and app.mode in ("workflow", "advanced-chat")


def test_bare_graph_form_infers_mode_and_name() -> None:
    app = app_from_yaml(GRAPH, name="scalar")
    assert (app.mode, app.name, app.dsl_version) == ("workflow", "scalar", "0.1.0")


@pytest.mark.parametrize("version", ["0.1.0", "0.1.5", "0.2.0", "0.3.1", "0.4.0", "0.5.0", "0.6.0"])
def test_supported_versions(version: str) -> None:
    assert load_app_text(app_doc(version=version)).dsl_version == version


@pytest.mark.parametrize("version", ["0.0.9", "0.6.1", "1.0.0"])
def test_unsupported_versions(version: str) -> None:
    assert codes(app_doc(version=version)) == ["unsupported_version"]


def test_bad_version_text() -> None:
    assert codes(app_doc(version="latest")) == ["bad_version"]


@pytest.mark.parametrize("mode", ["chat", "agent-chat", "completion", None])
def test_unsupported_modes(mode: str | None) -> None:
    assert "unsupported_mode" in codes(app_doc(mode=mode))  # type: ignore[arg-type]


def test_not_an_app() -> None:
    assert codes("- just\n- a list\n") == ["not_an_app"]
    assert codes("") == ["not_an_app"]
    assert (
        codes("kind: plugin\napp: {mode: workflow}\nworkflow: {graph: {nodes: [], edges: []}}")[0]
        == "not_an_app"
    )


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(DslError) as caught:
        app_from_yaml("nodes: [\n  - id: a\n  bad: : :\n")
    assert caught.value.codes == ["yaml_syntax"]
    assert "line" in str(caught.value)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(DslError) as caught:
        load_app(tmp_path / "nope.yml")
    assert caught.value.codes == ["file_not_found"]
    assert "nope.yml" in str(caught.value)


def test_all_errors_are_reported_at_once() -> None:
    text = """
nodes:
  - id: start
    data: {type: start, variables: []}
  - id: a
    data: {type: http-request, title: Fetch}
  - id: b
    data: {type: teleport, title: Beam}
  - id: c
    data: {type: template-transform, title: NoTemplate}
  - id: c
    data: {type: end, outputs: []}
edges:
  - {source: start, target: ghost}
"""
    with pytest.raises(DslError) as caught:
        app_from_yaml(text)
    found = caught.value.codes
    assert {
        "unsupported_node_type",
        "unknown_node_type",
        "bad_node_config",
        "duplicate_node_id",
    } <= set(found)
    message = str(caught.value)
    assert "'Fetch' (a)" in message and "'Beam' (b)" in message and "field data.template" in message


def test_dangling_edge_and_no_start() -> None:
    text = """
nodes:
  - id: end
    data: {type: end, outputs: []}
edges:
  - {source: x, target: end}
"""
    assert set(codes(text)) == {"no_start_node", "dangling_edge"}


def test_cycle_outside_loop() -> None:
    text = """
nodes:
  - id: start
    data: {type: start, variables: []}
  - id: a
    data: {type: template-transform, template: a}
  - id: b
    data: {type: template-transform, template: b}
edges:
  - {source: start, target: a}
  - {source: a, target: b}
  - {source: b, target: a}
"""
    assert codes(text) == ["cycle"]


def test_selector_errors_name_node_and_variable() -> None:
    text = """
nodes:
  - id: start
    data: {type: start, variables: [{variable: q, type: text-input}]}
  - id: t
    data:
      type: template-transform
      title: T
      template: "{{ a }}"
      variables:
        - {variable: a, value_selector: [start, nope]}
        - {variable: b, value_selector: [ghost, x]}
        - {variable: c, value_selector: [env, MISSING]}
        - {variable: d, value_selector: [conversation, missing]}
edges:
  - {source: start, target: t}
"""
    with pytest.raises(DslError) as caught:
        app_from_yaml(text)
    message = str(caught.value)
    assert caught.value.codes.count("unknown_variable") == 3
    assert "unknown_node" in caught.value.codes
    assert "has no output 'nope' (it has: q)" in message
    assert "no node with id 'ghost'" in message


def test_variable_reference_cycle() -> None:
    text = """
nodes:
  - id: start
    data: {type: start, variables: []}
  - id: a
    data: {type: template-transform, template: x, variables: [{variable: v, value_selector: [b, output]}]}
  - id: b
    data: {type: template-transform, template: y}
edges:
  - {source: start, target: a}
  - {source: a, target: b}
"""
    assert codes(text) == ["variable_cycle"]


def test_assigning_a_non_conversation_variable() -> None:
    text = """
nodes:
  - id: start
    data: {type: start, variables: [{variable: q, type: text-input}]}
  - id: set
    data:
      type: assigner
      version: "2"
      items: [{variable_selector: [start, q], input_type: constant, operation: over-write, value: x}]
edges:
  - {source: start, target: set}
"""
    assert codes(text) == ["bad_assignment"]


def test_answer_in_workflow_mode() -> None:
    graph = GRAPH.replace(
        "type: end, title: End, outputs: [{variable: out, value_selector: [start, q]}]",
        "type: answer, title: A, answer: hi",
    )
    assert codes(app_doc(mode="workflow", graph=graph)) == ["answer_in_workflow"]


def test_unknown_edge_handle_is_a_warning() -> None:
    text = GRAPH.replace(
        "{source: start, target: end}", "{source: start, target: end, sourceHandle: weird}"
    )
    app = app_from_yaml(text)
    assert any("weird" in w for w in app.warnings)


def test_success_branch_alias_and_canvas_notes() -> None:
    text = GRAPH.replace(
        "{source: start, target: end}", "{source: start, target: end, sourceHandle: success-branch}"
    )
    text = text.replace(
        "nodes:\n", "nodes:\n  - {id: note, type: custom-note, data: {type: '', text: hi}}\n", 1
    )
    app = app_from_yaml(text)
    assert app.edges[0].source_handle == "source"
    assert "note" not in app.nodes


def test_templates_gallery_loads_or_names_what_is_missing() -> None:
    """Dify's recommended apps either load or are refused only for node types not built yet."""
    for path in sorted(TEMPLATES.glob("*.yml")):
        try:
            load_app(path)
        except DslError as exc:
            assert set(exc.codes) <= {"unsupported_node_type", "unsupported_mode"}, (
                path.name,
                str(exc),
            )


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "app",
        "workflow",
        "graph",
        "nodes",
        "edges",
        "data",
        "type",
        "id",
        "source",
        "target",
        "kind",
        "version",
        "mode",
        "variables",
        "outputs",
        "value_selector",
        "cases",
        "sourceHandle",
        "parentId",
    ]
)
DOCS = st.recursive(
    st.none()
    | st.text(max_size=6)
    | st.integers()
    | st.sampled_from(["start", "end", "llm", "loop", "iteration", "if-else", "workflow", "0.3.1"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(doc=DOCS)
def test_loader_only_raises_its_own_error(doc: object) -> None:
    """Whatever the YAML holds, the loader returns an app or raises DslError."""
    with contextlib.suppress(DslError):
        load_app_text(yaml.safe_dump(doc))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_loader_survives_arbitrary_text(text: str) -> None:
    with contextlib.suppress(DslError):
        load_app_text(text)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_loader_survives_mutated_fixtures(data: st.DataObject) -> None:
    """Real fixtures with one value replaced anywhere still load or fail cleanly."""
    path = data.draw(st.sampled_from(SUPPORTED_FIXTURES))
    doc = yaml.safe_load(path.read_text())
    node = doc
    for _ in range(data.draw(st.integers(min_value=1, max_value=6))):
        if isinstance(node, dict) and node:
            key = data.draw(st.sampled_from(sorted(node, key=str)))
            if not isinstance(node[key], (dict, list)) or data.draw(st.booleans()):
                node[key] = data.draw(YAML_VALUES)
                break
            node = node[key]
        elif isinstance(node, list) and node:
            index = data.draw(st.integers(min_value=0, max_value=len(node) - 1))
            if not isinstance(node[index], (dict, list)) or data.draw(st.booleans()):
                node[index] = data.draw(YAML_VALUES)
                break
            node = node[index]
        else:
            break
    with contextlib.suppress(DslError):
        load_app_text(yaml.safe_dump(doc, allow_unicode=True))
