"""Loop: runs its child graph until a break condition holds or the count runs out."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowwright.nodes.base import NodeConfig, as_selector
from flowwright.nodes.if_else.config import Condition
from flowwright.variables import Selector

LOOP_VAR_TYPES = {
    "string",
    "number",
    "object",
    "boolean",
    "array[string]",
    "array[number]",
    "array[object]",
    "array[boolean]",
}


class LoopVariable(BaseModel):
    model_config = ConfigDict(extra="allow")
    label: str
    var_type: str = "string"
    value_type: Literal["variable", "constant"] = "constant"
    value: Any = None

    @field_validator("var_type")
    @classmethod
    def _var_type(cls, value: str) -> str:
        if value not in LOOP_VAR_TYPES:
            raise ValueError(f"unsupported loop variable type {value!r}")
        return value


class LoopConfig(NodeConfig):
    loop_count: int = Field(default=10, ge=0)
    break_conditions: list[Condition] = Field(default_factory=list)
    logical_operator: Literal["and", "or"] = "and"
    loop_variables: list[LoopVariable] = Field(default_factory=list)
    start_node_id: str | None = None

    @field_validator("break_conditions", "loop_variables", mode="before")
    @classmethod
    def _none(cls, value: Any) -> Any:
        return [] if value is None else value

    def reads(self) -> list[Selector]:
        found = [s for c in self.break_conditions for s in c.reads()]
        for var in self.loop_variables:
            if var.value_type == "variable" and (sel := as_selector(var.value)):
                found.append(sel)
        return found

    def output_names(self) -> set[str] | None:
        return {v.label for v in self.loop_variables} | {"loop_round"}


class LoopStartConfig(NodeConfig):
    model_config = ConfigDict(extra="allow")


class LoopEndConfig(NodeConfig):
    model_config = ConfigDict(extra="allow")
