"""Token estimate, Dify's fixed-separator splitter, and general / parent-child chunking."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from flowwright.knowledge.chunk import (
    FULL_DOC_MAX_TOKENS,
    chunk_document,
    split_text,
    unescape_separator,
)
from flowwright.knowledge.models import (
    ChunkingSettings,
    CleaningRules,
    ExtractedDocument,
    Page,
)
from flowwright.knowledge.tokens import count_tokens, token_pieces, truncate_tokens

SAMPLES = [
    "",
    "hello world",
    "Internationalization matters, doesn't it?",
    "中华人民共和国成立于一九四九年。",
    "한국어 텍스트와 ひらがな カタカナ ภาษาไทย",
    "order 1234567 costs $42.50 😀",
    "  leading and trailing  \n",
    "snake_case_identifier https://example.com/a/b?c=d",
]


def sentences(count: int, start: int = 0) -> list[str]:
    return [f"Sentence {i} talks about topic {i}." for i in range(start, start + count)]


def doc(*texts: str, numbered: bool = True) -> ExtractedDocument:
    return ExtractedDocument(
        pages=[Page(text=t, number=i + 1 if numbered else None) for i, t in enumerate(texts)]
    )


def chunks_of(document: ExtractedDocument, **settings: Any) -> list[Any]:
    return chunk_document(
        document,
        document_id="doc",
        settings=ChunkingSettings(**settings),
        cleaning=CleaningRules(),
        metadata={"source": "s3://bucket/file.pdf"},
    )


# --- token estimate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("   \n\t ", 0),
        ("hello world", 2),
        ("hello, world!", 4),
        ("internationalization", 5),  # 20 letters -> ceil(20 / 4)
        ("abcdef abcdefg", 3),  # up to 6 letters is one token, 7 is two
        ("1234567", 3),  # digits: ceil(7 / 3)
        ("中文文本", 4),
        ("한국어", 3),
        ("ひらがなカタカナ", 8),
        ("ภาษา", 4),
        ("Привет мир", 2),
    ],
)
def test_count_tokens_rule(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens


@pytest.mark.parametrize("text", SAMPLES)
def test_token_pieces_rebuild_the_text_one_token_each(text: str) -> None:
    pieces = token_pieces(text)
    assert "".join(pieces) == text
    assert count_tokens(text) == sum(1 for piece in pieces if piece.strip())
    assert all(count_tokens(piece) <= 1 for piece in pieces)


def test_truncate_tokens_keeps_a_prefix() -> None:
    text = "one two three four five"
    assert truncate_tokens(text, 3) == "one two three"
    assert truncate_tokens(text, 50) == text
    assert truncate_tokens("中文文本测试", 2) == "中文"


# --- separators -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "separator"),
    [
        ("\\n\\n", "\n\n"),
        ("\\n", "\n"),
        ("\\t|\\r", "\t|\r"),
        ("\\u3002", "。"),
        ("***", "***"),
        ("。", "。"),
        ("\n\n", "\n\n"),
        ("a\\*b", "a\\*b"),
    ],
)
def test_unescape_separator(typed: str, separator: str) -> None:
    assert unescape_separator(typed) == separator


# --- split_text -----------------------------------------------------------------------


def test_separator_pieces_are_chunks_of_their_own() -> None:
    text = "Alpha.\n\nBeta.\n\n\n\nGamma.\n\n   \n\n"
    assert split_text(text, separator="\n\n", max_tokens=500, overlap=50) == [
        "Alpha.",
        "Beta.",
        "Gamma.",
    ]


def test_custom_separator() -> None:
    text = "part one***part two***part three"
    assert split_text(text, separator="***", max_tokens=100, overlap=0) == [
        "part one",
        "part two",
        "part three",
    ]


def test_long_piece_is_split_on_sentences_with_overlap() -> None:
    text = " ".join(sentences(20))
    assert count_tokens(sentences(1)[0]) == 8
    chunks = split_text(text, separator="\n\n", max_tokens=40, overlap=10)
    assert len(chunks) > 1
    assert all(count_tokens(chunk) <= 40 for chunk in chunks)
    for previous, current in pairwise(chunks):
        last_sentence = previous.split(". ")[-1]
        assert current.startswith(last_sentence)  # one 8-token sentence of overlap
    assert chunks[0].startswith("Sentence 0 ") and chunks[-1].endswith("topic 19.")
    # every sentence is in some chunk
    assert all(any(s in chunk for chunk in chunks) for s in sentences(20))


def test_without_overlap_chunks_partition_the_text() -> None:
    text = " ".join(sentences(20))
    chunks = split_text(text, separator="\n\n", max_tokens=40, overlap=0)
    assert " ".join(chunks) == text
    assert all(count_tokens(chunk) <= 40 for chunk in chunks)


def test_lines_are_preferred_over_sentences() -> None:
    text = "\n".join(" ".join(sentences(2, start=i * 2)) for i in range(6))
    chunks = split_text(text, separator="\n\n", max_tokens=40, overlap=0)
    assert all(count_tokens(chunk) <= 40 for chunk in chunks)
    assert all(chunk.endswith(".") for chunk in chunks)
    assert "\n".join(chunks) == text  # cut at line ends only


def test_chinese_is_split_after_full_stops() -> None:
    sentence = "今天天气很好，我们去公园散步。"  # 15 tokens
    text = sentence * 6
    chunks = split_text(text, separator="\n\n", max_tokens=40, overlap=0)
    assert chunks == [sentence * 2] * 3


def test_chinese_without_any_separator_is_cut_between_characters() -> None:
    text = "".join(chr(0x4E00 + i) for i in range(100))
    chunks = split_text(text, separator="\n\n", max_tokens=30, overlap=5)
    assert chunks == [text[0:30], text[25:55], text[50:80], text[75:100]]


def test_overlong_word_is_cut_into_token_sized_pieces() -> None:
    word = "x" * 400  # 100 tokens, no separator at all
    chunks = split_text(word, separator="\n\n", max_tokens=30, overlap=0)
    assert "".join(chunks) == word
    assert [count_tokens(chunk) for chunk in chunks] == [30, 30, 30, 10]


def test_chunks_are_stripped_and_never_empty() -> None:
    text = "  \n  spaced   out  \n\n\n\n \t \n\n" + " ".join(sentences(12)) + "\n\n  "
    chunks = split_text(text, separator="\n\n", max_tokens=30, overlap=5)
    assert chunks and all(chunk == chunk.strip() and chunk for chunk in chunks)
    assert split_text("  \n\n \t ", separator="\n\n", max_tokens=30, overlap=0) == []


def test_split_is_deterministic() -> None:
    text = "\n\n".join(" ".join(sentences(15, start=i)) for i in range(5))
    first = split_text(text, separator="\n\n", max_tokens=50, overlap=12)
    assert first == split_text(text, separator="\n\n", max_tokens=50, overlap=12)


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 0), (10, 11), (10, -1)])
def test_invalid_sizes_are_rejected(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        split_text("text", separator="\n\n", max_tokens=max_tokens, overlap=overlap)


# --- chunk_document: general ----------------------------------------------------------


def test_general_chunks_keep_pages_positions_ids_and_metadata() -> None:
    document = doc("Intro paragraph.\n\nSecond   paragraph.", "Page two text.")
    chunks = chunks_of(document)
    assert [(c.content, c.page, c.position, c.chunk_id) for c in chunks] == [
        ("Intro paragraph.", 1, 0, "doc:0"),
        ("Second paragraph.", 1, 1, "doc:1"),  # extra spaces cleaned
        ("Page two text.", 2, 2, "doc:2"),
    ]
    assert all(c.document_id == "doc" and c.parent_id is None for c in chunks)
    assert chunks[0].metadata == {"source": "s3://bucket/file.pdf", "page": 1}
    chunks[0].metadata["x"] = 1
    assert "x" not in chunks[1].metadata


def test_general_chunks_never_span_pages() -> None:
    document = doc(" ".join(sentences(10)), " ".join(sentences(10, start=10)))
    chunks = chunks_of(document, max_tokens=40, chunk_overlap=10)
    for chunk in chunks:
        numbers = {int(s.split()[1]) for s in chunk.content.split(". ")}
        assert {n // 10 + 1 for n in numbers} == {chunk.page}


def test_pages_without_numbers() -> None:
    chunks = chunks_of(doc("just text", numbered=False))
    assert chunks[0].page is None and "page" not in chunks[0].metadata


def test_general_chunks_lose_leading_split_punctuation_but_keep_markdown() -> None:
    text = "First.\n\n. second part\n\n![chart](https://x.test/c.png) shows\n\n[docs](https://x.test) say"
    assert [c.content for c in chunks_of(doc(text))] == [
        "First.",
        "second part",
        "![chart](https://x.test/c.png) shows",
        "[docs](https://x.test) say",
    ]


def test_literal_escaped_separator_in_settings() -> None:
    text = "one\n\ntwo\n\nthree"
    typed = [c.content for c in chunks_of(doc(text), separator="\\n\\n")]
    assert typed == [c.content for c in chunks_of(doc(text), separator="\n\n")]
    assert typed == ["one", "two", "three"]


@pytest.mark.parametrize("mode", ["general", "paragraph", "full_doc"])
def test_empty_document_gives_no_chunks(mode: str) -> None:
    settings: dict[str, Any] = (
        {} if mode == "general" else {"mode": "parent_child", "parent_mode": mode}
    )
    assert chunks_of(ExtractedDocument(pages=[]), **settings) == []
    assert chunks_of(doc("", "  \n\n  "), **settings) == []


# --- chunk_document: parent-child -----------------------------------------------------

PARENT_CHILD: dict[str, Any] = {
    "mode": "parent_child",
    "separator": "\n\n",
    "max_tokens": 100,
    "subchunk_separator": "\n",
    "subchunk_max_tokens": 20,
    "subchunk_overlap": 0,
}


def test_paragraph_parents_and_their_children() -> None:
    document = doc(
        "Alpha line one\nAlpha line two\n\nBeta line one\nBeta line two", "Gamma line one"
    )
    chunks = chunks_of(document, **PARENT_CHILD)
    assert [(c.chunk_id, c.position, c.content, c.parent_id, c.page) for c in chunks] == [
        ("doc:0.0", 0, "Alpha line one", "doc:0", 1),
        ("doc:0.1", 1, "Alpha line two", "doc:0", 1),
        ("doc:1.0", 2, "Beta line one", "doc:1", 1),
        ("doc:1.1", 3, "Beta line two", "doc:1", 1),
        ("doc:2.0", 4, "Gamma line one", "doc:2", 2),
    ]
    assert chunks[0].parent_content == "Alpha line one\nAlpha line two"
    assert chunks[4].parent_content == "Gamma line one"
    assert chunks[4].metadata == {"source": "s3://bucket/file.pdf", "page": 2}


def test_paragraph_parents_never_overlap_and_children_do() -> None:
    text = " ".join(sentences(20))
    settings = {
        **PARENT_CHILD,
        "max_tokens": 40,
        "chunk_overlap": 30,
        "subchunk_separator": "\n",
        "subchunk_max_tokens": 20,
        "subchunk_overlap": 9,
    }
    chunks = chunks_of(doc(text), **settings)
    parents = list(dict.fromkeys(c.parent_content for c in chunks))
    assert " ".join(parents) == text  # no parent overlap (Dify has no parent overlap)
    assert all(count_tokens(p) <= 40 for p in parents)
    first = [c.content for c in chunks if c.parent_id == "doc:0"]
    assert len(first) >= 2 and all(count_tokens(c) <= 20 for c in first)
    for previous, current in pairwise(first):
        assert current.startswith(previous.split(". ")[-1])  # children overlap


def test_full_doc_parent_is_the_whole_document_with_child_pages() -> None:
    document = doc("Alpha one\nAlpha two", "Beta one\nBeta two", "", "Delta one")
    chunks = chunks_of(document, **PARENT_CHILD, parent_mode="full_doc")
    assert {c.parent_id for c in chunks} == {"doc:0"}
    assert chunks[0].parent_content == "Alpha one\nAlpha two\nBeta one\nBeta two\n\nDelta one"
    assert [(c.content, c.page, c.chunk_id) for c in chunks] == [
        ("Alpha one", 1, "doc:0.0"),
        ("Alpha two", 1, "doc:0.1"),
        ("Beta one", 2, "doc:0.2"),
        ("Beta two", 2, "doc:0.3"),
        ("Delta one", 4, "doc:0.4"),
    ]


def test_full_doc_pages_follow_repeated_text() -> None:
    chunks = chunks_of(doc("Same line\nOther", "Same line"), **PARENT_CHILD, parent_mode="full_doc")
    assert [(c.content, c.page) for c in chunks] == [
        ("Same line", 1),
        ("Other", 1),
        ("Same line", 2),
    ]


def test_full_doc_parent_is_truncated_at_10000_tokens() -> None:
    page = " ".join(["lorem"] * 6000)
    settings = {**PARENT_CHILD, "subchunk_separator": "\n", "subchunk_max_tokens": 500}
    chunks = chunks_of(doc(page, page, page), **settings, parent_mode="full_doc")
    parent = chunks[0].parent_content
    assert parent is not None
    assert count_tokens(parent) == FULL_DOC_MAX_TOKENS
    assert sum(count_tokens(c.content) for c in chunks) == FULL_DOC_MAX_TOKENS
    assert {c.page for c in chunks} == {1, 2}


def test_chunking_is_deterministic() -> None:
    document = doc("\n\n".join(" ".join(sentences(12, start=i)) for i in range(4)), "Tail.")
    for settings in (
        {"max_tokens": 50, "chunk_overlap": 10},
        {**PARENT_CHILD, "max_tokens": 60},
        {**PARENT_CHILD, "parent_mode": "full_doc"},
    ):
        assert chunks_of(document, **settings) == chunks_of(document, **settings)
