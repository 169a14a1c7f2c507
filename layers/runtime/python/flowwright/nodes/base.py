"""What every node type shares: its configuration base, its result, its run context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowwright.variables import Selector, template_selectors

__all__ = [
    "DefaultValue",
    "NodeConfig",
    "NodeContext",
    "NodeResult",
    "RetryConfig",
    "Usage",
    "VariableRef",
    "as_selector",
]

#: Handle of the edge taken when a node succeeds (``success-branch`` in older exports).
SOURCE = "source"
FAIL_BRANCH = "fail-branch"


def as_selector(value: Any) -> Selector | None:
    """A selector from a DSL value (list of strings), or ``None``.

    Old exports (DSL 0.1.x) name system variables through the Start node, as
    ``[<start id>, "sys.query"]``; that is ``("sys", "query")``.
    """
    if (
        isinstance(value, (list, tuple))
        and len(value) >= 2
        and all(isinstance(p, str) for p in value)
    ):
        if len(value) == 2 and value[1].startswith("sys.") and value[0] != "sys":
            return ("sys", value[1][4:])
        return tuple(value)
    return None


class RetryConfig(BaseModel):
    """Dify's ``retry_config``; ``retry_interval`` is in milliseconds."""

    model_config = ConfigDict(extra="allow")
    enabled: bool = False
    max_retries: int = Field(default=0, ge=0, le=10)
    retry_interval: int = Field(default=0, ge=0)


class DefaultValue(BaseModel):
    """One output value written when a node fails with ``error_strategy: default-value``."""

    model_config = ConfigDict(extra="allow")
    key: str
    type: str = "string"
    value: Any = None


class VariableRef(BaseModel):
    """A named input bound to a selector (``{variable, value_selector}``)."""

    model_config = ConfigDict(extra="allow")
    variable: str
    value_selector: list[str] = Field(default_factory=list)

    @field_validator("value_selector", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class NodeConfig(BaseModel):
    """Fields every Dify node carries. Unknown fields are kept, as Dify does."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str
    title: str = ""
    desc: str | None = ""
    error_strategy: Literal["fail-branch", "default-value", "none"] | None = None
    default_value: list[DefaultValue] | None = None
    retry_config: RetryConfig = Field(default_factory=RetryConfig)

    @field_validator("retry_config", mode="before")
    @classmethod
    def _retry_none(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def handles_errors(self) -> bool:
        return self.error_strategy in ("fail-branch", "default-value")

    def reads(self) -> list[Selector]:
        """Every selector this node reads (used by validation and the compiler)."""
        return []

    def writes(self) -> list[Selector]:
        """Selectors of conversation/loop variables this node assigns."""
        return []

    def output_names(self) -> set[str] | None:
        """Names of the outputs this node produces; ``None`` when they are dynamic."""
        return set()

    def branch_handles(self) -> list[str] | None:
        """Source handles of a branching node; ``None`` for a node with one way out."""
        return None

    def all_output_names(self) -> set[str] | None:
        names = self.output_names()
        if names is None:
            return None
        if self.error_strategy == "fail-branch" or self.error_strategy == "default-value":
            names = names | {"error_message", "error_type"}
            names |= {d.key for d in self.default_value or []}
        return names


def refs_selectors(refs: list[VariableRef]) -> list[Selector]:
    return [tuple(r.value_selector) for r in refs if len(r.value_selector) >= 2]


def templates_selectors(*templates: str | None) -> list[Selector]:
    found: list[Selector] = []
    for template in templates:
        found.extend(template_selectors(template))
    return found


@dataclass
class Usage:
    """Token usage of one node run."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.total_tokens += other.total_tokens
        self.cost += other.cost

    def as_dict(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "total_price": round(self.cost, 8),
            "currency": "USD",
        }


@dataclass
class NodeResult:
    """What an executor returns: outputs, the handle taken, writes and usage."""

    outputs: dict[str, Any] = field(default_factory=dict)
    handle: str = SOURCE
    writes: dict[Selector, Any] = field(default_factory=dict)
    usage: Usage | None = None
    answer: str | None = None
    inputs: dict[str, Any] | None = None
    process_data: dict[str, Any] | None = None
    note: str | None = None
    #: Extra fields of the state record (container bookkeeping).
    extra: dict[str, Any] = field(default_factory=dict)
    #: False for an operation that leaves the node running (a loop round, an iteration start).
    finished: bool = True
    #: Replaces the whole state record (used by the operation that ends a run).
    record: dict[str, Any] | None = None
    #: Epoch seconds the node started, when it started in an earlier operation.
    started_at: float | None = None


@dataclass
class NodeContext:
    """Facts about the current run that an executor may need."""

    app_id: str
    run_id: str
    node_id: str
    node_type: str
    mode: Literal["workflow", "advanced-chat"] = "workflow"
    conversation_id: str | None = None
    user: str | None = None
    position: list[Any] = field(default_factory=list)
    services: Any = None
    stream: Callable[[str], None] | None = None
