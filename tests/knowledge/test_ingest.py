"""Ingestion end to end on the embedded defaults: moto S3 -> SQS -> ingest code -> index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flowwright.knowledge.local import LocalKnowledge
from flowwright.knowledge.models import MetadataFilter
from flowwright.knowledge.retrieve import KnowledgeBaseNotFound, search_kb

from tests.support import SHARED

CORPUS = SHARED / "corpus"


@pytest.fixture
def kb(tmp_path: Path) -> Any:
    with LocalKnowledge(tmp_path) as knowledge:
        yield knowledge


def test_a_text_document_is_indexed_and_found(kb: Any) -> None:
    record = kb.add_text("handbook", "leave.md", "# Leave\n\nEmployees get 25 days of paid leave.")
    assert record.status == "completed" and record.chunk_count >= 1
    assert record.metadata["source_key"] == "kb/handbook/leave.md"
    hits = search_kb(kb.services, "handbook", "how many days of paid leave")
    assert hits and "25 days" in hits[0].text
    assert hits[0].metadata["dataset_id"] == "handbook"


def test_reupload_replaces_the_chunks_and_delete_removes_them(kb: Any) -> None:
    kb.add_text("kb1", "policy.txt", "The old travel policy allows taxis.")
    record = kb.add_text("kb1", "policy.txt", "The new travel policy requires trains.")
    assert record.status == "completed" and record.attempts == 2
    assert not search_kb(kb.services, "kb1", "taxis", mode="full_text")
    assert search_kb(kb.services, "kb1", "trains", mode="full_text")
    assert kb.services.index.count("kb1") == record.chunk_count
    kb.delete("kb1", "policy.txt")
    assert kb.documents("kb1") == []
    assert kb.services.index.count("kb1") == 0


def test_bad_files_end_in_error_and_the_rest_of_the_batch_goes_on(kb: Any, tmp_path: Path) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "tool.exe").write_bytes(b"MZ\x90\x00" + bytes(200))
    (folder / "good.md").write_text("Solar panels convert sunlight into electricity.")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    records = {r.name: r for r in kb.add_files("mixed", [folder])}
    assert records["good.md"].status == "completed"
    assert (records["empty.txt"].status, records["empty.txt"].error_code) == ("error", "empty_file")
    assert records["tool.exe"].error_code == "unsupported_type"
    assert records["broken.pdf"].status == "error" and "broken.pdf" in records["broken.pdf"].error
    assert kb.dead_letter_count() == 0  # permanent errors are recorded, not retried


def test_sidecar_metadata_is_kept_and_filterable(kb: Any, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Quarterly revenue grew in Europe.")
    (tmp_path / "a.txt.metadata.json").write_text(json.dumps({"region": "eu", "year": 2025}))
    (tmp_path / "b.txt").write_text("Quarterly revenue fell in Asia.")
    (tmp_path / "b.txt.metadata.json").write_text(json.dumps({"region": "apac", "year": 2024}))
    kb.add_files(
        "sales",
        [
            tmp_path / "a.txt",
            tmp_path / "b.txt",
            tmp_path / "a.txt.metadata.json",
            tmp_path / "b.txt.metadata.json",
        ],
    )
    hits = search_kb(
        kb.services,
        "sales",
        "quarterly revenue",
        filters=[MetadataFilter(name="region", comparison_operator="is", value="apac")],
    )
    assert [h.metadata["region"] for h in hits] == ["apac"]
    assert hits[0].metadata["year"] == 2024


def test_failing_embeddings_are_retried_then_dead_lettered(
    kb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowwright.knowledge import pipeline
    from flowwright.knowledge.embed import EmbeddingError

    def down(*args: Any, **kwargs: Any) -> Any:
        raise EmbeddingError("flowwright-local/multilingual-e5-small", "rate limited 5 times")

    monkeypatch.setattr(pipeline, "embed_texts", down)
    seen: list[tuple[str, str | None]] = []
    original_put = kb.services.documents.put

    def put(record: Any) -> None:
        seen.append((record.status, record.error_code))
        original_put(record)

    monkeypatch.setattr(kb.services.documents, "put", put)
    record = kb.add_text("kb2", "notes.txt", "Some notes.")
    # the first two failures leave it waiting for the retry; the third is final
    assert ("queued", "retrying") in seen
    assert record.status == "error" and "dead-letter queue" in record.error
    assert record.attempts == 3  # maxReceiveCount, then the dead-letter queue
    assert kb.dead_letter_count() == 1


def test_unusable_messages_are_dropped(kb: Any) -> None:
    kb.drain()  # S3's test event, sent when the notification is configured
    kb._sqs.send_message(QueueUrl=kb.queue, MessageBody="not json")
    kb._sqs.send_message(
        QueueUrl=kb.queue,
        MessageBody=json.dumps(
            {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "x/y"}}}]}
        ),
    )
    assert kb.drain() == 2
    assert kb.dead_letter_count() == 0


def test_chinese_is_searchable_by_word(kb: Any) -> None:
    kb.add_text("zh", "notes.txt", "员工每年享有二十五天带薪年假，病假需要提供医生证明。")
    kb.add_text("zh", "other.txt", "公司总部位于上海，交通便利。")
    hits = search_kb(kb.services, "zh", "年假", mode="full_text")
    assert hits and "年假" in hits[0].text


def test_unknown_knowledge_base_is_a_clear_error(kb: Any) -> None:
    with pytest.raises(KnowledgeBaseNotFound, match="'nope' does not exist"):
        search_kb(kb.services, "nope", "anything")


@pytest.mark.slow
def test_real_corpus_documents_end_indexed_or_in_clear_error(kb: Any) -> None:
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text())
    # the smallest file of most kinds (extraction of every corpus file is tested in
    # test_extract.py; here each kind goes through the whole event path once; the long
    # ones would spend minutes in the local embedding model)
    picked: dict[str, Any] = {}
    for entry in sorted(manifest["files"], key=lambda e: e["size_bytes"]):
        if entry["kind"] not in ("pathological", "unusual_font", "scanned_ocr"):
            picked.setdefault(entry["kind"], entry)
    paths = [CORPUS / e["path"] for e in picked.values()]
    records = kb.add_files("corpus", paths)
    assert len(records) == len(paths)
    for record in records:
        assert record.status in ("completed", "error"), record
        if record.status == "error":
            assert record.error_code and record.name in record.error
        else:
            assert record.chunk_count > 0
