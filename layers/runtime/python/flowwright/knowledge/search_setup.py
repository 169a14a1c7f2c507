"""Deploy-time setup of an OpenSearch domain with fine-grained access control.

A CloudFormation custom resource (functions/search_setup) runs this as the domain's master
user: it creates two roles limited to the knowledge indexes (``flowwright-kb-*``) and maps
the functions' IAM roles to them (writers: the ingest function; readers: the API and the
knowledge-retrieval node). Nothing else may use the domain.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["READER_ROLE", "WRITER_ROLE", "SetupRequest", "apply_roles", "on_event", "role_bodies"]

INDEX_PATTERN = "flowwright-kb-*"
WRITER_ROLE = "flowwright_kb_writer"
READER_ROLE = "flowwright_kb_reader"


class SetupRequest(BaseModel):
    """The custom resource's properties."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    endpoint: str = Field(alias="Endpoint")
    writer_roles: list[str] = Field(default_factory=list, alias="WriterRoles")
    reader_roles: list[str] = Field(default_factory=list, alias="ReaderRoles")


def role_bodies() -> dict[str, dict[str, Any]]:
    """The security-plugin role definitions (``PUT _plugins/_security/api/roles/<name>``)."""
    return {
        WRITER_ROLE: {
            "cluster_permissions": [
                "cluster_composite_ops",
                "cluster:admin/search/pipeline/get",
                "cluster:admin/search/pipeline/put",
            ],
            "index_permissions": [
                {
                    "index_patterns": [INDEX_PATTERN],
                    "allowed_actions": ["crud", "create_index", "manage"],
                }
            ],
        },
        READER_ROLE: {
            "cluster_permissions": ["cluster_composite_ops_ro"],
            "index_permissions": [
                {"index_patterns": [INDEX_PATTERN], "allowed_actions": ["read", "search"]}
            ],
        },
    }


def apply_roles(client: Any, request: SetupRequest) -> None:
    """Create the roles and map the functions' IAM roles to them (idempotent PUTs)."""
    mapping = {WRITER_ROLE: request.writer_roles, READER_ROLE: request.reader_roles}
    for name, body in role_bodies().items():
        client.transport.perform_request("PUT", f"/_plugins/_security/api/roles/{name}", body=body)
        client.transport.perform_request(
            "PUT",
            f"/_plugins/_security/api/rolesmapping/{name}",
            body={"backend_roles": sorted(mapping[name])},
        )


def on_event(
    event: dict[str, Any],
    context: Any,
    *,
    connect: Callable[[str], Any] | None = None,
    respond: Callable[[str, bytes], None] | None = None,
) -> dict[str, Any]:
    """Handle one CloudFormation custom-resource event and report the outcome to it."""
    status, reason = "SUCCESS", "search roles mapped"
    try:
        if event.get("RequestType") in ("Create", "Update"):
            request = SetupRequest.model_validate(event.get("ResourceProperties") or {})
            client = (connect or _connect)(request.endpoint)
            apply_roles(client, request)
        else:
            reason = "nothing to remove: roles stay until the domain is deleted"
    except Exception as exc:  # CloudFormation must hear about every failure, or it waits an hour
        status, reason = "FAILED", f"{type(exc).__name__}: {exc}"[:500]
    response: dict[str, Any] = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": event.get("PhysicalResourceId") or "flowwright-search-roles",
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "Data": {},
    }
    (respond or _put)(str(event.get("ResponseURL", "")), json.dumps(response).encode())
    return response


def _put(url: str, body: bytes) -> None:
    request = urllib.request.Request(
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def _connect(endpoint: str) -> Any:
    from flowwright.knowledge.index.opensearch import OpenSearchIndex

    region = os.environ.get("AWS_REGION", "us-east-1")
    return OpenSearchIndex.connect(endpoint, region, "es").client
