"""Text analysis for keyword search, modelled on OpenSearch's built-in ``cjk`` analyzer.

NFKC + casefold (the analyzer's ``cjk_width`` + ``lowercase``); words of spaced scripts
(letters, digits, combining marks, ``_``; inner ``.`` and apostrophes, and ``,`` between
digits, as in UAX #29) as tokens; runs of Han, Hiragana, Katakana and
Hangul as overlapping character bigrams, a lone character as a unigram (``cjk_bigram``);
the analyzer's English stop words dropped. Thai runs are bigrammed too, which the
OpenSearch analyzer does not do (its tokenizer keeps a Thai run as one token).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

__all__ = ["STOP_WORDS", "analyze"]

#: Lucene's CJKAnalyzer default stop set.
# fmt: off
STOP_WORDS = frozenset((
    "a", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "s", "such", "t", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with", "www",
))
# fmt: on

_CJK_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3038, 0x303B),
    (0x3041, 0x30FF),  # Hiragana, Katakana (incl. ー and voicing marks)
    (0x3131, 0x318E),  # Hangul compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xD7B0, 0xD7FF),  # Hangul Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x1B000, 0x1B16F),  # Kana supplement / extended
    (0x20000, 0x323AF),  # CJK extensions B-H, compatibility supplement
)
_THAI_RANGES = ((0x0E01, 0x0E3A), (0x0E40, 0x0E4E), (0x0E50, 0x0E59))


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in ranges)


def _ranges(codes: list[int]) -> tuple[tuple[int, int], ...]:
    """Sorted code points -> inclusive (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1] = (runs[-1][0], code)
        else:
            runs.append((code, code))
    return tuple(runs)


def _in_ranges(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


@cache
def _pattern() -> re.Pattern[str]:
    """One regex with three alternatives: a CJK run, a Thai run, a word."""
    cjk, thai = _char_class(_CJK_RANGES), _char_class(_THAI_RANGES)
    # Python's \w has no combining marks (Indic vowel signs...); add them, except those of
    # the CJK and Thai blocks, which belong to their runs.
    marks = [
        code
        for code in range(min(sys.maxunicode, 0x2FFFF) + 1)
        if unicodedata.category(chr(code))[0] == "M"
        and not _in_ranges(code, _CJK_RANGES + _THAI_RANGES)
    ]
    mark_class = _char_class(_ranges(marks))
    char = f"(?:[^\\W{cjk}{thai}]|[{mark_class}])"
    # UAX #29 keeps "3.14", "1,000", "don't" and "example.com" whole: '.' and apostrophes
    # join word characters, ',' joins digits.
    word = f"{char}+(?:(?:[.'\u2019]|(?<=\\d),(?=\\d)){char}+)*"
    return re.compile(f"(?P<cjk>[{cjk}]+)|(?P<thai>[{thai}]+)|(?P<word>{word})")


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def analyze(text: str) -> list[str]:
    """Tokens of ``text`` in order (duplicates kept), as the keyword index sees them."""
    if not text:
        return []
    normalized = unicodedata.normalize("NFKC", text).casefold()
    tokens: list[str] = []
    for match in _pattern().finditer(normalized):
        kind = match.lastgroup
        piece = match.group()
        if kind == "word":
            if piece not in STOP_WORDS:
                tokens.append(piece)
        else:
            tokens.extend(_bigrams(piece))
    return tokens
