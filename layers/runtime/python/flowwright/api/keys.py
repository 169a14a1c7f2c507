"""Service API keys: Dify-style bearer secrets, stored only as hashes, one app per key.

App keys (``app-...``) open one app's Service API; dataset keys (``dataset-...``) open the
knowledge API of the whole workspace, as in Dify, and are recorded with ``app="*"``.
A secret is shown once, when it is created: stores keep its SHA-256 and its last 4 characters.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
import sqlite3
import string
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from flowwright.errors import FlowwrightError

__all__ = [
    "PREFIXES",
    "WORKSPACE",
    "ApiKey",
    "AuthError",
    "DynamoDbKeyStore",
    "KeyStore",
    "Scope",
    "SqliteKeyStore",
    "authenticate",
    "generate_key",
    "hash_key",
]

Scope = Literal["app", "dataset"]

#: What every secret of a scope starts with (Dify's formats).
PREFIXES: dict[Scope, str] = {"app": "app-", "dataset": "dataset-"}
#: The ``app`` of dataset keys: they are workspace-wide.
WORKSPACE = "*"

_ALPHABET = string.ascii_letters + string.digits
_SECRET_CHARS = 24  # Dify's length; 24 alphanumerics carry ~143 bits of entropy
_MAX_TOKEN = 256  # longer bearer tokens are not ours: reject them without hashing

# Dify's messages (api/controllers/service_api/wraps.py, api/services/api_token_service.py).
MISSING_HEADER = "Authorization header must be provided and start with 'Bearer'"
WRONG_SCHEME = "Authorization scheme must be 'Bearer'"
INVALID_TOKEN = "Access token is invalid"
# flowwright's own: Dify finds the app from the key, flowwright also names it in the path.
OTHER_APP = "This key belongs to another app"


class ApiKey(BaseModel):
    """One stored key. Never holds the secret: only its hash and last 4 characters."""

    model_config = ConfigDict(frozen=True)

    key_id: str = Field(min_length=1, description="public id, for listing and revoking")
    key_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 hex of the secret")
    scope: Scope
    app: str = Field(min_length=1, description="the app name; '*' for dataset keys")
    created_at: datetime
    last4: str = Field(min_length=4, max_length=4)
    revoked: bool = False

    @property
    def masked(self) -> str:
        """The key as shown in listings: ``app-...abcd``."""
        return f"{PREFIXES[self.scope]}...{self.last4}"


class AuthError(FlowwrightError):
    """A request's key was missing or not valid here; rendered as Dify's error body."""

    def __init__(self, message: str, *, status: int = 401, code: str = "unauthorized") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    def body(self) -> dict[str, Any]:
        """Dify's JSON error body: ``{"code", "message", "status"}``."""
        return {"code": self.code, "message": self.message, "status": self.status}

    @property
    def headers(self) -> dict[str, str]:
        """Response headers Dify adds to 401 answers."""
        return {"WWW-Authenticate": 'Bearer realm="api"'} if self.status == 401 else {}


def generate_key(scope: Scope = "app") -> str:
    """A new secret: ``app-`` or ``dataset-`` and 24 random alphanumerics."""
    if scope not in PREFIXES:
        raise ValueError(f"unknown key scope {scope!r}: expected 'app' or 'dataset'")
    return PREFIXES[scope] + "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_CHARS))


def hash_key(secret: str) -> str:
    """SHA-256 hex of a secret, the form keys are stored and looked up in."""
    # A fast unsalted hash is right here: the secrets are random with ~143 bits of entropy, so
    # there is nothing to brute-force, and lookups must be a single indexed read per request.
    # (Slow salted hashes like bcrypt/argon2 protect low-entropy passwords, not random keys.)
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_key(app: str, scope: Scope) -> tuple[ApiKey, str]:
    if scope not in PREFIXES:
        raise ValueError(f"unknown key scope {scope!r}: expected 'app' or 'dataset'")
    if scope == "dataset" and app != WORKSPACE:
        raise ValueError(f"dataset keys are workspace-wide: create them with app={WORKSPACE!r}")
    if scope == "app" and (not app or app == WORKSPACE):
        raise ValueError("an app key needs the app's name")
    secret = generate_key(scope)
    record = ApiKey(
        key_id=secrets.token_hex(6),
        key_hash=hash_key(secret),
        scope=scope,
        app=app,
        created_at=datetime.now(UTC),
        last4=secret[-4:],
    )
    return record, secret


class KeyStore(Protocol):
    """Where API keys live: SQLite locally, DynamoDB in AWS."""

    def create(self, app: str, scope: Scope = "app") -> tuple[ApiKey, str]:
        """Store a new key; returns its record and the secret (shown once, never stored)."""
        ...

    def list(self, app: str | None = None) -> builtins.list[ApiKey]:
        """Every key (of one app when given), revoked ones included, oldest first."""
        ...

    def revoke(self, key_id: str) -> bool:
        """Revoke a key; False when no key has this id."""
        ...

    def lookup(self, secret: str) -> ApiKey | None:
        """The live key with this secret, or None (unknown or revoked)."""
        ...


class SqliteKeyStore:
    """A :class:`KeyStore` in one SQLite file (local use).

    Every call opens the file afresh and nothing is cached, so keys created or revoked by
    another process (``flowwright keys`` while ``flowwright dev`` serves) count at once.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS api_keys (key_hash TEXT PRIMARY KEY,"
                " key_id TEXT NOT NULL UNIQUE, scope TEXT NOT NULL, app TEXT NOT NULL,"
                " created_at TEXT NOT NULL, last4 TEXT NOT NULL, revoked INTEGER NOT NULL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self._path, timeout=30)
        try:
            with db:  # one transaction: commit on success, roll back on error
                yield db
        finally:
            db.close()

    _COLUMNS = "key_hash, key_id, scope, app, created_at, last4, revoked"

    @staticmethod
    def _record(row: tuple[Any, ...]) -> ApiKey:
        names = ("key_hash", "key_id", "scope", "app", "created_at", "last4", "revoked")
        return ApiKey.model_validate(dict(zip(names, row, strict=True)))

    def create(self, app: str, scope: Scope = "app") -> tuple[ApiKey, str]:
        record, secret = _new_key(app, scope)
        with self._connect() as db:
            db.execute(
                f"INSERT INTO api_keys ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.key_hash,
                    record.key_id,
                    record.scope,
                    record.app,
                    record.created_at.isoformat(),
                    record.last4,
                    int(record.revoked),
                ),
            )
        return record, secret

    def list(self, app: str | None = None) -> builtins.list[ApiKey]:
        query = f"SELECT {self._COLUMNS} FROM api_keys"
        params: tuple[str, ...] = ()
        if app is not None:
            query, params = query + " WHERE app = ?", (app,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY created_at, rowid", params).fetchall()
        return [self._record(row) for row in rows]

    def revoke(self, key_id: str) -> bool:
        with self._connect() as db:
            changed = db.execute("UPDATE api_keys SET revoked = 1 WHERE key_id = ?", (key_id,))
            return changed.rowcount > 0

    def lookup(self, secret: str) -> ApiKey | None:
        with self._connect() as db:
            row = db.execute(
                f"SELECT {self._COLUMNS} FROM api_keys WHERE key_hash = ? AND revoked = 0",
                (hash_key(secret),),
            ).fetchone()
        return self._record(row) if row else None


class DynamoDbKeyStore:
    """A :class:`KeyStore` in one DynamoDB table whose only key is ``key_hash`` (string).

    ``lookup`` is one consistent ``GetItem``. ``list`` and ``revoke`` (which finds the key by
    its public id) scan the table: they are admin operations on a small table.
    """

    def __init__(self, table_name: str, resource: Any = None) -> None:
        if resource is None:
            import boto3

            resource = boto3.resource("dynamodb")
        self._table = resource.Table(table_name)

    def _scan(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self._table.scan(ConsistentRead=True, **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def create(self, app: str, scope: Scope = "app") -> tuple[ApiKey, str]:
        record, secret = _new_key(app, scope)
        item = record.model_dump(mode="json")
        self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(key_hash)")
        return record, secret

    def list(self, app: str | None = None) -> builtins.list[ApiKey]:
        from boto3.dynamodb.conditions import Attr

        kwargs: dict[str, Any] = {}
        if app is not None:
            kwargs["FilterExpression"] = Attr("app").eq(app)
        records = [ApiKey.model_validate(item) for item in self._scan(**kwargs)]
        return sorted(records, key=lambda r: (r.created_at, r.key_id))

    def revoke(self, key_id: str) -> bool:
        from boto3.dynamodb.conditions import Attr

        found = list(
            self._scan(FilterExpression=Attr("key_id").eq(key_id), ProjectionExpression="key_hash")
        )
        for item in found:
            self._table.update_item(
                Key={"key_hash": item["key_hash"]},
                UpdateExpression="SET revoked = :yes",
                ConditionExpression="attribute_exists(key_hash)",
                ExpressionAttributeValues={":yes": True},
            )
        return bool(found)

    def lookup(self, secret: str) -> ApiKey | None:
        item = self._table.get_item(Key={"key_hash": hash_key(secret)}, ConsistentRead=True).get(
            "Item"
        )
        if not item or item.get("revoked"):
            return None
        return ApiKey.model_validate(item)


def authenticate(
    store: KeyStore, header_value: str | None, *, app: str | None, scope: Scope
) -> ApiKey:
    """The live key an ``Authorization: Bearer ...`` header carries, or :class:`AuthError`.

    ``scope`` is the API being called; ``app`` (app scope) is the app the request names, or
    None to accept any app's key and let the key name the app, as Dify does.
    """
    parts = (header_value or "").split(None, 1)
    if len(parts) != 2:
        raise AuthError(MISSING_HEADER)
    scheme, token = parts[0], parts[1].strip()
    if scheme.lower() != "bearer":
        raise AuthError(WRONG_SCHEME)
    if len(token) > _MAX_TOKEN or not token.startswith(PREFIXES[scope]):
        raise AuthError(INVALID_TOKEN)
    key = store.lookup(token)
    if key is None or key.scope != scope:
        raise AuthError(INVALID_TOKEN)
    if scope == "app" and app is not None and key.app != app:
        raise AuthError(OTHER_APP)
    return key
