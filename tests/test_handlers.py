"""The Lambda handlers in functions/: one per node function, each a thin shell over the library."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flowwright.nodes.registry import FUNCTION_NAMES

from tests.support import ROOT

HANDLERS = sorted((ROOT / "functions" / "nodes").glob("*/handler.py"))


def context() -> Any:
    return SimpleNamespace(
        function_name="flowwright-test",
        function_version="$LATEST",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:flowwright-test",
        aws_request_id="req-1",
        log_group_name="/aws/lambda/flowwright-test",
        log_stream_name="stream",
    )


def test_one_handler_per_node_function() -> None:
    assert sorted(p.parent.name for p in HANDLERS) == sorted(FUNCTION_NAMES)


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.parent.name)
def test_handlers_are_thin(path: Path) -> None:
    code = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith(("#", '"""'))
    ]
    assert len(code) <= 8, "handlers delegate to flowwright.runtime.lambda_entry"


def _event(node_type: str, node: dict[str, Any], scopes: dict[str, Any]) -> dict[str, Any]:
    return {
        "op": "run",
        "app": "demo",
        "mode": "workflow",
        "id": "n1",
        "type": node_type,
        "node": json.dumps({"type": node_type, **node}),
        "run": "run-1",
        "in": {"sys": {"user_id": "u"}, **scopes},
        "ob": 4096,
    }


CASES = {
    "end": (
        "end",
        {"outputs": [{"variable": "o", "value_selector": ["a", "x"]}]},
        {"a": {"x": 1}},
        {"o": 1},
    ),
    "answer": (
        "answer",
        {"answer": "hi {{#a.x#}}"},
        {"a": {"x": "Ada"}},
        {"answer": "hi Ada", "files": []},
    ),
    "template_transform": (
        "template-transform",
        {"template": "{{ v }}!", "variables": [{"variable": "v", "value_selector": ["a", "x"]}]},
        {"a": {"x": "yo"}},
        {"output": "yo!"},
    ),
    "variable_aggregator": (
        "variable-aggregator",
        {"variables": [["a", "missing"], ["a", "x"]]},
        {"a": {"x": 3}},
        {"output": 3},
    ),
    "code": (
        "code",
        {
            "code": "def main(v):\n    return {'r': v * 2}",
            "variables": [{"variable": "v", "value_selector": ["a", "x"]}],
            "outputs": {"r": {"type": "number"}},
        },
        {"a": {"x": 21}},
        {"r": 42},
    ),
}


@pytest.mark.parametrize("function", sorted(CASES))
def test_handler_runs_a_node_event(function: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the function's environment without AWS resources (services fall back to memory)
    for name in (
        "FLOWWRIGHT_PAYLOAD_BUCKET",
        "FLOWWRIGHT_EVENTS_TABLE",
        "FLOWWRIGHT_CONVERSATIONS_TABLE",
    ):
        monkeypatch.delenv(name, raising=False)
    module = runpy.run_path(str(ROOT / "functions" / "nodes" / function / "handler.py"))
    node_type, node, scopes, expected = CASES[function]
    # WHEN Lambda calls the handler with a node event
    record = module["handler"](_event(node_type, node, scopes), context())
    # THEN it returns the node's state record
    assert record["o"] == expected and record["h"] == "source"


def test_handler_errors_carry_the_node_error_name() -> None:
    from flowwright.errors import NodeConfigError

    module = runpy.run_path(str(ROOT / "functions" / "nodes" / "end" / "handler.py"))
    event = _event("end", {"outputs": "not a list"}, {})
    with pytest.raises(NodeConfigError, match="invalid configuration"):
        module["handler"](event, context())
