"""The seam between moto's Step Functions interpreter and flowwright's node functions.

moto executes ASL in-process (``execute_state_machine``) and invokes Lambda Tasks through
its Lambda API; with ``use_docker: False`` that API ends in ``LambdaSimpleBackend.invoke``.
We replace that method so invocations reach the node functions in this process, answering
as Lambda does (a payload, or ``X-Amz-Function-Error`` with ``errorType``/``errorMessage``).

Two more patches keep local runs fast without changing what runs: the interpreter's boto
client for Lambda is created once instead of per Task, and a definition is parsed once
instead of per execution. :func:`check_seams` fails loudly if moto moves any of these.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["MOTO_VERSION", "Dispatcher", "check_seams", "install"]

#: The moto release these seams were written against (pinned in pyproject.toml).
MOTO_VERSION = "5.2.5"

Dispatcher = Callable[[str, dict[str, Any]], Any]

_lock = threading.Lock()
_installed = False
_dispatchers: dict[str, Dispatcher] = {}


class FunctionError(Exception):
    """Raised by a dispatcher to answer like a failed Lambda function."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def check_seams() -> None:
    """Raise ``RuntimeError`` naming what moved if moto no longer has our seams."""
    import moto
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.backend import execution_worker

    problems = []
    if moto.__version__ != MOTO_VERSION:
        problems.append(f"moto is {moto.__version__}, the seams were written for {MOTO_VERSION}")
    if not callable(getattr(LambdaSimpleBackend, "invoke", None)):
        problems.append("LambdaSimpleBackend.invoke is gone")
    if not callable(getattr(lambda_eval_utils, "boto_client_for", None)):
        problems.append("lambda_eval_utils.boto_client_for is gone")
    worker = getattr(execution_worker, "ExecutionWorker", None)
    if worker is None or not callable(getattr(worker, "_get_evaluation_entrypoint", None)):
        problems.append("ExecutionWorker._get_evaluation_entrypoint is gone")
    if problems:
        raise RuntimeError("moto seam moved: " + "; ".join(problems))


def register(function_name: str, dispatcher: Dispatcher) -> None:
    """Route invocations of ``function_name`` (name or ARN) to ``dispatcher``."""
    with _lock:
        _dispatchers[function_name] = dispatcher


def unregister(function_name: str) -> None:
    with _lock:
        _dispatchers.pop(function_name, None)


def _function_name(name_or_arn: str) -> str:
    # arn:aws:lambda:region:account:function:NAME[:qualifier]
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6] if len(parts) > 6 else name_or_arn
    return name_or_arn


def _invoke(
    self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
) -> bytes:
    name = _function_name(function_name)
    with _lock:
        dispatcher = _dispatchers.get(name)
    if dispatcher is None:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(
            {"errorType": "ResourceNotFoundException", "errorMessage": f"no local function {name}"}
        ).encode()
    try:
        payload = json.loads(body) if body else {}
        result = dispatcher(name, payload)
    except FunctionError as exc:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": exc.error_type, "errorMessage": exc.message}).encode()
    return json.dumps(result, ensure_ascii=False).encode("utf-8")


def install() -> None:
    """Patch moto (idempotent). Call before executions start."""
    global _installed
    with _lock:
        if _installed:
            return
        check_seams()
        from moto.awslambda_simple.models import LambdaSimpleBackend
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
        from moto.stepfunctions.parser.backend import execution_worker

        setattr(LambdaSimpleBackend, "invoke", _invoke)  # noqa: B010

        original_client = lambda_eval_utils.boto_client_for
        clients: dict[tuple[str, str], Any] = {}
        client_lock = threading.Lock()

        def cached_client(region: str, service: str, state_credentials: Any = None) -> Any:
            with client_lock:
                key = (region, service)
                if key not in clients:
                    clients[key] = original_client(region=region, service=service)
                return clients[key]

        lambda_eval_utils.boto_client_for = cached_client

        parser = execution_worker.AmazonStateLanguageParser
        programs: dict[str, Any] = {}
        parse_lock = threading.Lock()

        def cached_program(worker: Any) -> Any:
            definition = worker._evaluation_details.state_machine_details.definition
            with parse_lock:
                if definition not in programs:
                    programs[definition] = parser.parse(definition)[0]
                return programs[definition]

        setattr(execution_worker.ExecutionWorker, "_get_evaluation_entrypoint", cached_program)  # noqa: B010
        _installed = True
