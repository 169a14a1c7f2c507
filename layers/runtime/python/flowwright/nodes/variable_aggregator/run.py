"""Variable aggregator executor: the first value that exists among several selectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.nodes.variable_aggregator.config import VariableAggregatorConfig
from flowwright.variables import MISSING, VariablePool

__all__ = ["run"]


def _first(selectors: Sequence[list[str]], pool: VariablePool) -> tuple[str, Any] | None:
    for selector in selectors:
        value = pool.get(selector)
        # Dify also picks a variable whose value is null; here null counts as absent.
        if value is not MISSING and value is not None:
            return ".".join(selector[1:]), value
    return None


def run(config: VariableAggregatorConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Outputs ``{"output": value}`` (``{}`` when nothing exists), or per group
    ``{group_name: {"output": value}}`` when grouping is enabled (groups with no value omitted).
    """
    outputs: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    if config.grouped and config.advanced_settings:
        for group in config.advanced_settings.groups:
            if found := _first(group.variables, pool):
                outputs[group.group_name] = {"output": found[1]}
                inputs[found[0]] = found[1]
    elif found := _first(config.variables, pool):
        outputs["output"] = found[1]
        inputs[found[0]] = found[1]
    return NodeResult(outputs=outputs, inputs=inputs)
