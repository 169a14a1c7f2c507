"""Dify's streaming events (Server-Sent Events) built from the node events of one run.

:class:`StreamTranslator` turns the :class:`~flowwright.runtime.events.NodeEvent` stream of a
run into what Dify's Service API streams for it (``POST /workflows/run`` for workflow apps,
``POST /chat-messages`` for chatflows), field by field as Dify's OpenAPI document describes
the events. It is pure: no clock, no I/O.

The answer streams with Dify's semantics (chatflows: ``message`` events; workflows:
``text_chunk`` events for End outputs that are an LLM node's ``text``):

* Answer nodes (End nodes in workflows) stream one at a time, in the order they become
  *certain to run*: once a node has started from which the answer is reached along
  unconditional edges only (no if-else, no fail-branch on the way), or the answer node
  itself has started. Answers that turn certain together stream in graph order. So an
  answer in a branch that is not taken never streams anything.
* An answer's template streams left to right: static text at once, an LLM node's ``text``
  chunk by chunk (chunks that arrive before their turn are buffered and released in
  order), any other value when its node finishes (Dify's markdown form). A referenced
  node that fails, or has not started when the answer node starts (it was skipped),
  renders as nothing. A value this module cannot read (``conversation`` variables, an
  offloaded value without ``resolve``) stops the answer's streaming until it finishes.
* The finished Answer node's ``answer`` output is the authority: what is still missing is
  sent; if what was sent differs from it (a retried LLM, a value rendered otherwise), one
  ``message_replace`` carries the corrected message. At the end of a chat run the run's
  ``answer`` output is checked the same way.

Answer nodes inside iterations and loops do not stream; the end-of-run check sends their
text.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flowwright.compiler.plan import plan_app
from flowwright.dsl.models import App, Edge, Node
from flowwright.nodes.answer.config import AnswerConfig
from flowwright.nodes.base import SOURCE
from flowwright.nodes.end.config import EndConfig
from flowwright.runtime.events import NodeEvent
from flowwright.runtime.result import RunResult
from flowwright.runtime.values import is_ref
from flowwright.variables import Selector, TemplateSegment, parse_template, to_markdown

__all__ = ["AnswerStream", "Piece", "StreamTranslator", "error_event", "ping", "sse"]

Event = dict[str, Any]
Resolve = Callable[[Any], Any]

CONTAINER_TYPES = frozenset({"iteration", "loop"})
#: Internal nodes whose events Dify clients never see.
HIDDEN_TYPES = frozenset({"iteration-start", "loop-start"})
#: ``reason`` of the ``message_replace`` that corrects a streamed answer.
REPLACE_REASON = "answer_corrected"
_STATUS = {"succeeded": "succeeded", "failed": "failed", "exception": "exception"}
_UNREADABLE = object()


def sse(event: Event) -> bytes:
    """One Server-Sent Event: ``data: {json}\\n\\n``; a ping is ``event: ping`` (as Dify sends it)."""
    if event == {"event": "ping"}:
        return b"event: ping\n\n"
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"data: {body}\n\n".encode()


def ping() -> Event:
    """The keep-alive event (Dify sends one every 10 seconds)."""
    return {"event": "ping"}


def error_event(status: int, code: str, message: str, **envelope: Any) -> Event:
    """Dify's in-stream ``error`` (``envelope``: e.g. ``conversation_id``, ``workflow_run_id``)."""
    return {"event": "error", **envelope, "status": status, "code": code, "message": message}


# ----------------------------------------------------------------------------- answer text


@dataclass(frozen=True)
class Piece:
    """A piece of answer text to send, or (``replace``) the whole corrected message."""

    text: str
    selector: list[str] | None = None
    replace: bool = False


@dataclass
class _Source:
    """A top-level node an answer reads: its text chunks (current attempt) and its outcome."""

    started: bool = False
    done: bool = False
    ok: bool = False
    attempt: int = 0
    chunks: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Response:
    """An Answer (or End) node whose text streams, and how far it got."""

    node_id: str
    rank: int
    segments: list[TemplateSegment]
    active: bool = False
    started: bool = False
    finished: bool = False
    ok: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)
    pos: int = 0
    offset: int = 0
    stuck: bool = False
    sent: str = ""


def _unconditional(app: App, edge: Edge) -> bool:
    """Whether ``edge`` is always taken once its source runs."""
    config = app.nodes[edge.source].config
    return (
        edge.source_handle == SOURCE
        and config.branch_handles() is None
        and config.error_strategy != "fail-branch"
    )


def _activators(
    app: App, incoming: Mapping[str, list[Edge]], targets: list[str]
) -> dict[str, list[str]]:
    """For each node, the targets certain to run once it starts."""
    found: dict[str, list[str]] = defaultdict(list)
    for target in targets:
        seen, stack = {target}, [target]
        while stack:
            for edge in incoming.get(stack.pop(), []):
                if edge.source not in seen and _unconditional(app, edge):
                    seen.add(edge.source)
                    stack.append(edge.source)
        for node_id in seen:
            found[node_id].append(target)
    return dict(found)


class AnswerStream:
    """Orders the text of a run's Answer nodes (End nodes in workflows) as Dify streams it.

    Feed it the events of top-level nodes; each call returns the pieces to send now.
    """

    def __init__(
        self,
        app: App,
        *,
        scopes: Mapping[str, Mapping[str, Any]] | None = None,
        resolve: Resolve | None = None,
    ) -> None:
        self._app = app
        self._chat = app.mode == "advanced-chat"
        self._scopes = dict(scopes or {})
        self._resolve: Resolve = resolve or (lambda value: value)
        region = plan_app(app).regions[None]
        self._responses: dict[str, _Response] = {}
        for rank, node_id in enumerate(region.order):
            segments = self._segments(app.nodes[node_id])
            if segments is not None:
                self._responses[node_id] = _Response(node_id, rank, segments)
        self._sources: dict[str, _Source] = {
            seg.selector[0]: _Source()
            for r in self._responses.values()
            for seg in r.segments
            if seg.selector and self._top_level(seg.selector[0])
        }
        self._activates = _activators(app, region.incoming, list(self._responses))
        self._queue: list[_Response] = []
        #: All the text sent so far: the message as the client shows it.
        self.text = ""

    # ------------------------------------------------------------------ setup
    def _top_level(self, node_id: str) -> bool:
        node = self._app.nodes.get(node_id)
        return node is not None and node.parent_id is None

    def streams(self, selector: Selector) -> bool:
        """Whether ``selector`` is an LLM node's ``text`` (which streams chunk by chunk)."""
        node = self._app.nodes.get(selector[0])
        return (
            len(selector) == 2 and selector[1] == "text" and node is not None and node.type == "llm"
        )

    def _segments(self, node: Node) -> list[TemplateSegment] | None:
        """The text parts of a response node: an answer's template, an End's LLM outputs."""
        if self._chat and isinstance(node.config, AnswerConfig):
            return parse_template(node.config.answer)
        if not self._chat and isinstance(node.config, EndConfig):
            refs = [tuple(o.value_selector) for o in node.config.outputs]
            segments = [TemplateSegment(selector=s) for s in refs if s and self.streams(s)]
            return segments or None
        return None

    # ------------------------------------------------------------------ events
    def on_started(self, node_id: str, attempt: int = 0) -> list[Piece]:
        """A top-level node started (``attempt`` > 0: a retry)."""
        source = self._sources.get(node_id)
        if source is not None and self._current(node_id, source, attempt):
            source.started = True
        response = self._responses.get(node_id)
        if response is not None:
            response.started = True
        for target in self._activates.get(node_id, []):
            self._activate(self._responses[target])
        return self._pump()

    def on_chunk(self, node_id: str, attempt: int, text: str) -> list[Piece]:
        """A piece of a top-level node's generated text."""
        source = self._sources.get(node_id)
        if source is None or source.done or not self._current(node_id, source, attempt):
            return []
        source.chunks.append(text)
        return self._pump()

    def on_finished(self, node_id: str, status: str, outputs: dict[str, Any] | None) -> list[Piece]:
        """A top-level node finished (``status`` ``retry``: its attempt failed, another follows)."""
        source = self._sources.get(node_id)
        if source is not None and status == "retry":
            source.chunks.clear()
            self._rewind(node_id)
        elif source is not None:
            source.done, source.ok, source.outputs = True, status == "succeeded", outputs or {}
        response = self._responses.get(node_id)
        if response is not None and status != "retry":
            response.finished, response.ok = True, status == "succeeded"
            response.outputs = outputs or {}
            self._activate(response)
        return self._pump()

    def finish(self, answer: Any = None) -> list[Piece]:
        """The run ended: send what finished answers still owe, then check the run's ``answer``."""
        pieces: list[Piece] = []
        for response in self._queue:
            if response.finished:
                pieces += self._advance(response) + self._settle(response)
        self._queue.clear()
        answer = self._resolve(answer)
        if self._chat and isinstance(answer, str):
            pieces += self._correct(answer, self.text, None)
        return pieces

    # ------------------------------------------------------------------ ordering
    def _current(self, node_id: str, source: _Source, attempt: int) -> bool:
        """Whether an event of ``attempt`` is current (a newer attempt drops older chunks)."""
        if attempt < source.attempt:
            return False
        if attempt > source.attempt:
            source.attempt = attempt
            source.chunks.clear()
            self._rewind(node_id)
        return True

    def _rewind(self, node_id: str) -> None:
        """Responses reading ``node_id`` now read its chunks from the start again."""
        for response in self._queue:
            if response.pos < len(response.segments):
                selector = response.segments[response.pos].selector
                if selector and selector[0] == node_id:
                    response.offset = 0

    def _activate(self, response: _Response) -> None:
        """Queue ``response``: after the one streaming, in graph order among the waiting."""
        if response.active:
            return
        response.active = True
        fixed = 1 if self._queue and self._queue[0].sent else 0
        waiting = sorted([*self._queue[fixed:], response], key=lambda r: r.rank)
        self._queue[fixed:] = waiting

    def _pump(self) -> list[Piece]:
        """Stream the head response as far as it goes; move on when it has finished."""
        pieces: list[Piece] = []
        while self._queue:
            head = self._queue[0]
            pieces += self._advance(head)
            if not head.finished:
                break
            pieces += self._settle(head)
            self._queue.pop(0)
        return pieces

    # ------------------------------------------------------------------ text
    def _advance(self, response: _Response) -> list[Piece]:
        pieces: list[Piece] = []
        while response.pos < len(response.segments) and not response.stuck:
            segment = response.segments[response.pos]
            texts, done = self._take(response, segment)
            origin = list(segment.selector) if segment.selector else [response.node_id, "answer"]
            pieces += [self._send(response, text, origin) for text in texts if text]
            if not done:
                break
            response.pos += 1
            response.offset = 0
        return pieces

    def _take(self, response: _Response, segment: TemplateSegment) -> tuple[list[str], bool]:
        """Texts of ``segment`` ready now, and whether the segment is complete."""
        selector = segment.selector
        if selector is None:
            return [segment.text], True
        if selector[0] in self._scopes:
            return self._render(response, self._lookup(self._scopes[selector[0]], selector[1:]))
        source = self._sources.get(selector[0])
        if source is None:
            response.stuck = True
            return [], False
        if self.streams(selector):
            return self._take_stream(response, source)
        if not source.done:
            return [], response.started and not source.started
        if not source.ok:
            return [], True
        return self._render(response, self._lookup(source.outputs, selector[1:]))

    def _take_stream(self, response: _Response, source: _Source) -> tuple[list[str], bool]:
        """New chunks of an LLM's text; at its end, whatever its ``text`` output adds."""
        texts = source.chunks[response.offset :]
        response.offset = len(source.chunks)
        if not source.done:
            return texts, response.started and not source.started
        if source.ok:
            full = self._lookup(source.outputs, ("text",))
            streamed = "".join(source.chunks)
            if isinstance(full, str) and full.startswith(streamed):
                texts = [*texts, full[len(streamed) :]]
        return texts, True

    def _render(self, response: _Response, value: Any) -> tuple[list[str], bool]:
        if value is _UNREADABLE:
            response.stuck = True
            return [], False
        return [to_markdown(value)], True

    def _lookup(self, scope: Mapping[str, Any], path: Selector) -> Any:
        """The value at ``path`` (``None`` when missing, ``_UNREADABLE`` when offloaded)."""
        value: Any = scope
        for key in path:
            value = self._resolve(value)
            if is_ref(value):
                return _UNREADABLE
            if not isinstance(value, Mapping) or key not in value:
                return None
            value = value[key]
        value = self._resolve(value)
        return _UNREADABLE if is_ref(value) else value

    def _settle(self, response: _Response) -> list[Piece]:
        """A finished answer: its ``answer`` output decides what the client must still get."""
        if not (self._chat and response.ok):
            return []
        answer = self._resolve(response.outputs.get("answer"))
        if not isinstance(answer, str):
            return []
        return self._correct(answer, response.sent, [response.node_id, "answer"])

    def _correct(self, expected: str, shown: str, selector: list[str] | None) -> list[Piece]:
        """Make ``shown`` (the end of the message) read ``expected``: add the rest, or replace."""
        if expected.startswith(shown):
            rest = expected[len(shown) :]
            self.text += rest
            return [Piece(rest, selector)] if rest else []
        self.text = self.text[: len(self.text) - len(shown)] + expected
        return [Piece(self.text, None, replace=True)]

    def _send(self, response: _Response, text: str, selector: list[str]) -> Piece:
        response.sent += text
        self.text += text
        return Piece(text, selector)


# ----------------------------------------------------------------------------- node events


@dataclass
class _Execution:
    """One execution of a node (one node at one position; retries are the same execution)."""

    id: str
    index: int
    started: float
    predecessor: str | None
    rounds: set[int] = field(default_factory=set)
    tokens: int = 0


def _price(value: Any) -> str:
    """A price in Dify's decimal-string form."""
    return format(Decimal(str(value or 0)).quantize(Decimal("0.0000001")), "f")


class StreamTranslator:
    """Dify's streaming events for one run of ``app``.

    Call :meth:`started` first, :meth:`on_event` with every node event in order, and
    :meth:`finished` with the run's result; each returns the events to send (encode them
    with :func:`sse`). ``system`` holds the run's ``sys`` variables (``query``, ...) so
    answers can stream them; ``resolve`` reads offloaded values (optional).
    """

    def __init__(
        self,
        app: App,
        task_id: str,
        run_id: str,
        conversation_id: str | None,
        message_id: str | None,
        inputs: Mapping[str, Any],
        created_at: int,
        *,
        workflow_id: str | None = None,
        system: Mapping[str, Any] | None = None,
        resolve: Resolve | None = None,
    ) -> None:
        self.app = app
        self.chat = app.mode == "advanced-chat"
        if self.chat and not (conversation_id and message_id):
            raise ValueError("a chat stream needs a conversation_id and a message_id")
        self.task_id, self.run_id, self.created_at = task_id, run_id, int(created_at)
        self.conversation_id, self.message_id = conversation_id, message_id
        self.inputs = dict(inputs)
        self.workflow_id = workflow_id or str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"flowwright:{app.name}")
        )
        self.answers = AnswerStream(app, scopes=self._scopes(system), resolve=resolve)
        self._incoming: dict[str, list[str]] = defaultdict(list)
        for edge in app.edges:
            self._incoming[edge.target].append(edge.source)
        self._executions: dict[tuple[str, tuple[Any, ...]], _Execution] = {}
        self._done: dict[tuple[str, tuple[Any, ...]], int] = {}
        self._usage: dict[str, float] = defaultdict(float)
        self._last_ts = float(created_at)

    def _scopes(self, system: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
        env = {
            v.name: _UNREADABLE if v.value_type == "secret" else v.value
            for v in self.app.environment_variables
        }
        scopes: dict[str, Mapping[str, Any]] = {"env": env}
        if system is not None:
            scopes["sys"] = dict(system)
        return scopes

    # ------------------------------------------------------------------ public
    def started(self) -> list[Event]:
        """``workflow_started`` (chatflows send it too)."""
        data = {
            "id": self.run_id,
            "workflow_id": self.workflow_id,
            "inputs": self.inputs,
            "created_at": self.created_at,
            "reason": "initial",
        }
        return [self._workflow_event("workflow_started", data)]

    def on_event(self, e: NodeEvent) -> list[Event]:
        """The events one node event turns into (text first, then the node's own event)."""
        self._last_ts = max(self._last_ts, e.ts)
        node = self.app.nodes.get(e.node_id)
        top = not e.position and (node is None or node.parent_id is None)
        if e.event == "text_chunk":
            if not (top and e.text):
                return []
            return self._texts(self.answers.on_chunk(e.node_id, e.attempt, e.text))
        if e.event == "node_started":
            return self._on_started(e, node, top)
        return self._on_finished(e, node, top)

    def finished(self, result: RunResult) -> list[Event]:
        """The closing events: chat ``message_end`` then ``workflow_finished`` (failed:
        ``workflow_finished`` then ``error``); workflow ``workflow_finished``."""
        failed = result.status == "failed"
        answer = result.outputs.get("answer") if self.chat and not failed else None
        events = self._texts(self.answers.finish(answer))
        run = self._workflow_event("workflow_finished", self._run_data(result))
        if not self.chat:
            return [*events, run]
        if failed:
            return [*events, run, self.error(400, "invalid_param", f"Run failed: {result.error}")]
        return [*events, self._message_end(result), run]

    def error(self, status: int, code: str, message: str) -> Event:
        """An ``error`` event of this stream (Dify's carries no ``task_id``)."""
        return error_event(status, code, message, **self._envelope(task=False, run=not self.chat))

    def ping(self) -> Event:
        return ping()

    # ------------------------------------------------------------------ envelopes
    def _envelope(self, *, task: bool = True, run: bool = True) -> dict[str, Any]:
        """Top-level fields: chat ``conversation_id``, ``message_id``, ``created_at``; then
        ``task_id`` and ``workflow_run_id`` where Dify sends them."""
        envelope: dict[str, Any] = {}
        if self.chat:
            envelope["conversation_id"] = self.conversation_id
            envelope["message_id"] = self.message_id
            envelope["created_at"] = self.created_at
        elif run:
            envelope["workflow_run_id"] = self.run_id
        if task:
            envelope["task_id"] = self.task_id
        if run and self.chat:
            envelope["workflow_run_id"] = self.run_id
        return envelope

    def _workflow_event(self, name: str, data: dict[str, Any]) -> Event:
        return {"event": name, **self._envelope(), "data": data}

    def _texts(self, pieces: list[Piece]) -> list[Event]:
        return [self._text_event(p) for p in pieces]

    def _text_event(self, piece: Piece) -> Event:
        if not self.chat:
            data = {"text": piece.text, "from_variable_selector": piece.selector}
            return self._workflow_event("text_chunk", data)
        if piece.replace:
            envelope = self._envelope(run=False)
            return {
                "event": "message_replace",
                **envelope,
                "answer": piece.text,
                "reason": REPLACE_REASON,
            }
        return {
            "event": "message",
            **self._envelope(run=False),
            "id": self.message_id,
            "answer": piece.text,
            "from_variable_selector": piece.selector,
        }

    # ------------------------------------------------------------------ node events
    def _on_started(self, e: NodeEvent, node: Node | None, top: bool) -> list[Event]:
        events = self._next_round(e, node)
        if top:
            events += self._texts(self.answers.on_started(e.node_id, e.attempt))
        key = (e.node_id, tuple(e.position))
        if e.node_type in HIDDEN_TYPES or key in self._executions:
            return events  # a retry's new attempt: Dify keeps one execution, one node_started
        execution = self._open(e.node_id, e.position, e.ts)
        return [*events, self._start_event(execution, e.node_id, e.node_type, e.title)]

    def _on_finished(self, e: NodeEvent, node: Node | None, top: bool) -> list[Event]:
        key = (e.node_id, tuple(e.position))
        if e.node_type in HIDDEN_TYPES:
            self._done[key] = len(self._done)
            return []
        events: list[Event] = []
        execution = self._executions.get(key)
        if execution is None:  # its node_started was lost: send one first
            execution = self._open(e.node_id, e.position, e.ts - (e.elapsed_ms or 0) / 1000)
            events.append(self._start_event(execution, e.node_id, e.node_type, e.title))
        if top:
            events += self._texts(self.answers.on_finished(e.node_id, e.status, e.outputs))
        self._count_tokens(e)
        if e.status == "retry":
            if e.node_type not in CONTAINER_TYPES:
                events.append(self._node_event("node_retry", execution, e, node))
            return events
        self._done[key] = len(self._done)
        if e.node_type in CONTAINER_TYPES:
            return [*events, self._completed_event(execution, e)]
        return [*events, self._node_event("node_finished", execution, e, node)]

    def _open(self, node_id: str, position: list[Any], ts: float) -> _Execution:
        """Start one execution: a stable id and the next index."""
        key = (node_id, tuple(position))
        name = f"flowwright:{self.run_id}:{node_id}:{json.dumps(position, default=str)}"
        execution = _Execution(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
            index=len(self._executions) + 1,
            started=ts,
            predecessor=self._predecessor(node_id, key[1]),
        )
        self._executions[key] = execution
        return execution

    def _predecessor(self, node_id: str, position: tuple[Any, ...]) -> str | None:
        """The source of an incoming edge that finished last."""
        sources = self._incoming.get(node_id, [])
        finished = [(self._done[(s, position)], s) for s in sources if (s, position) in self._done]
        return max(finished)[1] if finished else None

    def _container(self, node: Node | None) -> tuple[str, str] | None:
        """``(kind, id)`` of the iteration or loop directly holding ``node``."""
        parent = self.app.nodes.get(node.parent_id) if node and node.parent_id else None
        if parent is None or parent.type not in CONTAINER_TYPES:
            return None
        return parent.type, parent.id

    def _start_event(self, x: _Execution, node_id: str, node_type: str, title: str) -> Event:
        node = self.app.nodes.get(node_id)
        title = title or (node.title if node else "")
        base = {"id": x.id, "node_id": node_id, "node_type": node_type, "title": title}
        if node_type in CONTAINER_TYPES:
            data = {
                **base,
                "created_at": int(x.started),
                "extras": {},
                "metadata": {},
                "inputs": {},
            }
            return self._workflow_event(f"{node_type}_started", data)
        container = self._container(node)
        data = {
            **base,
            "index": x.index,
            "predecessor_node_id": x.predecessor,
            "inputs": None,
            "created_at": int(x.started),
            "extras": {},
            "iteration_id": container[1] if container and container[0] == "iteration" else None,
            "loop_id": container[1] if container and container[0] == "loop" else None,
        }
        return self._workflow_event("node_started", data)

    def _node_event(self, name: str, x: _Execution, e: NodeEvent, node: Node | None) -> Event:
        """``node_finished`` or ``node_retry``."""
        container = self._container(node)
        data: dict[str, Any] = {
            "id": x.id,
            "node_id": e.node_id,
            "node_type": e.node_type,
            "title": e.title or (node.title if node else ""),
            "index": x.index,
            "predecessor_node_id": x.predecessor,
            "inputs": None,
            "process_data": None,
            "outputs": e.outputs,
            "status": "retry" if e.status == "retry" else _STATUS.get(e.status, "failed"),
            "error": e.error,
            "elapsed_time": self._elapsed(x, e),
            "execution_metadata": self._metadata(e, container),
            "created_at": int(x.started),
            "finished_at": int(e.ts),
            "files": [],
            "iteration_id": container[1] if container and container[0] == "iteration" else None,
            "loop_id": container[1] if container and container[0] == "loop" else None,
        }
        if name == "node_retry":
            data["retry_index"] = e.attempt
        return self._workflow_event(name, data)

    def _completed_event(self, x: _Execution, e: NodeEvent) -> Event:
        """``iteration_completed`` or ``loop_completed``."""
        node = self.app.nodes.get(e.node_id)
        data = {
            "id": x.id,
            "node_id": e.node_id,
            "node_type": e.node_type,
            "title": e.title or (node.title if node else ""),
            "outputs": e.outputs,
            "created_at": int(x.started),
            "extras": {},
            "inputs": {},
            "status": _STATUS.get(e.status, "failed"),
            "error": e.error,
            "elapsed_time": self._elapsed(x, e),
            "total_tokens": x.tokens,
            "execution_metadata": {"total_tokens": x.tokens},
            "finished_at": int(e.ts),
            "steps": len(x.rounds),
        }
        return self._workflow_event(f"{e.node_type}_completed", data)

    def _next_round(self, e: NodeEvent, node: Node | None) -> list[Event]:
        """``iteration_next``/``loop_next`` when a node inside a container starts a new index."""
        container = self._container(node)
        if container is None or not e.position:
            return []
        kind, container_id = container
        events: list[Event] = []
        key = (container_id, tuple(e.position[:-1]))
        execution = self._executions.get(key)
        if execution is None:  # the container's node_started was lost: send one first
            execution = self._open(container_id, e.position[:-1], e.ts)
            events.append(self._start_event(execution, container_id, kind, ""))
        index = int(e.position[-1])
        if index in execution.rounds:
            return events
        execution.rounds.add(index)
        data: dict[str, Any] = {
            "id": execution.id,
            "node_id": container_id,
            "node_type": kind,
            "title": self.app.nodes[container_id].title,
            "index": index,
            "created_at": int(e.ts),
            "extras": {},
        }
        if kind == "loop":
            data["pre_loop_output"] = {}
        return [*events, self._workflow_event(f"{kind}_next", data)]

    # ------------------------------------------------------------------ figures
    def _elapsed(self, x: _Execution, e: NodeEvent) -> float:
        if e.elapsed_ms is not None:
            return e.elapsed_ms / 1000
        return max(0.0, e.ts - x.started)

    def _metadata(self, e: NodeEvent, container: tuple[str, str] | None) -> dict[str, Any] | None:
        """Dify's ``execution_metadata``: token usage (a number price, as the schema says; the
        ``message_end`` usage has decimal strings) and the enclosing container."""
        metadata: dict[str, Any] = {}
        usage = e.usage or {}
        if usage or e.tokens:
            metadata["total_tokens"] = int(usage.get("total_tokens", e.tokens or 0))
            metadata["total_price"] = float(usage.get("total_price") or 0)
            metadata["currency"] = usage.get("currency", "USD")
        if container is not None and e.position:
            kind, container_id = container
            metadata[f"{kind}_id"] = container_id
            metadata[f"{kind}_index"] = int(e.position[-1])
        return metadata or None

    def _count_tokens(self, e: NodeEvent) -> None:
        """Add a node's usage to the run's and to its enclosing containers' totals."""
        usage = e.usage or {}
        for name in ("prompt_tokens", "completion_tokens", "total_tokens", "total_price"):
            self._usage[name] += float(usage.get(name) or 0)
        tokens = int(usage.get("total_tokens", e.tokens or 0))
        chain = (
            list(reversed(self.app.container_chain(e.node_id)))
            if e.node_id in self.app.nodes
            else []
        )
        for depth, container_id in enumerate(chain[: len(e.position)]):
            execution = self._executions.get((container_id, tuple(e.position[:depth])))
            if execution is not None:
                execution.tokens += tokens

    def _run_data(self, result: RunResult) -> dict[str, Any]:
        elapsed = result.elapsed_ms / 1000
        return {
            "id": self.run_id,
            "workflow_id": self.workflow_id,
            "status": result.status,
            "outputs": result.outputs,
            "error": result.error,
            "elapsed_time": elapsed,
            "total_tokens": result.total_tokens,
            "total_steps": len(self._executions) or len(result.nodes),
            "created_at": self.created_at,
            "finished_at": int(max(self._last_ts, self.created_at + elapsed)),
            "exceptions_count": result.exceptions_count,
            "files": [],
        }

    def _message_end(self, result: RunResult) -> Event:
        total = int(self._usage["total_tokens"]) or result.total_tokens
        usage = {
            "prompt_tokens": int(self._usage["prompt_tokens"]),
            "prompt_unit_price": "0",
            "prompt_price_unit": "0",
            "prompt_price": "0",
            "completion_tokens": int(self._usage["completion_tokens"]),
            "completion_unit_price": "0",
            "completion_price_unit": "0",
            "completion_price": "0",
            "total_tokens": total,
            "total_price": _price(self._usage["total_price"]),
            "currency": "USD",
            "latency": result.elapsed_ms / 1000,
        }
        return {
            "event": "message_end",
            **self._envelope(run=False),
            "id": self.message_id,
            "metadata": {"usage": usage, "retriever_resources": []},
            "files": None,
        }
