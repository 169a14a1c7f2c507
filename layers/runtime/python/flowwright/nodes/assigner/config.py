"""Variable assigner: writes conversation (and loop) variables. Versions 1 and 2."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flowwright.nodes.base import NodeConfig, as_selector
from flowwright.variables import Selector

OPERATIONS = {
    "over-write",
    "clear",
    "append",
    "extend",
    "set",
    "+=",
    "-=",
    "*=",
    "/=",
    "remove-first",
    "remove-last",
}


class AssignItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    variable_selector: list[str]
    input_type: Literal["variable", "constant"] = "variable"
    operation: str = "over-write"
    value: Any = None

    @model_validator(mode="after")
    def _check(self) -> AssignItem:
        if self.operation not in OPERATIONS:
            raise ValueError(f"unknown operation {self.operation!r}")
        return self


class AssignerConfig(NodeConfig):
    version: str | None = None
    items: list[AssignItem] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _v1_to_items(cls, data: Any) -> Any:
        # Version 1 assigns one variable from one input; express it as a v2 item.
        if (
            isinstance(data, dict)
            and data.get("assigned_variable_selector")
            and not data.get("items")
        ):
            data = dict(data)
            mode = data.get("write_mode") or "over-write"
            data["items"] = [
                {
                    "variable_selector": data["assigned_variable_selector"],
                    "input_type": "variable",
                    "operation": mode,
                    "value": data.get("input_variable_selector") or [],
                }
            ]
        return data

    def reads(self) -> list[Selector]:
        found: list[Selector] = []
        for item in self.items:
            if sel := as_selector(item.variable_selector):
                found.append(sel)
            if item.input_type == "variable" and (src := as_selector(item.value)):
                found.append(src)
        return found

    def writes(self) -> list[Selector]:
        return [s for item in self.items if (s := as_selector(item.variable_selector))]

    def output_names(self) -> set[str] | None:
        return set()
