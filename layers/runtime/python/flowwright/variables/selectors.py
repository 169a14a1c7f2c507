"""Variable selectors (``["node_id", "var", ...]``) and Dify's ``{{#node.var#}}`` templates."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "SPECIAL_SCOPES",
    "Selector",
    "TemplateSegment",
    "parse_template",
    "template_selectors",
]

Selector = tuple[str, ...]

#: Selector roots that are not node ids.
SPECIAL_SCOPES = frozenset({"sys", "env", "conversation"})

# Dify's pattern, with '-' also allowed in the node id (hand-written graphs use such ids).
_TEMPLATE = re.compile(r"\{\{#([a-zA-Z0-9_-]{1,50}(?:\.[a-zA-Z_][a-zA-Z0-9_]{0,29}){1,10})#\}\}")


@dataclass(frozen=True)
class TemplateSegment:
    """A piece of a template: literal ``text`` or a variable ``selector``."""

    text: str = ""
    selector: Selector | None = None


def parse_template(template: str) -> list[TemplateSegment]:
    """Split a Dify template into literal text and variable references.

    >>> [s.selector or s.text for s in parse_template("a{{#sys.query#}}b")]
    ['a', ('sys', 'query'), 'b']
    """
    segments: list[TemplateSegment] = []
    pos = 0
    for match in _TEMPLATE.finditer(template):
        if match.start() > pos:
            segments.append(TemplateSegment(text=template[pos : match.start()]))
        segments.append(TemplateSegment(selector=tuple(match.group(1).split("."))))
        pos = match.end()
    if pos < len(template):
        segments.append(TemplateSegment(text=template[pos:]))
    return segments


def template_selectors(template: str | None) -> list[Selector]:
    """Every selector a template references, in order of appearance."""
    if not template:
        return []
    return [tuple(m.group(1).split(".")) for m in _TEMPLATE.finditer(template)]
