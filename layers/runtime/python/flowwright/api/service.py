"""The Service API's logic, independent of HTTP: start, follow, finish and stop runs.

Runs are executions of the app's state machine (:class:`StepFunctionsRunner`), so the same
code serves the local server (moto) and the API function (AWS). Streams tail the run's
node events; a run's record is finished by whoever first sees its execution end (the
blocking request, the stream, or a later ``GET /workflows/run/{id}``), so no run stays
"running" after its execution stopped.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flowwright.api.errors import ApiError
from flowwright.api.inputs import check_inputs
from flowwright.api.keys import KeyStore
from flowwright.api.records import ApiStore, ConversationRecord, RunRecord
from flowwright.dsl.models import App
from flowwright.runtime.events import NodeEvent
from flowwright.runtime.result import RunResult
from flowwright.runtime.runner import StartedRun, StepFunctionsRunner

__all__ = ["Platform", "RunRequest", "ServiceApi"]

PING_SECONDS = 10.0


@dataclass
class Platform:
    """Everything the API serves: apps by name and where their runs and records live."""

    apps: dict[str, App]
    runner: StepFunctionsRunner
    store: ApiStore
    keys: KeyStore
    knowledge: Any = None
    knowledge_writer: Any = None
    uploads: Any = None
    #: Local server: finish async runs in a background thread (AWS finishes them on read).
    background: bool = False
    #: How often streams look for new events (seconds): quick locally, gentler on DynamoDB.
    poll_s: float = 0.02
    version: str = "0.1.0"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunRequest:
    """A run as a request asks for it (after HTTP parsing)."""

    inputs: dict[str, Any]
    user: str
    query: str | None = None
    conversation_id: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    idempotency_key: str | None = None


class ServiceApi:
    """Runs and records for the routes in :mod:`flowwright.api.app`."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._finishing = threading.Lock()

    def app(self, name: str) -> App:
        found = self.platform.apps.get(name)
        if found is None:
            raise ApiError(404, "app_unavailable", f"app {name!r} is not deployed here")
        return found

    # ------------------------------------------------------------------ starting
    def start(self, app: App, request: RunRequest) -> tuple[RunRecord, bool]:
        """Start a run (or find the one this idempotency key started): (record, is_new)."""
        from flowwright.api.uploads import resolve_files

        inputs = resolve_files(
            check_inputs(app, request.inputs), self.platform.uploads, request.user
        )
        files = resolve_files({"files": request.files}, self.platform.uploads, request.user)
        run_id = str(uuid.uuid4())
        if request.idempotency_key:
            existing = self.platform.store.claim_idempotency_key(
                app.name, request.idempotency_key, run_id
            )
            if existing is not None:
                record = self.platform.store.get_run(existing)
                if record is None:
                    raise ApiError(409, "conflict", "this Idempotency-Key's run is starting")
                return record, False
        conversation_id = request.conversation_id
        if app.mode == "advanced-chat":
            conversation_id = self._conversation(app, request, inputs)
        started = self.platform.runner.start(
            app,
            inputs,
            query=request.query,
            conversation_id=conversation_id,
            user=request.user,
            files=files["files"],
            run_id=run_id,
        )
        record = RunRecord(
            id=run_id,
            app=app.name,
            mode=app.mode,
            execution_arn=started.execution_arn,
            inputs=inputs,
            user=request.user,
            query=request.query,
            conversation_id=started.conversation_id,
            created_at=started.started_at,
        )
        self.platform.store.put_run(record)
        return record, True

    def _conversation(self, app: App, request: RunRequest, inputs: dict[str, Any]) -> str:
        store = self.platform.store
        if request.conversation_id:
            found = store.get_conversation(app.name, request.conversation_id)
            if found is None or found.user != request.user:
                raise ApiError(404, "not_found", "Conversation Not Exists.")
            found.updated_at = time.time()
            store.put_conversation(found)
            return found.id
        conversation = ConversationRecord(
            id=str(uuid.uuid4()),
            app=app.name,
            user=request.user,
            name=(request.query or "New conversation")[:40],
            inputs=inputs,
        )
        store.put_conversation(conversation)
        return conversation.id

    # ------------------------------------------------------------------ following
    def started_of(self, record: RunRecord) -> StartedRun:
        return StartedRun(
            record.id, record.execution_arn, record.conversation_id, record.created_at
        )

    def finish(self, app: App, record: RunRecord, *, wait_s: float = 0.0) -> RunRecord:
        """The record, finished if its execution has ended (waiting up to ``wait_s``)."""
        if record.finished:
            return record
        runner = self.platform.runner
        started = self.started_of(record)
        described = runner.wait(started, wait_s) if wait_s else runner.describe(started)
        if described["status"] == "RUNNING":
            return record
        result = runner.result(app, started, described, forget_events=False)
        return self._record_result(record, result)

    def _record_result(self, record: RunRecord, result: RunResult) -> RunRecord:
        with self._finishing:
            latest = self.platform.store.get_run(record.id) or record
            if latest.finished:
                return latest
            latest.status = result.status
            latest.outputs = result.outputs
            latest.error = result.error
            latest.total_tokens = result.total_tokens
            latest.total_steps = len(result.nodes)
            latest.finished_at = time.time()
            latest.elapsed_time = round(latest.finished_at - latest.created_at, 3)
            self.platform.store.put_run(latest)
            return latest

    def result_of(self, app: App, record: RunRecord) -> RunResult:
        """The full result of a finished run (outputs, trace) from its execution."""
        started = self.started_of(record)
        described = self.platform.runner.describe(started)
        return self.platform.runner.result(app, started, described, forget_events=False)

    def events(self, record: RunRecord) -> Iterator[NodeEvent | None]:
        """The run's node events as they are written; ``None`` every ``PING_SECONDS`` of
        silence (a keep-alive for the stream)."""
        return self.platform.runner.follow(
            self.started_of(record), poll_s=self.platform.poll_s, keepalive_s=PING_SECONDS
        )

    def finish_in_background(self, app: App, record: RunRecord) -> None:
        """Local server: finish an async run's record when its execution ends."""

        def wait() -> None:
            self.finish(app, record, wait_s=3600)

        threading.Thread(target=wait, daemon=True, name=f"run-{record.id[:8]}").start()

    def stop(self, app: App, task_id: str, user: str) -> None:
        record = self.platform.store.get_run(task_id)
        if record is None or record.app != app.name:
            raise ApiError(404, "not_found", "Task not found.")
        if record.finished:
            return
        self.platform.runner.stop(self.started_of(record))
        self.finish(app, record, wait_s=30)
