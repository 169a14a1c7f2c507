"""Run compiled apps on this machine: moto's Step Functions interpreter executes the ASL and
Lambda invocations reach the same node functions that run in AWS, in this process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowwright.compiler import Resources, compile_app
from flowwright.dsl.models import App
from flowwright.knowledge.services import local_knowledge_services
from flowwright.nodes.registry import FUNCTION_NAMES
from flowwright.runtime import moto_seam
from flowwright.runtime.blobs import S3BlobStore
from flowwright.runtime.conversations import SqliteConversationStore
from flowwright.runtime.entry import handle_node_event
from flowwright.runtime.events import InMemoryEventSink, NodeEvent
from flowwright.runtime.result import RunResult
from flowwright.runtime.runner import StepFunctionsRunner
from flowwright.runtime.services import Services

__all__ = ["LocalRuntime", "default_data_dir", "local_function_arn"]

REGION = "us-east-1"
ACCOUNT = "123456789012"
PAYLOAD_BUCKET = "flowwright-local-payloads"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/flowwright-local"


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
        self._runner: StepFunctionsRunner | None = None
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
            self._runner = None
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
    @property
    def runner(self) -> StepFunctionsRunner:
        """Starts, follows and stops runs of deployed apps (the API uses it directly)."""
        if self._runner is None:
            if self._mock is None:
                self.start()
            assert self.services is not None
            self._runner = StepFunctionsRunner(self.sfn, self.services, self.deploy)
        return self._runner

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
        return self.runner.run(
            app,
            inputs,
            query=query,
            conversation_id=conversation_id,
            user=user,
            files=files,
            timeout_s=timeout_s,
            on_event=on_event,
        )
