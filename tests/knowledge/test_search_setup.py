"""The search-setup custom resource: security-plugin requests and CloudFormation replies."""

from __future__ import annotations

import json
from typing import Any

from flowwright.knowledge.search_setup import READER_ROLE, WRITER_ROLE, on_event


class RecordingTransport:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.fail = fail

    def perform_request(self, method: str, url: str, body: Any = None) -> dict[str, Any]:
        if self.fail:
            raise ConnectionError("domain not reachable")
        self.calls.append((method, url, body))
        return {"status": "OK"}


class Client:
    def __init__(self, transport: RecordingTransport) -> None:
        self.transport = transport


def event(kind: str) -> dict[str, Any]:
    return {
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-response.example/put",
        "StackId": "stack",
        "RequestId": "req-1",
        "LogicalResourceId": "SearchRoles",
        "ResourceProperties": {
            "ServiceToken": "arn:fn",
            "Endpoint": "https://search.example",
            "WriterRoles": ["arn:aws:iam::1:role/ingest"],
            "ReaderRoles": ["arn:aws:iam::1:role/api", "arn:aws:iam::1:role/retrieval"],
        },
    }


def test_create_maps_roles_to_knowledge_only_permissions() -> None:
    transport, replies = RecordingTransport(), []
    on_event(
        event("Create"),
        None,
        connect=lambda endpoint: Client(transport),
        respond=lambda url, body: replies.append((url, json.loads(body))),
    )
    urls = [(m, u) for m, u, _ in transport.calls]
    assert urls == [
        ("PUT", f"/_plugins/_security/api/roles/{WRITER_ROLE}"),
        ("PUT", f"/_plugins/_security/api/rolesmapping/{WRITER_ROLE}"),
        ("PUT", f"/_plugins/_security/api/roles/{READER_ROLE}"),
        ("PUT", f"/_plugins/_security/api/rolesmapping/{READER_ROLE}"),
    ]
    bodies = {u: b for _, u, b in transport.calls}
    writer = bodies[f"/_plugins/_security/api/roles/{WRITER_ROLE}"]
    assert writer["index_permissions"][0]["index_patterns"] == ["flowwright-kb-*"]
    reader = bodies[f"/_plugins/_security/api/roles/{READER_ROLE}"]
    assert set(reader["index_permissions"][0]["allowed_actions"]) == {"read", "search"}
    assert bodies[f"/_plugins/_security/api/rolesmapping/{READER_ROLE}"] == {
        "backend_roles": ["arn:aws:iam::1:role/api", "arn:aws:iam::1:role/retrieval"]
    }
    ((url, reply),) = replies
    assert url == "https://cloudformation-response.example/put"
    assert reply["Status"] == "SUCCESS" and reply["RequestId"] == "req-1"


def test_failures_are_reported_to_cloudformation_not_raised() -> None:
    replies: list[dict[str, Any]] = []
    on_event(
        event("Update"),
        None,
        connect=lambda endpoint: Client(RecordingTransport(fail=True)),
        respond=lambda url, body: replies.append(json.loads(body)),
    )
    assert replies[0]["Status"] == "FAILED"
    assert "domain not reachable" in replies[0]["Reason"]


def test_delete_leaves_the_domain_alone() -> None:
    transport, replies = RecordingTransport(), []
    on_event(
        event("Delete"),
        None,
        connect=lambda endpoint: Client(transport),
        respond=lambda url, body: replies.append(json.loads(body)),
    )
    assert transport.calls == [] and replies[0]["Status"] == "SUCCESS"
