"""Variables: selectors, templates, the variable pool and Dify's text conversions."""

from flowwright.variables.pool import MISSING, VariablePool
from flowwright.variables.selectors import (
    SPECIAL_SCOPES,
    Selector,
    TemplateSegment,
    parse_template,
    template_selectors,
)
from flowwright.variables.text import to_markdown, to_text

__all__ = [
    "MISSING",
    "SPECIAL_SCOPES",
    "Selector",
    "TemplateSegment",
    "VariablePool",
    "parse_template",
    "template_selectors",
    "to_markdown",
    "to_text",
]
