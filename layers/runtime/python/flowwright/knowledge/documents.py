"""Knowledge bases and their documents' status records (queued, indexing, completed, error).

Locally they live in SQLite under the data folder; in AWS in the ``documents`` DynamoDB table
(``kb_id`` hash, ``doc_id`` range; knowledge bases themselves are the items of the
partition ``kb_id = "#kb"``, one per knowledge base, so listing them is one query).
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from flowwright.knowledge.models import KnowledgeBaseSettings
from flowwright.runtime.sqlite import connect, prepare

__all__ = [
    "DocumentRecord",
    "DocumentStatus",
    "DocumentStore",
    "DynamoDbDocumentStore",
    "KnowledgeBase",
    "SqliteDocumentStore",
    "document_id_for",
]

DocumentStatus = Literal["queued", "indexing", "completed", "error"]
_KB_PARTITION = "#kb"


def document_id_for(kb_id: str, key: str) -> str:
    """Stable id of the document stored at ``key``: a re-upload is the same document."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"flowwright-kb:{kb_id}:{key}"))


class KnowledgeBase(BaseModel):
    """A knowledge base and the settings its documents are processed with."""

    kb_id: str
    name: str
    description: str = ""
    settings: KnowledgeBaseSettings = Field(default_factory=KnowledgeBaseSettings)
    created_at: float = Field(default_factory=time.time)


class DocumentRecord(BaseModel):
    """Where one document stands; ``error`` says why it is not indexed."""

    kb_id: str
    doc_id: str
    key: str
    name: str
    status: DocumentStatus = "queued"
    error: str | None = None
    error_code: str | None = None
    chunk_count: int = 0
    page_count: int | None = None
    size: int | None = None
    content_type: str | None = None
    #: The object version (S3 versionId, else ETag) that the index holds or is working on.
    version: str | None = None
    #: S3's per-key event order: older events than this one are ignored.
    sequencer: str | None = None
    attempts: int = 0
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)


class DocumentStore(Protocol):
    """Knowledge bases and document records."""

    def put_kb(self, kb: KnowledgeBase) -> None: ...

    def get_kb(self, kb_id: str) -> KnowledgeBase | None: ...

    def list_kbs(self) -> list[KnowledgeBase]: ...

    def put(self, record: DocumentRecord) -> None: ...

    def get(self, kb_id: str, doc_id: str) -> DocumentRecord | None: ...

    def list(self, kb_id: str) -> list[DocumentRecord]: ...

    def delete(self, kb_id: str, doc_id: str) -> None: ...


class SqliteDocumentStore:
    """A :class:`DocumentStore` in one SQLite file (local use and tests)."""

    def __init__(self, path: str | Path) -> None:
        self._path = prepare(
            path,
            "CREATE TABLE IF NOT EXISTS items (kb_id TEXT NOT NULL, doc_id TEXT NOT NULL,"
            " body TEXT NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (kb_id, doc_id));",
        )
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        return connect(self._path)

    def _put(self, kb_id: str, doc_id: str, body: str) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
                (kb_id, doc_id, body, time.time()),
            )

    def _get(self, kb_id: str, doc_id: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT body FROM items WHERE kb_id = ? AND doc_id = ?", (kb_id, doc_id)
            ).fetchone()
        return row[0] if row else None

    def put_kb(self, kb: KnowledgeBase) -> None:
        self._put(_KB_PARTITION, kb.kb_id, kb.model_dump_json())

    def get_kb(self, kb_id: str) -> KnowledgeBase | None:
        body = self._get(_KB_PARTITION, kb_id)
        return KnowledgeBase.model_validate_json(body) if body else None

    def list_kbs(self) -> list[KnowledgeBase]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT body FROM items WHERE kb_id = ? ORDER BY doc_id", (_KB_PARTITION,)
            ).fetchall()
        return [KnowledgeBase.model_validate_json(r[0]) for r in rows]

    def put(self, record: DocumentRecord) -> None:
        record.updated_at = time.time()
        self._put(record.kb_id, record.doc_id, record.model_dump_json())

    def get(self, kb_id: str, doc_id: str) -> DocumentRecord | None:
        body = self._get(kb_id, doc_id)
        return DocumentRecord.model_validate_json(body) if body else None

    def list(self, kb_id: str) -> list[DocumentRecord]:
        with self._connect() as db:
            rows = db.execute("SELECT body FROM items WHERE kb_id = ?", (kb_id,)).fetchall()
        records = [DocumentRecord.model_validate_json(r[0]) for r in rows]
        return sorted(records, key=lambda r: (r.created_at, r.doc_id))

    def delete(self, kb_id: str, doc_id: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM items WHERE kb_id = ? AND doc_id = ?", (kb_id, doc_id))


class DynamoDbDocumentStore:
    """A :class:`DocumentStore` in the ``documents`` table (``kb_id`` hash, ``doc_id`` range)."""

    def __init__(self, table_name: str, *, resource: Any = None) -> None:
        if resource is None:
            import boto3

            resource = boto3.resource("dynamodb")
        self._table = resource.Table(table_name)

    def _put(self, kb_id: str, doc_id: str, body: str, status: str | None = None) -> None:
        item = {"kb_id": kb_id, "doc_id": doc_id, "body": body}
        if status:
            item["status"] = status
        self._table.put_item(Item=item)

    def _get(self, kb_id: str, doc_id: str) -> str | None:
        item = self._table.get_item(
            Key={"kb_id": kb_id, "doc_id": doc_id}, ConsistentRead=True
        ).get("Item")
        return str(item["body"]) if item else None

    def _query(self, kb_id: str) -> list[dict[str, Any]]:
        from boto3.dynamodb.conditions import Key

        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("kb_id").eq(kb_id)}
        while True:
            page = self._table.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put_kb(self, kb: KnowledgeBase) -> None:
        self._put(_KB_PARTITION, kb.kb_id, kb.model_dump_json())

    def get_kb(self, kb_id: str) -> KnowledgeBase | None:
        body = self._get(_KB_PARTITION, kb_id)
        return KnowledgeBase.model_validate_json(body) if body else None

    def list_kbs(self) -> list[KnowledgeBase]:
        items = self._query(_KB_PARTITION)
        return [KnowledgeBase.model_validate_json(str(i["body"])) for i in items]

    def put(self, record: DocumentRecord) -> None:
        record.updated_at = time.time()
        self._put(record.kb_id, record.doc_id, record.model_dump_json(), record.status)

    def get(self, kb_id: str, doc_id: str) -> DocumentRecord | None:
        body = self._get(kb_id, doc_id)
        return DocumentRecord.model_validate_json(body) if body else None

    def list(self, kb_id: str) -> list[DocumentRecord]:
        records = [DocumentRecord.model_validate_json(str(i["body"])) for i in self._query(kb_id)]
        return sorted(records, key=lambda r: (r.created_at, r.doc_id))

    def delete(self, kb_id: str, doc_id: str) -> None:
        self._table.delete_item(Key={"kb_id": kb_id, "doc_id": doc_id})
