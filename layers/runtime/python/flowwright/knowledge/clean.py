"""Dify's text pre-processing rules (``CleanProcessor.clean``)."""

from __future__ import annotations

import re

from flowwright.knowledge.models import CleaningRules

__all__ = ["clean_text"]

#: C0 controls except \t \n \r, DEL, and the non-character U+FFFE.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe]")
_BLANK_LINES = re.compile(r"\n{3,}")
#: Horizontal whitespace Dify collapses (note: \r counts, \n does not).
_SPACES = re.compile("[\t\f\r \u00a0\u1680\u180e\u2000-\u200a\u202f\u205f\u3000]{2,}")
_EMAIL = re.compile(r"[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+")
#: A markdown link or image with an http(s) target (kept whole), or a bare URL.
_URL_OR_MARKDOWN = re.compile(r"(?P<markdown>!?\[[^\]]*\]\(https?://[^)]+\))|https?://\S+")
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def clean_text(text: str, rules: CleaningRules) -> str:
    """Clean ``text`` like Dify before chunking.

    Always: ``<|`` -> ``<``, ``|>`` -> ``>``, control characters other than tab / newline /
    carriage return and U+FFFE removed. ``remove_extra_spaces``: 3+ newlines -> 2, runs of
    2+ horizontal whitespace -> one space. ``remove_urls_emails``: e-mail addresses and bare
    http(s) URLs removed (sentence punctuation and unmatched closing brackets right after a
    URL stay); markdown links and images (``[text](url)``, ``![alt](url)``) kept whole.
    """
    text = text.replace("<|", "<").replace("|>", ">")
    text = _INVALID.sub("", text)
    if rules.remove_extra_spaces:
        text = _BLANK_LINES.sub("\n\n", text)
        text = _SPACES.sub(" ", text)
    if rules.remove_urls_emails:
        text = _EMAIL.sub("", text)
        text = _URL_OR_MARKDOWN.sub(lambda m: m.group("markdown") or _url_tail(m.group()), text)
    return text


def _url_tail(url: str) -> str:
    """What follows a bare URL but belongs to the sentence: trailing punctuation and
    closing brackets that have no opener inside the URL."""
    end = len(url)
    while end > 0:
        char = url[end - 1]
        opener = _CLOSERS.get(char)
        if char in ".,;:!?'\"" or (
            opener is not None and url.count(opener, 0, end) < url.count(char, 0, end)
        ):
            end -= 1
        else:
            break
    return url[end:]
