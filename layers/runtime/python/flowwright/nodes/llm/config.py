"""LLM node: one model call with Dify's prompt templates, context, memory and structured output."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowwright.nodes.base import (
    NodeConfig,
    VariableRef,
    as_selector,
    refs_selectors,
    templates_selectors,
)
from flowwright.variables import Selector


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="allow", protected_namespaces=())
    provider: str = ""
    name: str = ""
    mode: Literal["chat", "completion"] = "chat"
    completion_params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("completion_params", mode="before")
    @classmethod
    def _params(cls, value: Any) -> Any:
        return {} if value is None else value


class PromptMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant"] = "user"
    text: str = ""
    edition_type: Literal["basic", "jinja2"] | None = None
    jinja2_text: str | None = None

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return "" if value is None else value


class CompletionPrompt(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str = ""
    edition_type: Literal["basic", "jinja2"] | None = None
    jinja2_text: str | None = None


class MemoryWindow(BaseModel):
    model_config = ConfigDict(extra="allow")
    enabled: bool = False
    size: int | None = None


class RolePrefix(BaseModel):
    model_config = ConfigDict(extra="allow")
    user: str = ""
    assistant: str = ""


class Memory(BaseModel):
    model_config = ConfigDict(extra="allow")
    window: MemoryWindow = Field(default_factory=MemoryWindow)
    query_prompt_template: str | None = None
    role_prefix: RolePrefix | None = None


class ContextConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    enabled: bool = False
    variable_selector: list[str] | None = None


class PromptConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    jinja2_variables: list[VariableRef] = Field(default_factory=list)

    @field_validator("jinja2_variables", mode="before")
    @classmethod
    def _vars(cls, value: Any) -> Any:
        return [] if value is None else value


class LLMConfig(NodeConfig):
    model: ModelConfig
    prompt_template: list[PromptMessage] | CompletionPrompt = Field(default_factory=list)
    prompt_config: PromptConfig = Field(default_factory=PromptConfig)
    memory: Memory | None = None
    context: ContextConfig = Field(default_factory=ContextConfig)
    structured_output_enabled: bool = False
    structured_output: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in ("prompt_config", "context"):
            if data.get(key) is None:
                data.pop(key, None)
        memory = data.get("memory")
        # Some exports write ``memory: {enabled: false}``; treat that as no memory.
        if isinstance(memory, dict) and memory.get("enabled") is False and "window" not in memory:
            data["memory"] = None
        so = data.get("structured_output")
        if isinstance(so, dict) and "enabled" in so and "schema" not in so:
            data["structured_output_enabled"] = bool(so.get("enabled")) or bool(
                data.get("structured_output_enabled")
            )
        return data

    @property
    def messages(self) -> list[PromptMessage]:
        return self.prompt_template if isinstance(self.prompt_template, list) else []

    @property
    def schema_(self) -> dict[str, Any] | None:
        """The JSON schema for structured output, when enabled."""
        if not self.structured_output_enabled or not self.structured_output:
            return None
        schema = self.structured_output.get("schema")
        return schema if isinstance(schema, dict) else None

    def _templates(self) -> list[str]:
        if isinstance(self.prompt_template, list):
            return [m.text for m in self.prompt_template if m.edition_type != "jinja2"]
        if self.prompt_template.edition_type == "jinja2":
            return []
        return [self.prompt_template.text]

    def reads(self) -> list[Selector]:
        found = templates_selectors(*self._templates())
        found += refs_selectors(self.prompt_config.jinja2_variables)
        if self.memory and self.memory.query_prompt_template:
            found += [
                s
                for s in templates_selectors(self.memory.query_prompt_template)
                if s[0] != "userinput"
            ]
        if self.context.enabled and (sel := as_selector(self.context.variable_selector)):
            found.append(sel)
        return found

    def output_names(self) -> set[str] | None:
        names = {"text", "reasoning_content", "usage", "finish_reason"}
        if self.schema_ is not None or self.structured_output_enabled:
            names.add("structured_output")
        return names
