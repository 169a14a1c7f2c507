"""The embedded knowledge index: one SQLite database per knowledge base, no server.

* ``chunks`` holds the rows (text, metadata JSON, vector as a float32 blob);
* ``terms`` is an FTS5 table over ``analysis.analyze(content)`` joined by spaces. Its
  ``ascii`` tokenizer splits only on ASCII space and punctuation and keeps every non-ASCII
  character inside tokens, so the analyzer's tokens (CJK bigrams, Indic words) reach the
  index whole; the few with an inner ``.`` or ``'`` ("v3.14") become adjacent FTS tokens
  that the quoted query token matches as a phrase;
* keyword scores are FTS5 ``bm25()`` negated (higher is better) and stay raw in full-text
  results, as Dify's do. FTS5 uses Robertson's IDF, ~0 for a term in over half of the
  chunks (Lucene's never reaches 0), so rankings agree with OpenSearch's on selective
  terms, not on very common ones;
* vectors: brute-force cosine with numpy over the snapshot's unit float32 matrix
  (``embedded_snapshot``); a hybrid search runs it on a worker thread while the FTS query
  runs; metadata filters mask both sides before ranking;
* every write is one SQLite transaction and every search reads one WAL snapshot
  (``embedded_store``), so a reader never sees a document half replaced, missing or
  doubled.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from flowwright.knowledge.index import fusion
from flowwright.knowledge.index.analysis import analyze
from flowwright.knowledge.index.base import KnowledgeIndexError, candidate_depth, safe_name
from flowwright.knowledge.index.embedded_snapshot import Bools, Floats, Snapshot
from flowwright.knowledge.index.embedded_store import (
    GENERATION,
    SCHEMA,
    SCHEMA_VERSION,
    Store,
    connect,
    transaction,
)
from flowwright.knowledge.index.filters import compile_filters
from flowwright.knowledge.models import Chunk, Hit, SearchRequest

__all__ = ["CHANGE_LOG_SIZE", "EmbeddedIndex"]

#: Change-log entries kept; a snapshot older than the log reloads in full.
CHANGE_LOG_SIZE = 10_000

Ranked = list[tuple[str, float]]


def _key(row_id: int) -> str:
    """Fusion id of a row: zero-padded so that ties sort by insertion order."""
    return f"{row_id:012d}"


# ---- searching -----------------------------------------------------------------------------


def _unit_query(vector: list[float] | None, dimension: int, mode: str) -> Floats:
    if vector is None:
        raise KnowledgeIndexError(f"{mode} search needs a query vector")
    query = np.asarray(vector, dtype=np.float32)
    if query.shape != (dimension,):
        raise KnowledgeIndexError(
            f"query vector has {query.size} dimensions, the knowledge base has {dimension}"
        )
    norm = float(np.linalg.norm(query))
    if not np.isfinite(norm) or norm == 0.0:
        raise KnowledgeIndexError("query vector must be finite and not all zeros")
    return query / norm


def _keyword(
    conn: sqlite3.Connection, snapshot: Snapshot, text: str, depth: int, allowed: Bools | None
) -> Ranked:
    """Best ``depth`` rows by BM25 (positive, raw) whose tokens match any query token."""
    tokens = list(dict.fromkeys(analyze(text)))
    if not tokens:
        return []
    # Tokens are word characters only; quoting each one keeps FTS5 syntax out.
    match = " OR ".join(f'"{token}"' for token in tokens)
    if allowed is None:
        rows = conn.execute(
            "SELECT rowid, rank FROM terms WHERE terms MATCH ? ORDER BY rank LIMIT ?",
            (match, depth),
        ).fetchall()
        return [(_key(row_id), -score) for row_id, score in rows]
    # Filtered: rank every match once (FTS5 scores them all anyway), then read the sorted
    # rows only until ``depth`` of them pass the filter.
    cursor = conn.execute(
        "SELECT rowid, rank FROM terms WHERE terms MATCH ? ORDER BY rank", (match,)
    )
    kept: Ranked = []
    while len(kept) < depth and (rows := cursor.fetchmany(max(depth, 256))):
        found = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        passing = allowed[np.searchsorted(snapshot.ids, found)]
        kept += [(_key(r), -s) for (r, s), ok in zip(rows, passing, strict=True) if ok]
    cursor.close()
    return kept[:depth]


def _semantic(snapshot: Snapshot, query: Floats, depth: int, allowed: Bools | None) -> Ranked:
    """Best ``depth`` rows by cosine similarity."""
    count = snapshot.matrix.shape[0]
    if count == 0:
        return []
    # einsum: a single-threaded SIMD loop. BLAS gemv spreads this memory-bound product over
    # threads that contend with the FTS query running beside it (hybrid) for no gain.
    scores = np.einsum("ij,j->i", snapshot.matrix, query)
    available = count
    if allowed is not None:
        passing = allowed[snapshot.vector_rows]
        scores = np.where(passing, scores, np.float32(-np.inf))
        available = int(passing.sum())
    k = min(depth, available)
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k] if k < count else np.arange(count)
    top = top[np.argsort(-scores[top], kind="stable")]
    row_ids = snapshot.ids[snapshot.vector_rows[top]]
    return [(_key(int(r)), float(scores[t])) for r, t in zip(row_ids, top, strict=True)]


def _fuse(request: SearchRequest, keyword: Ranked, semantic: Ranked) -> Ranked:
    if request.fusion == "rrf":
        return fusion.rrf([keyword, semantic])
    knn = [(key, fusion.knn_score(cosine)) for key, cosine in semantic]
    return fusion.min_max_weighted([keyword, knn], fusion.hybrid_weights(request.vector_weight))


def _hits(conn: sqlite3.Connection, ranked: Ranked) -> list[Hit]:
    if not ranked:
        return []
    ids = [int(key) for key, _ in ranked]
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        "SELECT id, chunk_id, document_id, content, parent_content, page, metadata "
        f"FROM chunks WHERE id IN ({marks})",
        ids,
    ).fetchall()
    by_id = {row[0]: row for row in rows}
    hits: list[Hit] = []
    for key, score in ranked:
        _, chunk_id, document_id, content, parent, page, metadata = by_id[int(key)]
        hits.append(
            Hit(
                chunk_id=chunk_id,
                document_id=document_id,
                content=content,
                score=score,
                text=parent or content,
                page=page,
                metadata=json.loads(metadata),
            )
        )
    return hits


# ---- the index -----------------------------------------------------------------------------


class EmbeddedIndex:
    """KnowledgeIndex over SQLite files in ``folder`` (``<kb>.sqlite3`` each).

    Safe to share between threads; several processes may open the same folder.
    Scores: semantic = cosine similarity; full_text = raw BM25; hybrid = the fused score
    (min-max + weighted mean over keyword BM25 and the k-NN score, or RRF)."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder).resolve()
        self._stores: dict[str, Store] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    # -- plumbing

    def _workers(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(2, thread_name_prefix="flowwright-vectors")
            return self._executor

    def _path(self, kb_id: str) -> Path:
        return self.folder / f"{safe_name(kb_id)}.sqlite3"

    def _store(self, kb_id: str) -> Store:
        path = self._path(kb_id)
        try:
            inode: int | None = os.stat(path).st_ino
        except FileNotFoundError:
            inode = None
        with self._lock:
            store = self._stores.get(kb_id)
            if store is not None and store.inode == inode:
                return store
            if store is not None:  # dropped, or dropped and re-created, elsewhere
                store.close()
                del self._stores[kb_id]
            if inode is None:
                raise KnowledgeIndexError(
                    f"knowledge base {kb_id!r} does not exist; call ensure() first"
                )
            store = self._stores[kb_id] = Store.open(kb_id, path, inode)
            return store

    def _row(self, store: Store, document_id: str, chunk: Chunk) -> tuple[tuple[Any, ...], str]:
        if chunk.document_id != document_id:
            raise KnowledgeIndexError(
                f"chunk {chunk.chunk_id!r} belongs to document {chunk.document_id!r}, "
                f"not {document_id!r}"
            )
        blob = None
        if chunk.vector is not None:
            vector = np.asarray(chunk.vector, dtype=np.float32)
            if vector.shape != (store.dimension,) or not np.all(np.isfinite(vector)):
                raise KnowledgeIndexError(
                    f"chunk {chunk.chunk_id!r} has a {vector.size}-dimension vector (or a "
                    f"non-finite value); the knowledge base has {store.dimension} dimensions"
                )
            blob = vector.tobytes()
        metadata = json.dumps(chunk.metadata, ensure_ascii=False, sort_keys=True, default=str)
        row = (
            chunk.chunk_id,
            document_id,
            chunk.position,
            chunk.content,
            chunk.parent_id,
            chunk.parent_content,
            chunk.page,
            metadata,
            blob,
        )
        return row, " ".join(analyze(chunk.content))

    def _write(
        self, store: Store, kb_id: str, document_id: str, rows: list[tuple[tuple[Any, ...], str]]
    ) -> int:
        """Replace the document's rows with ``rows`` in one transaction; returns how many
        rows it had."""
        try:
            with (
                store.write_lock,
                store.connection() as conn,
                transaction(conn, "BEGIN IMMEDIATE"),
            ):
                old = conn.execute(
                    "SELECT id FROM chunks WHERE document_id = ?", (document_id,)
                ).fetchall()
                conn.executemany("DELETE FROM terms WHERE rowid = ?", old)
                conn.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
                for row, tokens in rows:
                    cursor = conn.execute(
                        "INSERT INTO chunks (chunk_id, document_id, position, content, "
                        "parent_id, parent_content, page, metadata, vector) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        row,
                    )
                    conn.execute(
                        "INSERT INTO terms (rowid, tokens) VALUES (?, ?)",
                        (cursor.lastrowid, tokens),
                    )
                generation = conn.execute(GENERATION).fetchone()[0] + 1
                conn.execute("INSERT INTO changes VALUES (?, ?)", (generation, document_id))
                conn.execute(
                    "DELETE FROM changes WHERE generation <= ?",
                    (generation - CHANGE_LOG_SIZE,),
                )
        except sqlite3.Error as exc:
            raise KnowledgeIndexError(
                f"knowledge base {kb_id!r}: writing document {document_id!r} failed: {exc}"
            ) from exc
        return len(old)

    # -- KnowledgeIndex

    def ensure(self, kb_id: str, dimension: int) -> None:
        """Create the knowledge base's database if missing (idempotent)."""
        if dimension < 1:
            raise KnowledgeIndexError(f"vector dimension must be positive, got {dimension}")
        self.folder.mkdir(parents=True, exist_ok=True)
        conn = connect(self._path(kb_id), create=True)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            with transaction(conn, "BEGIN IMMEDIATE"):
                for statement in SCHEMA:
                    conn.execute(statement)
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
                if not meta:
                    conn.executemany(
                        "INSERT INTO meta (key, value) VALUES (?, ?)",
                        [
                            ("schema", SCHEMA_VERSION),
                            ("dimension", str(dimension)),
                            ("kb_id", kb_id),
                        ],
                    )
                elif int(meta["dimension"]) != dimension:
                    raise KnowledgeIndexError(
                        f"knowledge base {kb_id!r} exists with {meta['dimension']}-dimension "
                        f"vectors, not {dimension}"
                    )
        except sqlite3.Error as exc:
            raise KnowledgeIndexError(f"knowledge base {kb_id!r}: ensure failed: {exc}") from exc
        finally:
            conn.close()

    def replace_document(self, kb_id: str, document_id: str, chunks: list[Chunk]) -> None:
        """Atomically swap the document's chunks for ``chunks``."""
        store = self._store(kb_id)
        rows = [self._row(store, document_id, chunk) for chunk in chunks]
        self._write(store, kb_id, document_id, rows)

    def delete_document(self, kb_id: str, document_id: str) -> int:
        """Remove the document's chunks; returns how many there were (0 when the
        knowledge base does not exist)."""
        if not self._path(kb_id).exists():
            return 0
        return self._write(self._store(kb_id), kb_id, document_id, [])

    def search(
        self, kb_id: str, request: SearchRequest, query_vector: list[float] | None
    ) -> list[Hit]:
        """Top ``request.top_k`` hits; metadata filters apply before ranking."""
        predicate = (
            compile_filters(request.filters, request.filter_logic) if request.filters else None
        )
        store = self._store(kb_id)
        mode = request.mode
        query = None if mode == "full_text" else _unit_query(query_vector, store.dimension, mode)
        depth = candidate_depth(request.top_k) if mode == "hybrid" else request.top_k
        try:
            with store.reading() as (conn, snapshot):
                allowed = snapshot.allowed(predicate)
                # Hybrid: the vector side (numpy, no database) runs on a worker thread while
                # this one runs the FTS query; both release the GIL.
                vectors: Future[Ranked] | None = None
                if query is not None and mode == "hybrid":
                    vectors = self._workers().submit(_semantic, snapshot, query, depth, allowed)
                keyword: Ranked = []
                if mode != "semantic":
                    keyword = _keyword(conn, snapshot, request.query, depth, allowed)
                semantic: Ranked = []
                if vectors is not None:
                    semantic = vectors.result()
                elif query is not None:
                    semantic = _semantic(snapshot, query, depth, allowed)
                if mode == "hybrid":
                    ranked = _fuse(request, keyword, semantic)
                else:
                    ranked = semantic if mode == "semantic" else keyword
                return _hits(conn, ranked[: request.top_k])
        except sqlite3.Error as exc:
            raise KnowledgeIndexError(f"knowledge base {kb_id!r}: search failed: {exc}") from exc

    def count(self, kb_id: str) -> int:
        """Number of chunks."""
        store = self._store(kb_id)
        with store.connection() as conn:
            return int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def drop(self, kb_id: str) -> None:
        """Delete the knowledge base's database files; no-op when missing."""
        with self._lock:
            store = self._stores.pop(kb_id, None)
        if store is not None:
            store.close()
        path = self._path(kb_id)
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        """Close every open database (the index stays usable; it reopens on demand)."""
        with self._lock:
            stores, self._stores = list(self._stores.values()), {}
            executor, self._executor = self._executor, None
        for store in stores:
            store.close()
        if executor is not None:
            executor.shutdown(wait=False)
