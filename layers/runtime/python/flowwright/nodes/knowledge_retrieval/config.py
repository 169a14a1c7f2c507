"""Knowledge retrieval node: Dify's ``knowledge-retrieval`` (and ``knowledge-retrieval-v2``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowwright.nodes.base import NodeConfig, as_selector
from flowwright.nodes.llm.config import ModelConfig
from flowwright.variables import Selector


class RerankingModel(BaseModel):
    model_config = ConfigDict(extra="allow", protected_namespaces=())
    provider: str = ""
    model: str = ""


class VectorSetting(BaseModel):
    model_config = ConfigDict(extra="allow")
    vector_weight: float = 0.7


class KeywordSetting(BaseModel):
    model_config = ConfigDict(extra="allow")
    keyword_weight: float = 0.3


class Weights(BaseModel):
    model_config = ConfigDict(extra="allow")
    vector_setting: VectorSetting = Field(default_factory=VectorSetting)
    keyword_setting: KeywordSetting = Field(default_factory=KeywordSetting)


class MultipleRetrievalConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    top_k: int = Field(default=4, ge=1, le=100)
    score_threshold: float | None = None
    reranking_enable: bool = True
    reranking_mode: Literal["reranking_model", "weighted_score"] = "reranking_model"
    reranking_model: RerankingModel | None = None
    weights: Weights | None = None


class SingleRetrievalConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: ModelConfig = Field(default_factory=ModelConfig)


class Condition(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    comparison_operator: str
    value: Any = None


class FilteringConditions(BaseModel):
    model_config = ConfigDict(extra="allow")
    logical_operator: Literal["and", "or"] = "and"
    conditions: list[Condition] = Field(default_factory=list)


class KnowledgeRetrievalConfig(NodeConfig):
    """``dataset_ids`` are knowledge base ids (``kb/<id>/`` in the knowledge bucket)."""

    dataset_ids: list[str] = Field(default_factory=list)
    query_variable_selector: list[str] = Field(default_factory=list)
    retrieval_mode: Literal["single", "multiple"] = "multiple"
    single_retrieval_config: SingleRetrievalConfig | None = None
    multiple_retrieval_config: MultipleRetrievalConfig | None = None
    metadata_filtering_mode: Literal["disabled", "manual", "automatic"] = "disabled"
    metadata_filtering_conditions: FilteringConditions | None = None

    @model_validator(mode="before")
    @classmethod
    def _v2(cls, data: Any) -> Any:
        """``knowledge-retrieval-v2``: control_space_ids, top_n, metadata_filters {name: [..]}."""
        if not isinstance(data, dict) or data.get("type") != "knowledge-retrieval-v2":
            return data
        data = dict(data)
        data.setdefault("dataset_ids", data.get("control_space_ids") or [])
        data.setdefault("multiple_retrieval_config", {"top_k": data.get("top_n") or 4})
        filters = data.get("metadata_filters") or {}
        if filters and "metadata_filtering_conditions" not in data:
            data["metadata_filtering_mode"] = "manual"
            data["metadata_filtering_conditions"] = {
                "logical_operator": "and",
                "conditions": [
                    {"name": name, "comparison_operator": "in", "value": list(values)}
                    for name, values in filters.items()
                ],
            }
        return data

    @field_validator("metadata_filtering_mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        return "disabled" if value is None else value

    @property
    def query_selector(self) -> Selector | None:
        return as_selector(self.query_variable_selector)

    def reads(self) -> list[Selector]:
        selector = self.query_selector
        return [selector] if selector else []

    def output_names(self) -> set[str] | None:
        return {"result"}
