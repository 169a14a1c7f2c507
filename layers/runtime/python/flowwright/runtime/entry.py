"""The node Lambda contract: one event in, one state record out.

Event (built by the compiled ``Parameters``)::

    {"op": "run", "app": "...", "mode": "workflow", "id": "<node id>", "type": "llm",
     "node": "<node config as JSON>", "run": "<run id>", "in": {<scope>: {...}},
     "pos": [...], "ob": <byte budget of the record>}

Record (written by ``ResultPath`` to ``$.n_<id>``)::

    {"o": {outputs}, "h": "<handle taken>", "w": {<state key>: value}, "a": "<answer>"}

A failure raises; its class name is the error name Step Functions sees (Retry/Catch).
"""

from __future__ import annotations

import json
import os
import time
from functools import lru_cache
from typing import Any

from flowwright.errors import NodeConfigError, NodeExecutionError, NodeInputError
from flowwright.nodes.base import NodeConfig, NodeContext, NodeResult
from flowwright.nodes.registry import kind_of, load_executor
from flowwright.runtime.addresses import write_key
from flowwright.runtime.events import ChunkBuffer, NodeEvent
from flowwright.runtime.services import Services
from flowwright.runtime.values import Resolver, json_size, offload_values
from flowwright.variables import VariablePool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["NodeEventIn", "handle_node_event", "parse_config", "secret_env"]


class NodeEventIn(BaseModel):
    """The event a node function receives."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")
    op: str = "run"
    app: str
    mode: str = "workflow"
    id: str
    type: str
    title: str = ""
    node: str
    run: str
    inputs: dict[str, Any] = Field(default_factory=dict, alias="in")
    pos: list[Any] = Field(default_factory=list)
    ob: int = 65536
    attempt: int = 0


@lru_cache(maxsize=512)
def parse_config(node_type: str, raw: str) -> NodeConfig:
    """The typed configuration of a node from its JSON text (cached: warm Lambdas reuse it)."""
    kind = kind_of(node_type)
    if kind is None:
        raise NodeConfigError(f"unsupported node type {node_type!r}")
    try:
        return kind.config.model_validate(json.loads(raw))
    except (ValidationError, ValueError) as exc:
        raise NodeConfigError(f"invalid configuration: {exc}") from None


def _pool(event: NodeEventIn, resolver: Resolver) -> VariablePool:
    scopes = dict(event.inputs)
    env = scopes.get("env")
    if isinstance(env, dict):
        scopes["env"] = {k: secret_env(k) if v is None else v for k, v in env.items()}
    return VariablePool(scopes, resolve=resolver)


def secret_env(name: str) -> str | None:
    """A secret environment variable's value: never in the ASL, read where the node runs.

    Locally and in Lambda it is ``FLOWWRIGHT_ENV_<NAME>`` (the stacks fill it from Secrets
    Manager); an unset secret reads as null.
    """
    return os.environ.get(f"FLOWWRIGHT_ENV_{name}")


def handle_node_event(raw_event: dict[str, Any], services: Services) -> dict[str, Any]:
    """Run one node operation and return its state record (or raise its error)."""
    try:
        event = NodeEventIn.model_validate(raw_event)
    except ValidationError as exc:
        raise NodeInputError(f"malformed node event: {exc}") from None
    kind = kind_of(event.type)
    if kind is None:
        raise NodeConfigError(f"unsupported node type {event.type!r}")
    config = parse_config(event.type, event.node)
    module = load_executor(kind.package)
    operation = getattr(module, event.op, None)
    if operation is None:
        raise NodeConfigError(f"node type {event.type!r} has no operation {event.op!r}")
    resolver = Resolver(services.blobs)
    ctx = NodeContext(
        app_id=event.app,
        run_id=event.run,
        node_id=event.id,
        node_type=event.type,
        mode="advanced-chat" if event.mode == "advanced-chat" else "workflow",
        conversation_id=_sys(event, "conversation_id"),
        user=_sys(event, "user_id"),
        position=event.pos,
        services=services,
    )
    # every event of this node run starts from these fields
    base = NodeEvent(
        run_id=event.run,
        event="node_started",
        node_id=event.id,
        node_type=event.type,
        title=event.title or config.title,
        status="running",
        position=event.pos,
        attempt=event.attempt,
    )
    chunks = ChunkBuffer(
        services.events,
        _then(base, event="text_chunk"),
        interval=float(getattr(services.events, "chunk_interval", 0.0)),
    )
    ctx.stream = chunks
    emits = getattr(module, "EVENTS", {}).get(event.op, ("started", "finished"))
    started = time.perf_counter()
    if "started" in emits:
        services.events.emit(base)
    try:
        try:
            result: NodeResult = operation(config, _pool(event, resolver), ctx)
        finally:
            chunks.flush()
    except Exception as exc:
        error = (
            exc
            if isinstance(exc, NodeExecutionError)
            else NodeExecutionError(f"{type(exc).__name__}: {exc}")
        )
        retries = config.retry_config.max_retries if config.retry_config.enabled else 0
        retrying = (
            event.op == "run"
            and event.attempt < retries
            and not isinstance(error, (NodeConfigError, NodeInputError))
        )
        handled = event.op == "run" and config.handles_errors and not retrying
        services.events.emit(
            _then(
                base,
                event="node_finished",
                status="retry" if retrying else "exception" if handled else "failed",
                elapsed_ms=_elapsed_ms(started, result=None),
                error=str(error),
                error_type=type(exc).__name__,
            )
        )
        if handled:
            return _record(_fallback(config, exc), event, services)
        if error is exc:
            raise
        raise error from exc
    record = _record(result, event, services)
    if "finished" in emits and result.finished:
        usage = result.usage
        services.events.emit(
            _then(
                base,
                event="node_finished",
                status="succeeded",
                elapsed_ms=_elapsed_ms(started, result=result),
                tokens=usage.total_tokens if usage else None,
                usage=usage.as_dict() if usage else None,
                note=result.note,
                outputs=record.get("o"),
            )
        )
    return record


def _then(base: NodeEvent, **update: Any) -> NodeEvent:
    """A later event of the same node run (fresh timestamp)."""
    return base.model_copy(update={"ts": time.time(), **update})


def _fallback(config: NodeConfig, error: Exception) -> NodeResult:
    """The result of a failed node whose ``error_strategy`` handles the failure."""
    outputs: dict[str, Any] = {}
    handle = "fail-branch"
    if config.error_strategy == "default-value":
        outputs = {d.key: d.value for d in config.default_value or []}
        handle = "source"
    outputs["error_message"] = str(error)
    outputs["error_type"] = type(error).__name__
    return NodeResult(outputs=outputs, handle=handle, extra={"x": 1})


def _sys(event: NodeEventIn, name: str) -> str | None:
    value = (
        event.inputs.get("sys", {}).get(name) if isinstance(event.inputs.get("sys"), dict) else None
    )
    return str(value) if value not in (None, "") else None


def _elapsed_ms(started: float, result: NodeResult | None) -> float:
    if result is not None and result.started_at is not None:
        return round((time.time() - result.started_at) * 1000, 3)
    return round((time.perf_counter() - started) * 1000, 3)


def _record(result: NodeResult, event: NodeEventIn, services: Services) -> dict[str, Any]:
    """The state record of a result, with large values offloaded to fit ``event.ob`` bytes."""
    if result.record is not None:
        return result.record
    record: dict[str, Any] = {"o": result.outputs, "h": result.handle}
    if result.answer is not None:
        record["a"] = result.answer
    extra = dict(result.extra)
    raw_writes = extra.pop("w", None) or {}
    if result.writes or raw_writes:
        record["w"] = {**{write_key(sel): v for sel, v in result.writes.items()}, **raw_writes}
    record.update(extra)
    budget = max(1024, event.ob)
    if services.blobs is None or json_size(record) <= budget:
        return record
    prefix = f"{event.run}/{event.id}"
    # Outputs and writes keep their keys (readers resolve references per value); the answer
    # text is offloaded whole. Container bookkeeping (items, rounds) is kept small by its
    # executor and never offloaded: Map reads it directly.
    for part, share in (("o", 0.5), ("w", 0.3)):
        if isinstance(record.get(part), dict):
            record[part] = offload_values(
                record[part], budget=int(budget * share), store=services.blobs, key_prefix=prefix
            )
    if "a" in record:
        record.update(
            offload_values(
                {"a": record["a"]},
                budget=int(budget * 0.2),
                store=services.blobs,
                key_prefix=prefix,
            )
        )
    return record
