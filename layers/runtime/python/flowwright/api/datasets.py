"""Dify's knowledge API (a subset): datasets, documents by text and by file, indexing
status, delete, retrieve. Authenticated with ``dataset-...`` keys."""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flowwright.api.errors import ApiError
from flowwright.api.keys import ApiKey, authenticate
from flowwright.knowledge.documents import DocumentRecord, KnowledgeBase, document_id_for
from flowwright.knowledge.models import (
    ChunkingSettings,
    CleaningRules,
    KnowledgeBaseSettings,
    MetadataFilter,
    RetrievalSettings,
)

__all__ = ["datasets_router"]

_SEARCH = {
    "semantic_search": "semantic",
    "full_text_search": "full_text",
    "keyword_search": "full_text",
    "hybrid_search": "hybrid",
}
_STATUS = {"queued": "waiting", "indexing": "indexing", "completed": "completed", "error": "error"}


class Segmentation(BaseModel):
    model_config = ConfigDict(extra="allow")
    separator: str = "\n\n"
    max_tokens: int = Field(default=500, ge=1, le=4000)
    chunk_overlap: int = Field(default=50, ge=0)


class Rules(BaseModel):
    model_config = ConfigDict(extra="allow")
    pre_processing_rules: list[dict[str, Any]] = Field(default_factory=list)
    segmentation: Segmentation = Field(default_factory=Segmentation)
    parent_mode: Literal["paragraph", "full-doc"] = "paragraph"
    subchunk_segmentation: Segmentation | None = None


class ProcessRule(BaseModel):
    model_config = ConfigDict(extra="allow")
    mode: Literal["automatic", "custom", "hierarchical"] = "automatic"
    rules: Rules | None = None


class RetrievalModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    search_method: Literal[
        "semantic_search", "full_text_search", "keyword_search", "hybrid_search"
    ] = "hybrid_search"
    top_k: int = Field(default=4, ge=1, le=100)
    score_threshold_enabled: bool = False
    score_threshold: float | None = None
    weights: dict[str, Any] | None = None
    metadata_filtering_conditions: dict[str, Any] | None = None


class CreateDataset(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1, max_length=40)
    description: str = Field(default="", max_length=400)
    indexing_technique: Literal["high_quality", "economy"] | None = "high_quality"
    embedding_model: str | None = None
    embedding_model_provider: str | None = None
    retrieval_model: RetrievalModel | None = None


class CreateByText(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1, max_length=255)
    text: str
    process_rule: ProcessRule | None = None


class RetrieveBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    query: str = Field(min_length=1, max_length=10000)
    retrieval_model: RetrievalModel | None = None


def dataset_key(request: Request, authorization: Annotated[str | None, Header()] = None) -> ApiKey:
    """A ``dataset-...`` key (Dify's knowledge API keys are workspace-wide)."""
    return authenticate(request.app.state.platform.keys, authorization, app=None, scope="dataset")


KeyDep = Annotated[ApiKey, Depends(dataset_key)]


def _services(request: Request) -> Any:
    knowledge = request.app.state.platform.knowledge
    if knowledge is None:
        raise ApiError(503, "knowledge_unavailable", "this deployment has no knowledge index")
    return knowledge


def _kb(request: Request, dataset_id: str) -> KnowledgeBase:
    kb = _services(request).documents.get_kb(dataset_id)
    if kb is None:
        raise ApiError(404, "dataset_not_found", "Dataset not found.")
    return kb


def _dataset(kb: KnowledgeBase, documents: list[DocumentRecord]) -> dict[str, Any]:
    retrieval = kb.settings.retrieval
    method = {v: k for k, v in _SEARCH.items() if k != "keyword_search"}[retrieval.search_method]
    return {
        "id": kb.kb_id,
        "name": kb.name,
        "description": kb.description,
        "provider": "vendor",
        "permission": "only_me",
        "data_source_type": "upload_file",
        "indexing_technique": "high_quality",
        "app_count": 0,
        "document_count": len(documents),
        "word_count": 0,
        "created_by": "",
        "created_at": int(kb.created_at),
        "updated_by": "",
        "updated_at": int(kb.created_at),
        "embedding_model": kb.settings.embedding_model,
        "embedding_model_provider": kb.settings.embedding_model.split("/", 1)[0],
        "embedding_available": True,
        "retrieval_model_dict": {
            "search_method": method,
            "reranking_enable": False,
            "top_k": retrieval.top_k,
            "score_threshold_enabled": retrieval.score_threshold is not None,
            "score_threshold": retrieval.score_threshold,
        },
        "doc_form": "hierarchical_model"
        if kb.settings.chunking.mode == "parent_child"
        else "text_model",
    }


def _document(record: DocumentRecord, position: int = 1) -> dict[str, Any]:
    return {
        "id": record.doc_id,
        "position": position,
        "data_source_type": "upload_file",
        "data_source_info": {"upload_file_id": record.doc_id},
        "dataset_process_rule_id": None,
        "name": record.name,
        "created_from": "api",
        "created_by": "",
        "created_at": int(record.created_at),
        "tokens": 0,
        "indexing_status": _STATUS[record.status],
        "error": record.error,
        "enabled": True,
        "disabled_at": None,
        "disabled_by": None,
        "archived": False,
        "display_status": "available" if record.status == "completed" else _STATUS[record.status],
        "word_count": 0,
        "hit_count": 0,
        "doc_form": "text_model",
        "segment_count": record.chunk_count,
    }


def _apply_rule(kb: KnowledgeBase, rule: ProcessRule | None) -> KnowledgeBaseSettings:
    """A document's process rule becomes the knowledge base's chunking and cleaning."""
    settings = kb.settings
    if rule is None or rule.mode == "automatic" or rule.rules is None:
        return settings
    flags = {r.get("id"): bool(r.get("enabled")) for r in rule.rules.pre_processing_rules}
    seg = rule.rules.segmentation
    chunking: dict[str, Any] = {
        "separator": seg.separator,
        "max_tokens": seg.max_tokens,
        "chunk_overlap": seg.chunk_overlap,
    }
    if rule.mode == "hierarchical":
        sub = rule.rules.subchunk_segmentation or Segmentation(separator="\n", max_tokens=200)
        chunking.update(
            mode="parent_child",
            parent_mode="full_doc" if rule.rules.parent_mode == "full-doc" else "paragraph",
            subchunk_separator=sub.separator,
            subchunk_max_tokens=sub.max_tokens,
            subchunk_overlap=sub.chunk_overlap,
        )
    try:
        return settings.model_copy(
            update={
                "cleaning": CleaningRules(
                    remove_extra_spaces=flags.get("remove_extra_spaces", True),
                    remove_urls_emails=flags.get("remove_urls_emails", False),
                ),
                "chunking": ChunkingSettings(**chunking),
            }
        )
    except ValidationError as exc:
        raise ApiError(400, "invalid_param", f"process_rule: {exc.errors()[0]['msg']}") from None


def _add_document(request: Request, kb: KnowledgeBase, name: str, data: bytes) -> dict[str, Any]:
    services = _services(request)
    writer = request.app.state.platform.knowledge_writer
    if writer is None:
        raise ApiError(503, "knowledge_unavailable", "this deployment cannot write documents")
    doc_id = document_id_for(kb.kb_id, f"kb/{kb.kb_id}/{name}")
    record = services.documents.get(kb.kb_id, doc_id) or DocumentRecord(
        kb_id=kb.kb_id, doc_id=doc_id, key=f"kb/{kb.kb_id}/{name}", name=name
    )
    record.status, record.error, record.error_code = "queued", None, None
    services.documents.put(record)
    writer.put(kb.kb_id, name, data)
    return {"document": _document(record), "batch": doc_id}


def datasets_router() -> APIRouter:
    """The ``/v1/datasets`` routes."""
    router = APIRouter(prefix="/v1/datasets", tags=["knowledge"])

    @router.post("")
    def create_dataset(body: CreateDataset, request: Request, key: KeyDep) -> dict[str, Any]:
        services = _services(request)
        settings = KnowledgeBaseSettings(embedding_model=services.default_embedding_model)
        if body.retrieval_model:
            rm = body.retrieval_model
            settings.retrieval = RetrievalSettings(
                search_method=_SEARCH[rm.search_method],
                top_k=rm.top_k,
                score_threshold=rm.score_threshold if rm.score_threshold_enabled else None,
            )
        kb = KnowledgeBase(
            kb_id=str(uuid.uuid4()), name=body.name, description=body.description, settings=settings
        )
        services.documents.put_kb(kb)
        return _dataset(kb, [])

    @router.get("")
    def list_datasets(
        request: Request,
        key: KeyDep,
        page: Annotated[int, Query(ge=1)] = 1,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        services = _services(request)
        kbs = services.documents.list_kbs()
        chosen = kbs[(page - 1) * limit : page * limit]
        return {
            "data": [_dataset(kb, services.documents.list(kb.kb_id)) for kb in chosen],
            "has_more": len(kbs) > page * limit,
            "limit": limit,
            "total": len(kbs),
            "page": page,
        }

    @router.post("/{dataset_id}/document/create-by-text")
    @router.post("/{dataset_id}/document/create_by_text", include_in_schema=False)
    def create_by_text(
        dataset_id: str, body: CreateByText, request: Request, key: KeyDep
    ) -> dict[str, Any]:
        kb = _kb(request, dataset_id)
        kb.settings = _apply_rule(kb, body.process_rule)
        _services(request).documents.put_kb(kb)
        name = body.name if "." in body.name else f"{body.name}.txt"
        return _add_document(request, kb, name, body.text.encode("utf-8"))

    @router.post("/{dataset_id}/document/create-by-file")
    @router.post("/{dataset_id}/document/create_by_file", include_in_schema=False)
    async def create_by_file(
        dataset_id: str,
        request: Request,
        key: KeyDep,
        file: Annotated[UploadFile, File()],
        data: Annotated[str | None, Form()] = None,
    ) -> dict[str, Any]:
        kb = _kb(request, dataset_id)
        rule = None
        if data:
            try:
                rule_json = json.loads(data).get("process_rule")
                rule = ProcessRule.model_validate(rule_json) if rule_json else None
            except (ValueError, AttributeError, ValidationError) as exc:
                raise ApiError(400, "invalid_param", f"data: {exc}") from None
        kb.settings = _apply_rule(kb, rule)
        _services(request).documents.put_kb(kb)
        limit = kb.settings.max_file_bytes
        content = await file.read(limit + 1)
        if len(content) > limit:
            raise ApiError(413, "file_too_large", f"File size exceeded: over {limit} bytes.")
        name = (file.filename or "upload").rsplit("/", 1)[-1]
        return _add_document(request, kb, name, content)

    @router.get("/{dataset_id}/documents")
    def list_documents(
        dataset_id: str,
        request: Request,
        key: KeyDep,
        page: Annotated[int, Query(ge=1)] = 1,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        _kb(request, dataset_id)
        records = _services(request).documents.list(dataset_id)
        chosen = records[(page - 1) * limit : page * limit]
        return {
            "data": [_document(r, i) for i, r in enumerate(chosen, start=(page - 1) * limit + 1)],
            "has_more": len(records) > page * limit,
            "limit": limit,
            "total": len(records),
            "page": page,
        }

    @router.get("/{dataset_id}/documents/{batch}/indexing-status")
    def indexing_status(
        dataset_id: str, batch: str, request: Request, key: KeyDep
    ) -> dict[str, Any]:
        _kb(request, dataset_id)
        record = _services(request).documents.get(dataset_id, batch)
        if record is None:
            raise ApiError(404, "document_not_found", "Document not found.")
        done = int(record.updated_at) if record.status in ("completed", "error") else None
        return {
            "data": [
                {
                    "id": record.doc_id,
                    "indexing_status": _STATUS[record.status],
                    "processing_started_at": int(record.created_at),
                    "parsing_completed_at": done,
                    "cleaning_completed_at": done,
                    "splitting_completed_at": done,
                    "completed_at": done if record.status == "completed" else None,
                    "paused_at": None,
                    "error": record.error,
                    "stopped_at": None,
                    "completed_segments": record.chunk_count,
                    "total_segments": record.chunk_count,
                }
            ]
        }

    @router.delete("/{dataset_id}/documents/{document_id}", status_code=204)
    def delete_document(
        dataset_id: str, document_id: str, request: Request, key: KeyDep
    ) -> Response:
        _kb(request, dataset_id)
        services = _services(request)
        record = services.documents.get(dataset_id, document_id)
        if record is None:
            raise ApiError(404, "document_not_found", "Document not found.")
        request.app.state.platform.knowledge_writer.delete(dataset_id, record.key.split("/", 2)[2])
        services.index.delete_document(dataset_id, document_id)
        services.documents.delete(dataset_id, document_id)
        return Response(status_code=204)

    @router.post("/{dataset_id}/retrieve")
    def retrieve(
        dataset_id: str, body: RetrieveBody, request: Request, key: KeyDep
    ) -> dict[str, Any]:
        from flowwright.knowledge.retrieve import chunk_position, search_kb

        _kb(request, dataset_id)
        rm = body.retrieval_model
        filters: list[MetadataFilter] = []
        logic = "and"
        if rm and rm.metadata_filtering_conditions:
            logic = str(rm.metadata_filtering_conditions.get("logical_operator", "and"))
            filters = [
                MetadataFilter.model_validate(c)
                for c in rm.metadata_filtering_conditions.get("conditions", [])
            ]
        vector_weight = None
        if rm and rm.weights:
            vector_weight = (rm.weights.get("vector_setting") or {}).get("vector_weight")
        try:
            hits = search_kb(
                _services(request),
                dataset_id,
                body.query,
                mode=_SEARCH[rm.search_method] if rm else None,  # type: ignore[arg-type]
                top_k=rm.top_k if rm else None,
                vector_weight=vector_weight,
                score_threshold=rm.score_threshold if rm and rm.score_threshold_enabled else None,
                filters=filters,
                filter_logic=logic,
            )
        except ValueError as exc:
            raise ApiError(400, "invalid_param", str(exc)) from None
        now = int(time.time())
        return {
            "query": {"content": body.query},
            "records": [
                {
                    "segment": {
                        "id": hit.chunk_id,
                        "position": chunk_position(hit.chunk_id) or 1,
                        "document_id": hit.document_id,
                        "content": hit.text,
                        "word_count": len(hit.text),
                        "tokens": 0,
                        "keywords": [],
                        "index_node_id": hit.chunk_id,
                        "index_node_hash": hit.chunk_id,
                        "hit_count": 0,
                        "enabled": True,
                        "status": "completed",
                        "created_at": now,
                        "document": {
                            "id": hit.document_id,
                            "data_source_type": "upload_file",
                            "name": hit.metadata.get("name", hit.document_id),
                        },
                    },
                    "child_chunks": [
                        {
                            "id": hit.chunk_id,
                            "content": hit.content,
                            "position": 1,
                            "score": hit.score,
                        }
                    ]
                    if hit.content != hit.text
                    else [],
                    "score": hit.score,
                    "tsne_position": None,
                }
                for hit in hits
            ],
        }

    return router
