"""Dify's segmentation: ``general`` chunks and ``parent_child`` (hierarchical) chunks.

:func:`split_text` follows Dify's ``FixedRecursiveCharacterTextSplitter``; lengths are
measured with :func:`~flowwright.knowledge.tokens.count_tokens`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flowwright.knowledge.clean import clean_text
from flowwright.knowledge.models import Chunk, ChunkingSettings, CleaningRules, ExtractedDocument
from flowwright.knowledge.tokens import count_tokens, token_pieces, truncate_tokens

__all__ = [
    "FULL_DOC_MAX_TOKENS",
    "RECURSIVE_SEPARATORS",
    "chunk_document",
    "split_text",
    "unescape_separator",
]

#: Finer separators tried, in order, on pieces longer than ``max_tokens``; ``""`` cuts
#: between tokens.
RECURSIVE_SEPARATORS: tuple[str, ...] = ("\n\n", "\n", "。", ". ", " ", "")
#: Dify truncates a ``full_doc`` parent (the whole document) to this many tokens.
FULL_DOC_MAX_TOKENS = 10_000

_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2})|(.))", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "0": "\0", "\\": "\\"}
#: Leading punctuation Dify removes from general chunks (``remove_leading_symbols``), minus
#: the characters that start markdown images / links / lists: ``!``, ``[``, ``-``.
_LEADING_SYMBOLS = re.compile(
    "^[\u2000-\u2025\u2027-\u206f\u2e00-\u2e7f\u3000-\u300f\u3011-\u303f"
    "\"#$%&'()*+,./:;<=>?@^_`~\\]]+"
)


def unescape_separator(separator: str) -> str:
    r"""Turn escape sequences typed into a config (``"\\n\\n"``, ``"\\t"``, ``"\\u3002"``)
    into the characters they stand for; anything else (including non-ASCII) is kept."""

    def replace(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2) or match.group(3)
        if code:
            return chr(int(code, 16))
        char = match.group(4)
        return _ESCAPES.get(char, "\\" + char)

    return _ESCAPE.sub(replace, separator)


def split_text(text: str, *, separator: str, max_tokens: int, overlap: int) -> list[str]:
    """Split ``text`` like Dify's fixed-separator splitter.

    ``text`` is cut on ``separator`` (used literally, see :func:`unescape_separator`); each
    piece is a chunk of its own (pieces are never merged). A piece longer than
    ``max_tokens`` is split recursively on :data:`RECURSIVE_SEPARATORS` (each keeps its
    separator) and the parts are merged back into chunks of at most ``max_tokens``, each
    starting with up to ``overlap`` tokens of the previous one. Chunks are stripped
    substrings of ``text``; blank ones are dropped.
    """
    return [text[a:b] for a, b in _split_spans(text, separator, max_tokens, overlap)]


Span = tuple[int, int]


def _split_spans(text: str, separator: str, max_tokens: int, overlap: int) -> list[Span]:
    """:func:`split_text` as ``(start, end)`` offsets into ``text``."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    if not 0 <= overlap <= max_tokens:
        raise ValueError(f"overlap must be between 0 and max_tokens ({max_tokens}), got {overlap}")
    spans: list[Span] = []
    for span in _cut(text, (0, len(text)), separator, keep=False):
        if count_tokens(text[span[0] : span[1]]) > max_tokens:
            spans.extend(_split_recursive(text, span, RECURSIVE_SEPARATORS, max_tokens, overlap))
        else:
            spans.append(span)
    return [stripped for span in spans if (stripped := _strip(text, span))]


def _cut(text: str, span: Span, separator: str, *, keep: bool) -> list[Span]:
    """``text[span]`` cut on ``separator`` (each part keeping it when ``keep``), or into
    token pieces when ``separator`` is empty."""
    start, end = span
    parts = text[start:end].split(separator) if separator else token_pieces(text[start:end])
    spans: list[Span] = []
    for index, part in enumerate(parts):
        tail = len(separator) if separator and index < len(parts) - 1 else 0
        stop = start + len(part) + (tail if keep else 0)
        spans.append((start, stop))
        start += len(part) + tail
    return spans


def _split_recursive(
    text: str, span: Span, separators: Sequence[str], max_tokens: int, overlap: int
) -> list[Span]:
    segment = text[span[0] : span[1]]
    index = next(i for i, sep in enumerate(separators) if sep == "" or sep in segment)
    separator, finer = separators[index], separators[index + 1 :]
    spans: list[Span] = []
    small: list[tuple[Span, int]] = []
    for part in _cut(text, span, separator, keep=True):
        piece = text[part[0] : part[1]]
        if not piece.strip():
            continue
        size = count_tokens(piece)
        if size < max_tokens:
            small.append((part, size))
            continue
        spans.extend(_merge(small, max_tokens, overlap))
        small = []
        if finer:
            spans.extend(_split_recursive(text, part, finer, max_tokens, overlap))
        else:
            spans.append(part)
    spans.extend(_merge(small, max_tokens, overlap))
    return spans


def _merge(parts: Iterable[tuple[Span, int]], max_tokens: int, overlap: int) -> list[Span]:
    """Join consecutive parts into chunks of at most ``max_tokens``; a new chunk starts
    with the previous chunk's last parts worth at most ``overlap`` tokens."""
    spans: list[Span] = []
    window: deque[tuple[Span, int]] = deque()
    total = 0
    for part, size in parts:
        if window and total + size > max_tokens:
            spans.append((window[0][0][0], window[-1][0][1]))
            while window and (total > overlap or total + size > max_tokens):
                total -= window.popleft()[1]
        window.append((part, size))
        total += size
    if window:
        spans.append((window[0][0][0], window[-1][0][1]))
    return spans


def _strip(text: str, span: Span) -> Span | None:
    """``span`` without surrounding whitespace; ``None`` when blank."""
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


@dataclass(frozen=True)
class _Parent:
    """A parent chunk and where its pages start in it."""

    text: str
    #: (offset in ``text``, page number), ascending by offset; the first offset is 0.
    pages: tuple[tuple[int, int | None], ...]

    def page_at(self, offset: int) -> int | None:
        index = bisect_right([start for start, _ in self.pages], offset) - 1
        return self.pages[max(index, 0)][1]


def chunk_document(
    doc: ExtractedDocument,
    *,
    document_id: str,
    settings: ChunkingSettings,
    cleaning: CleaningRules,
    metadata: dict[str, Any],
) -> list[Chunk]:
    """Clean and chunk ``doc`` with Dify's ``general`` or ``parent_child`` mode.

    Each page is cleaned (:func:`~flowwright.knowledge.clean.clean_text`). ``general``:
    each page is split with :func:`split_text` (chunks never span pages) and, like Dify,
    chunks lose leading punctuation. ``parent_child``: parents are the pages' paragraphs
    (``separator`` / ``max_tokens``, no overlap: ``chunk_overlap`` is unused) or, for
    ``full_doc``, all pages joined by newlines and truncated to
    :data:`FULL_DOC_MAX_TOKENS`; each parent is split into children with the ``subchunk_*``
    settings, and parents and children lose one leading ``.`` / ``。``.

    Chunks get ``position`` 0..n-1 and ``chunk_id`` ``"{document_id}:{position}"``; in
    parent-child mode the chunks are the children (``"{document_id}:{parent}.{child}"``,
    with ``parent_id`` ``"{document_id}:{parent}"`` and the parent's text). ``page`` is the
    page a chunk starts on. ``metadata`` is copied into every chunk, plus ``page`` when
    known. An empty document gives ``[]``. Raises ``ValueError`` when an overlap exceeds
    its maximum size.
    """
    pages = [(clean_text(page.text, cleaning), page.number) for page in doc.pages]
    if settings.mode == "general":
        return _general(pages, document_id, settings, metadata)
    if settings.parent_mode == "full_doc":
        parents = _full_doc_parents(pages)
    else:
        parents = _paragraph_parents(pages, settings)
    return _children(parents, document_id, settings, metadata)


def _general(
    pages: list[tuple[str, int | None]],
    document_id: str,
    settings: ChunkingSettings,
    metadata: dict[str, Any],
) -> list[Chunk]:
    separator = unescape_separator(settings.separator)
    contents: list[tuple[str, int | None]] = []
    for text, number in pages:
        for piece in split_text(
            text,
            separator=separator,
            max_tokens=settings.max_tokens,
            overlap=settings.chunk_overlap,
        ):
            content = _LEADING_SYMBOLS.sub("", piece).strip()
            if content:
                contents.append((content, number))
    return [
        Chunk(
            chunk_id=f"{document_id}:{position}",
            document_id=document_id,
            position=position,
            content=content,
            page=number,
            metadata=_metadata(metadata, number),
        )
        for position, (content, number) in enumerate(contents)
    ]


def _paragraph_parents(
    pages: list[tuple[str, int | None]], settings: ChunkingSettings
) -> list[_Parent]:
    """Parents split per page on ``separator`` / ``max_tokens``; Dify's hierarchical mode
    has no parent overlap setting, so parents never overlap."""
    separator = unescape_separator(settings.separator)
    parents: list[_Parent] = []
    for text, number in pages:
        for piece in split_text(
            text, separator=separator, max_tokens=settings.max_tokens, overlap=0
        ):
            content, _ = _trim_split_mark(piece)
            if content:
                parents.append(_Parent(content, ((0, number),)))
    return parents


def _full_doc_parents(pages: list[tuple[str, int | None]]) -> list[_Parent]:
    """One parent: the pages joined by newlines, truncated to :data:`FULL_DOC_MAX_TOKENS`."""
    starts: list[tuple[int, int | None]] = []
    offset = 0
    for text, number in pages:
        starts.append((offset, number))
        offset += len(text) + 1
    joined = truncate_tokens("\n".join(text for text, _ in pages), FULL_DOC_MAX_TOKENS)
    content, shift = _trim_split_mark(joined)
    if not content:
        return []
    return [_Parent(content, tuple((max(start - shift, 0), number) for start, number in starts))]


def _children(
    parents: list[_Parent],
    document_id: str,
    settings: ChunkingSettings,
    metadata: dict[str, Any],
) -> list[Chunk]:
    separator = unescape_separator(settings.subchunk_separator)
    chunks: list[Chunk] = []
    parent_position = 0
    for parent in parents:
        children: list[tuple[str, int | None]] = []
        for start, end in _split_spans(
            parent.text, separator, settings.subchunk_max_tokens, settings.subchunk_overlap
        ):
            content, shift = _trim_split_mark(parent.text[start:end])
            if content:
                children.append((content, parent.page_at(start + shift)))
        if not children:
            continue
        parent_id = f"{document_id}:{parent_position}"
        for child_position, (content, number) in enumerate(children):
            chunks.append(
                Chunk(
                    chunk_id=f"{parent_id}.{child_position}",
                    document_id=document_id,
                    position=len(chunks),
                    content=content,
                    parent_id=parent_id,
                    parent_content=parent.text,
                    page=number,
                    metadata=_metadata(metadata, number),
                )
            )
        parent_position += 1
    return chunks


def _trim_split_mark(text: str) -> tuple[str, int]:
    """Strip ``text`` and one leading ``.`` / ``。`` (what a sentence split leaves behind,
    as Dify's parent-child processor does); also return where the result starts."""
    start = len(text) - len(text.lstrip())
    if text[start : start + 1] in (".", "。"):
        rest = text[start + 1 :]
        start += 1 + len(rest) - len(rest.lstrip())
    return text[start:].rstrip(), start


def _metadata(metadata: dict[str, Any], page: int | None) -> dict[str, Any]:
    return {**metadata, "page": page} if page is not None else dict(metadata)
