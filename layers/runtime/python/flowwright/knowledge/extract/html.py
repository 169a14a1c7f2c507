"""HTML to text with the standard library parser: visible text, one line per block."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flowwright.knowledge.models import ExtractedDocument, Page

from .decode import decode_text
from .source import Source
from .tidy import tidy

__all__ = ["extract_html"]

_HIDDEN = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
#: Blocks that end a paragraph (a blank line follows them).
_PARAGRAPHS = {
    "article", "blockquote", "dl", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "main", "nav", "ol", "p", "pre", "section", "table", "ul",
}  # fmt: skip
#: Blocks that end a line.
_LINES = {
    "address", "aside", "br", "caption", "dd", "details", "div", "dt", "fieldset",
    "figcaption", "figure", "form", "hr", "li", "summary", "tbody", "tfoot", "thead", "tr",
}  # fmt: skip
_CELLS = {"td", "th"}
_WHITESPACE = re.compile(r"\s+")
_DECLARED = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""",
    re.IGNORECASE,
)


class _TextParser(HTMLParser):
    """Collects visible text and the first <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.hidden: list[str] = []  # open hidden elements, innermost last
        self.in_title = False
        self.pre = 0  # open <pre> elements
        self.cells = 0  # cells seen in the current table row
        self.newlines = 0  # newlines at the end of the output so far
        self.line_start = True  # nothing but a list marker on the current line yet

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = not self.title
        elif tag == "body" and "head" in self.hidden:  # an unclosed <head> ends here
            self._close_hidden("head")
        elif tag in _HIDDEN:
            self.hidden.append(tag)
        elif not self.hidden:
            self._open(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.hidden and (tag in _LINES or tag in _PARAGRAPHS):
            self._break(1)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif self.hidden:
            if tag in self.hidden:
                self._close_hidden(tag)
        elif tag in _PARAGRAPHS:
            if tag == "pre" and self.pre:
                self.pre -= 1
            self._break(2)
        elif tag in _LINES:
            self._break(1)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.hidden:
            self._text(data)

    def _open(self, tag: str) -> None:
        if tag in _PARAGRAPHS or tag in _LINES:
            self._break(2 if tag in _PARAGRAPHS else 1)
            if tag == "pre":
                self.pre += 1
            elif tag == "tr":
                self.cells = 0
            elif tag == "li":
                self.parts.append("- ")
                self.newlines = 0
        elif tag in _CELLS:
            if self.cells and not self.line_start:
                self.parts.append(" | ")
                self.newlines = 0
            self.cells += 1

    def _close_hidden(self, tag: str) -> None:
        """Close the innermost open ``tag`` and anything left open inside it."""
        index = len(self.hidden) - 1 - self.hidden[::-1].index(tag)
        del self.hidden[index:]

    def _text(self, data: str) -> None:
        if not self.pre:
            data = _WHITESPACE.sub(" ", data)
            if self.line_start:
                data = data.lstrip()
        if data:
            self.parts.append(data)
            self.newlines = 0
            self.line_start = False

    def _break(self, newlines: int) -> None:
        """End the line (1) or the paragraph (2), unless the output already does."""
        if self.parts and newlines > self.newlines:
            self.parts.append("\n" * (newlines - self.newlines))
            self.newlines = newlines
        self.line_start = True


def extract_html(source: Source) -> ExtractedDocument:
    """Visible text of an HTML page; title from <title>."""
    match = _DECLARED.search(source.data[:4096])
    declared = (match.group(1) or match.group(2)).decode("ascii") if match else None
    text, encoding = decode_text(source, declared)
    parser = _TextParser()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError, RecursionError) as exc:
        raise source.error("corrupt", f"the HTML could not be parsed ({exc})") from exc
    metadata: dict[str, str] = {"encoding": encoding}
    title = " ".join("".join(parser.title).split())
    if title:
        metadata["title"] = title
    return ExtractedDocument(pages=[Page(text=tidy("".join(parser.parts)))], metadata=metadata)
