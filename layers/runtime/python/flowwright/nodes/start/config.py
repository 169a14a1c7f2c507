"""Start node: the app's declared inputs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowwright.nodes.base import NodeConfig

INPUT_TYPES = {
    "text-input",
    "paragraph",
    "select",
    "number",
    "checkbox",
    "boolean",
    "file",
    "file-list",
    "json_object",
    "external_data_tool",
}


class StartVariable(BaseModel):
    model_config = ConfigDict(extra="allow")
    variable: str
    label: Any = ""
    type: str = "text-input"
    required: bool = False
    max_length: int | None = None
    options: list[Any] = Field(default_factory=list)
    default: Any = None

    @field_validator("options", mode="before")
    @classmethod
    def _options(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("required", mode="before")
    @classmethod
    def _required(cls, value: Any) -> Any:
        return False if value is None else value


class StartConfig(NodeConfig):
    variables: list[StartVariable] = Field(default_factory=list)

    @field_validator("variables", mode="before")
    @classmethod
    def _variables(cls, value: Any) -> Any:
        return [] if value is None else value

    def output_names(self) -> set[str] | None:
        return {v.variable for v in self.variables}
