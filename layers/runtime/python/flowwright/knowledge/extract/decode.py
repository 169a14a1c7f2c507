"""Bytes to text: BOM, then a declared charset, then UTF-8, then charset_normalizer."""

from __future__ import annotations

import codecs
import re

from .source import Source

__all__ = ["charset_from_content_type", "decode_text"]

# UTF-32 before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Labels that real documents use for a superset encoding (as browsers read them).
_SUPERSETS = {
    "ascii": "cp1252",
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "euc_kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
}
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a content type, if any."""
    match = _CHARSET_PARAM.search(content_type or "")
    return match.group(1) if match else None


def decode_text(source: Source, declared: str | None = None) -> tuple[str, str]:
    """Decode ``source.data``; return ``(text, encoding)`` or raise ``decode``.

    Order: byte-order mark, ``declared`` (e.g. an HTML meta charset), the content type's
    charset, UTF-8, then charset_normalizer's best guess."""
    data = source.data
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(bom_codec), bom_codec.removesuffix("-sig")
            except UnicodeDecodeError:
                break
    for label in (declared, source.charset, "utf-8"):
        codec = _codec(label)
        if codec is None:
            continue
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # NULs: UTF-16 without a BOM, or binary data
            return text, codec.replace("_", "-")
    return _guess(source)


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name.replace("-", "_")
    except LookupError:
        return None
    if name in ("utf_16", "utf_32"):  # a declaration in ASCII bytes cannot be right
        return None
    return _SUPERSETS.get(name, name)


def _guess(source: Source) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(source.data).best()
    if best is None:
        raise source.error("decode", "the text is not in any character encoding we recognise")
    try:
        text = str(best)
    except (UnicodeDecodeError, LookupError) as exc:
        raise source.error("decode", f"the text could not be decoded ({exc})") from exc
    if "\x00" in text:
        raise source.error("decode", "this looks like binary data, not text")
    return text, best.encoding.replace("_", "-")
