"""Knowledge retrieval executor: Dify's single and multiple modes over flowwright's index.

The ``result`` list has Dify's shape (``content``, ``title``, ``metadata`` with dataset,
document, segment and score) so LLM nodes can use it as context and cite it.
"""

from __future__ import annotations

from typing import Any

from flowwright.errors import NodeExecutionError
from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.nodes.knowledge_retrieval.config import KnowledgeRetrievalConfig
from flowwright.variables import VariablePool

__all__ = ["run"]


def run(config: KnowledgeRetrievalConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    from flowwright.knowledge.models import MetadataFilter
    from flowwright.knowledge.retrieve import KnowledgeBaseNotFound, search_kb, search_many

    selector = config.query_selector
    query = pool.value(selector) if selector else None
    if query is None or (isinstance(query, str) and not query.strip()):
        return NodeResult(outputs={"result": []}, inputs={"query": query})
    if not isinstance(query, str):
        raise NodeExecutionError(f"query must be a string, got {type(query).__name__}")
    if config.metadata_filtering_mode == "automatic":
        raise NodeExecutionError(
            "metadata_filtering_mode 'automatic' (filters chosen by a model) is not supported; "
            "use 'manual' conditions"
        )
    services = getattr(ctx.services, "knowledge", None)
    if services is None:
        raise NodeExecutionError("no knowledge index is configured for this deployment")
    filters: list[MetadataFilter] = []
    logic = "and"
    if config.metadata_filtering_mode == "manual" and config.metadata_filtering_conditions:
        logic = config.metadata_filtering_conditions.logical_operator
        filters = [
            MetadataFilter(name=c.name, comparison_operator=c.comparison_operator, value=c.value)
            for c in config.metadata_filtering_conditions.conditions
        ]
    process: dict[str, Any] = {}
    try:
        if config.retrieval_mode == "single":
            kb_id = _route(config, query, ctx, services, process)
            hits = (
                search_kb(services, kb_id, query, filters=filters, filter_logic=logic)
                if kb_id
                else []
            )
        else:
            multiple = config.multiple_retrieval_config
            top_k = multiple.top_k if multiple else 4
            rerank_model = None
            vector_weight = None
            if multiple and multiple.reranking_enable:
                if multiple.reranking_mode == "weighted_score" and multiple.weights:
                    vector = multiple.weights.vector_setting.vector_weight
                    keyword = multiple.weights.keyword_setting.keyword_weight
                    vector_weight = vector / (vector + keyword) if vector + keyword else 0.5
                elif multiple.reranking_mode == "reranking_model" and multiple.reranking_model:
                    rerank_model = _rerank_model(multiple.reranking_model, ctx, process)
            hits = search_many(
                services,
                list(config.dataset_ids),
                query,
                top_k=top_k,
                score_threshold=multiple.score_threshold if multiple else None,
                vector_weight=vector_weight,
                rerank_model=rerank_model,
                filters=filters,
                filter_logic=logic,
            )
    except KnowledgeBaseNotFound as exc:
        raise NodeExecutionError(str(exc)) from None
    result = [_dify_item(i, hit) for i, hit in enumerate(hits, start=1)]
    return NodeResult(
        outputs={"result": result}, inputs={"query": query}, process_data=process or None
    )


def _route(
    config: KnowledgeRetrievalConfig,
    query: str,
    ctx: NodeContext,
    services: Any,
    process: dict[str, Any],
) -> str | None:
    """Single mode: one knowledge base as is; among several, the model picks one."""
    ids = list(config.dataset_ids)
    if len(ids) <= 1:
        return ids[0] if ids else None
    from flowwright.models.gateway import ChatRequest

    described = []
    for kb_id in ids:
        kb = services.documents.get_kb(kb_id)
        description = kb.description or kb.name if kb else kb_id
        described.append(f"- {kb_id}: {description}")
    model = config.single_retrieval_config.model if config.single_retrieval_config else None
    reply = ctx.services.models.chat(
        ChatRequest(
            provider=model.provider if model else "",
            name=model.name if model else "",
            messages=[
                {
                    "role": "system",
                    "content": "Pick the one knowledge base that can answer the question. "
                    "Reply with its id only.\n" + "\n".join(described),
                },
                {"role": "user", "content": query},
            ],
            params={"temperature": 0, "max_tokens": 64},
            node_id=ctx.node_id,
        )
    )
    text = reply.text if hasattr(reply, "text") else str(reply)
    chosen = next((kb_id for kb_id in ids if kb_id in text), None)
    process["router"] = {"reply": text, "knowledge_base": chosen}
    return chosen


def _rerank_model(model: Any, ctx: NodeContext, process: dict[str, Any]) -> str | None:
    from flowwright.models.model_map import LOCAL_CHAT_MODEL, ModelMap

    choice = ModelMap.from_env().resolve(model.provider, model.model)
    if choice.model == LOCAL_CHAT_MODEL:
        process["rerank"] = "skipped: the offline profile has no rerank model (fused scores kept)"
        return None
    process["rerank"] = choice.model
    return choice.model


def _dify_item(position: int, hit: Any) -> dict[str, Any]:
    from flowwright.knowledge.retrieve import chunk_position

    meta = dict(hit.metadata)
    name = meta.get("document_name") or meta.get("name") or hit.document_id
    doc_metadata = {
        k: v
        for k, v in meta.items()
        if k not in ("dataset_id", "dataset_name", "document_id", "document_name", "page")
    }
    return {
        "content": hit.text,
        "title": name,
        "metadata": {
            "_source": "knowledge",
            "position": position,
            "dataset_id": meta.get("dataset_id"),
            "dataset_name": meta.get("dataset_name"),
            "document_id": hit.document_id,
            "document_name": name,
            "data_source_type": "upload_file",
            "segment_id": hit.chunk_id,
            "retriever_from": "workflow",
            "score": hit.score,
            "segment_position": chunk_position(hit.chunk_id),
            "page": hit.page,
            "child_chunk": hit.content if hit.content != hit.text else None,
            "doc_metadata": doc_metadata,
        },
    }
