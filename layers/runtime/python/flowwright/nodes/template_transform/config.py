"""Template node: renders a Jinja2 template over named variables."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from flowwright.nodes.base import NodeConfig, VariableRef, refs_selectors
from flowwright.variables import Selector


class TemplateTransformConfig(NodeConfig):
    template: str
    variables: list[VariableRef] = Field(default_factory=list)

    @field_validator("variables", mode="before")
    @classmethod
    def _variables(cls, value: Any) -> Any:
        return [] if value is None else value

    def reads(self) -> list[Selector]:
        return refs_selectors(self.variables)

    def output_names(self) -> set[str] | None:
        return {"output"}
