"""Runs a code node's Python in a separate, resource-limited process.

The child is ``sys.executable -I -S`` (standard library only, a clean environment). It reads
``{"code", "inputs"}`` as JSON on stdin, calls ``main(**inputs)`` and writes its report as
JSON to a dedicated pipe, so ``print()`` cannot corrupt the result. Limits (address space,
CPU seconds, file size, no core files) are set with ``setrlimit`` in the child. Children are
forked from a small fork server started once per process (about 1 ms a call instead of an
interpreter start); when that server is unavailable, a plain subprocess runs the code.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import math
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowwright.errors import NodeExecutionError, NodeInputError, NodeTimeoutError

__all__ = ["FORK_SERVER_ENV", "run_python"]

#: Set this environment variable to ``0`` to always start a plain subprocess.
FORK_SERVER_ENV = "FLOWWRIGHT_CODE_FORK_SERVER"
FSIZE_LIMIT = 8 << 20
MAX_RESULT_BYTES = 64 << 20
KEEP_OUTPUT_BYTES = 8 << 10  # tail of stdout/stderr kept
_CHILD_ENV = {"PATH": os.defpath, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

# The child program: "run RESULT_FD MEMORY_MB CPU_S FSIZE" runs one request in this process;
# "serve CONTROL_FD" is the fork server. Standard library only (it runs under -I -S).
#: The child program, run by path so it is linted and readable like any module.
CHILD_PATH = str(Path(__file__).with_name("_child.py"))


class _Unavailable(Exception):
    """The fork server cannot take the request; run it in a plain subprocess."""


class _Pump:
    """Feeds the child's stdin and collects its output pipes until they close."""

    def __init__(self, stdin: int, payload: bytes, outputs: dict[str, int]) -> None:
        self.sel = selectors.DefaultSelector()
        self.payload = memoryview(payload)
        self.data = {name: bytearray() for name in outputs}
        self.open = set(outputs)
        self.too_large = False
        os.set_blocking(stdin, False)
        self.sel.register(stdin, selectors.EVENT_WRITE, "")
        for name, fd in outputs.items():
            self.sel.register(fd, selectors.EVENT_READ, name)

    def run(self, deadline: float, exited: Callable[[], bool] | None = None) -> bool:
        """Pump until every output is closed, or the result is and ``exited()`` is true;
        ``False`` when the deadline comes first. A too large result is dropped."""
        while self.open:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if exited is not None and "result" not in self.open:
                if exited():
                    return True
                remaining = min(remaining, 0.02)  # something it started holds stdout open
            for key, _ in self.sel.select(remaining):
                if not key.data:
                    try:
                        self.payload = self.payload[os.write(key.fd, self.payload[:65536]) :]
                    except BrokenPipeError:
                        self.payload = self.payload[:0]
                    if not self.payload:
                        self._drop(key.fd)
                    continue
                chunk = os.read(key.fd, 1 << 20)
                buf = self.data[key.data]
                buf += chunk
                if key.data != "result" and len(buf) > 2 * KEEP_OUTPUT_BYTES:
                    del buf[:-KEEP_OUTPUT_BYTES]
                self.too_large |= key.data == "result" and len(buf) > MAX_RESULT_BYTES
                if not chunk or (self.too_large and key.data == "result"):
                    self.open.discard(key.data)
                    self._drop(key.fd)
        return True

    def _drop(self, fd: int) -> None:
        self.sel.unregister(fd)
        os.close(fd)

    def close(self) -> None:
        for key in list(self.sel.get_map().values()):
            self._drop(key.fd)
        self.sel.close()

    def status(self) -> list[str]:
        return self.data["status"].decode().split() if "status" in self.data else []


class _ForkServer:
    """A long-lived ``python -I -S`` that forks one child per request and reaps it."""

    def __init__(self) -> None:
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self.proc = _spawn(["serve", str(theirs.fileno())], theirs.fileno())
        self.owner = os.getpid()
        self.dead = False
        self.lock = threading.Lock()

    def usable(self) -> bool:
        return not self.dead and self.owner == os.getpid() and self.proc.poll() is None

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        data = json.dumps(message).encode()
        try:
            with self.lock:
                if fds:
                    socket.send_fds(self.sock, [data], fds)
                else:
                    self.sock.send(data)
        except OSError as exc:
            self.dead = True
            raise _Unavailable from exc

    def stop(self) -> None:
        self.dead = True
        with self.lock:
            self.sock.close()  # the server kills its children and exits
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_server: _ForkServer | None = None
_server_starts = 0
_server_lock = threading.Lock()
_ids = itertools.count(1)


def _spawn(args: list[str], keep_fd: int, **streams: Any) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-I", "-S", CHILD_PATH, *args]
    streams = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, **streams}
    return subprocess.Popen(
        command,
        stderr=streams.pop("stderr", subprocess.DEVNULL),
        pass_fds=(keep_fd,),
        env=_CHILD_ENV,
        cwd=tempfile.gettempdir(),
        start_new_session=True,
        **streams,
    )


def _fork_server() -> _ForkServer | None:
    """The fork server, started on first use (at most three starts per process)."""
    global _server, _server_starts
    if os.environ.get(FORK_SERVER_ENV, "1") == "0":
        return None
    with _server_lock:
        if _server is not None and _server.usable():
            return _server
        if _server is not None and _server.owner == os.getpid():
            _server.stop()
        _server = None
        if _server_starts < 3:
            _server_starts += 1
            with contextlib.suppress(OSError):
                _server = _ForkServer()
        return _server


@atexit.register
def _stop_fork_server() -> None:
    if _server is not None and _server.owner == os.getpid():
        _server.stop()


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            return kill(pid, signal.SIGKILL)


def _pipes(n: int) -> tuple[list[int], list[int]]:
    pairs = [os.pipe() for _ in range(n)]
    return [r for r, _ in pairs], [w for _, w in pairs]


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


_Outcome = tuple[_Pump, int | None, bool]  # pump, exit code (None: unknown), timed out


def _via_server(
    server: _ForkServer, payload: bytes, limits: list[int], deadline: float
) -> _Outcome:
    """Run one request in a child forked by the server."""
    reads, writes = _pipes(5)  # stdin, stdout, stderr, result, status
    theirs = [reads[0], *writes[1:]]
    request_id = next(_ids)
    try:
        server.send({"op": "run", "id": request_id, "limits": limits}, theirs)
    except _Unavailable:
        _close(*reads, *writes)
        raise
    _close(*theirs)
    names = ("stdout", "stderr", "result", "status")
    pump = _Pump(writes[0], payload, dict(zip(names, reads[1:], strict=True)))
    finished = pump.run(deadline)
    if not finished:
        with contextlib.suppress(_Unavailable):
            server.send({"op": "kill", "id": request_id})
        if not pump.run(time.monotonic() + 2) and pump.status()[:1] == ["pid"]:
            _kill_group(int(pump.status()[1]))
    pump.close()
    status = pump.status()
    if status[:1] != ["pid"]:  # the server never started the child
        server.dead = True
        if finished:
            raise _Unavailable
        return pump, None, True
    if status[2:3] != ["exit"]:
        server.dead = True
        return pump, None, not finished
    return pump, os.waitstatus_to_exitcode(int(status[3])), not finished


def _via_subprocess(payload: bytes, limits: list[int], deadline: float) -> _Outcome:
    """Run one request in a fresh interpreter."""
    reads, writes = _pipes(4)  # stdin, stdout, stderr, result
    args = ["run", str(writes[3]), *map(str, limits)]
    try:
        proc = _spawn(args, writes[3], stdin=reads[0], stdout=writes[1], stderr=writes[2])
    except OSError as exc:
        _close(*reads, *writes)
        raise NodeExecutionError(f"could not start the code process: {exc}") from None
    _close(reads[0], *writes[1:])

    def exited() -> bool:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None

    names = ("stdout", "stderr", "result")
    pump = _Pump(writes[0], payload, dict(zip(names, reads[1:], strict=True)))
    finished = pump.run(deadline, exited)
    delay = 0.0002
    while finished and not exited():
        finished = time.monotonic() < deadline
        time.sleep(delay)
        delay = min(delay * 2, 0.01)
    _kill_group(proc.pid)  # not reaped yet: kills the child and what it left running
    proc.wait()
    pump.close()
    return pump, proc.returncode, not finished


_PR_SET_DUMPABLE = 4
_hidden = False


def _hide_own_environment() -> None:
    """In Lambda, make this process non-dumpable: its /proc files (environ holds the
    function's AWS credentials) become unreadable to the user code it spawns, which runs as
    the same user. Children start from a clean environment either way."""
    global _hidden
    if (
        _hidden
        or not os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        or not sys.platform.startswith("linux")
    ):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")
    _hidden = True


def run_python(
    code: str, inputs: dict[str, Any], *, timeout_s: float = 10.0, memory_mb: int = 256
) -> dict[str, Any]:
    """Run ``main(**inputs)`` from ``code`` in a sandboxed child process; return its dict.

    Raises :class:`NodeTimeoutError` after ``timeout_s`` seconds (wall clock) and
    :class:`NodeExecutionError` when the code fails (naming the line it failed on).
    """
    if timeout_s <= 0 or memory_mb <= 0:
        raise ValueError("timeout_s and memory_mb must be positive")
    _hide_own_environment()
    try:
        payload = json.dumps({"code": code, "inputs": inputs}, allow_nan=False).encode()
    except (TypeError, ValueError):
        bad = next((k for k, v in inputs.items() if not _jsonable(v)), "?")
        raise NodeInputError(f"input {bad!r} is not JSON-serializable") from None
    limits = [memory_mb, math.ceil(timeout_s) + 1, FSIZE_LIMIT]
    deadline = time.monotonic() + timeout_s
    server = _fork_server()
    try:
        if server is None:
            raise _Unavailable
        pump, exit_code, timed_out = _via_server(server, payload, limits, deadline)
    except _Unavailable:
        pump, exit_code, timed_out = _via_subprocess(payload, limits, deadline)
    if pump.too_large:
        raise NodeExecutionError(
            f"the result of main() is larger than {MAX_RESULT_BYTES >> 20} MiB"
        )
    if timed_out:
        raise NodeTimeoutError(f"code ran longer than {timeout_s:g} s")
    return _result(pump, exit_code, limits)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def _result(pump: _Pump, exit_code: int | None, limits: list[int]) -> dict[str, Any]:
    """The dict main() returned, or the error that explains why there is none."""
    memory = f"code exceeded the memory limit of {limits[0]} MiB"
    lines = pump.data["stderr"].decode(errors="replace").strip().splitlines()[-5:]
    stderr = "\nstderr:\n" + "\n".join(lines)[-1000:] if lines else ""
    if pump.data["result"]:
        try:
            report = json.loads(pump.data["result"])
        except ValueError:
            report = {"message": "the code process sent an unreadable result"}
        if "result" in report:
            result: dict[str, Any] = report["result"]
            return result
        message = memory if report.get("error") == "memory" else str(report.get("message"))
        raise NodeExecutionError(message[:4000] + stderr)
    if exit_code == -signal.SIGKILL:
        raise NodeExecutionError(memory + stderr)
    if exit_code == -signal.SIGXCPU:
        raise NodeTimeoutError(f"code used more than {limits[1]} s of CPU time")
    if exit_code is None:
        raise NodeExecutionError("the code process was lost before main() returned" + stderr)
    if exit_code < 0:
        name = signal.Signals(-exit_code).name
        raise NodeExecutionError(f"code crashed with {name} (memory limit {limits[0]} MiB){stderr}")
    raise NodeExecutionError(f"code exited with status {exit_code} before main() returned{stderr}")
