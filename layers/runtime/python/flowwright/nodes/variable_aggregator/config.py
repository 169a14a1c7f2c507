"""Variable aggregator: the first value that exists among several (optionally per group)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowwright.nodes.base import NodeConfig, as_selector
from flowwright.variables import Selector


class AggregatorGroup(BaseModel):
    model_config = ConfigDict(extra="allow")
    group_name: str
    output_type: str = "any"
    variables: list[list[str]] = Field(default_factory=list)


class AdvancedSettings(BaseModel):
    model_config = ConfigDict(extra="allow")
    group_enabled: bool = False
    groups: list[AggregatorGroup] = Field(default_factory=list)


class VariableAggregatorConfig(NodeConfig):
    output_type: str = "any"
    variables: list[list[str]] = Field(default_factory=list)
    advanced_settings: AdvancedSettings | None = None

    @field_validator("variables", mode="before")
    @classmethod
    def _variables(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def grouped(self) -> bool:
        return bool(self.advanced_settings and self.advanced_settings.group_enabled)

    def reads(self) -> list[Selector]:
        lists = [self.variables]
        if self.grouped and self.advanced_settings:
            lists = [g.variables for g in self.advanced_settings.groups]
        return [s for items in lists for v in items if (s := as_selector(v))]

    def output_names(self) -> set[str] | None:
        if self.grouped and self.advanced_settings:
            return {g.group_name for g in self.advanced_settings.groups}
        return {"output"}
