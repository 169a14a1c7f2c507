"""Emission of containers: iteration as a Map state, loop as a cycle of states."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flowwright.compiler.states import merge_deltas
from flowwright.dsl.models import Node
from flowwright.runtime.addresses import loop_var_key, node_key

if TYPE_CHECKING:
    from flowwright.compiler.emit import Emitter, Scope

__all__ = ["emit_iteration", "emit_loop"]


def _wrap_for_errors(
    emitter: Emitter,
    node: Node,
    body_entry: str,
    body_states: dict[str, Any],
    next_state: str,
    scope: Scope,
) -> str:
    """A single-branch Parallel around a container, so its error strategy can catch any failure."""
    name = emitter.name(f"{node.id}.guarded")
    state: dict[str, Any] = {
        "Type": "Parallel",
        "Branches": [{"StartAt": body_entry, "States": body_states}],
        "ResultPath": "$.par",
        "Next": emitter.name(f"{node.id}.guarded.merge"),
        "Catch": [emitter._catch(node, next_state, scope)],
    }
    scope.states[state["Next"]] = merge_deltas(1, next_state)
    emitter._add_item_catch(state, scope)
    scope.states[name] = state
    return name


def _container_scope(
    emitter: Emitter, node: Node, next_state: str, scope: Scope
) -> tuple[Scope, str]:
    """Where a container's states go and where they end.

    A container with an error strategy is emitted inside a single-branch Parallel (see
    :func:`_wrap_for_errors`), ending in a Pass that hands back what it wrote; any other
    container goes straight into ``scope`` and continues at ``next_state``.
    """
    from flowwright.compiler.emit import Scope

    if not node.config.handles_errors:
        return scope, next_state
    target = Scope(states={}, iteration=scope.iteration)
    exit_state = emitter.name(f"{node.id}.done")
    target.states[exit_state] = {
        "Type": "Pass",
        "Parameters": {f"{k}.$": f"$.{k}" for k in emitter.written_keys([node.id])} | {"par": None},
        "End": True,
    }
    return target, exit_state


def emit_iteration(emitter: Emitter, node: Node, next_state: str, scope: Scope) -> str:
    """``init`` Task -> Map over the items (child graph per item) -> ``collect`` Task."""
    from flowwright.compiler.emit import Scope

    config: Any = node.config
    region = emitter.plan.regions[node.id]
    key = node_key(node.id)
    wrap = node.config.handles_errors
    target, after = _container_scope(emitter, node, next_state, scope)

    collect = emitter.task(
        node,
        "collect",
        "iteration",
        after,
        target,
        {"#iteration.$": f"$.{key}"},
        catch_errors=False,
    )

    # The item processor: run the body, hand back what the collector needs.
    item_states: dict[str, Any] = {}
    item_catch = None
    if config.error_handle_mode != "terminated":
        item_catch = emitter.name(f"{node.id}.item.failed")
        item_states[item_catch] = {
            "Type": "Pass",
            "Parameters": {
                "failed": True,
                "error.$": "$.fw_error.Cause",
                "type.$": "$.fw_error.Error",
            },
            "End": True,
        }
    inner = Scope(states=item_states, iteration=node.id, item_catch=item_catch)
    output_node = config.output_selector[0]
    answers = emitter._answer_sources(region.order)
    outer_writes = [k for k in emitter._outer_writes(node.id)]
    item_end = emitter.name(f"{node.id}.item.end")
    item_states[item_end] = {
        "Type": "Pass",
        "Parameters": {
            "r.$": f"$.{node_key(output_node)}",
            "b": {f"{a}.$": f"$.{node_key(a)}" for a in answers},
            "w": {f"{k}.$": f"$.{k}" for k in outer_writes},
        },
        "End": True,
    }
    body_entry = emitter.sequence(region, region.steps, item_end, inner)
    # Each item starts from only the keys its states read (plus its own item record), not
    # a copy of the whole state: smaller states, and no Pass to seed the item.
    selector: dict[str, Any] = {
        f"{k}.$": f"$.{k}"
        for k in sorted(_read_roots(item_states) - _created_inside(emitter, node.id))
        if k != key
    }
    selector[key] = {
        "o": {"item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
        "h": "source",
        "ob.$": f"$.{key}.ob",
    }
    selector["par"] = None
    map_name = emitter.name(f"{node.id}.map")
    map_state: dict[str, Any] = {
        "Type": "Map",
        "ItemsPath": f"$.{key}.items",
        "ItemSelector": selector,
        "MaxConcurrency": max(1, int(config.parallel_nums)) if config.is_parallel else 1,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": body_entry,
            "States": item_states,
        },
        "ResultPath": f"$.{key}.results",
        "Next": collect,
    }
    emitter._add_item_catch(map_state, target)
    target.states[map_name] = map_state
    init = emitter.task(
        node,
        "init",
        "iteration",
        map_name,
        target,
        emitter.inputs(node),
        catch_errors=False,
    )
    if wrap:
        return _wrap_for_errors(emitter, node, init, target.states, next_state, scope)
    return init


def emit_loop(emitter: Emitter, node: Node, next_state: str, scope: Scope) -> str:
    """``init`` Task -> Choice(stop?) -> body -> ``check`` Task -> back to the Choice."""

    config: Any = node.config
    region = emitter.plan.regions[node.id]
    key = node_key(node.id)
    wrap = node.config.handles_errors
    target, after = _container_scope(emitter, node, next_state, scope)

    test = emitter.name(f"{node.id}.next")
    check_inputs = emitter.inputs(node)
    check_inputs[node.id] = {
        f"{v.label}.$": f"$.{loop_var_key(node.id, v.label)}" for v in config.loop_variables
    }
    check_inputs["#loop.$"] = f"$.{key}"
    answers = emitter._answer_sources(region.order)
    breaks = [n for n in region.order if emitter.app.nodes[n].type == "loop-end"]
    check_inputs["#body"] = {f"{n}.$": f"$.{node_key(n)}" for n in answers + breaks}
    check_inputs["#answers"] = {"order": answers}
    check_inputs["#breaks"] = {"order": breaks}
    check = emitter.task(node, "check", "loop", test, target, check_inputs, catch_errors=False)
    body_entry = emitter.sequence(region, region.steps, check, target) if region.steps else check
    target.states[test] = {
        "Type": "Choice",
        "Choices": [{"Variable": f"$.{key}.stop", "BooleanEquals": True, "Next": after}],
        "Default": body_entry,
    }
    # The loop variables do not exist yet: init computes them (and writes them for the body).
    init_inputs = {k: v for k, v in emitter.inputs(node).items() if k != node.id}
    init = emitter.task(node, "init", "loop", test, target, init_inputs, catch_errors=False)
    if wrap:
        return _wrap_for_errors(emitter, node, init, target.states, next_state, scope)
    return init


_ROOT = re.compile(r"(?<!\$)\$\.([A-Za-z0-9_]+)")


def _read_roots(states: dict[str, Any]) -> set[str]:
    """Top-level state keys that any JSONPath in ``states`` reads (nested states included)."""
    roots: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and (key.endswith(".$") or key in _PATH_FIELDS):
            roots.update(_ROOT.findall(value))

    walk(states)
    return roots


_PATH_FIELDS = {"Variable", "InputPath", "ItemsPath"}


def _created_inside(emitter: Emitter, iteration_id: str) -> set[str]:
    """Keys an item creates before reading them: records of the nodes inside the iteration,
    variables of loops inside it, scratch keys. (Conversation variables and variables of
    enclosing loops are read before an assigner inside overwrites them, so they come in.)"""
    app = emitter.app
    inside = [n for n in app.nodes.values() if iteration_id in app.container_chain(n.id)]
    keys = {node_key(n.id) for n in inside} | {"par", "fw_error", "s"}
    for loop in (n for n in inside if n.type == "loop"):
        keys |= {loop_var_key(loop.id, v.label) for v in getattr(loop.config, "loop_variables", [])}
    return keys
