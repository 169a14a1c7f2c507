"""Iteration: runs its child graph once per item of an array (Step Functions Map)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from flowwright.nodes.base import NodeConfig, as_selector
from flowwright.variables import Selector


class IterationConfig(NodeConfig):
    iterator_selector: list[str]
    output_selector: list[str]
    start_node_id: str | None = None
    is_parallel: bool = False
    parallel_nums: int = 10
    error_handle_mode: Literal["terminated", "continue-on-error", "remove-abnormal-output"] = (
        "terminated"
    )
    flatten_output: bool = True
    output_type: str | None = None

    def reads(self) -> list[Selector]:
        return [s for s in [as_selector(self.iterator_selector)] if s]

    def output_names(self) -> set[str] | None:
        return {"output"}


class IterationStartConfig(NodeConfig):
    model_config = ConfigDict(extra="allow")
