"""Dify's pre-processing rules: invalid symbols, extra spaces, URLs and e-mails."""

from __future__ import annotations

import pytest
from flowwright.knowledge.clean import clean_text
from flowwright.knowledge.models import CleaningRules

NONE = CleaningRules(remove_extra_spaces=False, remove_urls_emails=False)
SPACES = CleaningRules(remove_extra_spaces=True, remove_urls_emails=False)
URLS = CleaningRules(remove_extra_spaces=False, remove_urls_emails=True)


def test_invalid_symbols_are_always_removed() -> None:
    text = "<|im_start|>a\x00b\x07c\x0bd\x0ce\x1ff\x7fg\ufffeh"
    assert clean_text(text, NONE) == "<im_start>abcdefgh"


def test_tabs_newlines_and_accented_letters_survive() -> None:
    # Dify's character class also drops "ï", "¿" and "¾" (a bytes-vs-str slip); we keep them.
    text = "naïve\t¿qué?\r\n¾ cup"
    assert clean_text(text, NONE) == text


def test_extra_spaces_collapse_newlines_and_horizontal_whitespace() -> None:
    text = "a\n\n\n\n\nb  c\t\td\u3000\u3000e\u00a0 f\tg\n\nh"
    assert clean_text(text, SPACES) == "a\n\nb c d e f\tg\n\nh"


def test_extra_spaces_off_keeps_them() -> None:
    text = "a\n\n\n\nb    c"
    assert clean_text(text, NONE) == text


def test_default_rules_remove_extra_spaces_only() -> None:
    text = "mail me at bob@example.com  or see https://example.com\n\n\n\nbye"
    assert clean_text(text, CleaningRules()) == (
        "mail me at bob@example.com or see https://example.com\n\nbye"
    )


def test_emails_are_removed() -> None:
    assert clean_text("write to first.last+tag@mail.example.co.uk today", URLS) == (
        "write to  today"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://example.com/a?b=c now", "see  now"),
        ("Docs: http://example.com/x. Next sentence.", "Docs: . Next sentence."),
        ("(see https://example.com/a), then", "(see ), then"),
        ("wiki https://en.wikipedia.org/wiki/Foo_(bar) end", "wiki  end"),
    ],
)
def test_bare_urls_are_removed_but_not_the_sentence_around_them(text: str, expected: str) -> None:
    assert clean_text(text, URLS) == expected


def test_markdown_links_and_images_are_kept() -> None:
    text = (
        "![diagram](https://cdn.example.com/d.png) and [the docs](https://docs.example.com/x) "
        "but not https://example.com/raw"
    )
    assert clean_text(text, URLS) == (
        "![diagram](https://cdn.example.com/d.png) and [the docs](https://docs.example.com/x) "
        "but not "
    )


def test_urls_kept_when_rule_is_off() -> None:
    text = "see https://example.com and bob@example.com"
    assert clean_text(text, NONE) == text
