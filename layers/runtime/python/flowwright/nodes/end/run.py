"""End node: collects the workflow's outputs; ``finish`` ends a workflow run."""

from __future__ import annotations

from flowwright.nodes.base import NodeConfig, NodeContext, NodeResult
from flowwright.nodes.end.config import EndConfig
from flowwright.runtime.finish import finish_workflow
from flowwright.variables import VariablePool

__all__ = ["EVENTS", "finish", "run"]

EVENTS = {"run": ("started", "finished"), "finish": ()}


def run(config: EndConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Outputs named by the End node, read from their selectors (missing values are null)."""
    outputs = {out.variable: pool.value(out.value_selector) for out in config.outputs}
    return NodeResult(outputs=outputs)


def finish(config: NodeConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    return finish_workflow(pool, ctx)
