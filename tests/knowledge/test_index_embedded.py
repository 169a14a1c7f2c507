"""The embedded knowledge index on real SQLite / FTS5 files."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flowwright.knowledge.index import EmbeddedIndex, KnowledgeIndex, KnowledgeIndexError
from flowwright.knowledge.index import embedded as embedded_module
from flowwright.knowledge.index.analysis import analyze
from flowwright.knowledge.models import Chunk, Hit, MetadataFilter, SearchRequest

DIM = 4
KB = "kb"


def unit(cosine: float, axis: int = 1) -> list[float]:
    """A unit vector at ``cosine`` to ``[1, 0, 0, 0]``."""
    vector = [cosine, 0.0, 0.0, 0.0]
    vector[axis] = math.sqrt(max(0.0, 1 - cosine * cosine))
    return vector


def chunk(
    document_id: str,
    position: int,
    content: str,
    vector: list[float] | None = None,
    **metadata: Any,
) -> Chunk:
    return Chunk(
        chunk_id=f"{document_id}-{position}",
        document_id=document_id,
        position=position,
        content=content,
        vector=vector,
        metadata=metadata,
    )


def search(index: EmbeddedIndex, query: str, mode: str = "hybrid", **kwargs: Any) -> list[Hit]:
    vector = kwargs.pop("vector", [1.0, 0.0, 0.0, 0.0])
    request = SearchRequest(query=query, mode=mode, **kwargs)
    return index.search(KB, request, None if mode == "full_text" else vector)


def ids(hits: list[Hit]) -> list[str]:
    return [hit.chunk_id for hit in hits]


FILLER = [
    "weather forecast for tomorrow",
    "recipe for a chocolate cake",
    "history of the roman empire",
    "introduction to linear algebra",
    "gardening tips for spring",
    "train timetable and platform changes",
]


@pytest.fixture
def index(tmp_path: Path) -> EmbeddedIndex:
    idx = EmbeddedIndex(tmp_path / "kbs")
    idx.ensure(KB, DIM)
    for n, text in enumerate(FILLER):
        idx.replace_document(KB, f"filler{n}", [chunk(f"filler{n}", 0, text, [0, 0, 1, 0])])
    return idx


def test_is_a_knowledge_index(index: EmbeddedIndex) -> None:
    assert isinstance(index, KnowledgeIndex)
    assert index.count(KB) == len(FILLER)


def test_bm25_ranking(index: EmbeddedIndex) -> None:
    index.replace_document(KB, "a", [chunk("a", 0, "apple banana cherry grape melon")])
    index.replace_document(KB, "b", [chunk("b", 0, "apple apple apple orange")])
    index.replace_document(KB, "c", [chunk("c", 0, "cherry pie")])
    hits = search(index, "apple", "full_text")
    assert ids(hits) == ["b-0", "a-0"]  # term frequency and shorter length win
    assert hits[0].score > hits[1].score > 0
    assert ids(search(index, "cherry apple", "full_text"))[0] in {"a-0", "b-0"}
    assert ids(search(index, "CHERRY", "full_text")) == ["c-0", "a-0"]
    assert search(index, "durian", "full_text") == []
    assert search(index, "the of", "full_text") == []  # stop words only
    # FTS syntax in the query is just text
    assert search(index, 'apple" OR NOT (x* AND "', "full_text")


def test_chinese_word_inside_a_long_sentence(index: EmbeddedIndex) -> None:
    sentence = "我们公司的知识库系统支持多种语言的全文检索功能，包括中文、日文和英文文档。"
    index.replace_document(KB, "zh", [chunk("zh", 0, sentence)])
    index.replace_document(KB, "zh2", [chunk("zh2", 0, "天气预报说明天会下雨，请带伞。")])
    index.replace_document(KB, "en", [chunk("en", 0, "full text retrieval in English")])
    for word in ("检索", "知识库", "全文检索", "日文"):
        assert ids(search(index, word, "full_text")) == ["zh-0"], word
    assert ids(search(index, "下雨", "full_text")) == ["zh2-0"]
    # the query is analyzed too: a whole question finds the sentence by its words
    assert ids(search(index, "怎么使用全文检索？", "full_text"))[0] == "zh-0"
    assert ids(search(index, "東京タワー", "full_text")) == []


def test_semantic_with_hand_made_vectors(index: EmbeddedIndex) -> None:
    index.replace_document(
        KB,
        "v",
        [
            chunk("v", 0, "x", [1, 0, 0, 0]),
            chunk("v", 1, "y", [0, 1, 0, 0]),
            chunk("v", 2, "z", [2, 2, 0, 0]),  # not unit length: cosine is still 0.707
            chunk("v", 3, "no vector"),
        ],
    )
    hits = search(index, "", "semantic", vector=[2, 0.2, 0, 0], top_k=3)
    assert ids(hits) == ["v-0", "v-2", "v-1"]
    assert [h.score for h in hits] == pytest.approx(
        [2 / math.sqrt(4.04), 4.4 / (math.sqrt(8) * math.sqrt(4.04)), 0.2 / math.sqrt(4.04)],
        rel=1e-5,
    )
    assert "v-3" not in ids(search(index, "", "semantic", top_k=100))


def test_hybrid_beats_both_sides(index: EmbeddedIndex) -> None:
    # X: keyword champion, far in vector space; Y: vector champion, no keywords;
    # T: second on both sides -> first after fusion (weighted and RRF).
    index.replace_document(
        KB,
        "docs",
        [
            chunk("docs", 0, "solar panel efficiency solar panel efficiency report", unit(0.1)),
            chunk("docs", 1, "photovoltaic module yield", unit(0.95)),
            chunk("docs", 2, "solar panel efficiency improvements", unit(0.9)),
            chunk("docs", 3, "panel discussion", unit(0.2)),
        ],
    )
    query = "solar panel efficiency"
    assert ids(search(index, query, "full_text"))[0] == "docs-0"
    assert ids(search(index, query, "semantic"))[0] == "docs-1"
    assert ids(search(index, query, "hybrid", vector_weight=0.5))[0] == "docs-2"
    assert ids(search(index, query, "hybrid", fusion="rrf"))[0] == "docs-2"
    hits = search(index, query, "hybrid", vector_weight=0.5)
    assert 0 < hits[-1].score <= hits[0].score <= 1.0
    assert ids(search(index, query, "hybrid", vector_weight=0.0))[0] == "docs-0"
    assert ids(search(index, query, "hybrid", vector_weight=1.0))[0] == "docs-1"


DOCS: dict[str, dict[str, Any]] = {
    "d1": {"title": "Annual Report 2023", "year": 2023, "lang": "en", "tags": ["finance"]},
    "d2": {"title": "Quarterly Report", "year": 2021, "lang": "fr", "tags": ["q4", "finance"]},
    "d3": {"title": "Handbook", "year": 2019, "lang": "en", "draft": None},
    "d4": {"year": 2024, "lang": "de", "published": 1_700_000_000},
}

FILTER_CASES: list[tuple[str, str, Any, set[str]]] = [
    ("contains", "title", "Report", {"d1", "d2"}),
    ("not contains", "title", "Report", {"d3"}),
    ("start with", "title", "Quarter", {"d2"}),
    ("end with", "title", "book", {"d3"}),
    ("is", "lang", "en", {"d1", "d3"}),
    ("is not", "lang", "en", {"d2", "d4"}),
    ("empty", "title", None, {"d4"}),
    ("not empty", "title", None, {"d1", "d2", "d3"}),
    ("=", "year", 2021, {"d2"}),
    ("≠", "year", 2021, {"d1", "d3", "d4"}),
    ("!=", "lang", "de", {"d1", "d2", "d3"}),
    (">", "year", 2021, {"d1", "d4"}),
    ("<", "year", 2021, {"d3"}),
    ("≥", "year", 2021, {"d1", "d2", "d4"}),
    (">=", "year", 2023, {"d1", "d4"}),
    ("≤", "year", 2021, {"d2", "d3"}),
    ("<=", "year", 2019, {"d3"}),
    ("before", "published", "2024-01-01", {"d4"}),
    ("after", "published", "2024-01-01", set()),
    ("in", "lang", "en, de", {"d1", "d3", "d4"}),
    ("in", "tags", ["q4"], {"d2"}),
    ("not in", "lang", ["en"], {"d2", "d4"}),
]


@pytest.mark.parametrize(("op", "name", "value", "expected"), FILTER_CASES)
@pytest.mark.parametrize("mode", ["full_text", "semantic", "hybrid"])
def test_filters_every_operator(
    index: EmbeddedIndex, mode: str, op: str, name: str, value: Any, expected: set[str]
) -> None:
    for n, (doc, metadata) in enumerate(DOCS.items()):
        index.replace_document(
            KB, doc, [chunk(doc, 0, f"common words {doc}", unit(0.5 + n / 10), **metadata)]
        )
    condition = MetadataFilter(name=name, comparison_operator=op, value=value)
    hits = search(index, "common", mode, top_k=100, filters=[condition])
    assert {h.document_id for h in hits} & DOCS.keys() == expected
    if mode == "full_text":  # the fillers lack "common"; semantically they are candidates
        assert {h.document_id for h in hits} == expected


def test_filter_logic_and_prefilter_before_ranking(index: EmbeddedIndex) -> None:
    # 60 strong matches without the tag, one weak match with it: pre-filtering still finds
    # the weak one although it would rank far below the candidate depth.
    strong = [chunk("strong", n, "needle needle needle", unit(0.99)) for n in range(60)]
    index.replace_document(KB, "strong", strong)
    index.replace_document(
        KB, "weak", [chunk("weak", 0, "needle and a lot of other words", unit(-0.9), tag="x")]
    )
    only = [MetadataFilter(name="tag", comparison_operator="is", value="x")]
    for mode in ("full_text", "semantic", "hybrid"):
        assert ids(search(index, "needle", mode, top_k=1, filters=only)) == ["weak-0"], mode
    either = [*only, MetadataFilter(name="tag", comparison_operator="empty")]
    hits = search(index, "needle", "full_text", top_k=100, filters=either, filter_logic="or")
    assert len(hits) == 61
    assert search(index, "needle", "full_text", top_k=100, filters=either, filter_logic="and") == []
    with pytest.raises(ValueError, match="'regex'"):
        search(index, "needle", filters=[MetadataFilter(name="t", comparison_operator="regex")])


def test_hit_fields(index: EmbeddedIndex) -> None:
    child = Chunk(
        chunk_id="child",
        document_id="p",
        position=0,
        content="the child sentence about otters",
        parent_id="parent",
        parent_content="The whole paragraph about otters and rivers.",
        page=3,
        metadata={"source": "s3://bucket/otters.pdf", "title": "Otters"},
        vector=[0, 1, 0, 0],
    )
    index.replace_document(KB, "p", [child])
    (hit,) = search(index, "otters", "full_text")
    assert hit.model_dump() == {
        "chunk_id": "child",
        "document_id": "p",
        "content": "the child sentence about otters",
        "score": hit.score,
        "text": "The whole paragraph about otters and rivers.",
        "page": 3,
        "metadata": {"source": "s3://bucket/otters.pdf", "title": "Otters"},
    }


def test_atomic_replace_seen_by_concurrent_readers(index: EmbeddedIndex) -> None:
    versions = [
        [chunk("doc", n, f"alpha version one part {n}", unit(0.8)) for n in range(5)],
        [chunk("doc", n, f"alpha version two part {n}", unit(0.7)) for n in range(8)],
    ]
    index.replace_document(KB, "doc", versions[0])
    done = threading.Event()
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def read(mode: str) -> None:
        try:
            while not done.is_set():
                hits = [h for h in search(index, "alpha", mode, top_k=50) if h.document_id == "doc"]
                one = sum("one" in h.content for h in hits)
                seen.append((len(hits), one))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    readers = [
        threading.Thread(target=read, args=(m,)) for m in ("full_text", "semantic", "hybrid")
    ]
    for thread in readers:
        thread.start()
    for n in range(30):
        index.replace_document(KB, "doc", versions[(n + 1) % 2])
        time.sleep(0.002)
    done.set()
    for thread in readers:
        thread.join()
    assert not errors
    assert len(seen) > 10
    # always one whole version: 5 chunks of "one" or 8 of "two"; never 0, 13 or a mix
    assert set(seen) <= {(5, 5), (8, 0)}
    assert index.count(KB) == len(FILLER) + 5


def test_delete_document(index: EmbeddedIndex) -> None:
    index.replace_document(
        KB, "gone", [chunk("gone", n, "ephemeral text", unit(0.5)) for n in range(3)]
    )
    assert len(search(index, "ephemeral", "full_text")) == 3
    assert index.delete_document(KB, "gone") == 3
    assert search(index, "ephemeral", "full_text") == []
    assert "gone" not in {h.document_id for h in search(index, "", "semantic", top_k=100)}
    assert index.delete_document(KB, "gone") == 0
    assert index.delete_document("no-such-kb", "gone") == 0
    index.replace_document(KB, "empty", [chunk("empty", 0, "ephemeral")])
    index.replace_document(KB, "empty", [])  # replacing with nothing deletes
    assert search(index, "ephemeral", "full_text") == []
    assert index.count(KB) == len(FILLER)


def test_persistent_across_instances_and_processes_view(tmp_path: Path) -> None:
    folder = tmp_path / "kbs"
    first = EmbeddedIndex(folder)
    first.ensure(KB, DIM)
    first.replace_document(KB, "a", [chunk("a", 0, "persistent 持久 storage", unit(0.9))])
    first.replace_document(KB, "b", [chunk("b", 0, "storage engine", unit(0.3))])
    before = search(first, "storage 持久", "hybrid")
    second = EmbeddedIndex(folder)
    second.ensure(KB, DIM)  # idempotent on an existing base
    assert search(second, "storage 持久", "hybrid") == before
    # writes through one instance reach the other's cached vectors (change log)
    second.replace_document(KB, "a", [chunk("a", 0, "rewritten", unit(-0.5))])
    second.replace_document(KB, "c", [chunk("c", 0, "new storage", unit(0.99))])
    assert ids(search(first, "", "semantic", top_k=10)) == ["c-0", "b-0", "a-0"]
    first.close()
    assert ids(search(first, "storage", "full_text")) == ["b-0", "c-0"]


def test_cache_reloads_when_the_change_log_was_pruned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded_module, "CHANGE_LOG_SIZE", 2)
    reader, writer = EmbeddedIndex(tmp_path), EmbeddedIndex(tmp_path)
    reader.ensure(KB, DIM)
    reader.replace_document(KB, "a", [chunk("a", 0, "a", unit(0.1))])
    assert ids(search(reader, "", "semantic")) == ["a-0"]
    for n in range(5):
        writer.replace_document(KB, f"d{n}", [chunk(f"d{n}", 0, "d", unit(0.2 + n / 10))])
    writer.delete_document(KB, "a")
    assert ids(search(reader, "", "semantic", top_k=10)) == [f"d{n}-0" for n in range(4, -1, -1)]


def test_errors(tmp_path: Path, index: EmbeddedIndex) -> None:
    with pytest.raises(KnowledgeIndexError, match="does not exist"):
        index.search("missing", SearchRequest(query="x", mode="full_text"), None)
    with pytest.raises(KnowledgeIndexError, match="does not exist"):
        index.count("missing")
    with pytest.raises(KnowledgeIndexError, match="4-dimension"):
        index.ensure(KB, 8)
    with pytest.raises(KnowledgeIndexError, match="query vector"):
        index.search(KB, SearchRequest(query="x", mode="semantic"), None)
    with pytest.raises(KnowledgeIndexError, match="3 dimensions"):
        index.search(KB, SearchRequest(query="x"), [1, 0, 0])
    with pytest.raises(KnowledgeIndexError, match="zeros"):
        index.search(KB, SearchRequest(query="x"), [0, 0, 0, 0])
    with pytest.raises(KnowledgeIndexError, match="2-dimension"):
        index.replace_document(KB, "d", [chunk("d", 0, "x", [1, 0])])
    with pytest.raises(KnowledgeIndexError, match="belongs to document"):
        index.replace_document(KB, "d", [chunk("other", 0, "x")])
    with pytest.raises(KnowledgeIndexError, match="empty"):
        index.ensure("", DIM)


def test_drop_and_odd_ids(tmp_path: Path) -> None:
    idx = EmbeddedIndex(tmp_path)
    for kb in ("My KB", "my-kb", "my kb", "知识库/1"):
        idx.ensure(kb, DIM)
        idx.replace_document(kb, "d", [chunk("d", 0, f"text of {kb}")])
    assert len(list(tmp_path.glob("*.sqlite3"))) == 4
    hits = idx.search("My KB", SearchRequest(query="text", mode="full_text"), None)
    assert [h.content for h in hits] == ["text of My KB"]
    idx.drop("My KB")
    idx.drop("My KB")  # idempotent
    with pytest.raises(KnowledgeIndexError):
        idx.count("My KB")
    idx.ensure("My KB", 2)  # re-created from scratch, other dimension allowed
    assert idx.count("My KB") == 0 and idx.count("my kb") == 1


def test_concurrent_readers(index: EmbeddedIndex) -> None:
    index.replace_document(
        KB, "many", [chunk("many", n, f"shared token {n}", unit(n / 50)) for n in range(50)]
    )
    expected = ids(search(index, "shared token", top_k=10))
    results: list[list[str]] = []

    def work() -> None:
        for _ in range(20):
            results.append(ids(search(index, "shared token", top_k=10)))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 120 and all(r == expected for r in results)


def test_fts_keeps_analyzer_tokens(index: EmbeddedIndex) -> None:
    """The FTS5 tokenizer must not split the analyzer's tokens (CJK bigrams, marks)."""
    text = "हिन्दी भाषा 한국어 文書 v3.14 snake_case"
    index.replace_document(KB, "t", [chunk("t", 0, text)])
    for token in analyze(text):
        assert ids(search(index, token, "full_text")) == ["t-0"], token
