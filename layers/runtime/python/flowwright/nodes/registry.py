"""The node types flowwright runs: configuration model, executor module, Lambda function.

Importing this module imports only the configuration models; executors (and their heavy
dependencies such as litellm) load when a node of that type runs.
"""

from __future__ import annotations

import builtins
import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from flowwright.nodes.answer.config import AnswerConfig
from flowwright.nodes.assigner.config import AssignerConfig
from flowwright.nodes.base import NodeConfig
from flowwright.nodes.code.config import CodeConfig
from flowwright.nodes.end.config import EndConfig
from flowwright.nodes.if_else.config import IfElseConfig
from flowwright.nodes.iteration.config import IterationConfig, IterationStartConfig
from flowwright.nodes.knowledge_retrieval.config import KnowledgeRetrievalConfig
from flowwright.nodes.llm.config import LLMConfig
from flowwright.nodes.loop.config import LoopConfig, LoopEndConfig, LoopStartConfig
from flowwright.nodes.start.config import StartConfig
from flowwright.nodes.template_transform.config import TemplateTransformConfig
from flowwright.nodes.variable_aggregator.config import VariableAggregatorConfig

__all__ = ["FUNCTION_NAMES", "NODE_KINDS", "PLANNED_TYPES", "NodeKind", "kind_of", "load_executor"]

Role = Literal["task", "iteration", "loop", "container-start", "loop-end"]


@dataclass(frozen=True)
class NodeKind:
    """How one Dify node type is configured, executed and compiled."""

    type: str
    config: builtins.type[NodeConfig]
    package: str
    role: Role = "task"

    @property
    def function(self) -> str:
        """Key of the Lambda function that runs this type (one per executor package)."""
        return self.package

    @property
    def executor_module(self) -> str:
        return f"flowwright.nodes.{self.package}.run"


_KINDS = [
    NodeKind("start", StartConfig, "start"),
    NodeKind("end", EndConfig, "end"),
    NodeKind("answer", AnswerConfig, "answer"),
    NodeKind("llm", LLMConfig, "llm"),
    NodeKind("if-else", IfElseConfig, "if_else"),
    NodeKind("code", CodeConfig, "code"),
    NodeKind("template-transform", TemplateTransformConfig, "template_transform"),
    NodeKind("variable-aggregator", VariableAggregatorConfig, "variable_aggregator"),
    NodeKind("variable-assigner", VariableAggregatorConfig, "variable_aggregator"),
    NodeKind("assigner", AssignerConfig, "assigner"),
    NodeKind("knowledge-retrieval", KnowledgeRetrievalConfig, "knowledge_retrieval"),
    NodeKind("knowledge-retrieval-v2", KnowledgeRetrievalConfig, "knowledge_retrieval"),
    NodeKind("iteration", IterationConfig, "iteration", "iteration"),
    NodeKind("iteration-start", IterationStartConfig, "iteration", "container-start"),
    NodeKind("loop", LoopConfig, "loop", "loop"),
    NodeKind("loop-start", LoopStartConfig, "loop", "container-start"),
    NodeKind("loop-end", LoopEndConfig, "loop", "loop-end"),
]

NODE_KINDS: dict[str, NodeKind] = {k.type: k for k in _KINDS}

#: Lambda function keys, one per executor package, in a stable order.
FUNCTION_NAMES: tuple[str, ...] = tuple(dict.fromkeys(k.package for k in _KINDS))

#: Dify node types that exist but are not implemented yet (reported clearly by validation).
PLANNED_TYPES = frozenset(
    {
        "http-request",
        "tool",
        "question-classifier",
        "parameter-extractor",
        "document-extractor",
        "list-operator",
        "agent",
        "datasource",
        "knowledge-index",
        "human-input",
        "trigger-webhook",
        "trigger-schedule",
        "trigger-plugin",
    }
)


def kind_of(node_type: str) -> NodeKind | None:
    """The :class:`NodeKind` for a Dify node type, or ``None`` when unsupported."""
    return NODE_KINDS.get(node_type)


def load_executor(package: str) -> ModuleType:
    """Import the executor module of a node package (``flowwright.nodes.<package>.run``)."""
    return importlib.import_module(f"flowwright.nodes.{package}.run")
