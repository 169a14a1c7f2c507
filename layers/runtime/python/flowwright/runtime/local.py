"""Run compiled apps on this machine: moto's Step Functions interpreter executes the ASL and
Lambda invocations reach the same node functions that run in AWS, in this process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowwright.compiler import Resources, compile_app
from flowwright.dsl.models import App
from flowwright.errors import RunError
from flowwright.knowledge.services import local_knowledge_services
from flowwright.nodes.registry import FUNCTION_NAMES
from flowwright.runtime import moto_seam
from flowwright.runtime.blobs import S3BlobStore
from flowwright.runtime.conversations import SqliteConversationStore
from flowwright.runtime.entry import handle_node_event
from flowwright.runtime.events import InMemoryEventSink, NodeEvent
from flowwright.runtime.result import NodeTrace, RunResult
from flowwright.runtime.services import Services
from flowwright.runtime.values import Resolver, json_size, offload_values

__all__ = ["LocalRuntime", "default_data_dir", "local_function_arn"]

REGION = "us-east-1"
ACCOUNT = "123456789012"
PAYLOAD_BUCKET = "flowwright-local-payloads"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/flowwright-local"
#: Inputs larger than this are offloaded before the execution starts.
INPUT_BUDGET = 64 * 1024
_HIDDEN_TYPES = {"iteration-start", "loop-start"}


def default_data_dir() -> Path:
    """``$FLOWWRIGHT_DATA_DIR`` or ``.flowwright`` in the current directory."""
    return Path(os.environ.get("FLOWWRIGHT_DATA_DIR") or ".flowwright")


def local_function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


class _MotoProcess:
    """moto's mock is process-wide: started by the first runtime, stopped by the last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._mock: Any = None

    def acquire(self) -> Any:
        with self._lock:
            if self._users == 0:
                for name, value in (
                    ("AWS_ACCESS_KEY_ID", "testing"),
                    ("AWS_SECRET_ACCESS_KEY", "testing"),
                    ("AWS_DEFAULT_REGION", REGION),
                ):
                    os.environ.setdefault(name, value)
                os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
                for noisy in ("moto", "moto.stepfunctions", "moto.stepfunctions.parser"):
                    logging.getLogger(noisy).setLevel(logging.CRITICAL)
                from moto import mock_aws

                self._mock = mock_aws(
                    config={
                        "stepfunctions": {"execute_state_machine": True},
                        "lambda": {"use_docker": False},
                    }
                )
                self._mock.start()
                moto_seam.install()
            self._users += 1
            return self._mock

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0 and self._mock is not None:
                self._mock.stop()
                self._mock = None


_MOTO = _MotoProcess()


class LocalRuntime:
    """Deploys apps into moto and runs them.

    >>> with LocalRuntime() as rt:  # doctest: +SKIP
    ...     result = rt.run(load_app("examples/hello.yml"), {"name": "Ada"})
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        model_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self._model_factory = model_factory
        self._mock: Any = None
        self._machines: dict[str, str] = {}
        self._lock = threading.Lock()
        self.services: Services | None = None
        self.sfn: Any = None
        self._id = uuid.uuid4().hex[:8]

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start moto (in this process) and route Lambda invocations to the node functions."""
        if self._mock is not None:
            return
        self._mock = _MOTO.acquire()
        import boto3

        s3 = boto3.client("s3", region_name=REGION)
        if PAYLOAD_BUCKET not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=PAYLOAD_BUCKET)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.services = Services(
            blobs=S3BlobStore(PAYLOAD_BUCKET, client=s3, prefix="runs/"),
            events=InMemoryEventSink(),
            conversations=SqliteConversationStore(self.data_dir / "conversations.sqlite"),
            model_factory=self._model_factory,
            knowledge_factory=lambda: local_knowledge_services(self.data_dir),
        )
        for key in FUNCTION_NAMES:
            moto_seam.register(self._function_name(key), self._dispatch)

    def close(self) -> None:
        if self._mock is not None:
            for key in FUNCTION_NAMES:
                moto_seam.unregister(self._function_name(key))
            self._mock = None
            self._machines.clear()
            _MOTO.release()

    def _function_name(self, key: str) -> str:
        """Function names carry this runtime's id, so runtimes in one process stay apart."""
        return f"flowwright-{key.replace('_', '-')}-{self._id}"

    def _dispatch(self, function_name: str, event: dict[str, Any]) -> Any:
        assert self.services is not None
        try:
            return handle_node_event(event, self.services)
        except Exception as exc:
            raise moto_seam.FunctionError(type(exc).__name__, str(exc)) from exc

    # ----------------------------------------------------------------- apps
    def definition(self, app: App) -> dict[str, Any]:
        """The app's ASL with Tasks pointing at the local functions."""
        arns = {key: local_function_arn(self._function_name(key)) for key in FUNCTION_NAMES}
        return compile_app(app, Resources(arns))

    def deploy(self, app: App) -> str:
        """Create (once) the app's state machine; return its ARN."""
        if self._mock is None:
            self.start()
        definition = json.dumps(self.definition(app), sort_keys=True)
        digest = hashlib.sha256(definition.encode()).hexdigest()[:12]
        with self._lock:
            if digest not in self._machines:
                name = (
                    "".join(c if c.isalnum() or c in "-_" else "-" for c in app.name)[:60] or "app"
                )
                created = self.sfn.create_state_machine(
                    name=f"{name}-{digest}", definition=definition, roleArn=ROLE_ARN
                )
                self._machines[digest] = created["stateMachineArn"]
            return self._machines[digest]

    # ----------------------------------------------------------------- runs
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
        machine = self.deploy(app)
        assert self.services is not None
        run_id = uuid.uuid4().hex
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
        stop_listening = None
        if on_event is not None and isinstance(self.services.events, InMemoryEventSink):
            stop_listening = self.services.events.subscribe(
                lambda event: on_event(event) if event.run_id == run_id else None
            )
        started = time.perf_counter()
        try:
            execution = self.sfn.start_execution(
                stateMachineArn=machine,
                name=run_id,
                input=json.dumps({"sys": sys_vars, "inputs": given}),
            )["executionArn"]
            described = self._wait(execution, timeout_s)
        finally:
            if stop_listening is not None:
                stop_listening()
        elapsed = (time.perf_counter() - started) * 1000
        return self._result(app, run_id, described, elapsed, conversation_id if chat else None)

    def _wait(self, execution_arn: str, timeout_s: float) -> dict[str, Any]:
        delay, deadline = 0.001, time.monotonic() + timeout_s
        while True:
            described = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return dict(described)
            if time.monotonic() > deadline:
                self.sfn.stop_execution(
                    executionArn=execution_arn, error="Timeout", cause="run timed out"
                )
                raise RunError(f"run did not finish within {timeout_s:.0f} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.02)

    def _result(
        self,
        app: App,
        run_id: str,
        described: dict[str, Any],
        elapsed_ms: float,
        conversation_id: str | None,
    ) -> RunResult:
        assert self.services is not None
        events = self.services.events.list_run(run_id)
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
        if isinstance(self.services.events, InMemoryEventSink):
            self.services.events.forget(run_id)
        return RunResult(
            run_id=run_id,
            app=app.name,
            status=run_status,
            outputs=outputs,
            error=error,
            failed_node=failed_node,
            exceptions_count=int(summary.get("exceptions_count") or 0),
            elapsed_ms=round(elapsed_ms, 3),
            total_tokens=sum(n.tokens or 0 for n in nodes),
            conversation_id=conversation_id,
            nodes=nodes,
        )


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
