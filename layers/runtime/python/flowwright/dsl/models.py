"""The loaded app: nodes with typed configuration, edges, variables."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowwright.nodes.base import NodeConfig

__all__ = ["App", "ConversationVariable", "Edge", "EnvVariable", "Node"]

AppMode = Literal["workflow", "advanced-chat"]


class EnvVariable(BaseModel):
    """A DSL environment variable (``{{#env.NAME#}}``). ``secret`` values are never exported."""

    model_config = ConfigDict(extra="allow")
    name: str
    value: Any = None
    value_type: Literal["string", "number", "secret"] = "string"
    description: str | None = ""


class ConversationVariable(BaseModel):
    """A chatflow conversation variable with its default value."""

    model_config = ConfigDict(extra="allow")
    name: str
    value: Any = None
    value_type: str = "string"
    description: str | None = ""


class Node(BaseModel):
    """One node: id, Dify type, title, enclosing container and typed configuration."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    id: str
    type: str
    title: str
    parent_id: str | None = None
    config: NodeConfig
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"'{self.title}' ({self.id})" if self.title else f"({self.id})"


class Edge(BaseModel):
    """A control edge. ``source_handle`` is ``source`` or a branch/case id or ``fail-branch``."""

    model_config = ConfigDict(frozen=True)
    id: str
    source: str
    target: str
    source_handle: str = "source"


class App(BaseModel):
    """A Dify app ready to compile: what ``load_app`` returns."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    name: str
    mode: AppMode
    description: str = ""
    dsl_version: str = "0.1.0"
    nodes: dict[str, Node]
    edges: list[Edge]
    environment_variables: list[EnvVariable] = Field(default_factory=list)
    conversation_variables: list[ConversationVariable] = Field(default_factory=list)
    features: dict[str, Any] = Field(default_factory=dict)
    source: str | None = None
    warnings: list[str] = Field(default_factory=list)

    @cached_property
    def start_node(self) -> Node:
        return next(n for n in self.nodes.values() if n.type == "start" and n.parent_id is None)

    def children(self, container_id: str | None) -> list[Node]:
        """Nodes directly inside ``container_id`` (``None``: the top level), in file order."""
        return [n for n in self.nodes.values() if n.parent_id == container_id]

    def container_chain(self, node_id: str) -> list[str]:
        """Ids of the containers enclosing ``node_id``, innermost first."""
        chain: list[str] = []
        parent = self.nodes[node_id].parent_id
        while parent is not None:
            chain.append(parent)
            parent = self.nodes[parent].parent_id
        return chain
