"""Dify's knowledge API subset over real HTTP, on the local server's embedded index."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support import SHARED

pytestmark = pytest.mark.slow


def wait_indexed(http: Any, dataset_id: str, batch: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        status = http.get(f"/v1/datasets/{dataset_id}/documents/{batch}/indexing-status").json()
        row = status["data"][0]
        if row["indexing_status"] in ("completed", "error"):
            return row
        assert time.monotonic() < deadline, row
        time.sleep(0.2)


def test_dataset_lifecycle(server: Any) -> None:
    with server.client("dataset") as http:
        created = http.post("/v1/datasets", json={"name": "Handbook", "description": "HR"})
        assert created.status_code == 200, created.text
        dataset_id = created.json()["id"]
        assert dataset_id in [d["id"] for d in http.get("/v1/datasets").json()["data"]]

        by_text = http.post(
            f"/v1/datasets/{dataset_id}/document/create-by-text",
            json={
                "name": "leave",
                "text": "Employees get 25 days of paid leave.\n\nSick leave needs a note.",
                "indexing_technique": "high_quality",
                "process_rule": {
                    "mode": "custom",
                    "rules": {
                        "pre_processing_rules": [{"id": "remove_extra_spaces", "enabled": True}],
                        "segmentation": {"separator": "\n\n", "max_tokens": 100},
                    },
                },
            },
        ).json()
        assert by_text["document"]["indexing_status"] == "waiting"
        row = wait_indexed(http, dataset_id, by_text["batch"])
        assert row["indexing_status"] == "completed" and row["completed_segments"] == 2, row

        pdf = SHARED / "corpus" / "pdf" / "pdflatex-4-pages.pdf"
        by_file = http.post(
            f"/v1/datasets/{dataset_id}/document/create-by-file",
            files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")},
            data={"data": '{"indexing_technique": "high_quality"}'},
        ).json()
        row = wait_indexed(http, dataset_id, by_file["batch"])
        assert row["indexing_status"] == "completed", row

        broken = http.post(
            f"/v1/datasets/{dataset_id}/document/create-by-file",
            files={"file": ("broken.pdf", b"%PDF-1.4 garbage", "application/pdf")},
        ).json()
        failed = wait_indexed(http, dataset_id, broken["batch"])
        assert failed["indexing_status"] == "error" and "broken.pdf" in failed["error"]

        documents = http.get(f"/v1/datasets/{dataset_id}/documents").json()
        assert documents["total"] == 3

        found = http.post(
            f"/v1/datasets/{dataset_id}/retrieve",
            json={
                "query": "how many days of paid leave",
                "retrieval_model": {"search_method": "hybrid_search", "top_k": 2},
            },
        ).json()
        assert found["query"] == {"content": "how many days of paid leave"}
        top = found["records"][0]
        assert (
            "25 days" in top["segment"]["content"]
            and top["segment"]["document"]["name"] == "leave.txt"
        )
        assert 0 < top["score"] <= 1

        deleted = http.delete(f"/v1/datasets/{dataset_id}/documents/{by_text['batch']}")
        assert deleted.status_code == 204
        again = http.post(
            f"/v1/datasets/{dataset_id}/retrieve",
            json={"query": "paid leave", "retrieval_model": {"search_method": "full_text_search"}},
        ).json()
        assert all(r["segment"]["document_id"] != by_text["batch"] for r in again["records"])


def test_dataset_api_needs_a_dataset_key(server: Any) -> None:
    with server.client("echo") as http:  # an app key
        reply = http.get("/v1/datasets")
    assert reply.status_code == 401 and reply.json()["message"] == "Access token is invalid"


def test_unknown_dataset_is_404(server: Any) -> None:
    with server.client("dataset") as http:
        reply = http.post("/v1/datasets/nope/retrieve", json={"query": "x"})
    assert reply.status_code == 404 and reply.json()["code"] == "dataset_not_found"
