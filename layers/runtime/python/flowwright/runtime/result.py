"""What a finished run reports: status, outputs and a per-node trace."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["NodeTrace", "RunResult", "RunStatus"]

RunStatus = Literal["succeeded", "partial-succeeded", "failed", "stopped"]


class NodeTrace(BaseModel):
    """One node's part in a run (one row of ``flowwright run``'s trace)."""

    id: str
    type: str
    title: str = ""
    status: str
    elapsed_ms: float | None = None
    tokens: int | None = None
    error: str | None = None
    position: list[Any] = Field(default_factory=list)
    note: str | None = None


class RunResult(BaseModel):
    """The outcome of one run of one app."""

    run_id: str
    app: str
    status: RunStatus
    outputs: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    failed_node: str | None = None
    exceptions_count: int = 0
    elapsed_ms: float = 0.0
    total_tokens: int = 0
    conversation_id: str | None = None
    nodes: list[NodeTrace] = Field(default_factory=list)

    def as_cli_json(self) -> dict[str, Any]:
        """The ``flowwright run --json`` shape."""
        return {
            "status": self.status,
            "outputs": self.outputs,
            "error": self.error,
            "run_id": self.run_id,
            "conversation_id": self.conversation_id,
            "nodes": [
                {
                    "id": n.id,
                    "type": n.type,
                    "status": n.status,
                    "elapsed_ms": n.elapsed_ms,
                    "tokens": n.tokens,
                    "error": n.error,
                }
                for n in self.nodes
            ],
        }
