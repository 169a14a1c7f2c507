"""What the API remembers beyond the engine: runs, conversations, feedback, idempotency keys.

Locally one SQLite file; in AWS the ``runs`` table (runs and idempotency keys) and the
``conversations`` table (conversation records per user, feedback per message).
"""

from __future__ import annotations

import builtins
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from flowwright.runtime.sqlite import connect, prepare

__all__ = [
    "ApiStore",
    "ConversationRecord",
    "DynamoDbApiStore",
    "RunRecord",
    "SqliteApiStore",
]

RunState = Literal["running", "succeeded", "partial-succeeded", "failed", "stopped"]


class RunRecord(BaseModel):
    """One run as the API reports it (Dify's workflow run detail, plus the chat fields)."""

    id: str
    app: str
    mode: str
    status: RunState = "running"
    execution_arn: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    error: str | None = None
    user: str = ""
    query: str | None = None
    conversation_id: str | None = None
    total_tokens: int = 0
    total_steps: int = 0
    elapsed_time: float = 0.0
    created_at: float = Field(default_factory=time.time)
    finished_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.status != "running"


class ConversationRecord(BaseModel):
    """A chat conversation of one user with one app."""

    id: str
    app: str
    user: str
    name: str = ""
    inputs: dict[str, Any] = Field(default_factory=dict)
    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)


class ApiStore(Protocol):
    """Runs, conversations, feedback and idempotency keys."""

    def put_run(self, run: RunRecord) -> None: ...

    def get_run(self, run_id: str) -> RunRecord | None: ...

    def list_runs(self, app: str, *, limit: int, offset: int) -> builtins.list[RunRecord]: ...

    def claim_idempotency_key(self, app: str, key: str, run_id: str) -> str | None:
        """Remember ``key`` -> ``run_id``; the run id it already named, if any."""
        ...

    def put_conversation(self, conversation: ConversationRecord) -> None: ...

    def get_conversation(self, app: str, conversation_id: str) -> ConversationRecord | None: ...

    def list_conversations(self, app: str, user: str) -> builtins.list[ConversationRecord]: ...

    def delete_conversation(self, app: str, conversation_id: str) -> None: ...

    def put_feedback(self, app: str, message_id: str, rating: str | None, content: str) -> None: ...

    def get_feedback(self, app: str, message_id: str) -> dict[str, Any] | None: ...


class SqliteApiStore:
    """An :class:`ApiStore` in one SQLite file (local server and tests)."""

    def __init__(self, path: str | Path) -> None:
        self._path = prepare(
            path,
            """
            CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, app TEXT, created REAL,
                body TEXT);
            CREATE INDEX IF NOT EXISTS runs_app ON runs (app, created);
            CREATE TABLE IF NOT EXISTS idem (app TEXT, key TEXT, run_id TEXT,
                PRIMARY KEY (app, key));
            CREATE TABLE IF NOT EXISTS conversations (app TEXT, id TEXT, user TEXT,
                updated REAL, body TEXT, PRIMARY KEY (app, id));
            CREATE TABLE IF NOT EXISTS feedback (app TEXT, message_id TEXT, body TEXT,
                PRIMARY KEY (app, message_id));
            """,
        )
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        return connect(self._path)

    def put_run(self, run: RunRecord) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?)",
                (run.id, run.app, run.created_at, run.model_dump_json()),
            )

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._connect() as db:
            row = db.execute("SELECT body FROM runs WHERE id = ?", (run_id,)).fetchone()
        return RunRecord.model_validate_json(row[0]) if row else None

    def list_runs(self, app: str, *, limit: int, offset: int) -> builtins.list[RunRecord]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT body FROM runs WHERE app = ? ORDER BY created DESC LIMIT ? OFFSET ?",
                (app, limit, offset),
            ).fetchall()
        return [RunRecord.model_validate_json(r[0]) for r in rows]

    def claim_idempotency_key(self, app: str, key: str, run_id: str) -> str | None:
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT run_id FROM idem WHERE app = ? AND key = ?", (app, key)
            ).fetchone()
            if row:
                return str(row[0])
            db.execute("INSERT INTO idem VALUES (?, ?, ?)", (app, key, run_id))
            return None

    def put_conversation(self, conversation: ConversationRecord) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO conversations VALUES (?, ?, ?, ?, ?)",
                (
                    conversation.app,
                    conversation.id,
                    conversation.user,
                    conversation.updated_at,
                    conversation.model_dump_json(),
                ),
            )

    def get_conversation(self, app: str, conversation_id: str) -> ConversationRecord | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT body FROM conversations WHERE app = ? AND id = ?", (app, conversation_id)
            ).fetchone()
        return ConversationRecord.model_validate_json(row[0]) if row else None

    def list_conversations(self, app: str, user: str) -> builtins.list[ConversationRecord]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT body FROM conversations WHERE app = ? AND user = ? ORDER BY updated DESC",
                (app, user),
            ).fetchall()
        return [ConversationRecord.model_validate_json(r[0]) for r in rows]

    def delete_conversation(self, app: str, conversation_id: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM conversations WHERE app = ? AND id = ?", (app, conversation_id))

    def put_feedback(self, app: str, message_id: str, rating: str | None, content: str) -> None:
        import json

        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO feedback VALUES (?, ?, ?)",
                (app, message_id, json.dumps({"rating": rating, "content": content})),
            )

    def get_feedback(self, app: str, message_id: str) -> dict[str, Any] | None:
        import json

        with self._connect() as db:
            row = db.execute(
                "SELECT body FROM feedback WHERE app = ? AND message_id = ?", (app, message_id)
            ).fetchone()
        return dict(json.loads(row[0])) if row else None


class DynamoDbApiStore:
    """An :class:`ApiStore` on the stack's tables.

    ``runs`` (``run_id``; GSI ``by_app`` on ``app`` + ``created_at``) holds runs and, under
    ``run_id = "idem#<app>#<key>"``, idempotency keys (conditional puts). ``conversations``
    (``pk`` + ``sk``) holds ``pk = "api#<app>#<user>"`` / ``sk = <conversation id>`` records
    and ``pk = "feedback#<app>"`` / ``sk = <message id>``.
    """

    def __init__(self, runs_table: str, conversations_table: str, *, resource: Any = None) -> None:
        if resource is None:
            import boto3

            resource = boto3.resource("dynamodb")
        self._runs = resource.Table(runs_table)
        self._conversations = resource.Table(conversations_table)

    def put_run(self, run: RunRecord) -> None:
        self._runs.put_item(
            Item={
                "run_id": run.id,
                "app": run.app,
                "created_at": f"{run.created_at:017.6f}",
                "body": run.model_dump_json(),
            }
        )

    def get_run(self, run_id: str) -> RunRecord | None:
        item = self._runs.get_item(Key={"run_id": run_id}, ConsistentRead=True).get("Item")
        return RunRecord.model_validate_json(str(item["body"])) if item and "body" in item else None

    def list_runs(self, app: str, *, limit: int, offset: int) -> builtins.list[RunRecord]:
        from boto3.dynamodb.conditions import Key

        page = self._runs.query(
            IndexName="by_app",
            KeyConditionExpression=Key("app").eq(app),
            ScanIndexForward=False,
            Limit=offset + limit,
        )
        items = page.get("Items", [])[offset : offset + limit]
        return [RunRecord.model_validate_json(str(i["body"])) for i in items if "body" in i]

    def claim_idempotency_key(self, app: str, key: str, run_id: str) -> str | None:
        from botocore.exceptions import ClientError

        item_key = f"idem#{len(app)}:{app}#{key}"
        try:
            self._runs.put_item(
                Item={"run_id": item_key, "target": run_id},
                ConditionExpression="attribute_not_exists(run_id)",
            )
            return None
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        item = self._runs.get_item(Key={"run_id": item_key}, ConsistentRead=True).get("Item")
        return str(item["target"]) if item else None

    @staticmethod
    def _pk(app: str, user: str) -> str:
        return f"api#{len(app)}:{app}#{user}"

    def put_conversation(self, conversation: ConversationRecord) -> None:
        self._conversations.put_item(
            Item={
                "pk": self._pk(conversation.app, conversation.user),
                "sk": conversation.id,
                "body": conversation.model_dump_json(),
            }
        )
        self._conversations.put_item(
            Item={
                "pk": f"apiconv#{len(conversation.app)}:{conversation.app}",
                "sk": conversation.id,
                "user": conversation.user,
            }
        )

    def get_conversation(self, app: str, conversation_id: str) -> ConversationRecord | None:
        owner = self._conversations.get_item(
            Key={"pk": f"apiconv#{len(app)}:{app}", "sk": conversation_id}, ConsistentRead=True
        ).get("Item")
        if not owner:
            return None
        item = self._conversations.get_item(
            Key={"pk": self._pk(app, str(owner["user"])), "sk": conversation_id},
            ConsistentRead=True,
        ).get("Item")
        return ConversationRecord.model_validate_json(str(item["body"])) if item else None

    def list_conversations(self, app: str, user: str) -> builtins.list[ConversationRecord]:
        from boto3.dynamodb.conditions import Key

        items = self._conversations.query(
            KeyConditionExpression=Key("pk").eq(self._pk(app, user)), ConsistentRead=True
        ).get("Items", [])
        records = [ConversationRecord.model_validate_json(str(i["body"])) for i in items]
        return sorted(records, key=lambda c: -c.updated_at)

    def delete_conversation(self, app: str, conversation_id: str) -> None:
        found = self.get_conversation(app, conversation_id)
        if found is None:
            return
        self._conversations.delete_item(Key={"pk": self._pk(app, found.user), "sk": found.id})
        self._conversations.delete_item(
            Key={"pk": f"apiconv#{len(app)}:{app}", "sk": conversation_id}
        )

    def put_feedback(self, app: str, message_id: str, rating: str | None, content: str) -> None:
        item: dict[str, Any] = {
            "pk": f"feedback#{len(app)}:{app}",
            "sk": message_id,
            "content": content,
        }
        if rating is not None:
            item["rating"] = rating
        self._conversations.put_item(Item=item)

    def get_feedback(self, app: str, message_id: str) -> dict[str, Any] | None:
        item = self._conversations.get_item(
            Key={"pk": f"feedback#{len(app)}:{app}", "sk": message_id}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return {"rating": item.get("rating"), "content": item.get("content", "")}
