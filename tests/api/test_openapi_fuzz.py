"""schemathesis against the served /openapi.json: no 5xx, answers match the document."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow


def key_for(path: str, server: Any) -> str:
    if path.startswith("/v1/datasets"):
        return server.keys["dataset"]
    if path.startswith(("/v1/chat-messages", "/v1/conversations", "/v1/messages")):
        return server.keys["chat-assistant"]
    return server.keys["echo"]


def test_api_never_fails_and_matches_its_document(server: Any, scripted: Any) -> None:
    scripted({"*": "scripted"})
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            if isinstance(case.body, dict) and case.body.get("response_mode") == "streaming":
                case.body["response_mode"] = "blocking"  # keep each example quick
            response = case.call(
                base_url=server.base_url,
                headers={"Authorization": f"Bearer {key_for(case.path, server)}"},
            )
            case.validate_response(
                response,
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
            )

        check()
