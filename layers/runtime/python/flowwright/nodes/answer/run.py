"""Answer node: renders its reply; ``finish`` ends a chatflow run and saves the conversation."""

from __future__ import annotations

from flowwright.nodes.answer.config import AnswerConfig
from flowwright.nodes.base import NodeConfig, NodeContext, NodeResult
from flowwright.runtime.finish import finish_chat
from flowwright.variables import VariablePool

__all__ = ["EVENTS", "finish", "run"]

EVENTS = {"run": ("started", "finished"), "finish": ()}


def run(config: AnswerConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """The answer template rendered with Dify's markdown forms of the values."""
    text = pool.render(config.answer, markdown=True)
    return NodeResult(outputs={"answer": text, "files": []}, answer=text)


def finish(config: NodeConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    return finish_chat(pool, ctx)
