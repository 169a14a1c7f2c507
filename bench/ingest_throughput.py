"""Ingestion throughput: extract + clean + chunk against pypdf's raw ``extract_text``.

    .venv/bin/python bench/ingest_throughput.py

Both run on the same long text PDFs of ../shared/corpus (kind ``text``, 25+ pages) in the
same process, alternating, best of 3 each; the ratio is pipeline pages/s over raw pages/s
(goal: at least 0.8). The isolated extractor (child process with time and memory caps, as
the ingest function runs it) is reported too. Embedding is measured separately (passages/s
of the local e5 model) since it dominates and depends on the model.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("FLOWWRIGHT_SHARED", ROOT.parent / "shared")) / "corpus"
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from flowwright.knowledge.chunk import chunk_document  # noqa: E402
from flowwright.knowledge.embed import embed_texts  # noqa: E402
from flowwright.knowledge.extract import extract, extract_isolated  # noqa: E402
from flowwright.knowledge.models import ChunkingSettings, CleaningRules  # noqa: E402
from pypdf import PdfReader  # noqa: E402


def documents() -> list[tuple[str, bytes, int]]:
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text())

    def pages(entry: dict) -> int:
        return int(entry.get("pages") or (entry.get("pypdf_probe") or {}).get("pages") or 0)

    picked = [e for e in manifest["files"] if e["kind"] == "text" and pages(e) >= 25]
    return [
        (e["path"], (CORPUS / e["path"]).read_bytes(), pages(e))
        for e in sorted(picked, key=lambda e: e["path"])
    ]


def raw(data: bytes) -> int:
    """pypdf's ``extract_text`` on every page (a page it cannot read counts as read)."""
    reader = PdfReader(io.BytesIO(data))
    total = 0
    for page in reader.pages:
        try:
            total += len(page.extract_text() or "")
        except Exception:  # damaged content stream: the pipeline skips the page too
            continue
    return total


def pipeline(data: bytes, name: str, isolated: bool = False) -> int:
    run = extract_isolated if isolated else extract
    document = run(data, filename=name.rsplit("/", 1)[-1])
    chunks = chunk_document(
        document,
        document_id="bench",
        settings=ChunkingSettings(),
        cleaning=CleaningRules(),
        metadata={},
    )
    return len(chunks)


def best_of(fn: object, rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # font warnings, same for both sides
    docs = documents()
    pages = sum(p for _, _, p in docs)
    raw_s = pipe_s = iso_s = 0.0
    chunks = 0
    for name, data, _ in docs:
        raw_s += best_of(lambda data=data: raw(data))
        pipe_s += best_of(lambda data=data, name=name: pipeline(data, name))
        iso_s += best_of(lambda data=data, name=name: pipeline(data, name, isolated=True))
        chunks += pipeline(data, name)
    sample = [
        f"passage {i}: " + "flowwright indexes documents for retrieval. " * 12 for i in range(64)
    ]
    embed_texts(sample[:2], model="flowwright-local/multilingual-e5-small")
    started = time.perf_counter()
    embed_texts(sample, model="flowwright-local/multilingual-e5-small", batch_size=32)
    embed_rate = len(sample) / (time.perf_counter() - started)
    result = {
        "documents": [n for n, _, _ in docs],
        "pages": pages,
        "chunks": chunks,
        "raw_pypdf_pages_per_s": round(pages / raw_s, 1),
        "pipeline_pages_per_s": round(pages / pipe_s, 1),
        "isolated_pipeline_pages_per_s": round(pages / iso_s, 1),
        "ratio_pipeline_to_raw": round(raw_s / pipe_s, 3),
        "ratio_isolated_to_raw": round(raw_s / iso_s, 3),
        "local_embedding_passages_per_s": round(embed_rate, 1),
    }
    for key, value in result.items():
        print(f"{key:<34} {value}")
    out = ROOT / "bench" / "results" / "ingest_throughput.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
