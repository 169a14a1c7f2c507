"""Dify's conversions of values to text (prompts, templates) and markdown (answers)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["to_markdown", "to_text"]


def _is_file(value: Any) -> bool:
    return isinstance(value, dict) and value.get("dify_model_identity") == "__dify__file__"


def to_text(value: Any) -> str:
    """Text form used in prompts and templates (Dify ``Segment.text``).

    >>> to_text(None), to_text(["a"]), to_text({"k": 1}), to_text(1.5)
    ('', '["a"]', '{"k": 1}', '1.5')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if _is_file(value):
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        if not value:
            return ""
        if all(_is_file(v) for v in value):
            return ""
        if all(isinstance(v, str) for v in value):
            return json.dumps(value, ensure_ascii=False)
        return str(value)
    return str(value)


def to_markdown(value: Any) -> str:
    """Markdown form used by Answer nodes (Dify ``Segment.markdown``).

    >>> to_markdown(["a", "b"])
    '- a\\n- b'
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if _is_file(value):
        return _file_markdown(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, indent=2)
    if isinstance(value, list):
        if value and all(_is_file(v) for v in value):
            return "\n".join(_file_markdown(v) for v in value)
        return "\n".join(f"- {item}" for item in value)
    return str(value)


def _file_markdown(file: dict[str, Any]) -> str:
    name = file.get("filename") or "file"
    url = file.get("remote_url") or file.get("url") or ""
    if file.get("type") == "image":
        return f"![{name}]({url})"
    return f"[{name}]({url})"
