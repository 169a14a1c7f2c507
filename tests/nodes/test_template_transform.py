"""Template node: Jinja2 in a sandbox, Dify's output limit."""

from __future__ import annotations

from typing import Any

import pytest
from flowwright.errors import NodeExecutionError
from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.nodes.template_transform.config import TemplateTransformConfig
from flowwright.nodes.template_transform.run import MAX_OUTPUT_LENGTH, run
from flowwright.variables import VariablePool

CTX = NodeContext(app_id="a", run_id="r", node_id="n", node_type="template-transform")
POOL: dict[str, Any] = {
    "start": {"name": "Ada", "items": ["x", "y"], "obj": {"k": 1}, "n": 3, "none": None},
}


def render(template: str, **variables: list[str]) -> NodeResult:
    config = TemplateTransformConfig.model_validate(
        {
            "type": "template-transform",
            "template": template,
            "variables": [{"variable": k, "value_selector": v} for k, v in variables.items()],
        }
    )
    return run(config, VariablePool(POOL), CTX)


def test_renders_variables() -> None:
    result = render(
        "Hi {{ name }}: {% for i in items %}{{ i }}{% endfor %} {{ obj.k + n }}",
        name=["start", "name"],
        items=["start", "items"],
        obj=["start", "obj"],
        n=["start", "n"],
    )
    assert result.outputs == {"output": "Hi Ada: xy 4"}
    assert result.inputs == {"name": "Ada", "items": ["x", "y"], "obj": {"k": 1}, "n": 3}


def test_undefined_names_render_empty() -> None:
    assert render("[{{ nothing }}]").outputs == {"output": "[]"}


def test_missing_and_null_values_are_none() -> None:
    # Dify: a selector with no value is passed as None, which Jinja2 renders as "None".
    result = render("{{ a }}|{{ b }}|{{ b is none }}", a=["start", "none"], b=["start", "zz"])
    assert result.outputs == {"output": "None|None|True"}


def test_trailing_newline_dropped_like_jinja2() -> None:
    assert render("x\n").outputs == {"output": "x"}


def test_syntax_error_names_line() -> None:
    with pytest.raises(NodeExecutionError, match="syntax error at line 2"):
        render("ok\n{% for %}")


def test_runtime_error_names_line() -> None:
    with pytest.raises(NodeExecutionError, match="line 3: ZeroDivisionError"):
        render("a\nb\n{{ 1 / 0 }}")


def test_sandbox_blocks_unsafe_access() -> None:
    with pytest.raises(NodeExecutionError, match="SecurityError"):
        render("{{ name.__class__.__mro__ }}", name=["start", "nothing"])
    assert render("{{ ''.__class__ }}").outputs == {"output": ""}


def test_output_length_limit() -> None:
    assert MAX_OUTPUT_LENGTH == 400_000
    ok = render(f"{{{{ 'x' * {MAX_OUTPUT_LENGTH} }}}}")
    assert len(ok.outputs["output"]) == MAX_OUTPUT_LENGTH
    with pytest.raises(NodeExecutionError, match="Output length exceeds 400000 characters"):
        render(f"{{{{ 'x' * {MAX_OUTPUT_LENGTH + 1} }}}}")
