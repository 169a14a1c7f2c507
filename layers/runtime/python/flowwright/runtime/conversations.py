"""Conversation state of chatflows: conversation variables and message history."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from flowwright.runtime.events import _from_dynamo, _to_dynamo
from flowwright.runtime.sqlite import connect, prepare
from pydantic import BaseModel, Field

__all__ = [
    "ConversationStore",
    "DynamoDbConversationStore",
    "InMemoryConversationStore",
    "Message",
    "SqliteConversationStore",
]


class Message(BaseModel):
    """One finished turn: the user's query and the app's answer."""

    query: str
    answer: str
    run_id: str | None = None
    created_at: float = Field(default_factory=time.time)


class ConversationStore(Protocol):
    """Where conversation variables and history live between runs."""

    def variables(self, app: str, conversation_id: str) -> dict[str, Any] | None: ...

    def save_variables(self, app: str, conversation_id: str, values: dict[str, Any]) -> None: ...

    def messages(
        self, app: str, conversation_id: str, limit: int | None = None
    ) -> list[Message]: ...

    def append_message(self, app: str, conversation_id: str, message: Message) -> None: ...


class InMemoryConversationStore:
    """A :class:`ConversationStore` in dicts (tests)."""

    def __init__(self) -> None:
        self._vars: dict[tuple[str, str], dict[str, Any]] = {}
        self._msgs: dict[tuple[str, str], list[Message]] = {}
        self._lock = threading.Lock()

    def variables(self, app: str, conversation_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._vars.get((app, conversation_id))
            return dict(found) if found is not None else None

    def save_variables(self, app: str, conversation_id: str, values: dict[str, Any]) -> None:
        with self._lock:
            self._vars[(app, conversation_id)] = dict(values)

    def messages(self, app: str, conversation_id: str, limit: int | None = None) -> list[Message]:
        with self._lock:
            found = list(self._msgs.get((app, conversation_id), []))
        return found[-limit:] if limit else found

    def append_message(self, app: str, conversation_id: str, message: Message) -> None:
        with self._lock:
            self._msgs.setdefault((app, conversation_id), []).append(message)


class SqliteConversationStore:
    """A :class:`ConversationStore` in a SQLite file (the local data folder)."""

    def __init__(self, path: str | Path) -> None:
        self._path = prepare(
            path,
            """
            CREATE TABLE IF NOT EXISTS conversation_variables (
                app TEXT NOT NULL, conversation_id TEXT NOT NULL, variables TEXT NOT NULL,
                updated_at REAL NOT NULL, PRIMARY KEY (app, conversation_id));
            CREATE TABLE IF NOT EXISTS messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL,
                conversation_id TEXT NOT NULL, query TEXT NOT NULL, answer TEXT NOT NULL,
                run_id TEXT, created_at REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS messages_by_conversation
                ON messages (app, conversation_id, id);
            """,
        )
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        return connect(self._path)

    def variables(self, app: str, conversation_id: str) -> dict[str, Any] | None:
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT variables FROM conversation_variables WHERE app=? AND conversation_id=?",
                (app, conversation_id),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def save_variables(self, app: str, conversation_id: str, values: dict[str, Any]) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO conversation_variables VALUES (?, ?, ?, ?) "
                "ON CONFLICT(app, conversation_id) DO UPDATE SET variables=excluded.variables, "
                "updated_at=excluded.updated_at",
                (app, conversation_id, json.dumps(values, ensure_ascii=False), time.time()),
            )

    def messages(self, app: str, conversation_id: str, limit: int | None = None) -> list[Message]:
        with self._lock, self._connect() as db:
            rows = db.execute(
                "SELECT query, answer, run_id, created_at FROM messages "
                "WHERE app=? AND conversation_id=? ORDER BY id DESC LIMIT ?",
                (app, conversation_id, limit if limit else -1),
            ).fetchall()
        return [Message(query=q, answer=a, run_id=r, created_at=t) for q, a, r, t in reversed(rows)]

    def append_message(self, app: str, conversation_id: str, message: Message) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO messages (app, conversation_id, query, answer, run_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    app,
                    conversation_id,
                    message.query,
                    message.answer,
                    message.run_id,
                    message.created_at,
                ),
            )


class DynamoDbConversationStore:
    """A :class:`ConversationStore` in one DynamoDB table (``pk`` hash, ``sk`` range)."""

    def __init__(self, table_name: str, *, resource: Any = None) -> None:
        if resource is None:
            import boto3

            resource = boto3.resource("dynamodb")
        self._table = resource.Table(table_name)

    @staticmethod
    def _pk(app: str, conversation_id: str) -> str:
        # The app name's length keeps ("a#", "b") and ("a", "#b") apart.
        return f"{len(app)}:{app}#{conversation_id}"

    def variables(self, app: str, conversation_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(
            Key={"pk": self._pk(app, conversation_id), "sk": "vars"}, ConsistentRead=True
        ).get("Item")
        return json.loads(item["variables"]) if item else None

    def save_variables(self, app: str, conversation_id: str, values: dict[str, Any]) -> None:
        self._table.put_item(
            Item={
                "pk": self._pk(app, conversation_id),
                "sk": "vars",
                "variables": json.dumps(values, ensure_ascii=False),
                "updated_at": _to_dynamo(time.time()),
            }
        )

    def messages(self, app: str, conversation_id: str, limit: int | None = None) -> list[Message]:
        from boto3.dynamodb.conditions import Key

        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(self._pk(app, conversation_id))
            & Key("sk").begins_with("msg#"),
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if limit:
            kwargs["Limit"] = limit
        items = self._table.query(**kwargs).get("Items", [])
        return [
            Message.model_validate(
                _from_dynamo({k: v for k, v in i.items() if k not in ("pk", "sk")})
            )
            for i in reversed(items)
        ]

    def append_message(self, app: str, conversation_id: str, message: Message) -> None:
        item = _to_dynamo(message.model_dump(exclude_none=True))
        item.update({"pk": self._pk(app, conversation_id), "sk": f"msg#{time.time_ns():020d}"})
        self._table.put_item(Item=item)
