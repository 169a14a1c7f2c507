"""Starting, following and stopping runs of compiled apps on Step Functions.

The same code runs against moto locally (:class:`flowwright.runtime.local.LocalRuntime`)
and against AWS in the API function: start an execution with the run's system variables,
read its node events while it runs, and turn the finished execution into a
:class:`RunResult`.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flowwright.dsl.models import App
from flowwright.errors import RunError
from flowwright.runtime.events import InMemoryEventSink, NodeEvent
from flowwright.runtime.result import NodeTrace, RunResult
from flowwright.runtime.services import Services
from flowwright.runtime.values import Resolver, json_size, offload_values

__all__ = ["StartedRun", "StepFunctionsRunner"]

#: Inputs larger than this are offloaded before the execution starts.
INPUT_BUDGET = 64 * 1024
_HIDDEN_TYPES = {"iteration-start", "loop-start"}


@dataclass(frozen=True)
class StartedRun:
    """A run whose execution has started."""

    run_id: str
    execution_arn: str
    conversation_id: str | None
    started_at: float


class StepFunctionsRunner:
    """Runs apps as executions of their state machines (``machine_for(app)`` gives the ARN)."""

    def __init__(self, sfn: Any, services: Services, machine_for: Callable[[App], str]) -> None:
        self.sfn = sfn
        self.services = services
        self.machine_for = machine_for

    def start(
        self,
        app: App,
        inputs: dict[str, Any] | None = None,
        *,
        query: str | None = None,
        conversation_id: str | None = None,
        user: str = "local-user",
        files: list[dict[str, Any]] | None = None,
        run_id: str | None = None,
    ) -> StartedRun:
        """Start one execution and return at once."""
        machine = self.machine_for(app)
        run_id = run_id or uuid.uuid4().hex
        chat = app.mode == "advanced-chat"
        if chat and not conversation_id:
            conversation_id = uuid.uuid4().hex
        sys_vars = {
            "query": query or "",
            "files": files or [],
            "user_id": user,
            "app_id": app.name,
            "workflow_id": hashlib.sha256(app.name.encode()).hexdigest()[:16],
            "workflow_run_id": run_id,
            "conversation_id": conversation_id if chat else None,
            "dialogue_count": 0,
        }
        given = dict(inputs or {})
        if self.services.blobs is not None and json_size(given) > INPUT_BUDGET:
            given = offload_values(
                given,
                budget=INPUT_BUDGET // 2,
                store=self.services.blobs,
                key_prefix=f"{run_id}/inputs",
            )
        execution = self.sfn.start_execution(
            stateMachineArn=machine,
            name=run_id,
            input=json.dumps({"sys": sys_vars, "inputs": given}),
        )["executionArn"]
        return StartedRun(run_id, execution, conversation_id if chat else None, time.time())

    def describe(self, started: StartedRun) -> dict[str, Any]:
        return dict(self.sfn.describe_execution(executionArn=started.execution_arn))

    def wait(self, started: StartedRun, timeout_s: float = 600.0) -> dict[str, Any]:
        """Poll until the execution ends; stop it and raise RunError after ``timeout_s``."""
        delay, deadline = 0.001, time.monotonic() + timeout_s
        while True:
            described = self.describe(started)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                self.stop(started, cause="run timed out")
                raise RunError(f"run did not finish within {timeout_s:.0f} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.02)

    def stop(self, started: StartedRun, cause: str = "stopped by the user") -> None:
        self.sfn.stop_execution(executionArn=started.execution_arn, error="Stopped", cause=cause)

    def follow(
        self, started: StartedRun, *, poll_s: float = 0.02, keepalive_s: float | None = None
    ) -> Iterator[NodeEvent | None]:
        """Yield the run's node events as they are written, until the execution ends (the
        API's streams tail the event store this way, locally and in AWS). With
        ``keepalive_s``, ``None`` is yielded after that many seconds without an event."""
        seen, last = 0, time.monotonic()
        while True:
            running = self.describe(started)["status"] == "RUNNING"
            events = self.services.events.list_run(started.run_id)
            if len(events) > seen:
                yield from events[seen:]
                seen, last = len(events), time.monotonic()
            elif keepalive_s is not None and time.monotonic() - last > keepalive_s:
                yield None
                last = time.monotonic()
            if not running:
                return
            time.sleep(poll_s)

    def result(
        self,
        app: App,
        started: StartedRun,
        described: dict[str, Any],
        *,
        forget_events: bool = True,
    ) -> RunResult:
        """The outcome of a finished execution: status, outputs, error and trace."""
        events = self.services.events.list_run(started.run_id)
        status = described["status"]
        summary: dict[str, Any] = {}
        error = failed_node = None
        if status == "SUCCEEDED":
            summary = json.loads(described.get("output") or "{}")
            outputs = Resolver(self.services.blobs).deep(summary.get("outputs") or {})
            run_status = summary.get("status", "succeeded")
        else:
            outputs = {}
            run_status = "stopped" if status == "ABORTED" else "failed"
            error, failed_node = _failure(described, events)
        nodes = _trace(app, events, summary.get("nodes") or {})
        if forget_events and isinstance(self.services.events, InMemoryEventSink):
            self.services.events.forget(started.run_id)
        return RunResult(
            run_id=started.run_id,
            app=app.name,
            status=run_status,
            outputs=outputs,
            error=error,
            failed_node=failed_node,
            exceptions_count=int(summary.get("exceptions_count") or 0),
            elapsed_ms=round((time.time() - started.started_at) * 1000, 3),
            total_tokens=sum(n.tokens or 0 for n in nodes),
            conversation_id=started.conversation_id,
            nodes=nodes,
        )

    def run(
        self,
        app: App,
        inputs: dict[str, Any] | None = None,
        *,
        query: str | None = None,
        conversation_id: str | None = None,
        user: str = "local-user",
        files: list[dict[str, Any]] | None = None,
        timeout_s: float = 600.0,
        on_event: Callable[[NodeEvent], None] | None = None,
    ) -> RunResult:
        """Run ``app`` once and wait for it; never raises for a failed run (see ``status``)."""
        run_id = uuid.uuid4().hex
        stop_listening = None
        if on_event is not None and isinstance(self.services.events, InMemoryEventSink):
            stop_listening = self.services.events.subscribe(
                lambda event: on_event(event) if event.run_id == run_id else None
            )
        try:
            started = self.start(
                app,
                inputs,
                query=query,
                conversation_id=conversation_id,
                user=user,
                files=files,
                run_id=run_id,
            )
            described = self.wait(started, timeout_s)
        finally:
            if stop_listening is not None:
                stop_listening()
        return self.result(app, started, described)


def _failure(described: dict[str, Any], events: list[NodeEvent]) -> tuple[str, str | None]:
    """The reason a run failed and the node that failed it."""
    error_name = described.get("error") or "Failed"
    cause = described.get("cause") or ""
    try:
        message = json.loads(cause).get("errorMessage") or cause
    except (ValueError, AttributeError):
        message = cause
    failed = [e for e in events if e.event == "node_finished" and e.status == "failed"]
    if failed:
        last = failed[-1]
        label = f"'{last.title}' ({last.node_id})" if last.title else f"({last.node_id})"
        return f"node {label} failed: {last.error}", last.node_id
    return f"{error_name}: {message}".strip(), None


def _trace(app: App, events: list[NodeEvent], statuses: dict[str, str]) -> list[NodeTrace]:
    rows: dict[tuple[str, str], NodeTrace] = {}
    for event in events:
        if event.event == "text_chunk":
            continue
        key = (event.node_id, json.dumps(event.position))
        node = app.nodes.get(event.node_id)
        if event.event == "node_started":
            rows.setdefault(
                key,
                NodeTrace(
                    id=event.node_id,
                    type=event.node_type,
                    title=event.title or (node.title if node else ""),
                    status="running",
                    position=event.position,
                ),
            )
            continue
        row = rows.setdefault(
            key,
            NodeTrace(id=event.node_id, type=event.node_type, title=event.title, status="running"),
        )
        row.status = event.status
        row.elapsed_ms = event.elapsed_ms
        row.tokens = event.tokens
        row.error = event.error
        row.note = event.note
    traced = {row.id for row in rows.values()}
    trace = list(rows.values())
    for node_id, status in statuses.items():
        node = app.nodes.get(node_id)
        if node_id in traced or node is None or node.type in _HIDDEN_TYPES:
            continue
        trace.append(NodeTrace(id=node_id, type=node.type, title=node.title, status=status))
    return trace
