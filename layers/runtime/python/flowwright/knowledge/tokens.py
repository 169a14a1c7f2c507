"""A fast, deterministic token-count estimate used to size chunks (no tokenizer download).

The rule (see :func:`count_tokens`) splits text into *pieces* that each count as one token;
:func:`token_pieces` exposes them so the chunker can cut text that has no separators at
token boundaries, and :func:`truncate_tokens` keeps a prefix of a given token count.
"""

from __future__ import annotations

import re

__all__ = ["count_tokens", "token_pieces", "truncate_tokens"]

#: Scripts written without spaces, where GPT-style tokenizers spend about one token per
#: character: CJK ideographs, Kana, Hangul, Thai.
_DENSE = (
    "\u0e00-\u0e7f"  # Thai
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # Hangul jamo, compatibility jamo, syllables
    "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"  # Hiragana, Katakana (+ extensions, half-width)
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs (+ extension A, compatibility)
    "\U00020000-\U0003134f"  # CJK ideograph extensions B-H
)
_WORD_LIMIT = 6  # letters: a run this long or shorter is one token ...
_WORD_STEP = 4  # ... a longer run is one token per 4 letters
_DIGIT_STEP = 3  # digits: one token per 3 digits

#: Leading whitespace, then one dense character, a run of letters, a run of digits or any
#: other single visible character; or trailing whitespace on its own.
_PIECE = re.compile(
    rf"\s*(?:[{_DENSE}]|(?P<word>[^\W\d_{_DENSE}]+)|(?P<num>\d+)|\S)|\s+",
)
_TOKEN = re.compile(rf"[{_DENSE}]|[^\W\d_{_DENSE}]+|\d+|\S")
_LONG_WORD = re.compile(rf"[^\W\d_{_DENSE}]{{{_WORD_LIMIT + 1},}}")
_LONG_NUMBER = re.compile(rf"\d{{{_DIGIT_STEP + 1},}}")


def _ceil_div(n: int, d: int) -> int:
    return -(-n // d)


def count_tokens(text: str) -> int:
    """Estimate how many GPT-style tokens ``text`` has.

    Rule: each CJK ideograph, Kana, Hangul or Thai character is 1 token; a run of other
    letters (a word, any script) is 1 token up to 6 letters and ``ceil(len / 4)`` beyond;
    a run of digits is ``ceil(len / 3)``; every other visible character (punctuation,
    symbols, emoji) is 1; whitespace is free. Deterministic and linear in ``len(text)``;
    always equal to the number of non-blank pieces of :func:`token_pieces`.
    """
    total = len(_TOKEN.findall(text))
    for word in _LONG_WORD.findall(text):
        total += _ceil_div(len(word), _WORD_STEP) - 1
    for number in _LONG_NUMBER.findall(text):
        total += _ceil_div(len(number), _DIGIT_STEP) - 1
    return total


def token_pieces(text: str) -> list[str]:
    """Cut ``text`` into pieces of one token each (whitespace rides with the next piece; a
    trailing blank piece counts 0). ``"".join(token_pieces(t)) == t``."""
    pieces: list[str] = []
    for match in _PIECE.finditer(text):
        piece = match.group()
        word, number = match.group("word"), match.group("num")
        run = word or number
        if run is None or (word is not None and len(run) <= _WORD_LIMIT):
            pieces.append(piece)
            continue
        step = _WORD_STEP if word is not None else _DIGIT_STEP
        lead = len(piece) - len(run)
        cuts = list(range(lead, len(piece), step))
        cuts[0] = 0
        pieces.extend(piece[a:b] for a, b in zip(cuts, [*cuts[1:], len(piece)], strict=True))
    return pieces


def truncate_tokens(text: str, max_tokens: int) -> str:
    """The longest prefix of ``text`` with at most ``max_tokens`` tokens."""
    if count_tokens(text) <= max_tokens:
        return text
    return "".join(token_pieces(text)[:max_tokens])
