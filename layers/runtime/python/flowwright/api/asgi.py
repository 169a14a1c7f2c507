"""The API function's ASGI app (``uvicorn flowwright.api.asgi:app`` under the Lambda Web
Adapter). Everything comes from the environment stacks/api.py sets; the app files are
packaged beside the function code (``apps/``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from flowwright.api.app import create_app
from flowwright.api.service import Platform

__all__ = ["app", "aws_platform"]


def aws_platform() -> Platform:
    """Step Functions runs, DynamoDB records and keys, OpenSearch knowledge."""
    import boto3

    from flowwright.api.keys import DynamoDbKeyStore
    from flowwright.api.local import load_apps
    from flowwright.api.records import DynamoDbApiStore
    from flowwright.api.uploads import UploadStore
    from flowwright.knowledge.writer import S3KnowledgeWriter
    from flowwright.runtime.runner import StepFunctionsRunner
    from flowwright.runtime.services import services_from_env

    env = os.environ
    task_root = Path(env.get("LAMBDA_TASK_ROOT", "."))
    apps = load_apps(Path(env.get("FLOWWRIGHT_APPS_DIR", task_root / "apps")))
    machines: dict[str, str] = json.loads(env["FLOWWRIGHT_APP_MACHINES"])
    services = services_from_env()
    runner = StepFunctionsRunner(
        boto3.client("stepfunctions"), services, lambda app: machines[app.name]
    )
    return Platform(
        apps={name: a for name, a in apps.items() if name in machines},
        runner=runner,
        store=DynamoDbApiStore(env["FLOWWRIGHT_RUNS_TABLE"], env["FLOWWRIGHT_CONVERSATIONS_TABLE"]),
        keys=DynamoDbKeyStore(env["FLOWWRIGHT_API_KEYS_TABLE"]),
        knowledge=services.knowledge,
        knowledge_writer=S3KnowledgeWriter(env["FLOWWRIGHT_KNOWLEDGE_BUCKET"]),
        uploads=UploadStore(env["FLOWWRIGHT_PAYLOAD_BUCKET"]),
        background=False,
        poll_s=0.2,
    )


app = create_app(aws_platform()) if os.environ.get("FLOWWRIGHT_APP_MACHINES") else None
