"""The program the code sandbox runs in a fresh interpreter (``python -I -S _child.py``).

Standard library only: it runs without site-packages. ``serve FD`` makes it the fork
server; ``run FD MEMORY_MB CPU_S FSIZE`` runs one request (JSON on stdin) under limits.
"""

import contextlib
import fcntl
import gc
import json
import os
import resource
import selectors
import signal
import socket
import sys


def limit(memory_mb, cpu_s, fsize):
    for res, soft, hard in (
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_FSIZE, fsize, fsize),
        (resource.RLIMIT_CPU, cpu_s, cpu_s + 1),
        (resource.RLIMIT_AS, memory_mb << 20, memory_mb << 20),
    ):
        cap = resource.getrlimit(res)[1]
        if cap != resource.RLIM_INFINITY:
            soft, hard = min(soft, cap), min(hard, cap)
        resource.setrlimit(res, (soft, hard))


def at(line, lines):
    if not line:
        return ""
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return f" (line {line}: {text})" if text else f" (line {line})"


def execute():
    chunks = []
    while chunk := os.read(0, 1 << 20):
        chunks.append(chunk)
    request = json.loads(b"".join(chunks))
    code, inputs = request["code"], request["inputs"]
    lines = code.splitlines()
    try:
        compiled = compile(code, "<code>", "exec")
    except (SyntaxError, ValueError) as exc:  # ValueError: NUL characters in the source
        text = exc.msg if isinstance(exc, SyntaxError) else exc
        message = f"{type(exc).__name__}: {text}" + at(getattr(exc, "lineno", None), lines)
        return {"error": "syntax", "message": message}
    try:
        namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        exec(compiled, namespace)
        main = namespace.get("main")
        if not callable(main):
            return {"error": "code", "message": "the code does not define a function main()"}
        result = main(**inputs)
    except MemoryError:
        return {"error": "memory"}
    except BaseException as exc:
        line, tb = None, exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == "<code>":
                line = tb.tb_lineno
            tb = tb.tb_next
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return {"error": "code", "message": text + at(line, lines)}
    if not isinstance(result, dict):
        message = f"main() must return a dict, got {type(result).__name__}"
        return {"error": "code", "message": message}
    return {"result": result}


def finish(fd, report):
    try:
        data = json.dumps(report, allow_nan=False).encode()
    except MemoryError:
        data = b'{"error": "memory"}'
    except (TypeError, ValueError, RecursionError) as error:
        for key, value in report["result"].items():
            try:
                json.dumps({key: value}, allow_nan=False)
            except (TypeError, ValueError, RecursionError) as exc:
                message = f"output {key!r} of main() is not JSON-serializable: {exc}"
                break
        else:
            message = f"the result of main() is not JSON-serializable: {error}"
        data = json.dumps({"error": "code", "message": message}).encode()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os._exit(0)


def child(fds, limits):
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in fds[:4]]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(4, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    limit(*limits)
    finish(3, execute())


def kill(pid):
    for fn in (os.killpg, os.kill):
        try:
            return fn(pid, signal.SIGKILL)
        except OSError:
            pass


def tell(fd, text):
    with contextlib.suppress(OSError):
        os.write(fd, text.encode())


def serve(control):
    exec(compile("def main(a):\n    return {'a': [a]}\n", "<warm-up>", "exec"), {})
    json.loads(json.dumps({"a": [1.5, "b", None]}))
    gc.freeze()  # children share the warmed-up heap instead of copying it
    sock = socket.socket(fileno=control)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    running: dict[int, tuple[str, int]] = {}
    pids: dict[str, int] = {}
    while True:
        for key, _ in sel.select():
            if key.fd == wake_r:
                os.read(wake_r, 4096)
                continue
            message, fds, _, _ = socket.recv_fds(sock, 65536, 8)
            if not message:
                for running_pid in running:
                    kill(running_pid)
                os._exit(0)
            request = json.loads(message)
            if request["op"] == "kill":
                if request["id"] in pids:
                    kill(pids[request["id"]])
                continue
            try:
                pid: int | None = os.fork()
            except OSError:
                pid = None
            if pid == 0:
                try:
                    child(fds, request["limits"])
                finally:
                    os._exit(70)
            for fd in fds[:4]:
                os.close(fd)
            if pid is None:
                os.close(fds[4])
                continue
            tell(fds[4], f"pid {pid}\n")
            running[pid], pids[request["id"]] = (request["id"], fds[4]), pid
        while running:  # reap: kill what a finished child left in its group, then report
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            if info is None:
                break
            kill(info.si_pid)
            _, status = os.waitpid(info.si_pid, 0)
            request_id, fd = running.pop(info.si_pid)
            pids.pop(request_id, None)
            tell(fd, f"exit {status}\n")
            os.close(fd)


if sys.argv[1] == "serve":
    serve(int(sys.argv[2]))
else:
    limit(*map(int, sys.argv[3:6]))
    finish(int(sys.argv[2]), execute())
