"""Putting documents into knowledge bases the way users do: objects under ``kb/<id>/``.

In AWS the object's S3 event reaches the ingest function; locally the moto bucket's queue
is drained in a background thread, so API requests return while documents are indexed.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

__all__ = ["BackgroundLocalWriter", "KnowledgeWriter", "S3KnowledgeWriter"]


class KnowledgeWriter(Protocol):
    """Adds or removes one document file of a knowledge base."""

    def put(self, kb_id: str, name: str, data: bytes) -> None: ...

    def delete(self, kb_id: str, name: str) -> None: ...


class S3KnowledgeWriter:
    """Writes to the knowledge bucket; S3 events do the rest."""

    def __init__(self, bucket: str, *, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.bucket = bucket
        self._s3 = client

    def put(self, kb_id: str, name: str, data: bytes) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=f"kb/{kb_id}/{name}", Body=data)

    def delete(self, kb_id: str, name: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=f"kb/{kb_id}/{name}")


class BackgroundLocalWriter:
    """A :class:`flowwright.knowledge.local.LocalKnowledge` whose queue drains in the
    background (one drain at a time)."""

    def __init__(self, knowledge: Any) -> None:
        self.knowledge = knowledge
        self._drain_lock = threading.Lock()
        self._state = threading.Lock()
        self._pending = False
        self._thread: threading.Thread | None = None

    def put(self, kb_id: str, name: str, data: bytes) -> None:
        self.knowledge.put(kb_id, name, data)
        with self._state:
            self._pending = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, daemon=True, name="ingest")
                self._thread.start()

    def delete(self, kb_id: str, name: str) -> None:
        with self._drain_lock:
            self.knowledge.delete(kb_id, name)

    def _drain(self) -> None:
        while True:
            with self._state:
                if not self._pending:
                    self._thread = None
                    return
                self._pending = False
            with self._drain_lock:
                self.knowledge.drain()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until queued documents are processed (tests, benchmarks)."""
        with self._state:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True
