"""One object event, end to end: extract -> clean -> chunk -> embed -> index, with a record.

Permanent problems (a file that cannot be read, no text, too large) end the document in
``error`` with the reason and are not retried. Transient ones (the embedding model or the
index failing) are recorded too and raised, so SQS redelivers the event and, after
``maxReceiveCount`` attempts, moves it to the dead-letter queue.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flowwright.knowledge.chunk import chunk_document
from flowwright.knowledge.documents import DocumentRecord, KnowledgeBase, document_id_for
from flowwright.knowledge.embed import embed_texts
from flowwright.knowledge.events import SIDECAR_SUFFIX, ObjectEvent, newer
from flowwright.knowledge.extract import ExtractionError, extract, extract_isolated
from flowwright.knowledge.models import KnowledgeBaseSettings
from flowwright.knowledge.services import KnowledgeServices

__all__ = ["handle_object_event", "knowledge_base"]

logger = logging.getLogger(__name__)


def knowledge_base(services: KnowledgeServices, kb_id: str) -> KnowledgeBase:
    """The knowledge base ``kb_id``; created with the defaults on its first document."""
    kb = services.documents.get_kb(kb_id)
    if kb is None:
        kb = KnowledgeBase(
            kb_id=kb_id,
            name=kb_id,
            settings=KnowledgeBaseSettings(embedding_model=services.default_embedding_model),
        )
        services.documents.put_kb(kb)
    return kb


def handle_object_event(
    event: ObjectEvent, services: KnowledgeServices, *, final_attempt: bool = True
) -> DocumentRecord | None:
    """Apply one S3 event to the index; returns the document's record (None when removed).

    ``final_attempt`` says whether SQS will deliver the event again if this attempt fails:
    until then a transient failure leaves the document ``queued`` (retrying), not ``error``.
    """
    if event.is_sidecar:
        return _sidecar_changed(event, services, final_attempt)
    doc_id = document_id_for(event.kb_id, event.key)
    record = services.documents.get(event.kb_id, doc_id)
    if record is not None and not newer(event.sequencer, record.sequencer):
        logger.info("skipping %s: an event at least as new was applied", event.key)
        return record
    if event.kind == "removed":
        services.index.delete_document(event.kb_id, doc_id)
        services.documents.delete(event.kb_id, doc_id)
        return None
    if record is not None and record.status == "completed" and record.version == event.version:
        return record  # redelivery of an event already indexed
    return index_object(
        event.kb_id, event.key, services, event=event, record=record, final_attempt=final_attempt
    )


def index_object(
    kb_id: str,
    key: str,
    services: KnowledgeServices,
    *,
    event: ObjectEvent | None = None,
    record: DocumentRecord | None = None,
    final_attempt: bool = True,
) -> DocumentRecord | None:
    """(Re)index the current object at ``key`` and return its record."""
    kb = knowledge_base(services, kb_id)
    doc_id = document_id_for(kb_id, key)
    name = key.rsplit("/", 1)[-1]
    record = record or services.documents.get(kb_id, doc_id)
    if record is None:
        record = DocumentRecord(kb_id=kb_id, doc_id=doc_id, key=key, name=name)
    record.status, record.error, record.error_code = "indexing", None, None
    record.attempts += 1
    if event is not None:
        record.version, record.sequencer, record.size = event.version, event.sequencer, event.size
    services.documents.put(record)
    objects = services.objects
    if objects is None:
        raise RuntimeError("no knowledge bucket configured (FLOWWRIGHT_KNOWLEDGE_BUCKET)")
    limit = min(services.limits.max_bytes, kb.settings.max_file_bytes)
    try:
        data = objects.read(key, event.version_id if event else None, max_bytes=limit)
    except ValueError as exc:
        return _fail(
            services,
            record,
            "too_large",
            f"{name}: {exc.args[0]} bytes, over the {limit}-byte limit",
        )
    if data is None:  # deleted before we got to it: the removal event cleans up
        services.documents.delete(kb_id, doc_id)
        return None
    record.size = len(data)
    try:
        metadata = _sidecar(services, key, limit)
        run = extract_isolated if services.isolate_extraction else extract
        document = run(
            data, filename=name, limits=services.limits.model_copy(update={"max_bytes": limit})
        )
    except ExtractionError as exc:
        return _fail(services, record, exc.code, exc.reason)
    record.content_type = str(document.metadata.get("content_type") or "") or None
    record.page_count = document.metadata.get("page_count")
    record.metadata = {
        "source_key": key,
        "name": name,
        "title": document.metadata.get("title") or name,
        "content_type": record.content_type,
        "size": record.size,
        **metadata,
    }
    chunks = chunk_document(
        document,
        document_id=doc_id,
        settings=kb.settings.chunking,
        cleaning=kb.settings.cleaning,
        metadata={**record.metadata, "document_id": doc_id, "document_name": name},
    )
    if not chunks:
        return _fail(services, record, "no_text", f"{name}: no text left after cleaning")
    try:
        vectors = embed_texts([c.content for c in chunks], model=kb.settings.embedding_model)
        for chunk, vector in zip(chunks, vectors, strict=True):
            chunk.vector = vector
        services.index.ensure(kb_id, len(vectors[0]))
        services.index.replace_document(kb_id, doc_id, chunks)
    except Exception as exc:
        if final_attempt:
            reason = f"{name}: {exc} (attempt {record.attempts}, the last: the event is in the dead-letter queue)"
            _fail(services, record, "indexing_failed", reason)
        else:  # SQS delivers the event again: the document is waiting, not failed
            record.status, record.error_code = "queued", "retrying"
            record.error = f"{name}: attempt {record.attempts} failed: {exc}; will retry"
            services.documents.put(record)
        raise
    record.status, record.chunk_count = "completed", len(chunks)
    services.documents.put(record)
    return record


def _sidecar_changed(
    event: ObjectEvent, services: KnowledgeServices, final_attempt: bool
) -> DocumentRecord | None:
    """New or removed metadata: reindex the document it describes, if that exists."""
    target = event.key[: -len(SIDECAR_SUFFIX)]
    record = services.documents.get(event.kb_id, document_id_for(event.kb_id, target))
    if record is None:
        return None  # the document itself comes later and reads the sidecar then
    return index_object(event.kb_id, target, services, record=record, final_attempt=final_attempt)


def _sidecar(services: KnowledgeServices, key: str, limit: int) -> dict[str, Any]:
    assert services.objects is not None
    name = key.rsplit("/", 1)[-1] + SIDECAR_SUFFIX
    try:
        data = services.objects.read(key + SIDECAR_SUFFIX, max_bytes=min(limit, 1024 * 1024))
    except ValueError as exc:
        raise ExtractionError("too_large", f"{name}: over 1 MiB") from exc
    if data is None:
        return {}
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExtractionError("decode", f"{name}: not valid JSON ({exc})") from exc
    if not isinstance(value, dict) or not all(
        isinstance(v, str | int | float | bool) or v is None for v in value.values()
    ):
        raise ExtractionError(
            "decode", f"{name}: must be a JSON object of strings, numbers or booleans"
        )
    return value


def _fail(
    services: KnowledgeServices, record: DocumentRecord, code: str, reason: str
) -> DocumentRecord:
    record.status, record.error_code, record.error = "error", code, reason
    services.documents.put(record)
    logger.warning("document %s in error: %s", record.key, reason)
    return record
