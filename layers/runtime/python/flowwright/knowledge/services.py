"""What the knowledge pipeline and retrieval need, built once per process (composition root)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flowwright.knowledge.documents import DocumentStore, DynamoDbDocumentStore, SqliteDocumentStore
from flowwright.knowledge.extract import ExtractLimits
from flowwright.knowledge.index.base import KnowledgeIndex

__all__ = ["KnowledgeServices", "ObjectReader", "knowledge_from_env", "local_knowledge_services"]

LOCAL_EMBEDDING_MODEL = "flowwright-local/multilingual-e5-small"


class ObjectReader:
    """Reads knowledge files from one S3 bucket (a specific version when given)."""

    def __init__(self, bucket: str, *, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.bucket = bucket
        self._s3 = client

    def read(self, key: str, version_id: str | None = None, *, max_bytes: int) -> bytes | None:
        """The object's bytes; None when it no longer exists. Larger than ``max_bytes``:
        ValueError (the caller records ``too_large`` without downloading it)."""
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            head = self._s3.head_object(**kwargs)
            if int(head.get("ContentLength", 0)) > max_bytes:
                raise ValueError(int(head["ContentLength"]))
            body: bytes = self._s3.get_object(**kwargs)["Body"].read()
            return body
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NoSuchVersion", "NotFound"):
                return None
            raise


@dataclass
class KnowledgeServices:
    """Document records, the search index, the files, and defaults for new knowledge bases."""

    documents: DocumentStore
    index: KnowledgeIndex
    objects: ObjectReader | None = None
    default_embedding_model: str = LOCAL_EMBEDDING_MODEL
    limits: ExtractLimits = field(default_factory=ExtractLimits)
    #: Run extraction in a child process with time and memory caps (off only in unit tests).
    isolate_extraction: bool = True


def local_knowledge_services(
    data_dir: str | Path, *, objects: ObjectReader | None = None
) -> KnowledgeServices:
    """The embedded defaults: SQLite records and the embedded index under ``data_dir``."""
    from flowwright.knowledge.index.embedded import EmbeddedIndex

    root = Path(data_dir) / "knowledge"
    return KnowledgeServices(
        documents=SqliteDocumentStore(root / "documents.sqlite"),
        index=EmbeddedIndex(root / "index"),
        objects=objects,
    )


def knowledge_from_env() -> KnowledgeServices:
    """Services of a Lambda function, from the variables stacks/ sets (OpenSearch, DynamoDB)."""
    from flowwright.knowledge.index.opensearch import OpenSearchIndex

    endpoint = os.environ["FLOWWRIGHT_SEARCH_ENDPOINT"]
    service: Literal["es", "aoss"] = (
        "aoss" if os.environ.get("FLOWWRIGHT_SEARCH_SERVICE") == "aoss" else "es"
    )
    bucket = os.environ.get("FLOWWRIGHT_KNOWLEDGE_BUCKET")
    max_mb = int(os.environ.get("FLOWWRIGHT_MAX_DOCUMENT_MB", "50"))
    return KnowledgeServices(
        documents=DynamoDbDocumentStore(os.environ["FLOWWRIGHT_DOCUMENTS_TABLE"]),
        index=OpenSearchIndex.connect(
            endpoint, region=os.environ.get("AWS_REGION", "us-east-1"), service=service
        ),
        objects=ObjectReader(bucket) if bucket else None,
        default_embedding_model=os.environ.get("FLOWWRIGHT_EMBEDDING_MODEL", LOCAL_EMBEDDING_MODEL),
        limits=ExtractLimits(max_bytes=max_mb * 1024 * 1024),
    )
