"""The local stores' one way to open SQLite: the folder, WAL journal, schema, busy timeout."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["connect", "prepare"]


def prepare(path: str | Path, schema: str) -> Path:
    """Create ``path``'s folder and run ``schema`` (idempotent DDL) with WAL journaling,
    so readers in other processes (CLI, server) never wait for writers."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with connect(target) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)
    return target


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection that waits up to 30 s for another writer."""
    return sqlite3.connect(path, timeout=30)
