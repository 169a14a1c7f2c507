"""S3 event notifications (as SQS message bodies) turned into object events.

Keys follow ``kb/<kb id>/<path>``; ``<path>.metadata.json`` is the sidecar of ``<path>``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel

__all__ = [
    "KB_ID_PATTERN",
    "SIDECAR_SUFFIX",
    "EventError",
    "ObjectEvent",
    "newer",
    "parse_message",
    "split_key",
]

KB_PREFIX = "kb/"
SIDECAR_SUFFIX = ".metadata.json"
KB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class EventError(ValueError):
    """A message that is not an S3 event flowwright can act on (never retried)."""


class ObjectEvent(BaseModel):
    """One object created or removed under ``kb/``."""

    kind: Literal["created", "removed"]
    bucket: str
    key: str
    kb_id: str
    path: str
    size: int | None = None
    version_id: str | None = None
    etag: str | None = None
    sequencer: str | None = None

    @property
    def is_sidecar(self) -> bool:
        return self.path.endswith(SIDECAR_SUFFIX)

    @property
    def version(self) -> str | None:
        return self.version_id or self.etag


def split_key(key: str) -> tuple[str, str]:
    """``kb/<kb id>/<path>`` -> (kb id, path); EventError for keys outside that layout."""
    if not key.startswith(KB_PREFIX):
        raise EventError(f"{key}: not under {KB_PREFIX}")
    kb_id, _, path = key[len(KB_PREFIX) :].partition("/")
    if not KB_ID_PATTERN.match(kb_id) or not path or path.endswith("/"):
        raise EventError(
            f"{key}: expected kb/<knowledge base id>/<file>, the id made of letters, digits, "
            "'.', '_' or '-' (at most 64)"
        )
    return kb_id, path


def parse_message(body: str) -> list[ObjectEvent]:
    """The object events in one SQS message body (S3's test event yields none)."""
    try:
        payload: Any = json.loads(body)
    except json.JSONDecodeError as exc:
        raise EventError(f"message body is not JSON: {exc.msg}") from exc
    if not isinstance(payload, dict):
        raise EventError("message body is not an S3 event")
    if payload.get("Event") == "s3:TestEvent":
        return []
    records = payload.get("Records")
    if not isinstance(records, list):
        raise EventError("message body has no S3 Records")
    events = []
    for record in records:
        name = str(record.get("eventName", ""))
        if name.startswith("ObjectCreated:"):
            kind: Literal["created", "removed"] = "created"
        elif name.startswith("ObjectRemoved:"):
            kind = "removed"
        else:
            continue
        s3 = record.get("s3") or {}
        obj = s3.get("object") or {}
        key = unquote_plus(str(obj.get("key", "")))
        kb_id, path = split_key(key)
        events.append(
            ObjectEvent(
                kind=kind,
                bucket=str((s3.get("bucket") or {}).get("name", "")),
                key=key,
                kb_id=kb_id,
                path=path,
                size=obj.get("size"),
                version_id=obj.get("versionId"),
                etag=obj.get("eTag"),
                sequencer=obj.get("sequencer"),
            )
        )
    return events


def newer(sequencer: str | None, than: str | None) -> bool:
    """S3 sequencers order events of one key: right-pad the shorter with zeros, then compare
    (S3's documented rule)."""
    if not sequencer or not than:
        return True
    width = max(len(sequencer), len(than))
    return sequencer.upper().ljust(width, "0") > than.upper().ljust(width, "0")
