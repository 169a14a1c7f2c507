"""The last state of every run: the run's outputs, status and per-node summary."""

from __future__ import annotations

from typing import Any

from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.runtime.conversations import Message
from flowwright.runtime.records import answer_text, ran
from flowwright.runtime.values import offload_values
from flowwright.variables import VariablePool

__all__ = ["finish_chat", "finish_workflow", "summarize"]

#: Bytes of the run result kept inline; larger outputs stay offloaded.
RESULT_BUDGET = 128 * 1024


def summarize(records: dict[str, Any], ctx: NodeContext) -> tuple[dict[str, str], int]:
    """Each top-level node's outcome, and how many node failures the app handled."""
    statuses: dict[str, str] = {}
    caught = set()
    for node_id, record in records.items():
        if not ran(record):
            statuses[node_id] = "skipped"
        elif record.get("x"):
            statuses[node_id] = "exception"
            caught.add(node_id)
        else:
            statuses[node_id] = "succeeded"
    exceptions = 0
    if ctx.services is not None:
        for event in ctx.services.events.list_run(ctx.run_id):
            if event.event == "node_finished" and event.status == "exception":
                exceptions += 1
                caught.discard(event.node_id)
                if event.node_id in statuses:
                    statuses[event.node_id] = "exception"
    return statuses, exceptions + len(caught)


def _result(outputs: dict[str, Any], records: dict[str, Any], ctx: NodeContext) -> NodeResult:
    statuses, exceptions = summarize(records, ctx)
    if ctx.services is not None and ctx.services.blobs is not None:
        outputs = offload_values(
            outputs,
            budget=RESULT_BUDGET,
            store=ctx.services.blobs,
            key_prefix=f"{ctx.run_id}/outputs",
        )
    return NodeResult(
        record={
            "status": "partial-succeeded" if exceptions else "succeeded",
            "outputs": outputs,
            "exceptions_count": exceptions,
            "nodes": statuses,
        }
    )


def finish_workflow(pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Outputs of the End nodes that ran, merged in graph order."""
    records = pool.scope("#records")
    outputs: dict[str, Any] = {}
    for end_id in pool.scope("#ends").get("order", []):
        record = records.get(end_id)
        if ran(record):
            outputs.update(record.get("o") or {})
    return _result(outputs, records, ctx)


def finish_chat(pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """The answer (every Answer that ran, in graph order); saves the conversation turn."""
    records = pool.scope("#records")
    answer = answer_text(records, pool.scope("#answers").get("order", []), pool.resolve)
    if ctx.conversation_id and ctx.services is not None:
        variables = {
            name: pool.resolve_deep(value) for name, value in pool.scope("#conversation").items()
        }
        store = ctx.services.conversations
        store.save_variables(ctx.app_id, ctx.conversation_id, variables)
        query = pool.value(("sys", "query"))
        store.append_message(
            ctx.app_id,
            ctx.conversation_id,
            Message(query=str(query or ""), answer=answer, run_id=ctx.run_id),
        )
    return _result({"answer": answer}, records, ctx)
