"""LLM node: builds Dify's prompt (templates, context, memory, query), calls the model."""

from __future__ import annotations

import json
import re
from typing import Any

from flowwright.errors import NodeConfigError, NodeExecutionError
from flowwright.nodes.base import NodeContext, NodeResult, Usage, as_selector
from flowwright.nodes.llm.config import LLMConfig, PromptMessage
from flowwright.nodes.template_transform.run import render as render_jinja2
from flowwright.variables import VariablePool, to_text

__all__ = ["build_messages", "run"]

CONTEXT_PLACEHOLDER = "{{#context#}}"
#: Turns of history when the memory window is off (Dify bounds it by tokens instead).
DEFAULT_HISTORY_TURNS = 50
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def _context(config: LLMConfig, pool: VariablePool) -> str:
    if not config.context.enabled:
        return ""
    selector = as_selector(config.context.variable_selector)
    value = pool.value(selector) if selector else None
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict) and "content" in item:
                parts.append(str(item["content"]))
            else:
                parts.append(to_text(item))
        return "\n".join(parts)
    return to_text(value)


def _render(text: str, jinja: bool, config: LLMConfig, pool: VariablePool, context: str) -> str:
    if jinja:
        variables = {
            v.variable: pool.value(v.value_selector) for v in config.prompt_config.jinja2_variables
        }
        return render_jinja2(text, variables)
    return pool.render(text.replace(CONTEXT_PLACEHOLDER, context))


def _history(config: LLMConfig, ctx: NodeContext) -> list[tuple[str, str]]:
    if config.memory is None or ctx.mode != "advanced-chat" or not ctx.conversation_id:
        return []
    if ctx.services is None:
        return []
    window = config.memory.window
    limit = window.size if window.enabled and window.size else DEFAULT_HISTORY_TURNS
    turns = ctx.services.conversations.messages(ctx.app_id, ctx.conversation_id, limit=limit)
    return [(t.query, t.answer) for t in turns]


def _query(config: LLMConfig, pool: VariablePool) -> str | None:
    if config.memory is None:
        return None
    if config.memory.query_prompt_template:
        return pool.render(config.memory.query_prompt_template)
    query = pool.value(("sys", "query"))
    return to_text(query) if query else None


def build_messages(config: LLMConfig, pool: VariablePool, ctx: NodeContext) -> list[dict[str, Any]]:
    """OpenAI-style messages for the node, as Dify builds them."""
    context = _context(config, pool)
    history = _history(config, ctx)
    query = _query(config, pool)
    if isinstance(config.prompt_template, list):
        messages: list[dict[str, Any]] = []
        for message in config.prompt_template:
            text = _message_text(message, config, pool, context)
            if text:
                messages.append({"role": message.role, "content": text})
        for user, assistant in history:
            messages.append({"role": "user", "content": user})
            messages.append({"role": "assistant", "content": assistant})
        if query:
            messages.append({"role": "user", "content": query})
        return messages
    template = config.prompt_template
    jinja = template.edition_type == "jinja2"
    source = (template.jinja2_text or "") if jinja else template.text
    text = _render(source, jinja, config, pool, context)
    if config.memory is not None:
        prefix = config.memory.role_prefix
        user_p = prefix.user if prefix and prefix.user else "Human"
        bot_p = prefix.assistant if prefix and prefix.assistant else "Assistant"
        histories = "\n".join(f"{user_p}: {u}\n{bot_p}: {a}" for u, a in history)
        text = (
            text.replace("#histories#", histories)
            if "#histories#" in text
            else f"{histories}\n{text}"
        )
        if query:
            text = text.replace("#sys.query#", query)
    return [{"role": "user", "content": text}]


def _message_text(
    message: PromptMessage, config: LLMConfig, pool: VariablePool, context: str
) -> str:
    if message.edition_type == "jinja2":
        return _render(message.jinja2_text or "", True, config, pool, context)
    return _render(message.text, False, config, pool, context)


def _structured(text: str) -> Any:
    match = _FENCE.match(text)
    candidate = match.group(1) if match else text.strip()
    try:
        return json.loads(candidate)
    except ValueError:
        start, end = candidate.find("{"), candidate.rfind("}")
        if start >= 0 and end > start:
            try:
                return json.loads(candidate[start : end + 1])
            except ValueError:
                pass
    raise NodeExecutionError("the model's reply is not valid JSON, so structured output failed")


def run(config: LLMConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Call the model once; outputs ``text``, ``usage``, ``finish_reason`` (+ ``structured_output``)."""
    from flowwright.models.gateway import ChatRequest

    if ctx.services is None:
        raise NodeConfigError("no model gateway is configured")
    messages = build_messages(config, pool, ctx)
    if not messages:
        # Every message rendered empty (e.g. an empty query); send the empty turn as Dify does.
        messages = [{"role": "user", "content": ""}]
    request = ChatRequest(
        provider=config.model.provider,
        name=config.model.name,
        messages=messages,
        params=dict(config.model.completion_params),
        node_id=ctx.node_id,
        json_schema=config.schema_,
    )
    reply = ctx.services.models.chat(request, on_chunk=ctx.stream)
    usage = Usage(
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        total_tokens=reply.prompt_tokens + reply.completion_tokens,
        cost=reply.cost,
    )
    outputs: dict[str, Any] = {
        "text": reply.text,
        "reasoning_content": "",
        "usage": usage.as_dict(),
        "finish_reason": reply.finish_reason,
    }
    if config.structured_output_enabled or config.schema_ is not None:
        outputs["structured_output"] = _structured(reply.text)
    return NodeResult(
        outputs=outputs,
        usage=usage,
        note=reply.note,
        process_data={"model": reply.model, "prompts": messages},
    )
