"""Node events: every node run reports when it starts and how it finished."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

__all__ = ["ChunkBuffer", "DynamoDbEventSink", "EventSink", "InMemoryEventSink", "NodeEvent"]

EventName = Literal["node_started", "node_finished", "text_chunk"]
Status = Literal["running", "succeeded", "failed", "exception", "retry"]


class NodeEvent(BaseModel):
    """One node event of one run (what the trace and the run logs are built from)."""

    run_id: str
    event: EventName
    node_id: str
    node_type: str
    title: str = ""
    status: Status
    position: list[Any] = Field(default_factory=list)
    attempt: int = 0
    ts: float = Field(default_factory=time.time)
    elapsed_ms: float | None = None
    tokens: int | None = None
    usage: dict[str, Any] | None = None
    error: str | None = None
    error_type: str | None = None
    note: str | None = None
    outputs: dict[str, Any] | None = None
    #: ``text_chunk`` only: generated text (an LLM node's ``text`` output, as it streams).
    text: str | None = None


class ChunkBuffer:
    """Turns a model's token stream into ``text_chunk`` events: at most one event per
    ``interval`` seconds (so a DynamoDB sink is not written once per token)."""

    def __init__(self, sink: EventSink, template: NodeEvent, interval: float = 0.0) -> None:
        self._sink = sink
        self._template = template
        self._interval = interval
        self._pending: list[str] = []
        self._last = 0.0

    def __call__(self, text: str) -> None:
        if not text:
            return
        self._pending.append(text)
        now = time.monotonic()
        if now - self._last >= self._interval:
            self.flush()
            self._last = now

    def flush(self) -> None:
        if self._pending:
            text, self._pending = "".join(self._pending), []
            self._sink.emit(self._template.model_copy(update={"text": text, "ts": time.time()}))


class EventSink(Protocol):
    """Where node events go (memory locally, DynamoDB in AWS)."""

    def emit(self, event: NodeEvent) -> None: ...

    def list_run(self, run_id: str) -> list[NodeEvent]: ...


class InMemoryEventSink:
    """Keeps events in memory, in emission order."""

    def __init__(self) -> None:
        self._events: dict[str, list[NodeEvent]] = {}
        self._lock = threading.Lock()
        self._listeners: list[Any] = []

    def emit(self, event: NodeEvent) -> None:
        with self._lock:
            self._events.setdefault(event.run_id, []).append(event)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)

    def list_run(self, run_id: str) -> list[NodeEvent]:
        with self._lock:
            return list(self._events.get(run_id, []))

    def subscribe(self, listener: Any) -> Callable[[], None]:
        """Call ``listener`` with every event from now on; returns the function that stops it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._events.pop(run_id, None)


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


class DynamoDbEventSink:
    """Events in a DynamoDB table keyed by ``run_id`` (hash) and ``sk`` (time order)."""

    #: Text chunks are batched this long (seconds) before one write.
    chunk_interval = 0.1

    def __init__(self, table_name: str, *, resource: Any = None) -> None:
        if resource is None:
            import boto3

            resource = boto3.resource("dynamodb")
        self._table = resource.Table(table_name)

    def emit(self, event: NodeEvent) -> None:
        item = _to_dynamo(event.model_dump(exclude_none=True))
        item["sk"] = f"{time.time_ns():020d}#{event.node_id}#{event.event}"
        self._table.put_item(Item=item)

    def list_run(self, run_id: str) -> list[NodeEvent]:
        from boto3.dynamodb.conditions import Key

        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("run_id").eq(run_id),
            "ConsistentRead": True,
        }
        while True:
            page = self._table.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [
            NodeEvent.model_validate(_from_dynamo({k: v for k, v in i.items() if k != "sk"}))
            for i in items
        ]
