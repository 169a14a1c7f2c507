"""Knowledge ingestion on this machine, through the same path as in AWS.

Files are put into a versioned S3 bucket in moto, whose event notifications feed an SQS queue
(with a dead-letter queue after three receives); the queue is drained into the ingest
function's code, as Lambda's event source mapping would, and the index is the embedded one
under the data folder. moto sends no ObjectRemoved notifications, so :meth:`delete` sends the
event S3 would send.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowwright.knowledge.documents import DocumentRecord, document_id_for
from flowwright.knowledge.events import KB_ID_PATTERN, SIDECAR_SUFFIX
from flowwright.knowledge.ingest_entry import handle_sqs_batch
from flowwright.knowledge.services import (
    KnowledgeServices,
    ObjectReader,
    local_knowledge_services,
)

__all__ = ["LocalKnowledge"]

REGION = "us-east-1"
MAX_RECEIVES = 3


class LocalKnowledge:
    """``add_files`` / ``add_text`` / ``delete`` / ``documents`` on the embedded defaults."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self._mock: Any = None
        self.services: KnowledgeServices | None = None
        self._id = uuid.uuid4().hex[:8]

    def __enter__(self) -> LocalKnowledge:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        if self._mock is not None:
            return
        from flowwright.runtime.local import _MOTO

        self._mock = _MOTO.acquire()
        import boto3

        self._s3 = boto3.client("s3", region_name=REGION)
        self._sqs = boto3.client("sqs", region_name=REGION)
        self.bucket = f"flowwright-local-knowledge-{self._id}"
        self._s3.create_bucket(Bucket=self.bucket)
        self._s3.put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        self.dead_letters = self._sqs.create_queue(QueueName=f"flowwright-ingest-dlq-{self._id}")[
            "QueueUrl"
        ]
        dlq_arn = self._arn(self.dead_letters)
        self.queue = self._sqs.create_queue(
            QueueName=f"flowwright-ingest-{self._id}",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
                )
            },
        )["QueueUrl"]
        self.queue_arn = self._arn(self.queue)  # looked up once, used by every batch
        self._s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": self.queue_arn,
                        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "kb/"}]}},
                    }
                ]
            },
        )
        self.services = local_knowledge_services(
            self.data_dir, objects=ObjectReader(self.bucket, client=self._s3)
        )

    def close(self) -> None:
        if self._mock is not None:
            from flowwright.runtime.local import _MOTO

            self._mock = None
            _MOTO.release()

    def _arn(self, queue_url: str) -> str:
        attributes = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    # ------------------------------------------------------------------ writes
    def add_files(
        self,
        kb_id: str,
        paths: Iterable[str | Path],
        *,
        progress: Callable[[int, int, DocumentRecord | None], None] | None = None,
    ) -> list[DocumentRecord]:
        """Upload files (folders recursively; ``x.metadata.json`` as the sidecar of ``x``) to
        ``kb/<kb_id>/`` and ingest them; returns each document's record."""
        _check_kb(kb_id)
        files = _expand(paths)
        sidecars = [(p, n) for p, n in files if n.endswith(SIDECAR_SUFFIX)]
        documents = [(p, n) for p, n in files if not n.endswith(SIDECAR_SUFFIX)]
        for path, name in sidecars + documents:  # sidecars first: a document reads its sidecar
            self.put(kb_id, name, path.read_bytes())
        return self._ingest(kb_id, [n for _, n in documents], progress)

    def add_text(self, kb_id: str, name: str, text: str) -> DocumentRecord:
        """Ingest ``text`` as the document ``name`` (e.g. ``notes.md``)."""
        _check_kb(kb_id)
        self.put(kb_id, name, text.encode("utf-8"))
        return self._ingest(kb_id, [name], None)[0]

    def put(self, kb_id: str, name: str, data: bytes) -> None:
        """Upload one object (its event waits in the queue until :meth:`drain`)."""
        self._s3.put_object(Bucket=self.bucket, Key=f"kb/{kb_id}/{name}", Body=data)

    def delete(self, kb_id: str, name: str) -> None:
        """Delete the object and apply its ObjectRemoved event."""
        key = f"kb/{kb_id}/{name}"
        self._s3.delete_object(Bucket=self.bucket, Key=key)
        record = {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "eventTime": datetime.now(UTC).isoformat(),
            "eventName": "ObjectRemoved:Delete",
            "s3": {"bucket": {"name": self.bucket}, "object": {"key": key}},
        }
        self._sqs.send_message(QueueUrl=self.queue, MessageBody=json.dumps({"Records": [record]}))
        self.drain()

    # ------------------------------------------------------------------ the event source
    def drain(self, on_batch: Callable[[int], None] | None = None) -> int:
        """Deliver queued messages to the ingest code in batches of up to 10 until the queue
        is empty; failed messages come back until they land in the dead-letter queue.
        Returns how many messages were delivered."""
        assert self.services is not None
        delivered = 0
        while True:
            messages = self._sqs.receive_message(
                QueueUrl=self.queue,
                MaxNumberOfMessages=10,
                AttributeNames=["ApproximateReceiveCount"],
                VisibilityTimeout=30,
            ).get("Messages", [])
            if not messages:
                return delivered
            failed = self._deliver(messages)
            for message in messages:
                if message["MessageId"] in failed:  # visible again at once: retried now
                    self._sqs.change_message_visibility(
                        QueueUrl=self.queue,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
                else:
                    self._sqs.delete_message(
                        QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"]
                    )
            delivered += len(messages)
            if on_batch is not None:
                on_batch(len(messages))

    def _deliver(self, messages: list[dict[str, Any]]) -> set[str]:
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m.get("MD5OfBody", ""),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": REGION,
                }
                for m in messages
            ]
        }
        try:
            result = handle_sqs_batch(event, None, services=self.services)
        except Exception:  # Powertools raises when every record failed
            return {m["MessageId"] for m in messages}
        return {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}

    def dead_letter_count(self) -> int:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.dead_letters, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def _ingest(
        self,
        kb_id: str,
        names: list[str],
        progress: Callable[[int, int, DocumentRecord | None], None] | None,
    ) -> list[DocumentRecord]:
        assert self.services is not None
        total, done = len(names), 0

        def on_batch(count: int) -> None:
            nonlocal done
            done = min(total, done + count)
            if progress is not None:
                progress(done, total, None)

        self.drain(on_batch)
        records = []
        for name in names:
            doc_id = document_id_for(kb_id, f"kb/{kb_id}/{name}")
            record = self.services.documents.get(kb_id, doc_id)
            if record is not None:
                records.append(record)
        return records

    # ------------------------------------------------------------------ reads
    def documents(self, kb_id: str) -> list[DocumentRecord]:
        assert self.services is not None
        return self.services.documents.list(kb_id)


def _check_kb(kb_id: str) -> None:
    if not KB_ID_PATTERN.match(kb_id):
        raise ValueError(
            f"knowledge base {kb_id!r}: use letters, digits, '.', '_' or '-' (at most 64)"
        )


def _expand(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """Files and their names in the knowledge base (paths relative to a given folder)."""
    files: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                (p, p.relative_to(path).as_posix())
                for p in sorted(path.rglob("*"))
                if p.is_file() and not p.name.startswith(".")
            )
        elif path.is_file():
            files.append((path, path.name))
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return files
