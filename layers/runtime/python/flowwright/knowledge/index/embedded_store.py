"""The SQLite side of one embedded knowledge base: schema, connections (a small pool, one
connection per thread at a time), transactions, and the read path that pairs a WAL read
transaction with the in-memory snapshot of exactly the generation it sees.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flowwright.knowledge.index.base import KnowledgeIndexError
from flowwright.knowledge.index.embedded_snapshot import Snapshot, load_snapshot, refreshed_snapshot

__all__ = ["GENERATION", "SCHEMA", "SCHEMA_VERSION", "Store", "connect", "transaction"]

_IDLE_CONNECTIONS = 8

SCHEMA_VERSION = "1"

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chunk_id TEXT NOT NULL,
        document_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        content TEXT NOT NULL,
        parent_id TEXT,
        parent_content TEXT,
        page INTEGER,
        metadata TEXT NOT NULL,
        vector BLOB
    )""",
    "CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks (document_id, position)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5 (tokens, tokenize = \"ascii tokenchars '_'\")",
    "CREATE TABLE IF NOT EXISTS changes (generation INTEGER PRIMARY KEY, document_id TEXT NOT NULL)",
)
GENERATION = "SELECT coalesce(max(generation), 0) FROM changes"


def connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from any thread."""
    mode = "rwc" if create else "rw"
    try:
        conn = sqlite3.connect(
            f"{path.as_uri()}?mode={mode}",
            uri=True,
            timeout=30.0,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise KnowledgeIndexError(f"cannot open knowledge index {path}: {exc}") from exc
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -16384")
    conn.execute("PRAGMA mmap_size = 268435456")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, begin: str = "BEGIN") -> Iterator[None]:
    """``begin`` ... COMMIT, or ROLLBACK when the block raises."""
    conn.execute(begin)
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Store:
    """The open state of one knowledge base: connection pool, locks, snapshot."""

    def __init__(self, path: Path, inode: int, dimension: int) -> None:
        self.path = path
        self.inode = inode
        self.dimension = dimension
        self.snapshot_lock = threading.Lock()
        self.write_lock = threading.Lock()
        self.snapshot: Snapshot | None = None
        self._idle: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, kb_id: str, path: Path, inode: int) -> Store:
        """Open an initialized knowledge base file (``inode`` identifies this very file)."""
        conn = connect(path, create=False)
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as exc:
            raise KnowledgeIndexError(
                f"knowledge base {kb_id!r} at {path} is not a knowledge index: {exc}"
            ) from exc
        finally:
            conn.close()
        if "dimension" not in meta:
            raise KnowledgeIndexError(f"knowledge base {kb_id!r} is not initialized yet")
        return cls(path, inode, int(meta["dimension"]))

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection for the duration of the block."""
        with self._pool_lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = connect(self.path, create=False)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            with self._pool_lock:
                if self._closed or len(self._idle) >= _IDLE_CONNECTIONS:
                    conn.close()
                else:
                    self._idle.append(conn)

    @contextmanager
    def reading(self) -> Iterator[tuple[sqlite3.Connection, Snapshot]]:
        """One read transaction and the snapshot of exactly the generation it sees."""
        with self.connection() as conn, transaction(conn):
            with self.snapshot_lock:
                # The first read fixes the transaction's view. Under the lock it happens
                # after the read that built the cached snapshot, so it is never older.
                generation = conn.execute(GENERATION).fetchone()[0]
                snapshot = self.snapshot
                if snapshot is None:
                    snapshot = load_snapshot(conn, self.dimension, generation)
                elif snapshot.generation != generation:
                    snapshot = refreshed_snapshot(conn, snapshot, generation)
                self.snapshot = snapshot
            yield conn, snapshot

    def close(self) -> None:
        """Close idle connections; busy ones close when returned."""
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        self.snapshot = None
