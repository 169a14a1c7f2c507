"""Blob storage for offloaded values: S3 in AWS and locally (moto), memory in unit tests."""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

__all__ = ["BlobStore", "InMemoryBlobStore", "S3BlobStore"]


class BlobStore(Protocol):
    """Stores JSON documents and hands back a URI to fetch them with."""

    def put_json(self, key: str, value: Any) -> str: ...

    def get_json(self, uri: str) -> Any: ...


class InMemoryBlobStore:
    """A :class:`BlobStore` in a dict (tests)."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put_json(self, key: str, value: Any) -> str:
        uri = f"mem://{key}"
        with self._lock:
            self._data[uri] = json.dumps(value, ensure_ascii=False).encode("utf-8")
        return uri

    def get_json(self, uri: str) -> Any:
        with self._lock:
            raw = self._data[uri]
        return json.loads(raw)


class S3BlobStore:
    """A :class:`BlobStore` in one S3 bucket (``s3://bucket/key`` URIs)."""

    def __init__(self, bucket: str, *, client: Any = None, prefix: str = "") -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self._client = client
        self._bucket = bucket
        self._prefix = prefix

    def put_json(self, key: str, value: Any) -> str:
        full_key = f"{self._prefix}{key}"
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
        self._client.put_object(
            Bucket=self._bucket, Key=full_key, Body=body, ContentType="application/json"
        )
        return f"s3://{self._bucket}/{full_key}"

    def get_json(self, uri: str) -> Any:
        if not uri.startswith("s3://"):
            raise ValueError(f"not an S3 URI: {uri}")
        bucket, _, key = uri[5:].partition("/")
        body = self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return json.loads(body)
