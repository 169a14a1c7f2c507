"""Extraction in a child process under a memory cap and a wall-clock timeout.

The child is forked (spawned where fork is unavailable), limits its own address space
with ``RLIMIT_AS``, runs :func:`extract` and sends one JSON reply through a pipe. The
parent waits at most ``max_seconds`` and kills the child after that. Whatever the child
does (hang, crash, run out of memory) the caller gets a document or an ExtractionError.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from flowwright.knowledge.models import ExtractedDocument

from .detect import detect_type, display_name
from .dispatch import check_size, extract
from .errors import ErrorCode, ExtractionError
from .limits import MIB, ExtractLimits

if TYPE_CHECKING:
    from multiprocessing.context import ForkContext, SpawnContext

__all__ = ["extract_isolated"]

_JOIN_SECONDS = 5.0


class _Failure(BaseModel):
    code: ErrorCode
    reason: str


class _Reply(BaseModel):
    """What the child sends back: exactly one of the two."""

    document: ExtractedDocument | None = None
    error: _Failure | None = None


def extract_isolated(
    data: bytes,
    *,
    filename: str,
    content_type: str | None = None,
    limits: ExtractLimits | None = None,
) -> ExtractedDocument:
    """Like :func:`extract`, in a child process limited to ``max_memory_mb`` more address
    space and ``max_seconds`` of wall-clock time. Raises :class:`ExtractionError`
    (``timeout``, ``memory``, ``crashed`` or any code :func:`extract` raises)."""
    limits = limits or ExtractLimits()
    check_size(data, filename, limits)  # no child for what needs no parsing
    detect_type(filename, data, content_type)
    name = display_name(filename)
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(sender, data, filename, content_type, limits.model_dump()),
        name=f"extract {name}",
        daemon=True,
    )
    try:
        child.start()
        sender.close()  # the child holds the only writer: EOF once it dies
        payload = _receive(receiver, child, limits, name)
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(_JOIN_SECONDS)
    try:
        reply = _Reply.model_validate_json(payload)
    except ValidationError as exc:
        raise ExtractionError("crashed", f"{name}: the extractor sent a bad reply") from exc
    if reply.document is not None:
        return reply.document
    if reply.error is not None:
        raise ExtractionError(reply.error.code, reply.error.reason)
    raise ExtractionError("crashed", f"{name}: the extractor sent an empty reply")


def _context() -> ForkContext | SpawnContext:
    """Fork where available (fast, nothing to pickle), else spawn."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _receive(
    receiver: Connection,
    child: multiprocessing.process.BaseProcess,
    limits: ExtractLimits,
    name: str,
) -> bytes:
    if not receiver.poll(limits.max_seconds):
        child.kill()
        raise ExtractionError(
            "timeout", f"{name}: extraction took longer than {limits.max_seconds:g} s"
        )
    try:
        return receiver.recv_bytes()
    except (EOFError, OSError):
        child.join(_JOIN_SECONDS)
        raise _death(child.exitcode, name, limits) from None


def _death(exitcode: int | None, name: str, limits: ExtractLimits) -> ExtractionError:
    """The error for a child that exited without replying."""
    if exitcode == -signal.SIGKILL:  # not us: we kill only after the timeout
        return ExtractionError(
            "memory",
            f"{name}: the extractor was killed, most likely for using too much memory "
            f"(limit {limits.max_memory_mb} MiB)",
        )
    if exitcode is not None and exitcode < 0:
        try:
            what = signal.Signals(-exitcode).name
        except ValueError:
            what = f"signal {-exitcode}"
        return ExtractionError("crashed", f"{name}: the extractor crashed ({what})")
    return ExtractionError("crashed", f"{name}: the extractor exited with status {exitcode}")


def _child(
    sender: Connection,
    data: bytes,
    filename: str,
    content_type: str | None,
    limits_dump: dict[str, Any],
) -> None:
    """Child process body: limit memory, extract, send one JSON reply."""
    limits = ExtractLimits.model_validate(limits_dump)
    name = display_name(filename)
    reply: dict[str, Any]
    try:
        _limit_memory(limits.max_memory_mb)
        document = extract(data, filename=filename, content_type=content_type, limits=limits)
        reply = {"document": document.model_dump(mode="json")}
        del document
        payload = json.dumps(reply, ensure_ascii=False).encode()
    except ExtractionError as exc:
        payload = _error(exc.code, exc.reason)
    except MemoryError:
        payload = _error(
            "memory", f"{name}: extraction needed more than {limits.max_memory_mb} MiB"
        )
    except BaseException as exc:
        payload = _error("crashed", f"{name}: the extractor failed ({type(exc).__name__})")
    try:
        sender.send_bytes(payload)
    except MemoryError:
        sender.send_bytes(_error("memory", f"{name}: the extracted text is too large to send"))
    finally:
        sender.close()


def _error(code: ErrorCode, reason: str) -> bytes:
    return json.dumps({"error": {"code": code, "reason": reason}}).encode()


def _limit_memory(max_mb: int) -> None:
    """Cap the address space at what the process uses now plus ``max_mb``."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    limit = _address_space() + max_mb * MIB
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _address_space() -> int:
    """Bytes of address space this process has mapped (0 where unknown)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
