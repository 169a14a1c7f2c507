"""The OpenSearch knowledge index (Amazon OpenSearch Service domain or Serverless collection).

One index per knowledge base, ``<prefix><kb>``:

* ``content`` is ``text`` with the built-in ``cjk`` analyzer (bigrams for CJK, like
  ``analysis.analyze``); ``parent_content`` is stored, not indexed;
* ``vector`` is a ``knn_vector`` (HNSW, faiss, ``innerproduct``). Vectors are L2-normalized
  here before indexing and querying, so the inner product *is* the cosine similarity.
  ``innerproduct`` works on every faiss version (``cosinesimil`` needs faiss on 2.19+ and
  rejects zero vectors); its score is ``1 + cos`` for positive cosines, which min-max
  normalization treats exactly like the cosine itself. Semantic hits report the cosine;
* ``metadata`` is dynamic: strings map to ``text`` + ``keyword`` subfield, numbers to
  ``double`` (``ignore_malformed``); date and numeric detection are off.

Hybrid search is one ``hybrid`` query (match + knn) through a search pipeline. A
pipeline's weights are fixed when it is created, so there is one pipeline per weight pair,
``<pipeline>-v070`` for a vector weight of 0.70 (weights rounded to 0.01). ``ensure``
creates the 0.1 grid and the RRF pipeline; a search naming a missing pipeline creates it
and retries once. Without server-side RRF (``rrf_supported=False``), or when a missing
pipeline cannot be created (readers may not put pipelines), the fusion runs here over the
two sub-queries of one ``_msearch``, with the same formulas (``fusion``).

Replacing a document without a moment where it is missing or doubled
(``_id``s cannot be chosen on Serverless vector collections, so overwriting in place is
not an option): every chunk carries a ``generation`` (a nanosecond timestamp).

1. bulk-index the new chunks with a new generation (``refresh=wait_for`` on a domain);
2. wait until all of them are searchable (``_count``; Serverless refreshes on its own);
3. delete the document's chunks of older generations (search by query, bulk delete by id).

Between 1 and 3 both generations are searchable, so every search keeps, per document, only
the hits of the newest generation among its results: never doubled, and never missing
because the old generation goes only once the new one is visible. A concurrent replace of
the same document by two writers leaves the newer generation in place.

Request and response formats live in ``opensearch_bodies``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from flowwright.knowledge.index import fusion
from flowwright.knowledge.index.base import KnowledgeIndexError, candidate_depth, safe_name
from flowwright.knowledge.index.filters import MATCH_ALL, to_opensearch
from flowwright.knowledge.index.opensearch_bodies import (
    RANK_CONSTANT,
    SOURCE,
    chunk_source,
    hits_of,
    index_body,
    is_newest,
    knn_query,
    latest,
    match_query,
    newest_generations,
    pipeline_body,
    pipeline_names,
    unit,
)
from flowwright.knowledge.models import Chunk, Hit, SearchRequest

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

__all__ = ["OpenSearchIndex"]

_WEIGHT_GRID = range(0, 101, 10)
_PAGE = 1000


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _error_text(exc: Exception) -> str:
    info = getattr(exc, "info", None)
    if isinstance(info, dict):
        error = info.get("error")
        if isinstance(error, dict):
            reason = error.get("reason") or error.get("type")
            root = error.get("root_cause") or []
            if root and isinstance(root[0], dict) and root[0].get("reason"):
                reason = root[0]["reason"]
            return f"{getattr(exc, 'status_code', '')} {reason}".strip()
    return str(exc)


class OpenSearchIndex:
    """KnowledgeIndex over an OpenSearch client (``opensearchpy.OpenSearch``)."""

    def __init__(
        self,
        client: OpenSearch,
        *,
        index_prefix: str = "flowwright-kb-",
        pipeline: str = "flowwright-hybrid",
        rrf_supported: bool,
        serverless: bool = False,
        visibility_timeout: float = 60.0,
        bulk_size: int = 500,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.index_prefix = index_prefix
        self.pipeline = pipeline
        self.rrf_supported = rrf_supported
        self.serverless = serverless
        self.visibility_timeout = visibility_timeout
        self.bulk_size = bulk_size
        self._sleep = sleep
        self._dimensions: dict[str, int] = {}
        self._pipelines: set[str] = set()
        self._lock = threading.Lock()
        self._last_generation = 0

    @classmethod
    def connect(
        cls,
        endpoint: str,
        region: str,
        service: Literal["es", "aoss"],
        *,
        rrf_supported: bool | None = None,
        timeout: float = 30.0,
        **options: Any,
    ) -> OpenSearchIndex:
        """A SigV4-signed index for a domain (``es``) or Serverless collection (``aoss``),
        with credentials from the default boto3 session. RRF runs server-side on domains
        (OpenSearch 2.19+) unless ``rrf_supported`` says otherwise."""
        import boto3
        from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth, Urllib3HttpConnection

        credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise KnowledgeIndexError("no AWS credentials to sign OpenSearch requests with")
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        if not parts.hostname:
            raise KnowledgeIndexError(f"not an OpenSearch endpoint: {endpoint!r}")
        client = OpenSearch(
            hosts=[{"host": parts.hostname, "port": parts.port or 443}],
            http_auth=Urllib3AWSV4SignerAuth(credentials, region, service),
            use_ssl=parts.scheme == "https",
            verify_certs=True,
            connection_class=Urllib3HttpConnection,
            pool_maxsize=16,
            timeout=timeout,
        )
        return cls(
            client,
            rrf_supported=service == "es" if rrf_supported is None else rrf_supported,
            serverless=service == "aoss",
            **options,
        )

    # ---- names -----------------------------------------------------------------------------

    def index_name(self, kb_id: str) -> str:
        """The OpenSearch index of ``kb_id``."""
        return f"{self.index_prefix}{safe_name(kb_id)}"

    def pipeline_name(self, request: SearchRequest) -> str:
        """The search pipeline a hybrid ``request`` runs through."""
        weight = None if request.fusion == "rrf" else request.vector_weight
        return pipeline_names(self.pipeline, weight)

    # ---- plumbing --------------------------------------------------------------------------

    def _fail(self, what: str, exc: Exception) -> KnowledgeIndexError:
        return KnowledgeIndexError(f"OpenSearch {what} failed: {_error_text(exc)}")

    def _call(self, what: str, function: Callable[..., Any], **kwargs: Any) -> Any:
        from opensearchpy.exceptions import NotFoundError, TransportError

        try:
            return function(**kwargs)
        except NotFoundError as exc:
            if exc.error == "index_not_found_exception":
                raise KnowledgeIndexError(
                    f"OpenSearch {what}: index {kwargs.get('index')!r} does not exist; "
                    "call ensure() first"
                ) from exc
            raise self._fail(what, exc) from exc
        except TransportError as exc:
            raise self._fail(what, exc) from exc

    def _next_generation(self) -> int:
        with self._lock:
            self._last_generation = max(time.time_ns(), self._last_generation + 1)
            return self._last_generation

    def _dimension(self, name: str) -> int:
        dimension = self._dimensions.get(name)
        if dimension is None:
            mapping = self._call("get mapping", self.client.indices.get_mapping, index=name)
            properties = next(iter(mapping.values()))["mappings"]["properties"]
            dimension = self._dimensions[name] = int(properties["vector"]["dimension"])
        return dimension

    def _put_pipeline(self, name: str) -> None:
        self._call(
            "put search pipeline",
            self.client.search_pipeline.put,
            id=name,
            body=pipeline_body(self.pipeline, name),
        )
        self._pipelines.add(name)

    def _ensure_pipelines(self) -> None:
        from opensearchpy.exceptions import NotFoundError, TransportError

        wanted = [pipeline_names(self.pipeline, percent / 100) for percent in _WEIGHT_GRID]
        if self.rrf_supported:
            wanted.append(pipeline_names(self.pipeline, None))
        if all(name in self._pipelines for name in wanted):
            return
        try:
            existing = self.client.search_pipeline.get(id=f"{self.pipeline}-*")
        except NotFoundError:
            existing = {}
        except TransportError as exc:
            raise self._fail("get search pipelines", exc) from exc
        for name in wanted:
            if existing.get(name) != pipeline_body(self.pipeline, name):
                self._put_pipeline(name)
            self._pipelines.add(name)

    def _bulk(self, body: list[dict[str, Any]], refresh: bool) -> list[dict[str, Any]]:
        params = {"refresh": "wait_for"} if refresh and not self.serverless else {}
        response = self._call("bulk", self.client.bulk, body=body, params=params)
        return [next(iter(item.values())) for item in response.get("items", [])]

    def _matching_ids(self, name: str, query: dict[str, Any]) -> Iterator[list[str]]:
        """Pages of ``_id``s of the documents matching ``query``."""
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {
                "size": _PAGE,
                "query": query,
                "_source": False,
                "sort": [{"generation": "asc"}, {"position": "asc"}, {"chunk_id": "asc"}],
            }
            if after is not None:
                body["search_after"] = after
            hits = self._call("search", self.client.search, index=name, body=body)["hits"]["hits"]
            if hits:
                yield [hit["_id"] for hit in hits]
                after = hits[-1]["sort"]
            if len(hits) < _PAGE:
                return

    def _delete_matching(self, name: str, query: dict[str, Any]) -> int:
        deleted = 0
        for ids in self._matching_ids(name, query):
            items = self._bulk([{"delete": {"_index": name, "_id": i}} for i in ids], True)
            deleted += sum(1 for item in items if item.get("result") == "deleted")
        return deleted

    def _wait_visible(self, name: str, query: dict[str, Any], expected: int) -> None:
        deadline = time.monotonic() + self.visibility_timeout
        delay = 0.25
        while True:
            found = self._call("count", self.client.count, index=name, body={"query": query})
            if int(found["count"]) >= expected:
                return
            if time.monotonic() >= deadline:
                raise KnowledgeIndexError(
                    f"index {name!r}: {found['count']} of {expected} new chunks searchable "
                    f"after {self.visibility_timeout:.0f} s; kept the previous version too"
                )
            self._sleep(delay)
            delay = min(delay * 2, 5.0)

    # ---- KnowledgeIndex --------------------------------------------------------------------

    def ensure(self, kb_id: str, dimension: int) -> None:
        """Create the index (and the search pipelines) if missing; idempotent."""
        if dimension < 1:
            raise KnowledgeIndexError(f"vector dimension must be positive, got {dimension}")
        from opensearchpy.exceptions import RequestError

        name = self.index_name(kb_id)
        if self._dimensions.get(name) is None:
            exists = self._call("index exists", self.client.indices.exists, index=name)
            if not exists:
                try:
                    self.client.indices.create(index=name, body=index_body(dimension))
                    self._dimensions[name] = dimension
                except RequestError as exc:
                    if exc.error != "resource_already_exists_exception":
                        raise self._fail("create index", exc) from exc
        existing = self._dimension(name)
        if existing != dimension:
            raise KnowledgeIndexError(
                f"knowledge base {kb_id!r} exists with {existing}-dimension vectors, "
                f"not {dimension}"
            )
        self._ensure_pipelines()

    def replace_document(self, kb_id: str, document_id: str, chunks: list[Chunk]) -> None:
        """Index the new chunks, wait until searchable, then delete older generations."""
        name = self.index_name(kb_id)
        dimension = self._dimension(name)
        generation = self._next_generation()
        sources = [chunk_source(c, document_id, generation, dimension) for c in chunks]
        batches = list(_batches(sources, self.bulk_size))
        this_generation = {
            "bool": {
                "filter": [
                    {"term": {"document_id": document_id}},
                    {"term": {"generation": generation}},
                ]
            }
        }
        for number, batch in enumerate(batches, start=1):
            body: list[dict[str, Any]] = []
            for source in batch:
                body += [{"index": {"_index": name}}, source]
            items = self._bulk(body, refresh=number == len(batches))
            failed = [item for item in items if "error" in item]
            if failed:
                self._delete_matching(name, this_generation)
                error = failed[0]["error"]
                reason = error.get("reason", error) if isinstance(error, dict) else error
                raise KnowledgeIndexError(
                    f"index {name!r}: {len(failed)} chunks of document {document_id!r} were "
                    f"rejected ({reason}); the previous version is kept"
                )
        if sources:
            self._wait_visible(name, this_generation, len(sources))
        older = {
            "bool": {
                "filter": [
                    {"term": {"document_id": document_id}},
                    {"range": {"generation": {"lt": generation}}},
                ]
            }
        }
        self._delete_matching(name, older)

    def delete_document(self, kb_id: str, document_id: str) -> int:
        """Delete every chunk of the document; 0 when the index does not exist."""
        name = self.index_name(kb_id)
        if not self._call("index exists", self.client.indices.exists, index=name):
            return 0
        return self._delete_matching(name, {"term": {"document_id": document_id}})

    def search(
        self, kb_id: str, request: SearchRequest, query_vector: list[float] | None
    ) -> list[Hit]:
        """Top ``request.top_k`` hits (semantic scores are cosines, full-text scores BM25,
        hybrid scores the pipeline's fused score)."""
        name = self.index_name(kb_id)
        filter_query: dict[str, Any] | None = None
        if request.filters:
            filter_query = to_opensearch(request.filters, request.filter_logic)
            if filter_query == MATCH_ALL:
                filter_query = None
        vector: list[float] = []
        if request.mode != "full_text":
            if query_vector is None:
                raise KnowledgeIndexError(f"{request.mode} search needs a query vector")
            if not any(query_vector):
                raise KnowledgeIndexError("query vector must not be all zeros")
            if len(query_vector) != self._dimension(name):
                raise KnowledgeIndexError(
                    f"query vector has {len(query_vector)} dimensions, the knowledge base "
                    f"has {self._dimension(name)}"
                )
            vector = unit(query_vector)
        if request.mode == "hybrid":
            depth = candidate_depth(request.top_k)
            match, knn = (
                match_query(request.query, filter_query),
                knn_query(vector, depth, filter_query),
            )
            if request.fusion == "rrf" and not self.rrf_supported:
                return self._client_fused(name, match, knn, depth, request)
            body = {
                "size": depth,
                "query": {"hybrid": {"queries": [match, knn]}},
                "_source": SOURCE,
            }
            hits = self._hybrid(name, body, self.pipeline_name(request))
            if hits is None:  # no such pipeline and no right to create one
                return self._client_fused(name, match, knn, depth, request)
            return hits_of(latest(hits), request.top_k)
        # Twice top_k: hits dropped as an older generation (mid-replace) leave no gap.
        size = request.top_k * 2
        if request.mode == "semantic":
            query = knn_query(vector, size, filter_query)
        else:
            query = match_query(request.query, filter_query)
        body = {"size": size, "query": query, "_source": SOURCE}
        hits = self._call("search", self.client.search, index=name, body=body)["hits"]["hits"]
        return hits_of(latest(hits), request.top_k, cosine=request.mode == "semantic")

    def _hybrid(
        self, name: str, body: dict[str, Any], pipeline: str
    ) -> list[dict[str, Any]] | None:
        """The hybrid query's hits through ``pipeline``, creating the pipeline when it is
        missing; None when it is missing and cannot be created (a reader without the
        right to put pipelines, weights off the grid ``ensure`` creates)."""
        from opensearchpy.exceptions import RequestError

        for attempt in (1, 2):
            try:
                response = self.client.search(
                    index=name, body=body, params={"search_pipeline": pipeline}
                )
                return list(response["hits"]["hits"])
            except RequestError as exc:
                missing = "pipeline" in str(exc.info).lower() and "not defined" in str(exc.info)
                if attempt == 2 or not missing:
                    raise self._fail("hybrid search", exc) from exc
                try:
                    self._put_pipeline(pipeline)
                except KnowledgeIndexError:
                    return None
        raise AssertionError("unreachable")  # pragma: no cover

    def _client_fused(
        self,
        name: str,
        match: dict[str, Any],
        knn: dict[str, Any],
        depth: int,
        request: SearchRequest,
    ) -> list[Hit]:
        """Hybrid search fused here (``fusion``: the same formulas as the pipelines) over
        the two sub-queries of one ``_msearch``."""
        body: list[dict[str, Any]] = []
        for query in (match, knn):
            body += [{"index": name}, {"size": depth, "query": query, "_source": SOURCE}]
        response = self._call("msearch", self.client.msearch, body=body)
        results: list[list[dict[str, Any]]] = []
        for item in response["responses"]:
            if "error" in item:
                raise KnowledgeIndexError(f"OpenSearch msearch failed: {item['error']}")
            results.append(item["hits"]["hits"])
        newest = newest_generations([h for hits in results for h in hits])
        by_id: dict[str, dict[str, Any]] = {}
        ranked: list[list[tuple[str, float]]] = []
        for hits in results:
            kept = [h for h in hits if is_newest(h, newest)]
            by_id.update((h["_id"], h) for h in kept)
            ranked.append([(h["_id"], float(h["_score"])) for h in kept])
        if request.fusion == "rrf":
            fused = fusion.rrf(ranked, rank_constant=RANK_CONSTANT)
        else:
            fused = fusion.min_max_weighted(ranked, fusion.hybrid_weights(request.vector_weight))
        return hits_of([{**by_id[i], "_score": s} for i, s in fused], request.top_k)

    def count(self, kb_id: str) -> int:
        """Number of chunks (during a replace both generations count)."""
        name = self.index_name(kb_id)
        return int(self._call("count", self.client.count, index=name)["count"])

    def drop(self, kb_id: str) -> None:
        """Delete the index; no-op when missing."""
        from opensearchpy.exceptions import NotFoundError, TransportError

        name = self.index_name(kb_id)
        self._dimensions.pop(name, None)
        try:
            self.client.indices.delete(index=name)
        except NotFoundError:
            return
        except TransportError as exc:
            raise self._fail("delete index", exc) from exc
