"""Query latency of the embedded knowledge index at 10k and 100k chunks.

    .venv/bin/python bench/query_latency.py [--sizes 10000 100000] [--queries 200]

Builds one SQLite knowledge base per size in a temporary folder: synthetic chunks of 60-100
words drawn from a 20,000-word vocabulary with Zipf frequencies (s = 1, the 50 most frequent
ranks left out as the stop words an analyzer drops), a fifth of them with Chinese words
mixed in, 100 chunks per document, per-document metadata, random unit 384-d vectors. Then
runs the same queries (2-5 words, a quarter with Chinese words, random unit vectors) in
each mode and reports p50/p95 latency of ``EmbeddedIndex.search`` after one warm-up query
(whose time, the first load of the vector matrix, is reported as ``first_query_ms``).
Writes bench/results/query_latency.json, with the load average: latencies on a busy
machine are not those of an idle one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "runtime" / "python"))

from flowwright.knowledge.index import EmbeddedIndex  # noqa: E402
from flowwright.knowledge.models import Chunk, MetadataFilter, SearchRequest  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "query_latency.json"
DIMENSION = 384
CHUNKS_PER_DOCUMENT = 100
VOCABULARY = 20_000
SKIPPED_RANKS = 50
GOAL_P50_MS = 50.0
_PAIRS = "karitonamisolevadupelotiraenoranexinqustchthshbrcl"
SYLLABLES = [_PAIRS[i : i + 2] for i in range(0, len(_PAIRS), 2)]
HANZI = "知识库系统检索文档数据模型向量语义关键词中文分析查询结果用户应用服务器云计算存储网络安全"


def _vocabulary(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 5)))))
    chinese = {"".join(rng.choice(list(HANZI), size=int(rng.integers(2, 4)))) for _ in range(400)}
    shuffled = sorted(words)
    rng.shuffle(shuffled)  # a word's rank has nothing to do with its spelling
    return shuffled, sorted(chinese)


#: p(rank r) ~ 1 / (r + SKIPPED_RANKS): natural text (Zipf, s = 1) without its most frequent
#: words, which are stop words the analyzer drops anyway.
_WEIGHTS = 1.0 / (np.arange(VOCABULARY) + SKIPPED_RANKS + 1)
_CDF = np.cumsum(_WEIGHTS / _WEIGHTS.sum())


def _zipf_indices(rng: np.random.Generator, size: int) -> np.ndarray:
    return np.minimum(np.searchsorted(_CDF, rng.random(size)), VOCABULARY - 1)


def _unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, DIMENSION)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _text(rng: np.random.Generator, words: list[str], chinese: list[str]) -> str:
    picked = [words[i] for i in _zipf_indices(rng, int(rng.integers(60, 101)))]
    if rng.random() < 0.2:
        for _ in range(int(rng.integers(3, 8))):
            picked.insert(int(rng.integers(0, len(picked))), str(rng.choice(chinese)))
    return " ".join(picked)


def build(
    folder: Path, size: int, rng: np.random.Generator, vocab: Any
) -> tuple[EmbeddedIndex, float]:
    words, chinese = vocab
    index = EmbeddedIndex(folder)
    index.ensure("bench", DIMENSION)
    started = time.perf_counter()
    for doc in range(size // CHUNKS_PER_DOCUMENT):
        vectors = _unit_vectors(rng, CHUNKS_PER_DOCUMENT)
        metadata = {
            "title": f"document {doc}",
            "year": 2000 + doc % 25,
            "lang": ["en", "zh"][doc % 2],
        }
        chunks = [
            Chunk(
                chunk_id=f"d{doc}-{n}",
                document_id=f"d{doc}",
                position=n,
                content=_text(rng, words, chinese),
                metadata=metadata,
                vector=vectors[n].tolist(),
            )
            for n in range(CHUNKS_PER_DOCUMENT)
        ]
        index.replace_document("bench", f"d{doc}", chunks)
    return index, time.perf_counter() - started


def _queries(rng: np.random.Generator, vocab: Any, count: int) -> list[tuple[str, list[float]]]:
    words, chinese = vocab
    vectors = _unit_vectors(rng, count)
    queries = []
    for n in range(count):
        terms = [words[i] for i in _zipf_indices(rng, int(rng.integers(2, 6)))]
        if n % 4 == 0:
            terms = [*terms[:2], str(rng.choice(chinese))]
        queries.append((" ".join(terms), vectors[n].tolist()))
    return queries


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def measure(index: EmbeddedIndex, queries: list[tuple[str, list[float]]]) -> dict[str, Any]:
    started = time.perf_counter()
    index.search("bench", SearchRequest(query="warm up", mode="semantic"), queries[0][1])
    first = time.perf_counter() - started
    year = [MetadataFilter(name="year", comparison_operator="≥", value=2020)]
    variants: dict[str, dict[str, Any]] = {
        "full_text": {"mode": "full_text"},
        "semantic": {"mode": "semantic"},
        "hybrid": {"mode": "hybrid"},
        "hybrid_rrf": {"mode": "hybrid", "fusion": "rrf"},
        "hybrid_filtered": {"mode": "hybrid", "filters": year},
    }
    rows: dict[str, Any] = {"first_query_ms": round(first * 1000, 1)}
    for name, options in variants.items():
        samples, returned = [], 0
        for text, vector in queries:
            request = SearchRequest(query=text, top_k=4, **options)
            started = time.perf_counter()
            hits = index.search("bench", request, vector)
            samples.append(time.perf_counter() - started)
            returned += len(hits)
        rows[name] = {**_percentiles(samples), "hits_per_query": round(returned / len(queries), 2)}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    vocab = _vocabulary(rng)
    queries = _queries(rng, vocab, args.queries)
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "numpy": np.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "dimension": DIMENSION,
        "queries": args.queries,
        "top_k": 4,
        "goal": f"p50 < {GOAL_P50_MS:.0f} ms at 100k chunks",
        "sizes": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            index, build_s = build(Path(tmp) / str(size), size, rng, vocab)
            row = {"build_s": round(build_s, 1), **measure(index, queries)}
            db = Path(tmp) / str(size) / "bench.sqlite3"
            row["database_mb"] = round(db.stat().st_size / 2**20, 1)
            report["sizes"][str(size)] = row
            index.close()
            print(f"built and measured {size} chunks", file=sys.stderr)
    report["load_average_at_end"] = round(os.getloadavg()[0], 2)
    at_goal = report["sizes"].get("100000")
    if at_goal:
        report["goal_met"] = all(
            at_goal[m]["p50_ms"] < GOAL_P50_MS for m in ("full_text", "semantic", "hybrid")
        )
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    modes = ("full_text", "semantic", "hybrid", "hybrid_rrf", "hybrid_filtered")
    print("| chunks | build | first query | " + " | ".join(f"{m} p50 / p95" for m in modes) + " |")
    print("|---" * (3 + len(modes)) + "|")
    for size, row in report["sizes"].items():
        cells = " | ".join(f"{row[m]['p50_ms']} / {row[m]['p95_ms']} ms" for m in modes)
        print(f"| {int(size):,} | {row['build_s']} s | {row['first_query_ms']} ms | {cells} |")


if __name__ == "__main__":
    main()
