"""Template executor: renders a Jinja2 template in a sandbox over named variables."""

from __future__ import annotations

from functools import lru_cache
from types import TracebackType
from typing import Any

from jinja2 import Template, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from flowwright.errors import NodeExecutionError
from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.nodes.template_transform.config import TemplateTransformConfig
from flowwright.variables import VariablePool

__all__ = ["MAX_OUTPUT_LENGTH", "render", "run"]

#: Dify's ``TEMPLATE_TRANSFORM_MAX_LENGTH`` default (characters).
MAX_OUTPUT_LENGTH = 400_000

_ENV = SandboxedEnvironment()


@lru_cache(maxsize=256)
def _compile(template: str) -> Template:
    return _ENV.from_string(template)


def _template_line(tb: TracebackType | None) -> int | None:
    """The template line of the innermost frame Jinja2 attributes to the template."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render(template: str, variables: dict[str, Any]) -> str:
    """Render ``template``; raises :class:`NodeExecutionError` naming the line on failure."""
    try:
        compiled = _compile(template)
    except TemplateSyntaxError as exc:
        raise NodeExecutionError(
            f"template syntax error at line {exc.lineno}: {exc.message}"
        ) from None
    try:
        return compiled.render(**variables)
    except Exception as exc:
        line = _template_line(exc.__traceback__)
        where = f" at line {line}" if line is not None else ""
        raise NodeExecutionError(f"template error{where}: {type(exc).__name__}: {exc}") from None


def run(config: TemplateTransformConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Outputs ``{"output": text}``; undefined names render empty, missing variables are None."""
    variables = {v.variable: pool.value(v.value_selector) for v in config.variables}
    rendered = render(config.template, variables)
    if len(rendered) > MAX_OUTPUT_LENGTH:
        raise NodeExecutionError(f"Output length exceeds {MAX_OUTPUT_LENGTH} characters")
    return NodeResult(outputs={"output": rendered}, inputs=variables)
