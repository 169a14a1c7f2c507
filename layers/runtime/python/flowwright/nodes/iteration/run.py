"""Iteration: ``init`` hands the items to the Map state, ``collect`` gathers the results."""

from __future__ import annotations

import time
from typing import Any

from flowwright.errors import NodeInputError
from flowwright.nodes.base import NodeConfig, NodeContext, NodeResult
from flowwright.nodes.iteration.config import IterationConfig
from flowwright.runtime.records import answer_text, ran
from flowwright.runtime.values import json_size, offload_values
from flowwright.variables import MISSING, VariablePool

__all__ = ["EVENTS", "collect", "flatten", "init"]

EVENTS = {"init": ("started",), "collect": ("finished",)}
#: Bytes all item results of one Map may use together.
RESULTS_BUDGET = 150 * 1024
MIN_ITEM_BUDGET = 512


def init(config: IterationConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Check the iterator value and prepare the items (large items offloaded)."""
    selector = tuple(config.iterator_selector)
    value = pool.get(selector)
    if value is MISSING:
        raise NodeInputError(f"iterator variable {{{{#{'.'.join(selector)}#}}}} not found")
    if value is None:
        value = []
    if not isinstance(value, list):
        raise NodeInputError(
            f"iterator variable {{{{#{'.'.join(selector)}#}}}} must be an array, got {type(value).__name__}"
        )
    budget = max(MIN_ITEM_BUDGET, RESULTS_BUDGET // max(1, len(value)))
    items: list[Any] = list(value)
    blobs = ctx.services.blobs if ctx.services is not None else None
    if blobs is not None and json_size(items) > RESULTS_BUDGET // 2:
        keyed = offload_values(
            {str(i): v for i, v in enumerate(items)},
            budget=RESULTS_BUDGET // 2,
            store=blobs,
            key_prefix=f"{ctx.run_id}/{ctx.node_id}/items",
        )
        items = [keyed[str(i)] for i in range(len(items))]
    return NodeResult(
        outputs={},
        extra={"items": items, "ob": budget, "t0": time.time()},
        finished=False,
        inputs={"iterator_selector": list(selector), "length": len(items)},
    )


def flatten(outputs: list[Any], enabled: bool) -> list[Any]:
    """Dify's ``flatten_output``: join the per-item lists when every non-null output is a list."""
    present = [o for o in outputs if o is not None]
    if not enabled or not present or not all(isinstance(o, list) for o in present):
        return outputs
    flat: list[Any] = []
    for output in outputs:
        if isinstance(output, list):
            flat.extend(output)
    return flat


def collect(config: NodeConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Outputs in item order, answers concatenated, the last item's variable writes."""
    assert isinstance(config, IterationConfig)
    state = pool.scope("#iteration")
    selector = config.output_selector
    outputs: list[Any] = []
    answers: list[str] = []
    writes: dict[str, Any] = {}
    failures = 0
    for result in state.get("results") or []:
        if not isinstance(result, dict) or result.get("failed"):
            failures += 1
            if config.error_handle_mode == "continue-on-error":
                outputs.append(None)
            continue
        record = result.get("r")
        value: Any = None
        if ran(record):
            item = VariablePool({selector[0]: record.get("o")}, resolve=pool.resolve)
            value = pool.resolve_deep(item.value(selector))
        outputs.append(value)
        body = result.get("b") or {}
        answers.append(answer_text(body, body, pool.resolve))
        writes.update(result.get("w") or {})
    extra: dict[str, Any] = {"w": writes} if writes else {}
    return NodeResult(
        outputs={"output": flatten(outputs, config.flatten_output)},
        answer="".join(answers) or None,
        extra=extra,
        started_at=state.get("t0"),
        note=f"{failures} item(s) failed" if failures else None,
    )
