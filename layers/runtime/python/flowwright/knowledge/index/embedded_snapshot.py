"""The in-memory view of one embedded knowledge base that vector search and metadata
filters need: row ids, unit vectors (float32), document and metadata codes.

Loaded once per knowledge base and brought up to date from the database's change log
(``changes``: one row per written document and generation): only the rows of documents
written since are dropped and re-read. Snapshots are immutable, so readers share them
without locks.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Bools", "Floats", "Snapshot", "load_snapshot", "refreshed_snapshot"]

ROW_COLUMNS = "id, document_id, metadata, vector"

Int64s = npt.NDArray[np.int64]
Int32s = npt.NDArray[np.int32]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float32]
Predicate = Callable[[Mapping[str, Any]], bool]


def _unit_rows(matrix: Floats) -> Floats:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


@dataclass(frozen=True)
class Snapshot:
    """What one generation of a knowledge base looks like to the vector search and to the
    metadata filters. Rows are in ascending row id order; never mutated once built."""

    generation: int
    dimension: int
    ids: Int64s
    documents: Int32s
    metadata_codes: Int32s
    vector_rows: Int64s
    matrix: Floats
    document_codes: dict[str, int] = field(default_factory=dict)
    metadatas: list[dict[str, Any]] = field(default_factory=list)
    metadata_index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def empty(cls, dimension: int) -> Snapshot:
        return cls(
            generation=0,
            dimension=dimension,
            ids=np.zeros(0, np.int64),
            documents=np.zeros(0, np.int32),
            metadata_codes=np.zeros(0, np.int32),
            vector_rows=np.zeros(0, np.int64),
            matrix=np.zeros((0, dimension), np.float32),
        )

    def without_documents(self, document_ids: Sequence[str]) -> Snapshot:
        codes = [self.document_codes[d] for d in document_ids if d in self.document_codes]
        if not codes:
            return self
        keep = ~np.isin(self.documents, codes)
        new_position = np.cumsum(keep) - 1
        keep_vectors = keep[self.vector_rows]
        return Snapshot(
            generation=self.generation,
            dimension=self.dimension,
            ids=self.ids[keep],
            documents=self.documents[keep],
            metadata_codes=self.metadata_codes[keep],
            vector_rows=new_position[self.vector_rows[keep_vectors]],
            matrix=self.matrix[keep_vectors],
            document_codes=self.document_codes,
            metadatas=self.metadatas,
            metadata_index=self.metadata_index,
        )

    def extended(self, cursor: sqlite3.Cursor, generation: int) -> Snapshot:
        """A new snapshot with the rows of ``cursor`` appended (their ids are larger)."""
        documents = dict(self.document_codes)
        metadatas = list(self.metadatas)
        metadata_index = dict(self.metadata_index)
        ids: list[int] = []
        doc_codes: list[int] = []
        meta_codes: list[int] = []
        vector_rows: list[int] = []
        blocks: list[Floats] = []
        base = len(self.ids)
        while batch := cursor.fetchmany(4096):
            blobs: list[bytes] = []
            for row_id, document_id, metadata, vector in batch:
                doc_codes.append(documents.setdefault(document_id, len(documents)))
                code = metadata_index.get(metadata)
                if code is None:
                    code = metadata_index[metadata] = len(metadatas)
                    metadatas.append(json.loads(metadata))
                meta_codes.append(code)
                if vector is not None:
                    vector_rows.append(base + len(ids))
                    blobs.append(vector)
                ids.append(row_id)
            if blobs:
                block = np.frombuffer(b"".join(blobs), np.float32)
                blocks.append(_unit_rows(block.reshape(len(blobs), self.dimension)))
        return Snapshot(
            generation=generation,
            dimension=self.dimension,
            ids=np.concatenate([self.ids, np.asarray(ids, np.int64)]),
            documents=np.concatenate([self.documents, np.asarray(doc_codes, np.int32)]),
            metadata_codes=np.concatenate([self.metadata_codes, np.asarray(meta_codes, np.int32)]),
            vector_rows=np.concatenate([self.vector_rows, np.asarray(vector_rows, np.int64)]),
            matrix=np.concatenate([self.matrix, *blocks]) if blocks else self.matrix,
            document_codes=documents,
            metadatas=metadatas,
            metadata_index=metadata_index,
        )

    def allowed(self, predicate: Predicate | None) -> Bools | None:
        """Rows whose metadata passes ``predicate`` (None: every row). Evaluated once per
        distinct metadata, which is usually once per document."""
        if predicate is None:
            return None
        passing = np.fromiter(
            (predicate(m) for m in self.metadatas), dtype=np.bool_, count=len(self.metadatas)
        )
        return passing[self.metadata_codes]


def load_snapshot(conn: sqlite3.Connection, dimension: int, generation: int) -> Snapshot:
    cursor = conn.execute(f"SELECT {ROW_COLUMNS} FROM chunks ORDER BY id")
    return Snapshot.empty(dimension).extended(cursor, generation)


def refreshed_snapshot(conn: sqlite3.Connection, snapshot: Snapshot, generation: int) -> Snapshot:
    """``snapshot`` brought to ``generation`` through the change log, or reloaded."""
    oldest = conn.execute("SELECT min(generation) FROM changes").fetchone()[0]
    if oldest is None or oldest > snapshot.generation + 1:
        return load_snapshot(conn, snapshot.dimension, generation)
    changed = [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT document_id FROM changes WHERE generation > ?",
            (snapshot.generation,),
        )
    ]
    cursor = conn.execute(
        f"SELECT {ROW_COLUMNS} FROM chunks WHERE document_id IN "
        "(SELECT document_id FROM changes WHERE generation > ?) ORDER BY id",
        (snapshot.generation,),
    )
    return snapshot.without_documents(changed).extended(cursor, generation)
