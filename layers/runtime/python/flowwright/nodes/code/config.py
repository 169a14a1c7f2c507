"""Code node: runs the user's ``main`` function on named inputs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowwright.nodes.base import NodeConfig, VariableRef, refs_selectors
from flowwright.variables import Selector

OUTPUT_TYPES = {
    "string",
    "number",
    "integer",
    "boolean",
    "object",
    "array[string]",
    "array[number]",
    "array[object]",
    "array[boolean]",
    "array[any]",
}


class CodeOutput(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    children: dict[str, CodeOutput] | None = None


class CodeConfig(NodeConfig):
    code: str
    code_language: Literal["python3", "javascript"] = "python3"
    variables: list[VariableRef] = Field(default_factory=list)
    outputs: dict[str, CodeOutput] = Field(default_factory=dict)

    @field_validator("variables", mode="before")
    @classmethod
    def _no_variables(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("outputs", mode="before")
    @classmethod
    def _no_outputs(cls, value: Any) -> Any:
        return {} if value is None else value

    def reads(self) -> list[Selector]:
        return refs_selectors(self.variables)

    def output_names(self) -> set[str] | None:
        return set(self.outputs)
