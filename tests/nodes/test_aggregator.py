"""Variable aggregator node: the first existing value, optionally per group."""

from __future__ import annotations

from typing import Any

from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.nodes.registry import kind_of
from flowwright.nodes.variable_aggregator.config import VariableAggregatorConfig
from flowwright.nodes.variable_aggregator.run import run
from flowwright.variables import VariablePool

CTX = NodeContext(app_id="a", run_id="r", node_id="n", node_type="variable-aggregator")
POOL: dict[str, Any] = {
    "a": {"text": "from a", "none": None, "zero": 0, "empty": ""},
    "b": {"text": "from b", "obj": {"k": [1]}},
    "skipped": None,
}


def aggregate(data: dict[str, Any]) -> NodeResult:
    config = VariableAggregatorConfig.model_validate({"type": "variable-aggregator", **data})
    return run(config, VariablePool(POOL), CTX)


def test_first_existing_value_wins() -> None:
    result = aggregate(
        {"variables": [["skipped", "text"], ["a", "missing"], ["b", "text"], ["a", "text"]]}
    )
    assert result.outputs == {"output": "from b"}
    assert result.inputs == {"text": "from b"}


def test_null_counts_as_absent() -> None:
    # Dify picks a null value too; flowwright treats null as "not there" (an unrun branch).
    assert aggregate({"variables": [["a", "none"], ["b", "text"]]}).outputs == {"output": "from b"}


def test_falsy_values_are_values() -> None:
    assert aggregate({"variables": [["a", "zero"], ["b", "text"]]}).outputs == {"output": 0}
    assert aggregate({"variables": [["a", "empty"], ["b", "text"]]}).outputs == {"output": ""}


def test_nested_selector() -> None:
    assert aggregate({"variables": [["b", "obj", "k"]]}).outputs == {"output": [1]}


def test_nothing_exists() -> None:
    result = aggregate({"variables": [["skipped", "text"], ["a", "missing"]]})
    assert result.outputs == {}
    assert aggregate({"variables": None}).outputs == {}


def test_groups() -> None:
    result = aggregate(
        {
            "variables": [["a", "text"]],
            "advanced_settings": {
                "group_enabled": True,
                "groups": [
                    {"group_name": "g1", "variables": [["skipped", "x"], ["b", "text"]]},
                    {"group_name": "g2", "variables": [["a", "text"]]},
                    {"group_name": "g3", "variables": [["a", "missing"]]},
                ],
            },
        }
    )
    assert result.outputs == {"g1": {"output": "from b"}, "g2": {"output": "from a"}}


def test_groups_disabled_uses_top_level_variables() -> None:
    data = {
        "variables": [["a", "text"]],
        "advanced_settings": {
            "group_enabled": False,
            "groups": [{"group_name": "g", "variables": [["b", "text"]]}],
        },
    }
    assert aggregate(data).outputs == {"output": "from a"}


def test_legacy_variable_assigner_type_runs_the_aggregator() -> None:
    kind = kind_of("variable-assigner")
    assert kind is not None and kind.executor_module.endswith("variable_aggregator.run")
