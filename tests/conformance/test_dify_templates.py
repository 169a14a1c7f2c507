"""Dify's recommended template apps that use only implemented node types, run unchanged.

Model replies are scripted per node; everything else (code, iterations, templates, branches)
runs for real through the compiled state machine.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flowwright.dsl import load_app

from tests.support import TEMPLATES

pytestmark = pytest.mark.slow


def test_sentiment_analysis_branches_on_the_select_input(runtime: Any, scripted: Any) -> None:
    app = load_app(TEMPLATES / "sentiment-analysis.yml")
    scripted({"*": lambda request: f"reply from {request.node_id}"})
    single = runtime.run(app, {"input_text": "great product", "Multisentiment": "False"})
    multi = runtime.run(app, {"input_text": "great product", "Multisentiment": "True"})
    assert single.status == multi.status == "succeeded", (single.error, multi.error)
    assert single.outputs["text"] != multi.outputs["text"]
    bad = runtime.run(app, {"input_text": "x", "Multisentiment": "Maybe"})
    assert bad.status == "failed" and "must be one of: True, False" in (bad.error or "")


def test_book_translation_iterates_over_code_chunks(runtime: Any, scripted: Any) -> None:
    app = load_app(TEMPLATES / "book-translation.yml")
    scripted({"*": lambda request: f"[{request.node_id}]"})
    result = runtime.run(app, {"input_text": "First paragraph. " * 1200})
    assert result.status == "succeeded", result.error
    # every chunk went through the four model calls; the template joins the final translations
    assert "[1717916991709]" in result.outputs["final"]
    inner = [n for n in result.nodes if n.id == "1717916991709"]
    assert len(inner) >= 2 and all(n.position for n in inner)


def test_long_story_generator_chatflow(runtime: Any, scripted: Any) -> None:
    app = load_app(TEMPLATES / "long-story-generator-iteration.yml")
    sections = [{"section": "Intro", "bullets": ["a"]}, {"section": "Ending", "bullets": ["b"]}]
    scripted(
        {
            "1716783205923": json.dumps(sections),
            "1716805725916": lambda request: "Section text.",
        }
    )
    result = runtime.run(app, {"article_title": "T", "article_outline": "O"}, query="write")
    assert result.status == "succeeded", result.error
    assert result.outputs == {"answer": "Section text.\nSection text."}


def test_workflow_planning_assistant_chatflow(runtime: Any, scripted: Any) -> None:
    app = load_app(TEMPLATES / "workflow-planning-assistant.yml")
    scripted({"1711527784865": "the plan", "1711527861837": "AppName"})
    result = runtime.run(app, {}, query="plan a support bot")
    assert result.status == "succeeded", result.error
    assert "the plan" in result.outputs["answer"] and "AppName" in result.outputs["answer"]
