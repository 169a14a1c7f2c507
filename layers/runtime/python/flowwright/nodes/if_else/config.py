"""If/else node: cases of conditions; the first case that holds picks the branch."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowwright.nodes.base import NodeConfig, as_selector, templates_selectors
from flowwright.variables import Selector

OPERATORS = {
    "contains",
    "not contains",
    "start with",
    "end with",
    "is",
    "is not",
    "empty",
    "not empty",
    "in",
    "not in",
    "all of",
    "=",
    "≠",
    ">",
    "<",
    "≥",
    "≤",
    "null",
    "not null",
    "exists",
    "not exists",
}

#: Spellings seen in older exports, mapped to Dify's current operator names.
OPERATOR_ALIASES = {"==": "=", "!=": "≠", ">=": "≥", "<=": "≤", "start_with": "start with"}


class SubCondition(BaseModel):
    model_config = ConfigDict(extra="allow")
    key: str = ""
    comparison_operator: str
    value: Any = None


class SubConditionGroup(BaseModel):
    model_config = ConfigDict(extra="allow")
    logical_operator: Literal["and", "or"] = "and"
    conditions: list[SubCondition] = Field(default_factory=list)


class Condition(BaseModel):
    model_config = ConfigDict(extra="allow")
    variable_selector: list[str] = Field(default_factory=list)
    comparison_operator: str
    value: Any = None
    varType: str | None = None
    sub_variable_condition: SubConditionGroup | None = None

    @field_validator("comparison_operator")
    @classmethod
    def _operator(cls, value: str) -> str:
        value = OPERATOR_ALIASES.get(value, value)
        if value not in OPERATORS:
            raise ValueError(f"unknown comparison operator {value!r}")
        return value

    def reads(self) -> list[Selector]:
        found: list[Selector] = []
        if sel := as_selector(self.variable_selector):
            found.append(sel)
        if isinstance(self.value, str):
            found.extend(templates_selectors(self.value))
        return found


class Case(BaseModel):
    model_config = ConfigDict(extra="allow")
    case_id: str
    logical_operator: Literal["and", "or"] = "and"
    conditions: list[Condition] = Field(default_factory=list)


class IfElseConfig(NodeConfig):
    cases: list[Case] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _legacy_conditions(cls, data: Any) -> Any:
        # DSL 0.1.x: one condition list at the top level, handles "true"/"false".
        if isinstance(data, dict) and not data.get("cases") and data.get("conditions") is not None:
            data = dict(data)
            data["cases"] = [
                {
                    "case_id": "true",
                    "logical_operator": data.get("logical_operator") or "and",
                    "conditions": data["conditions"],
                }
            ]
        return data

    def reads(self) -> list[Selector]:
        return [s for case in self.cases for c in case.conditions for s in c.reads()]

    def output_names(self) -> set[str] | None:
        return {"result", "selected_case_id"}

    def branch_handles(self) -> list[str] | None:
        return [case.case_id for case in self.cases] + ["false"]
