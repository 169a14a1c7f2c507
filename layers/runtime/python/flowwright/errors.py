"""Error types shared by every part of flowwright.

Every error flowwright raises on purpose derives from :class:`FlowwrightError`, carries data
(code, node, field) and renders a message a user can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CompileError",
    "DslError",
    "FlowwrightError",
    "Issue",
    "NodeConfigError",
    "NodeExecutionError",
    "NodeInputError",
    "NodeTimeoutError",
    "RunError",
]


class FlowwrightError(Exception):
    """Root of every error flowwright raises on purpose."""


@dataclass(frozen=True)
class Issue:
    """One problem found in an app file.

    ``code`` is stable and machine-readable (``dangling_edge``, ``unknown_node_type`` ...);
    ``message`` is for people. ``node_id``/``node_title``/``field`` locate the problem.
    """

    code: str
    message: str
    node_id: str | None = None
    node_title: str | None = None
    field: str | None = None

    def render(self, file: str | None = None) -> str:
        where: list[str] = []
        if file:
            where.append(file)
        if self.node_id is not None:
            title = f" '{self.node_title}'" if self.node_title else ""
            where.append(f"node{title} ({self.node_id})")
        if self.field:
            where.append(f"field {self.field}")
        prefix = ": ".join(where)
        return (
            f"{prefix}: {self.message} [{self.code}]" if prefix else f"{self.message} [{self.code}]"
        )


@dataclass
class DslError(FlowwrightError):
    """An app file could not be loaded; ``issues`` lists every problem found."""

    issues: list[Issue]
    file: str | None = None
    _text: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        self._text = "\n".join(issue.render(self.file) for issue in self.issues)
        super().__init__(self._text)

    def __str__(self) -> str:
        return self._text

    @property
    def codes(self) -> list[str]:
        return [issue.code for issue in self.issues]


class CompileError(FlowwrightError):
    """A valid app uses a shape the compiler cannot express in ASL."""


class RunError(FlowwrightError):
    """A run could not be started or did not finish."""


class NodeExecutionError(FlowwrightError):
    """A node failed while running. The class name is the Step Functions error name."""

    def __init__(self, message: str, *, node_id: str | None = None) -> None:
        super().__init__(message)
        self.node_id = node_id


class NodeConfigError(NodeExecutionError):
    """The node's configuration cannot run (never retried)."""


class NodeInputError(NodeExecutionError):
    """An input value has the wrong type or shape."""


class NodeTimeoutError(NodeExecutionError):
    """The node exceeded its time limit."""
