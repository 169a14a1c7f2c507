"""The API function's composition (``flowwright.api.asgi``) from the environment the stack
sets, against moto: DynamoDB keys and records, Step Functions runs, S3 uploads."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

APPS = Path(__file__).parent / "apps"


def _table(client: Any, name: str, hash_key: str, range_key: str | None = None) -> str:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    attributes = [{"AttributeName": hash_key, "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        attributes.append({"AttributeName": range_key, "AttributeType": "S"})
    extra: dict[str, Any] = {}
    if name.startswith("runs"):
        attributes += [
            {"AttributeName": "app", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "S"},
        ]
        extra["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by_app",
                "KeySchema": [
                    {"AttributeName": "app", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    client.create_table(
        TableName=name,
        KeySchema=schema,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


def test_the_api_function_serves_runs_from_its_environment(
    runtime: Any, scripted: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from fastapi.testclient import TestClient
    from flowwright.api.app import create_app
    from flowwright.api.asgi import aws_platform
    from flowwright.api.keys import DynamoDbKeyStore
    from flowwright.dsl import load_app

    suffix = uuid.uuid4().hex[:8]
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    tables = {
        "FLOWWRIGHT_RUNS_TABLE": _table(dynamodb, f"runs-{suffix}", "run_id"),
        "FLOWWRIGHT_CONVERSATIONS_TABLE": _table(dynamodb, f"conv-{suffix}", "pk", "sk"),
        "FLOWWRIGHT_API_KEYS_TABLE": _table(dynamodb, f"keys-{suffix}", "key_hash"),
        "FLOWWRIGHT_EVENTS_TABLE": _table(dynamodb, f"events-{suffix}", "run_id", "sk"),
    }
    for bucket in (f"payloads-{suffix}", f"knowledge-{suffix}"):
        s3.create_bucket(Bucket=bucket)
    app = load_app(APPS / "echo.yml")
    task_root = tmp_path / "task"
    shutil.copytree(APPS, task_root / "apps")  # the stack stages the apps beside run.sh
    env = {
        **tables,
        "LAMBDA_TASK_ROOT": str(task_root),
        "FLOWWRIGHT_APP_MACHINES": json.dumps({"echo": runtime.deploy(app)}),
        "FLOWWRIGHT_PAYLOAD_BUCKET": f"payloads-{suffix}",
        "FLOWWRIGHT_KNOWLEDGE_BUCKET": f"knowledge-{suffix}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    platform = aws_platform()
    assert set(platform.apps) == {"echo"}  # only apps that have a state machine
    key = DynamoDbKeyStore(tables["FLOWWRIGHT_API_KEYS_TABLE"]).create("echo")[1]
    scripted({"llm": "from AWS"})
    client = TestClient(create_app(platform))
    headers = {"Authorization": f"Bearer {key}"}
    reply = client.post(
        "/v1/workflows/run",
        json={"inputs": {"q": "hi"}, "response_mode": "blocking", "user": "u"},
        headers=headers,
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["data"]["status"] == "succeeded" and body["data"]["outputs"]["answer"] == "from AWS"
    detail = client.get(f"/v1/workflows/run/{body['workflow_run_id']}", headers=headers).json()
    assert detail["status"] == "succeeded"
    logs = client.get("/v1/workflows/logs", headers=headers).json()
    assert [e["workflow_run"]["id"] for e in logs["data"]] == [body["workflow_run_id"]]
    uploaded = client.post(
        "/v1/files/upload",
        files={"file": ("a.txt", b"abc", "text/plain")},
        data={"user": "u"},
        headers=headers,
    )
    assert uploaded.status_code == 201
    assert s3.list_objects_v2(Bucket=f"payloads-{suffix}", Prefix="uploads/")["KeyCount"] == 2
