"""End node: the workflow's outputs."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from flowwright.nodes.base import NodeConfig, VariableRef, refs_selectors
from flowwright.variables import Selector


class EndConfig(NodeConfig):
    outputs: list[VariableRef] = Field(default_factory=list)

    @field_validator("outputs", mode="before")
    @classmethod
    def _outputs(cls, value: Any) -> Any:
        return [] if value is None else value

    def reads(self) -> list[Selector]:
        return refs_selectors(self.outputs)

    def output_names(self) -> set[str] | None:
        return {o.variable for o in self.outputs}
