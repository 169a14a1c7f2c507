"""The OpenSearch adapter against the wire: a real ``opensearchpy.OpenSearch`` client whose
connection records every request (method, path, params, body) and answers with canned
OpenSearch-shaped responses. Request bodies are checked against what OpenSearch documents
(hybrid query, normalization-processor / score-ranker-processor pipelines, knn_vector)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flowwright.knowledge.index import KnowledgeIndex, KnowledgeIndexError, OpenSearchIndex
from flowwright.knowledge.models import Chunk, MetadataFilter, SearchRequest
from opensearchpy import Connection, OpenSearch

INDEX = "flowwright-kb-kb1"


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, Any]
    body: Any


Responder = Callable[[Request], tuple[int, Any]]


@dataclass
class FakeOpenSearch:
    """Routes (method, path regex) to responders; unmatched requests fail the test."""

    requests: list[Request] = field(default_factory=list)
    routes: list[tuple[str, re.Pattern[str], Responder]] = field(default_factory=list)

    def on(self, method: str, path: str, responder: Responder | tuple[int, Any]) -> None:
        handler = responder if callable(responder) else (lambda _r, answer=responder: answer)
        self.routes.insert(0, (method, re.compile(path + r"\Z"), handler))

    def handle(self, method: str, url: str, params: dict[str, Any], body: Any) -> tuple[int, Any]:
        if isinstance(body, bytes):
            body = body.decode()
        if isinstance(body, str):
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
            body = (
                lines[0] if len(lines) == 1 and not url.endswith(("_bulk", "_msearch")) else lines
            )
        request = Request(method, url, dict(params), body)
        self.requests.append(request)
        for route_method, pattern, responder in self.routes:
            if route_method == method and pattern.match(url):
                return responder(request)
        raise AssertionError(f"unexpected request {method} {url} {params} {body}")

    def client(self) -> OpenSearch:
        server = self

        class Recording(Connection):
            def perform_request(
                self,
                method: str,
                url: str,
                params: Any = None,
                body: Any = None,
                timeout: Any = None,
                ignore: Any = (),
                headers: Any = None,
            ) -> Any:
                status, payload = server.handle(method, url, params or {}, body)
                raw = "" if payload is None else json.dumps(payload)
                if not 200 <= status < 300 and status not in ignore:
                    self._raise_error(status, raw, "application/json")
                return status, {"content-type": "application/json"}, raw

        return OpenSearch(hosts=[{"host": "localhost", "port": 9200}], connection_class=Recording)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]


def error(status: int, kind: str, reason: str) -> tuple[int, Any]:
    return status, {
        "error": {"type": kind, "reason": reason, "root_cause": [{"type": kind, "reason": reason}]},
        "status": status,
    }


def hit(
    doc_id: str, score: float, document: str = "d1", generation: int = 1, **source: Any
) -> dict[str, Any]:
    body = {
        "chunk_id": f"c-{doc_id}",
        "document_id": document,
        "position": 0,
        "content": f"content {doc_id}",
        "parent_content": None,
        "page": None,
        "metadata": {},
        "generation": generation,
        **source,
    }
    return {"_index": INDEX, "_id": doc_id, "_score": score, "_source": body}


def hits_response(*hits: dict[str, Any]) -> tuple[int, Any]:
    return 200, {
        "took": 1,
        "timed_out": False,
        "hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": list(hits)},
    }


@pytest.fixture
def server() -> FakeOpenSearch:
    fake = FakeOpenSearch()
    fake.on(
        "GET",
        f"/{INDEX}/_mapping",
        (
            200,
            {
                INDEX: {
                    "mappings": {"properties": {"vector": {"type": "knn_vector", "dimension": 3}}}
                }
            },
        ),
    )
    return fake


def make(server: FakeOpenSearch, **options: Any) -> OpenSearchIndex:
    options.setdefault("rrf_supported", True)
    return OpenSearchIndex(server.client(), **options)


def unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


# ---- ensure ------------------------------------------------------------------------------

EXPECTED_INDEX_BODY = {
    "settings": {"index": {"knn": True}},
    "mappings": {
        "dynamic": False,
        "date_detection": False,
        "numeric_detection": False,
        "dynamic_templates": [
            {
                "metadata_strings": {
                    "path_match": "metadata.*",
                    "match_mapping_type": "string",
                    "mapping": {
                        "type": "text",
                        "fields": {"keyword": {"type": "keyword", "ignore_above": 4096}},
                    },
                }
            },
            {
                "metadata_integers": {
                    "path_match": "metadata.*",
                    "match_mapping_type": "long",
                    "mapping": {"type": "double", "ignore_malformed": True},
                }
            },
            {
                "metadata_numbers": {
                    "path_match": "metadata.*",
                    "match_mapping_type": "double",
                    "mapping": {"type": "double", "ignore_malformed": True},
                }
            },
        ],
        "properties": {
            "chunk_id": {"type": "keyword"},
            "document_id": {"type": "keyword"},
            "parent_id": {"type": "keyword"},
            "position": {"type": "integer"},
            "page": {"type": "integer"},
            "generation": {"type": "long"},
            "content": {"type": "text", "analyzer": "cjk"},
            "parent_content": {"type": "text", "index": False},
            "metadata": {"type": "object", "dynamic": True},
            "vector": {
                "type": "knn_vector",
                "dimension": 3,
                "method": {
                    "name": "hnsw",
                    "engine": "faiss",
                    "space_type": "innerproduct",
                    "parameters": {"m": 16, "ef_construction": 128},
                },
            },
        },
    },
}


def weighted_pipeline(keyword: float, vector: float) -> dict[str, Any]:
    return {
        "description": f"flowwright hybrid search: min_max, arithmetic_mean, keyword {keyword:.2f} / vector {vector:.2f}",
        "phase_results_processors": [
            {
                "normalization-processor": {
                    "normalization": {"technique": "min_max"},
                    "combination": {
                        "technique": "arithmetic_mean",
                        "parameters": {"weights": [keyword, vector]},
                    },
                }
            }
        ],
    }


RRF_PIPELINE = {
    "description": "flowwright hybrid search: reciprocal rank fusion",
    "phase_results_processors": [
        {"score-ranker-processor": {"combination": {"technique": "rrf", "rank_constant": 60}}}
    ],
}


def test_ensure_creates_index_and_pipelines_once(server: FakeOpenSearch) -> None:
    server.on("HEAD", f"/{INDEX}", (404, None))
    server.on("PUT", f"/{INDEX}", (200, {"acknowledged": True, "index": INDEX}))
    server.on("GET", "/_search/pipeline/flowwright-hybrid-\\*", (404, {}))
    server.on("PUT", "/_search/pipeline/[^/]+", (200, {"acknowledged": True}))
    index = make(server)
    assert isinstance(index, KnowledgeIndex)
    index.ensure("kb1", 3)
    create = server.requests[1]
    assert (create.method, create.path, create.body) == ("PUT", f"/{INDEX}", EXPECTED_INDEX_BODY)
    puts = {
        r.path.rsplit("/", 1)[1]: r.body
        for r in server.requests
        if r.path.startswith("/_search/pipeline/") and r.method == "PUT"
    }
    assert list(puts) == [f"flowwright-hybrid-v{p:03d}" for p in range(0, 101, 10)] + [
        "flowwright-hybrid-rrf"
    ]
    assert puts["flowwright-hybrid-v070"] == weighted_pipeline(0.3, 0.7)
    assert puts["flowwright-hybrid-v000"] == weighted_pipeline(1.0, 0.0)
    assert puts["flowwright-hybrid-rrf"] == RRF_PIPELINE
    count = len(server.requests)
    index.ensure("kb1", 3)  # idempotent and cached: no request at all
    assert len(server.requests) == count


def test_ensure_on_existing_index_and_pipelines_writes_nothing(server: FakeOpenSearch) -> None:
    existing = {
        f"flowwright-hybrid-v{p:03d}": weighted_pipeline((100 - p) / 100, p / 100)
        for p in range(0, 101, 10)
    }
    server.on("HEAD", f"/{INDEX}", (200, None))
    server.on("GET", "/_search/pipeline/flowwright-hybrid-\\*", (200, existing))
    server.on("PUT", "/_search/pipeline/[^/]+", (200, {"acknowledged": True}))
    make(server, rrf_supported=False).ensure("kb1", 3)
    assert server.paths() == [
        "HEAD /flowwright-kb-kb1",
        "GET /flowwright-kb-kb1/_mapping",
        "GET /_search/pipeline/flowwright-hybrid-*",
    ]
    with pytest.raises(KnowledgeIndexError, match="3-dimension vectors, not 8"):
        make(server).ensure("kb1", 8)


def test_index_names_are_sanitized(server: FakeOpenSearch) -> None:
    index = make(server)
    assert index.index_name("kb1") == "flowwright-kb-kb1"
    odd = index.index_name("My KB/1")
    assert re.fullmatch(r"flowwright-kb-my-kb-1-[0-9a-f]{10}", odd)
    assert odd != index.index_name("my kb/1")


# ---- search ------------------------------------------------------------------------------

SOURCE = {"excludes": ["vector"]}


def test_hybrid_query_body_and_pipeline(server: FakeOpenSearch) -> None:
    server.on(
        "POST",
        f"/{INDEX}/_search",
        hits_response(
            hit("a", 0.9, parent_content="the parent", page=2, metadata={"title": "T"}),
            hit("b", 0.4, document="d2"),
        ),
    )
    index = make(server)
    hits = index.search(
        "kb1", SearchRequest(query="太阳能 效率", top_k=2, vector_weight=0.7), [3, 0, 4]
    )
    request = server.requests[-1]
    assert request.params == {"search_pipeline": "flowwright-hybrid-v070"}
    assert request.body == {
        "size": 50,
        "query": {
            "hybrid": {
                "queries": [
                    {"match": {"content": {"query": "太阳能 效率"}}},
                    {"knn": {"vector": {"vector": [0.6, 0.0, 0.8], "k": 50}}},
                ]
            }
        },
        "_source": SOURCE,
    }
    assert [(h.chunk_id, h.document_id, h.score, h.text, h.page, h.metadata) for h in hits] == [
        ("c-a", "d1", 0.9, "the parent", 2, {"title": "T"}),
        ("c-b", "d2", 0.4, "content b", None, {}),
    ]


def test_filters_go_inside_both_sub_queries(server: FakeOpenSearch) -> None:
    server.on("POST", f"/{INDEX}/_search", hits_response())
    filters = [
        MetadataFilter(name="lang", comparison_operator="is", value="en"),
        MetadataFilter(name="year", comparison_operator=">", value=2020),
    ]
    make(server).search(
        "kb1", SearchRequest(query="q", filters=filters, vector_weight=0.25), [1, 0, 0]
    )
    expected_filter = {
        "bool": {
            "filter": [
                {"terms": {"metadata.lang.keyword": ["en"]}},
                {"range": {"metadata.year": {"gt": 2020.0}}},
            ]
        }
    }
    request = server.requests[-1]
    assert request.params == {"search_pipeline": "flowwright-hybrid-v025"}
    assert request.body["query"]["hybrid"]["queries"] == [
        {"bool": {"must": [{"match": {"content": {"query": "q"}}}], "filter": [expected_filter]}},
        {"knn": {"vector": {"vector": [1.0, 0.0, 0.0], "k": 50, "filter": expected_filter}}},
    ]


def test_semantic_and_full_text_bodies(server: FakeOpenSearch) -> None:
    # faiss innerproduct scores: 1 + cos for cos > 0, 1 / (1 - cos) otherwise
    server.on(
        "POST", f"/{INDEX}/_search", hits_response(hit("a", 1.8), hit("b", 0.8, document="d2"))
    )
    index = make(server)
    hits = index.search("kb1", SearchRequest(query="ignored", mode="semantic", top_k=3), [0, 2, 0])
    assert server.requests[-1].body == {
        "size": 6,
        "query": {"knn": {"vector": {"vector": [0.0, 1.0, 0.0], "k": 6}}},
        "_source": SOURCE,
    }
    assert server.requests[-1].params == {}
    assert [h.score for h in hits] == pytest.approx([0.8, -0.25])  # cosines
    hits = index.search("kb1", SearchRequest(query="solar", mode="full_text", top_k=1), None)
    assert server.requests[-1].body == {
        "size": 2,
        "query": {"match": {"content": {"query": "solar"}}},
        "_source": SOURCE,
    }
    assert [h.score for h in hits] == [1.8]  # raw BM25


def test_rrf_server_side_and_client_side(server: FakeOpenSearch) -> None:
    server.on("POST", f"/{INDEX}/_search", hits_response(hit("a", 0.03)))
    make(server).search("kb1", SearchRequest(query="q", fusion="rrf"), [1, 0, 0])
    assert server.requests[-1].params == {"search_pipeline": "flowwright-hybrid-rrf"}
    server.on(
        "POST",
        "/_msearch",
        (
            200,
            {
                "responses": [
                    {"hits": {"hits": [hit("a", 9.0), hit("b", 5.0), hit("c", 1.0)]}},
                    {"hits": {"hits": [hit("c", 1.9), hit("a", 1.5)]}},
                ]
            },
        ),
    )
    hits = make(server, rrf_supported=False).search(
        "kb1", SearchRequest(query="q", fusion="rrf", top_k=3), [1, 0, 0]
    )
    request = server.requests[-1]
    knn = {"knn": {"vector": {"vector": [1.0, 0.0, 0.0], "k": 50}}}
    assert request.body == [
        {"index": INDEX},
        {"size": 50, "query": {"match": {"content": {"query": "q"}}}, "_source": SOURCE},
        {"index": INDEX},
        {"size": 50, "query": knn, "_source": SOURCE},
    ]
    assert [h.chunk_id for h in hits] == ["c-a", "c-c", "c-b"]
    assert hits[0].score == pytest.approx(1 / 61 + 1 / 62)


def test_missing_pipeline_is_created_and_the_search_retried(server: FakeOpenSearch) -> None:
    calls: list[str] = []

    def search(request: Request) -> tuple[int, Any]:
        calls.append(request.params["search_pipeline"])
        if len(calls) == 1:
            return error(
                400, "illegal_argument_exception", "Pipeline flowwright-hybrid-v073 is not defined"
            )
        return hits_response(hit("a", 1.0))

    server.on("POST", f"/{INDEX}/_search", search)
    server.on("PUT", "/_search/pipeline/flowwright-hybrid-v073", (200, {"acknowledged": True}))
    hits = make(server).search("kb1", SearchRequest(query="q", vector_weight=0.73), [1, 0, 0])
    assert calls == ["flowwright-hybrid-v073", "flowwright-hybrid-v073"]
    put = next(r for r in server.requests if r.method == "PUT")
    assert put.body == weighted_pipeline(0.27, 0.73)
    assert [h.chunk_id for h in hits] == ["c-a"]


def test_reader_without_pipeline_rights_fuses_client_side(server: FakeOpenSearch) -> None:
    server.on(
        "POST",
        f"/{INDEX}/_search",
        error(400, "illegal_argument_exception", "Pipeline flowwright-hybrid-v073 is not defined"),
    )
    server.on(
        "PUT",
        "/_search/pipeline/flowwright-hybrid-v073",
        error(403, "security_exception", "no permissions for [cluster:admin/search/pipeline/put]"),
    )
    server.on(
        "POST",
        "/_msearch",
        (
            200,
            {
                "responses": [
                    {"hits": {"hits": [hit("a", 10.0), hit("b", 6.0), hit("c", 2.0)]}},
                    {"hits": {"hits": [hit("b", 1.9), hit("d", 1.5)]}},
                ]
            },
        ),
    )
    hits = make(server).search("kb1", SearchRequest(query="q", vector_weight=0.73), [1, 0, 0])
    assert [r.path for r in server.requests][-1] == "/_msearch"
    scores = {h.chunk_id: h.score for h in hits}
    # min_max + arithmetic_mean with weights (0.27, 0.73), as the pipeline would
    assert scores == pytest.approx(
        {"c-b": 0.27 * 0.5 + 0.73, "c-a": 0.27, "c-d": 0.73 * 0.001, "c-c": 0.27 * 0.001}
    )


def test_search_keeps_only_the_newest_generation_of_each_document(server: FakeOpenSearch) -> None:
    server.on(
        "POST",
        f"/{INDEX}/_search",
        hits_response(
            hit("old0", 0.9, generation=1, position=0),
            hit("new0", 0.8, generation=2, position=0),
            hit("other", 0.7, document="d2", generation=1),
            hit("old1", 0.6, generation=1, position=1),
            hit("new1", 0.5, generation=2, position=1),
        ),
    )
    hits = make(server).search("kb1", SearchRequest(query="q", top_k=10), [1, 0, 0])
    assert [h.chunk_id for h in hits] == ["c-new0", "c-other", "c-new1"]


def test_search_errors(server: FakeOpenSearch) -> None:
    index = make(server)
    with pytest.raises(KnowledgeIndexError, match="needs a query vector"):
        index.search("kb1", SearchRequest(query="q"), None)
    with pytest.raises(KnowledgeIndexError, match="zeros"):
        index.search("kb1", SearchRequest(query="q"), [0, 0, 0])
    with pytest.raises(KnowledgeIndexError, match="2 dimensions"):
        index.search("kb1", SearchRequest(query="q"), [1, 0])
    server.on(
        "POST",
        "/flowwright-kb-nope/_search",
        error(404, "index_not_found_exception", "no such index [flowwright-kb-nope]"),
    )
    with pytest.raises(KnowledgeIndexError, match="does not exist"):
        index.search("nope", SearchRequest(query="q", mode="full_text"), None)
    with pytest.raises(ValueError, match="'like'"):
        index.search(
            "kb1",
            SearchRequest(
                query="q",
                mode="full_text",
                filters=[MetadataFilter(name="a", comparison_operator="like", value=1)],
            ),
            None,
        )


# ---- writes ------------------------------------------------------------------------------


def chunks(document: str, count: int) -> list[Chunk]:
    return [
        Chunk(
            chunk_id=f"{document}-{n}",
            document_id=document,
            position=n,
            content=f"text {n}",
            metadata={"title": "T", "year": 2024},
            vector=[0, 3, 4],
        )
        for n in range(count)
    ]


def bulk_ok(request: Request) -> tuple[int, Any]:
    actions = request.body[::2] if "index" in request.body[0] else request.body
    items = []
    for n, action in enumerate(actions):
        ((op, meta),) = action.items()
        items.append(
            {
                op: {
                    "_index": INDEX,
                    "_id": meta.get("_id", f"gen{n}"),
                    "status": 201 if op == "index" else 200,
                    "result": "created" if op == "index" else "deleted",
                }
            }
        )
    return 200, {"took": 1, "errors": False, "items": items}


def test_replace_document_swaps_generations(server: FakeOpenSearch) -> None:
    server.on("POST", "/_bulk", bulk_ok)
    server.on("POST", f"/{INDEX}/_count", (200, {"count": 2}))
    old = [{**hit("x1", 0.0), "sort": [1, 0, "d1-0"]}, {**hit("x2", 0.0), "sort": [1, 1, "d1-1"]}]
    server.on("POST", f"/{INDEX}/_search", hits_response(*old))
    index = make(server)
    index.replace_document("kb1", "d1", chunks("d1", 2))
    assert server.paths() == [
        "GET /flowwright-kb-kb1/_mapping",
        "POST /_bulk",
        "POST /flowwright-kb-kb1/_count",
        "POST /flowwright-kb-kb1/_search",
        "POST /_bulk",
    ]
    _, bulk, count, find, delete = server.requests
    generation = bulk.body[1]["generation"]
    assert bulk.params == {"refresh": "wait_for"}
    assert bulk.body[0] == {"index": {"_index": INDEX}}
    assert bulk.body[1] == {
        "chunk_id": "d1-0",
        "document_id": "d1",
        "position": 0,
        "content": "text 0",
        "parent_id": None,
        "parent_content": None,
        "page": None,
        "metadata": {"title": "T", "year": 2024},
        "generation": generation,
        "vector": [0.0, 0.6, 0.8],
    }
    assert [bulk.body[3]["generation"], bulk.body[3]["position"]] == [generation, 1]
    this_generation = {
        "bool": {"filter": [{"term": {"document_id": "d1"}}, {"term": {"generation": generation}}]}
    }
    assert count.body == {"query": this_generation}
    assert find.body == {
        "size": 1000,
        "query": {
            "bool": {
                "filter": [
                    {"term": {"document_id": "d1"}},
                    {"range": {"generation": {"lt": generation}}},
                ]
            }
        },
        "_source": False,
        "sort": [{"generation": "asc"}, {"position": "asc"}, {"chunk_id": "asc"}],
    }
    assert delete.body == [
        {"delete": {"_index": INDEX, "_id": "x1"}},
        {"delete": {"_index": INDEX, "_id": "x2"}},
    ]
    assert delete.params == {"refresh": "wait_for"}
    index.replace_document("kb1", "d1", chunks("d1", 2))
    assert server.requests[-4].body[1]["generation"] > generation  # strictly increasing


def test_serverless_replace_waits_until_the_new_generation_is_visible(
    server: FakeOpenSearch,
) -> None:
    counts = iter([0, 1, 2])
    slept: list[float] = []
    server.on("POST", "/_bulk", bulk_ok)
    server.on("POST", f"/{INDEX}/_count", lambda _r: (200, {"count": next(counts)}))
    server.on("POST", f"/{INDEX}/_search", hits_response())
    make(server, serverless=True, sleep=slept.append).replace_document("kb1", "d1", chunks("d1", 2))
    assert slept == [0.25, 0.5]
    assert all(r.params == {} for r in server.requests)  # no refresh parameter on Serverless
    assert server.paths()[-1] == "POST /flowwright-kb-kb1/_search"  # found nothing older


def test_replace_keeps_old_version_when_new_never_becomes_visible(server: FakeOpenSearch) -> None:
    server.on("POST", "/_bulk", bulk_ok)
    server.on("POST", f"/{INDEX}/_count", (200, {"count": 0}))
    index = make(server, serverless=True, visibility_timeout=0.0, sleep=lambda _s: None)
    with pytest.raises(KnowledgeIndexError, match="kept the previous version"):
        index.replace_document("kb1", "d1", chunks("d1", 1))
    assert "POST /flowwright-kb-kb1/_search" not in server.paths()


def test_rejected_chunks_roll_back_the_new_generation(server: FakeOpenSearch) -> None:
    def bulk(request: Request) -> tuple[int, Any]:
        if "index" in request.body[0]:
            failure = {
                "index": {
                    "status": 400,
                    "error": {"type": "mapper_parsing_exception", "reason": "bad vector"},
                }
            }
            ok = {"index": {"status": 201, "result": "created", "_id": "n0"}}
            return 200, {"errors": True, "items": [ok, failure]}
        return bulk_ok(request)

    server.on("POST", "/_bulk", bulk)
    server.on(
        "POST", f"/{INDEX}/_search", hits_response({**hit("n0", 0.0), "sort": [5, 0, "d1-0"]})
    )
    with pytest.raises(KnowledgeIndexError, match="bad vector"):
        make(server).replace_document("kb1", "d1", chunks("d1", 2))
    find = server.requests[2]
    assert find.body["query"]["bool"]["filter"][1] == {
        "term": {"generation": server.requests[1].body[1]["generation"]}
    }
    assert server.requests[-1].body == [{"delete": {"_index": INDEX, "_id": "n0"}}]


def test_replace_validates_chunks(server: FakeOpenSearch) -> None:
    index = make(server)
    with pytest.raises(KnowledgeIndexError, match="2-dimension"):
        index.replace_document(
            "kb1",
            "d1",
            [Chunk(chunk_id="c", document_id="d1", position=0, content="x", vector=[1, 0])],
        )
    with pytest.raises(KnowledgeIndexError, match="belongs to document"):
        index.replace_document("kb1", "d1", chunks("d2", 1))


def test_delete_count_drop(server: FakeOpenSearch) -> None:
    pages = [
        hits_response(*[{**hit(f"h{n}", 0.0), "sort": [1, n, f"c{n}"]} for n in range(1000)]),
        hits_response({**hit("last", 0.0), "sort": [2, 0, "z"]}),
    ]
    bodies: list[Any] = []

    def search(request: Request) -> tuple[int, Any]:
        bodies.append(request.body)
        return pages[len(bodies) - 1]

    server.on("HEAD", f"/{INDEX}", (200, None))
    server.on("POST", f"/{INDEX}/_search", search)
    server.on("POST", "/_bulk", bulk_ok)
    index = make(server)
    assert index.delete_document("kb1", "d1") == 1001
    assert bodies[0]["query"] == {"term": {"document_id": "d1"}}
    assert "search_after" not in bodies[0] and bodies[1]["search_after"] == [1, 999, "c999"]
    server.on("HEAD", "/flowwright-kb-nope", (404, None))
    assert index.delete_document("nope", "d1") == 0
    server.on("POST", f"/{INDEX}/_count", (200, {"count": 42}))
    assert index.count("kb1") == 42
    server.on("DELETE", f"/{INDEX}", (200, {"acknowledged": True}))
    index.drop("kb1")
    server.on("DELETE", f"/{INDEX}", error(404, "index_not_found_exception", "no such index"))
    index.drop("kb1")  # no-op when missing


def test_connect_signs_with_sigv4(monkeypatch: pytest.MonkeyPatch) -> None:
    from opensearchpy import Urllib3AWSV4SignerAuth, Urllib3HttpConnection

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    index = OpenSearchIndex.connect("https://abc.eu-west-1.aoss.amazonaws.com", "eu-west-1", "aoss")
    assert index.serverless and not index.rrf_supported
    connection = index.client.transport.connection_pool.connections[0]
    assert isinstance(connection, Urllib3HttpConnection)
    assert connection.host == "https://abc.eu-west-1.aoss.amazonaws.com:443"
    auth = index.client.transport.kwargs["http_auth"]
    assert isinstance(auth, Urllib3AWSV4SignerAuth) and auth.service == "aoss"
    domain = OpenSearchIndex.connect("search-x.eu-west-1.es.amazonaws.com", "eu-west-1", "es")
    assert domain.rrf_supported and not domain.serverless
