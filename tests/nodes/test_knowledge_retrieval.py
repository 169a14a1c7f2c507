"""The knowledge-retrieval node run by the local runtime over knowledge bases ingested locally."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flowwright.knowledge.local import LocalKnowledge

from tests.support import app_from_yaml, load_fixture

pytestmark = pytest.mark.slow

SPACE = "019f0000-0000-7000-8000-000000000001"


@pytest.fixture(scope="module")
def knowledge(runtime: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Knowledge bases in the session runtime's data folder (where its nodes look)."""
    files = tmp_path_factory.mktemp("kb")
    docs = {
        "leave.md": (
            "Employees get 25 days of paid leave per year.",
            {"node_kinds": "section", "tags": "handbook"},
        ),
        "expenses.md": (
            "Travel expenses are reimbursed within 30 days.",
            {"node_kinds": "section", "tags": "handbook"},
        ),
        "blog.md": (
            "Our team went hiking and talked about paid leave.",
            {"node_kinds": "post", "tags": "blog"},
        ),
    }
    for name, (text, meta) in docs.items():
        (files / name).write_text(text)
        (files / f"{name}.metadata.json").write_text(json.dumps(meta))
    (files / "pets.md").write_text("Dogs are allowed in the office on Fridays.")
    with LocalKnowledge(runtime.data_dir) as kb:
        records = kb.add_files(
            SPACE, [files / n for n in docs] + [files / f"{n}.metadata.json" for n in docs]
        )
        records += kb.add_files("pets", [files / "pets.md"])
    assert all(r.status == "completed" for r in records), records
    return runtime


def retrieval_app(data: str, mode: str = "workflow") -> Any:
    return app_from_yaml(
        f"""
app: {{name: retrieval, mode: workflow}}
kind: app
version: 0.3.1
workflow:
  graph:
    edges:
    - {{source: start, target: kr, sourceHandle: source, targetHandle: target}}
    - {{source: kr, target: end, sourceHandle: source, targetHandle: target}}
    nodes:
    - id: start
      data: {{type: start, title: Start, variables: [{{variable: q, label: q, type: text-input, required: true}}]}}
    - id: kr
      data:
        type: knowledge-retrieval
        title: Retrieve
        query_variable_selector: [start, q]
{data}
    - id: end
      data: {{type: end, title: End, outputs: [{{variable: result, value_selector: [kr, result]}}]}}
"""
    )


def test_dify_v2_fixture_filters_by_metadata(knowledge: Any) -> None:
    app = load_fixture("knowledge_retrieval_v2_workflow.yml")
    node = app.nodes["retrieval-v2"]
    assert node.config.dataset_ids == [SPACE]
    assert node.config.multiple_retrieval_config.top_k == 5
    result = knowledge.run(app, {"query": "how many days of paid leave"})
    assert result.status == "succeeded", result.error
    evidence = result.outputs["evidence"]
    names = [e["metadata"]["document_name"] for e in evidence]
    assert names[0] == "leave.md" and "blog.md" not in names  # the blog post is filtered out
    first = evidence[0]
    assert "25 days" in first["content"] and first["title"] == "leave.md"
    assert first["metadata"]["dataset_id"] == SPACE
    assert first["metadata"]["doc_metadata"]["tags"] == "handbook"
    assert 0 < first["metadata"]["score"] <= 1


def test_multiple_mode_merges_knowledge_bases_by_weighted_score(knowledge: Any) -> None:
    app = retrieval_app(
        f"""        dataset_ids: ['{SPACE}', pets]
        retrieval_mode: multiple
        multiple_retrieval_config:
          top_k: 2
          reranking_enable: true
          reranking_mode: weighted_score
          weights:
            vector_setting: {{vector_weight: 0.6}}
            keyword_setting: {{keyword_weight: 0.4}}"""
    )
    result = knowledge.run(app, {"q": "can I bring my dog to the office"})
    assert result.status == "succeeded", result.error
    hits = result.outputs["result"]
    assert len(hits) == 2 and hits[0]["metadata"]["dataset_id"] == "pets"
    assert hits[0]["metadata"]["score"] >= hits[1]["metadata"]["score"]


def test_single_mode_asks_the_model_which_knowledge_base(knowledge: Any, scripted: Any) -> None:
    scripted({"kr": "pets"})
    app = retrieval_app(
        f"""        dataset_ids: ['{SPACE}', pets]
        retrieval_mode: single
        single_retrieval_config: {{model: {{provider: openai, name: gpt-4o-mini, mode: chat}}}}"""
    )
    result = knowledge.run(app, {"q": "office dogs"})
    assert result.status == "succeeded", result.error
    assert {h["metadata"]["dataset_id"] for h in result.outputs["result"]} == {"pets"}


def test_score_threshold_and_unknown_knowledge_base(knowledge: Any) -> None:
    strict = retrieval_app(
        f"""        dataset_ids: ['{SPACE}']
        multiple_retrieval_config: {{top_k: 4, score_threshold: 1.01, reranking_enable: false}}"""
    )
    assert knowledge.run(strict, {"q": "paid leave"}).outputs["result"] == []
    missing = retrieval_app("""        dataset_ids: [does-not-exist]""")
    result = knowledge.run(missing, {"q": "anything"})
    assert result.status == "failed"
    assert "knowledge base 'does-not-exist' does not exist" in result.error


def test_automatic_metadata_filtering_is_refused_clearly(knowledge: Any) -> None:
    app = retrieval_app(
        f"""        dataset_ids: ['{SPACE}']
        metadata_filtering_mode: automatic"""
    )
    result = knowledge.run(app, {"q": "leave"})
    assert result.status == "failed" and "automatic" in result.error
