"""Fusion math against hand-computed OpenSearch results, text analysis, and Dify's metadata
filter operators in both forms (Python predicate and OpenSearch query) agreeing."""

from __future__ import annotations

from typing import Any

import pytest
from flowwright.knowledge.index import fusion
from flowwright.knowledge.index.analysis import analyze
from flowwright.knowledge.index.filters import OPERATORS, matches, to_opensearch
from flowwright.knowledge.models import MetadataFilter

# ---- fusion ------------------------------------------------------------------------------


def test_min_max_weighted_hand_computed() -> None:
    keyword = [("a", 10.0), ("b", 6.0), ("c", 2.0)]
    semantic = [("b", 0.9), ("d", 0.5)]
    fused = dict(fusion.min_max_weighted([keyword, semantic], [0.3, 0.7]))
    # keyword: a=1, b=0.5, c=0 -> 0.001; semantic: b=1, d=0 -> 0.001
    assert fused["a"] == pytest.approx(0.3 * 1.0)
    assert fused["b"] == pytest.approx(0.3 * 0.5 + 0.7 * 1.0)
    assert fused["c"] == pytest.approx(0.3 * 0.001)
    assert fused["d"] == pytest.approx(0.7 * 0.001)
    order = [doc for doc, _ in fusion.min_max_weighted([keyword, semantic], [0.3, 0.7])]
    assert order == ["b", "a", "d", "c"]


def test_min_max_single_result_and_equal_scores_normalize_to_one() -> None:
    fused = dict(fusion.min_max_weighted([[("a", 5.0)], [("a", 0.2), ("b", 0.1)]], [0.5, 0.5]))
    assert fused["a"] == pytest.approx(1.0)
    assert fused["b"] == pytest.approx(0.5 * 0.001)
    fused = dict(fusion.min_max_weighted([[("x", 3.0), ("y", 3.0)], []], [0.4, 0.6]))
    # both 1.0 on the keyword side; the empty semantic side still counts in the divisor
    assert fused == {"x": pytest.approx(0.4), "y": pytest.approx(0.4)}


def test_min_max_divides_by_all_weights_not_only_where_the_document_appears() -> None:
    fused = dict(fusion.min_max_weighted([[("k", 1.0), ("m", 0.5)], [("v", 0.8)]], [0.3, 0.7]))
    assert fused["v"] == pytest.approx(0.7)  # not 1.0
    fused = dict(fusion.min_max_weighted([[("k", 1.0)], [("k", 1.0)]], [0.2, 0.2]))
    assert fused["k"] == pytest.approx(1.0)  # sum(w*s)/sum(w) even when weights sum to 0.4


def test_min_max_edge_cases() -> None:
    assert fusion.min_max_weighted([[], []], [0.5, 0.5]) == []
    assert fusion.min_max_weighted([[("a", 1.0)], []], [0.0, 0.0]) == [("a", 0.0)]
    # duplicates within a sub-query: the first (best-ranked) occurrence counts
    assert dict(fusion.min_max_weighted([[("a", 2.0), ("b", 1.0), ("a", 0.0)]], [1.0])) == {
        "a": 1.0,
        "b": 0.001,
    }
    with pytest.raises(ValueError, match="number of weights"):
        fusion.min_max_weighted([[("a", 1.0)]], [0.5, 0.5])
    with pytest.raises(ValueError, match="negative"):
        fusion.min_max_weighted([[("a", 1.0)], []], [1.5, -0.5])


def test_ties_sorted_by_id() -> None:
    fused = fusion.min_max_weighted([[("b", 1.0), ("a", 1.0), ("c", 1.0)]], [1.0])
    assert [doc for doc, _ in fused] == ["a", "b", "c"]


def test_rrf_hand_computed() -> None:
    fused = fusion.rrf([[("a", 9.0), ("b", 8.0), ("c", 7.0)], [("c", 0.9), ("a", 0.8)]])
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["b"] == pytest.approx(1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert [doc for doc, _ in fused] == ["a", "c", "b"]
    weighted = dict(fusion.rrf([[("a", 1.0)], [("b", 1.0)]], rank_constant=40, weights=[0.7, 0.3]))
    assert weighted == {"a": pytest.approx(0.7 / 41), "b": pytest.approx(0.3 / 41)}
    assert round(1 / 61, 10) == dict(fusion.rrf([[("x", 1.0)]]))["x"]
    with pytest.raises(ValueError):
        fusion.rrf([[("a", 1.0)]], rank_constant=0)


def test_hybrid_weights_and_knn_score() -> None:
    assert fusion.hybrid_weights(0.7) == (0.3, 0.7)
    assert fusion.hybrid_weights(0.333) == (0.67, 0.33)
    assert fusion.hybrid_weights(1.0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        fusion.hybrid_weights(1.2)
    assert fusion.knn_score(0.5) == pytest.approx(1.5)
    assert fusion.knn_score(0.0) == pytest.approx(1.0)
    assert fusion.knn_score(-0.5) == pytest.approx(1 / 1.5)
    for cosine in (-1.0, -0.3, 0.0, 0.2, 1.0):
        assert fusion.cosine_from_knn_score(fusion.knn_score(cosine)) == pytest.approx(cosine)


# ---- analysis ----------------------------------------------------------------------------


def test_analyze_words_bigrams_and_stop_words() -> None:
    assert analyze("The Quick brown fox_jumps, 3.5 times! Don't") == [
        "quick",
        "brown",
        "fox_jumps",
        "3.5",
        "times",
        "don't",
    ]
    assert analyze("1,000 a,b example.com.") == ["1,000", "b", "example.com"]
    assert analyze("中华人民共和国") == ["中华", "华人", "人民", "民共", "共和", "和国"]
    assert analyze("中 文") == ["中", "文"]  # runs of one character stay unigrams
    assert analyze("東京タワー") == ["東京", "京タ", "タワ", "ワー"]
    assert analyze("한국어") == ["한국", "국어"]
    assert analyze("ภาษา") == ["ภา", "าษ", "ษา"]
    assert analyze("iPhone手机2024年") == ["iphone", "手机", "2024", "年"]
    assert analyze("ＦＵＬＬ ｶﾀｶﾅ Straße") == ["full", "カタ", "タカ", "カナ", "strasse"]
    assert analyze("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # combining vowel signs stay in the word
    assert analyze("") == [] and analyze("  ,;  ") == []


# ---- filters -----------------------------------------------------------------------------

META: dict[str, Any] = {
    "title": "Annual Report 2023",
    "year": 2023,
    "score": 4.5,
    "tags": ["finance", "q4"],
    "lang": "en",
    "code": "5",
    "nothing": None,
    "published": 1_700_000_000,  # 2023-11-14
}

CASES: list[tuple[str, str, Any, bool]] = [
    ("contains", "title", "Report", True),
    ("contains", "title", "report", False),  # case-sensitive, like Dify's LIKE
    ("contains", "tags", "fin", True),
    ("contains", "missing", "x", False),
    ("not contains", "title", "Budget", True),
    ("not contains", "title", "Annual", False),
    ("not contains", "missing", "x", False),  # SQL NULL semantics
    ("start with", "title", "Annual", True),
    ("start with", "title", "Report", False),
    ("end with", "title", "2023", True),
    ("end with", "title", "Annual", False),
    ("is", "lang", "en", True),
    ("is", "lang", "EN", False),
    ("=", "year", 2023, True),
    ("=", "year", "2023", True),
    ("=", "code", 5, True),
    ("=", "year", 2024, False),
    ("is not", "lang", "fr", True),
    ("is not", "lang", "en", False),
    ("is not", "missing", "en", False),
    ("≠", "lang", "en", False),
    ("!=", "year", 2020, True),
    ("empty", "nothing", None, True),
    ("empty", "missing", None, True),
    ("empty", "title", None, False),
    ("not empty", "title", None, True),
    ("not empty", "nothing", None, False),
    (">", "year", 2020, True),
    (">", "year", 2023, False),
    ("<", "year", 2020, False),
    ("≥", "year", 2023, True),
    (">=", "score", 4.6, False),
    ("≤", "score", 4.5, True),
    ("<=", "year", 2022, False),
    ("<", "missing", 1, False),
    ("before", "published", "2024-01-01", True),
    ("before", "published", "2023-01-01T00:00:00Z", False),
    ("after", "published", "2023-01-01T00:00:00+00:00", True),
    ("after", "published", 1_800_000_000, False),
    ("in", "lang", "en, fr", True),
    ("in", "lang", ["de", "fr"], False),
    ("in", "tags", ["q4"], True),
    ("in", "year", ["2023"], True),
    ("in", "lang", [], False),
    ("not in", "lang", ["fr", "de"], True),
    ("not in", "lang", "en", False),
    ("not in", "lang", [], True),
    ("not in", "missing", [], True),
    ("not in", "missing", ["x"], False),
]


@pytest.mark.parametrize(("op", "name", "value", "expected"), CASES)
def test_matches_every_operator(op: str, name: str, value: Any, expected: bool) -> None:
    condition = MetadataFilter(name=name, comparison_operator=op, value=value)
    assert matches(META, [condition]) is expected


def test_every_operator_has_a_case() -> None:
    assert {op for op, *_ in CASES} == OPERATORS


def test_none_value_skips_the_condition_and_logic_joins() -> None:
    skipped = MetadataFilter(name="lang", comparison_operator="is", value=None)
    assert matches(META, [skipped])
    yes = MetadataFilter(name="lang", comparison_operator="is", value="en")
    no = MetadataFilter(name="year", comparison_operator="<", value=2000)
    assert not matches(META, [yes, no], "and")
    assert matches(META, [yes, no], "or")
    assert matches(META, [], "or")


def test_unknown_operator_and_bad_values_raise() -> None:
    with pytest.raises(ValueError, match="'like'"):
        matches({}, [MetadataFilter(name="a", comparison_operator="like", value="x")])
    with pytest.raises(ValueError, match="'like'"):
        to_opensearch([MetadataFilter(name="a", comparison_operator="like", value="x")])
    with pytest.raises(ValueError, match="number"):
        matches(META, [MetadataFilter(name="year", comparison_operator=">", value="soon")])


def test_to_opensearch_shapes() -> None:
    filters = [
        MetadataFilter(name="title", comparison_operator="contains", value="Re*port"),
        MetadataFilter(name="year", comparison_operator="≥", value=2020),
        MetadataFilter(name="lang", comparison_operator="in", value="en,fr"),
        MetadataFilter(name="lang", comparison_operator="is not", value="de"),
        MetadataFilter(name="nothing", comparison_operator="empty"),
        MetadataFilter(name="title", comparison_operator="start with", value="Ann"),
    ]
    assert to_opensearch(filters, "and") == {
        "bool": {
            "filter": [
                {"wildcard": {"metadata.title.keyword": {"value": "*Re\\*port*"}}},
                {"range": {"metadata.year": {"gte": 2020.0}}},
                {"terms": {"metadata.lang.keyword": ["en", "fr"]}},
                {
                    "bool": {
                        "filter": [{"exists": {"field": "metadata.lang"}}],
                        "must_not": [{"terms": {"metadata.lang.keyword": ["de"]}}],
                    }
                },
                {"bool": {"must_not": [{"exists": {"field": "metadata.nothing"}}]}},
                {"prefix": {"metadata.title.keyword": {"value": "Ann"}}},
            ]
        }
    }
    assert to_opensearch(filters[:2], "or") == {
        "bool": {
            "should": [
                {"wildcard": {"metadata.title.keyword": {"value": "*Re\\*port*"}}},
                {"range": {"metadata.year": {"gte": 2020.0}}},
            ],
            "minimum_should_match": 1,
        }
    }
    assert to_opensearch([MetadataFilter(name="year", comparison_operator="=", value="2023")]) == {
        "bool": {
            "filter": [
                {
                    "bool": {
                        "should": [
                            {"terms": {"metadata.year.keyword": ["2023"]}},
                            {"terms": {"metadata.year": [2023.0]}},
                        ],
                        "minimum_should_match": 1,
                    }
                }
            ]
        }
    }
    assert to_opensearch([]) == {"match_all": {}}
    assert to_opensearch([MetadataFilter(name="a", comparison_operator="is")]) == {"match_all": {}}


# A tiny evaluator of the query DSL subset to_opensearch emits, over a document indexed with
# the index's dynamic templates (strings: text + keyword, numbers: double). It shows the two
# filter forms agree.


def _field(doc: dict[str, Any], path: str) -> tuple[list[Any], str]:
    """Values at ``metadata.<name>[.keyword]`` and the field kind: keyword / number / text."""
    name = path.removeprefix("metadata.")
    keyword = name.endswith(".keyword")
    value = doc.get(name.removesuffix(".keyword"))
    values = [v for v in (value if isinstance(value, list) else [value]) if v is not None]
    if keyword:
        return [v for v in values if isinstance(v, str)], "keyword"
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], "number"
    return values, "text"


def _wildcard(pattern: str, text: str) -> bool:
    import re

    parts = re.split(r"(\\.|\*|\?)", pattern)
    regex = "".join(
        ".*" if p == "*" else "." if p == "?" else re.escape(p[1:] if p.startswith("\\") else p)
        for p in parts
    )
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _evaluate(query: dict[str, Any], doc: dict[str, Any]) -> bool:
    (kind, body), *_ = query.items()
    if kind == "match_all":
        return True
    if kind == "bool":
        ok = all(_evaluate(q, doc) for q in body.get("filter", []) + body.get("must", []))
        ok = ok and not any(_evaluate(q, doc) for q in body.get("must_not", []))
        if "should" in body:
            ok = ok and sum(_evaluate(q, doc) for q in body["should"]) >= body.get(
                "minimum_should_match", 1
            )
        return ok
    if kind == "exists":
        return bool(_field(doc, body["field"])[0])
    ((path, spec),) = body.items()
    values, field_kind = _field(doc, path)
    if kind == "wildcard":
        return any(_wildcard(spec["value"], v) for v in values)
    if kind == "prefix":
        return any(v.startswith(spec["value"]) for v in values)
    if kind == "terms":
        if field_kind == "number":
            return any(isinstance(t, float) and t in values for t in spec)
        return field_kind == "keyword" and any(t in values for t in spec)
    if kind == "range":
        checks = {
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }
        return field_kind == "number" and any(
            all(checks[op](v, bound) for op, bound in spec.items()) for v in values
        )
    raise AssertionError(f"unexpected query {query}")


@pytest.mark.parametrize(("op", "name", "value", "expected"), CASES)
def test_opensearch_query_agrees_with_python(
    op: str, name: str, value: Any, expected: bool
) -> None:
    query = to_opensearch([MetadataFilter(name=name, comparison_operator=op, value=value)])
    assert _evaluate(query, META) is expected
