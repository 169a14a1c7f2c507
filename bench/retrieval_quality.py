"""Retrieval quality on BEIR SciFact with the embedded index and the local embeddings.

    .venv/bin/python bench/retrieval_quality.py [--docs N]

Indexes the SciFact abstracts (title + text, one chunk each, as a knowledge base whose
chunks are whole abstracts) into the embedded index, runs the 300 test claims in full-text,
semantic and hybrid mode (min-max + weighted mean, and RRF), and reports nDCG@10 and
recall@10 against the qrels. Passage vectors are cached under .flowwright/bench/ (embedding
5,183 abstracts takes a while on 2 cores). ``--docs N`` keeps every relevant abstract plus
the first N others, for a quicker run (the README reports the full collection).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FLOWWRIGHT_SHARED", ROOT.parent / "shared")) / "bench" / "scifact"
CACHE = ROOT / ".flowwright" / "bench"
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from flowwright.knowledge.embed import embed_texts  # noqa: E402
from flowwright.knowledge.index.embedded import EmbeddedIndex  # noqa: E402
from flowwright.knowledge.models import Chunk, SearchRequest  # noqa: E402

MODEL = "flowwright-local/multilingual-e5-small"


def load() -> tuple[list[dict], dict[str, str], dict[str, set[str]]]:
    corpus = [json.loads(line) for line in (DATA / "corpus.jsonl").open()]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (DATA / "queries.jsonl").open())}
    qrels: dict[str, set[str]] = {}
    for line in (DATA / "qrels.tsv").read_text().splitlines()[1:]:
        qid, doc, score = line.split("\t")
        if int(score) > 0:
            qrels.setdefault(qid, set()).add(doc)
    return corpus, {q: t for q, t in queries.items() if q in qrels}, qrels


def vectors(corpus: list[dict]) -> np.ndarray:
    CACHE.mkdir(parents=True, exist_ok=True)
    ids = [d["_id"] for d in corpus]
    path = CACHE / f"scifact-{len(ids)}-{abs(hash(tuple(ids))) % 10**8}.npy"
    if path.exists():
        return np.load(path)
    texts = [f"{d['title']}\n{d['text']}" for d in corpus]
    started = time.perf_counter()
    out = np.asarray(embed_texts(texts, model=MODEL, batch_size=32), dtype=np.float32)
    print(f"embedded {len(texts)} abstracts in {time.perf_counter() - started:.0f} s")
    np.save(path, out)
    return out


def ndcg_recall(ranked: list[str], relevant: set[str], k: int = 10) -> tuple[float, float]:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    recall = len(set(ranked[:k]) & relevant) / len(relevant)
    return dcg / ideal, recall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=0, help="subset: relevant + N others")
    args = parser.parse_args()
    corpus, queries, qrels = load()
    if args.docs:
        relevant = set().union(*qrels.values())
        others = [d for d in corpus if d["_id"] not in relevant][: args.docs]
        corpus = [d for d in corpus if d["_id"] in relevant] + others
    matrix = vectors(corpus)
    folder = CACHE / "scifact-index"
    shutil.rmtree(folder, ignore_errors=True)
    index = EmbeddedIndex(folder)
    index.ensure("scifact", matrix.shape[1])
    for doc, vector in zip(corpus, matrix, strict=True):
        chunk = Chunk(
            chunk_id=f"{doc['_id']}:0",
            document_id=doc["_id"],
            position=0,
            content=f"{doc['title']}\n{doc['text']}",
            vector=vector.tolist(),
        )
        index.replace_document("scifact", doc["_id"], [chunk])
    query_vectors = embed_texts(list(queries.values()), model=MODEL, kind="query")
    modes = {
        "full_text": {"mode": "full_text"},
        "semantic": {"mode": "semantic"},
        "hybrid (min-max, 0.5/0.5)": {"mode": "hybrid", "vector_weight": 0.5},
        "hybrid (min-max, 0.3 keyword / 0.7 vector)": {"mode": "hybrid", "vector_weight": 0.7},
        "hybrid (rrf)": {"mode": "hybrid", "fusion": "rrf"},
    }
    results = {}
    for name, options in modes.items():
        scores = []
        for (qid, text), qvec in zip(queries.items(), query_vectors, strict=True):
            hits = index.search("scifact", SearchRequest(query=text, top_k=10, **options), qvec)
            scores.append(ndcg_recall([h.document_id for h in hits], qrels[qid]))
        results[name] = {
            "ndcg@10": round(sum(s[0] for s in scores) / len(scores), 4),
            "recall@10": round(sum(s[1] for s in scores) / len(scores), 4),
        }
        print(
            f"{name:<46} nDCG@10 {results[name]['ndcg@10']:.4f}  recall@10 {results[name]['recall@10']:.4f}"
        )
    out = ROOT / "bench" / "results" / "retrieval_quality.json"
    out.write_text(
        json.dumps({"documents": len(corpus), "queries": len(queries), "modes": results}, indent=2)
        + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
