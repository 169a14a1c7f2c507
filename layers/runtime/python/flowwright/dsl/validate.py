"""Graph-level checks of a loaded app. Collects every issue instead of stopping at the first."""

from __future__ import annotations

from flowwright.dsl.graph import (
    CONTAINER_TYPES,
    container_entry,
    data_dependencies,
    find_cycle,
    reachable,
    region_edges,
)
from flowwright.dsl.models import App, Node
from flowwright.errors import Issue
from flowwright.nodes.base import FAIL_BRANCH, SOURCE
from flowwright.variables import Selector

__all__ = ["SYS_VARIABLES", "validate_app"]

SYS_VARIABLES = frozenset(
    {
        "query",
        "files",
        "user_id",
        "app_id",
        "workflow_id",
        "workflow_run_id",
        "conversation_id",
        "dialogue_count",
        "timestamp",
    }
)
_CONTAINER_INSIDE_VARS = {"iteration": {"item", "index"}}


def _issue(code: str, message: str, node: Node | None = None, field: str | None = None) -> Issue:
    if node is None:
        return Issue(code, message, field=field)
    return Issue(code, message, node_id=node.id, node_title=node.title or None, field=field)


def validate_app(app: App) -> tuple[list[Issue], list[str]]:
    """Check ``app`` and return ``(errors, warnings)``."""
    issues: list[Issue] = []
    warnings: list[str] = []
    nodes = app.nodes

    _check_structure(app, issues)
    if issues:
        return issues, warnings  # later checks assume a sound structure

    for edge in app.edges:
        source, target = nodes[edge.source], nodes[edge.target]
        if source.parent_id != target.parent_id:
            issues.append(
                _issue(
                    "cross_container_edge",
                    f"edge to {target.label} crosses an iteration/loop boundary",
                    source,
                )
            )
            continue
        allowed = _allowed_handles(source)
        if edge.source_handle not in allowed:
            warnings.append(
                f"edge {edge.id}: node {source.label} never takes handle "
                f"'{edge.source_handle}' (it takes {', '.join(sorted(allowed))}); edge ignored"
            )

    for node in nodes.values():
        for selector in node.config.reads():
            problem = _check_selector(app, node, selector)
            if problem:
                issues.append(_issue(problem[0], problem[1], node))
        for assigned in node.config.writes():
            reason = _check_write(app, node, assigned)
            if reason:
                issues.append(_issue("bad_assignment", reason, node))
        if node.type == "iteration":
            _check_iteration_output(app, node, issues)
        if node.type == "answer" and app.mode == "workflow":
            issues.append(
                _issue(
                    "answer_in_workflow",
                    "Answer nodes run only in chatflows (mode advanced-chat); use an End node",
                    node,
                )
            )

    regions: list[str | None] = [None, *[n.id for n in nodes.values() if n.type in CONTAINER_TYPES]]
    for region in regions:
        ids = [n.id for n in app.children(region)]
        pairs = {(e.source, e.target) for e in region_edges(app, region)}
        cycle = find_cycle(ids, pairs)
        if cycle:
            issues.append(
                _issue(
                    "cycle",
                    "edges form a cycle: " + " -> ".join(cycle) + " (use a loop node to repeat)",
                    nodes[cycle[0]],
                )
            )
            continue
        cycle = find_cycle(ids, pairs | data_dependencies(app, region))
        if cycle:
            issues.append(
                _issue(
                    "variable_cycle",
                    "variable references form a cycle with the edges: " + " -> ".join(cycle),
                    nodes[cycle[0]],
                )
            )
        entry = app.start_node if region is None else container_entry(app, nodes[region])
        if entry is not None:
            seen = reachable(entry.id, region_edges(app, region))
            for node_id in ids:
                if node_id not in seen:
                    warnings.append(
                        f"node {nodes[node_id].label} is not connected to its start; it never runs"
                    )

    if app.mode == "workflow" and not any(n.type == "end" for n in nodes.values()):
        warnings.append("workflow has no End node; its outputs are empty")
    if app.mode == "advanced-chat" and not any(n.type == "answer" for n in nodes.values()):
        warnings.append("chatflow has no Answer node; its answer is empty")
    return issues, warnings


def _check_structure(app: App, issues: list[Issue]) -> None:
    nodes = app.nodes
    starts = [n for n in nodes.values() if n.type == "start" and n.parent_id is None]
    if not starts:
        issues.append(_issue("no_start_node", "the graph has no Start node"))
    elif len(starts) > 1:
        ids = ", ".join(n.id for n in starts)
        issues.append(
            _issue("multiple_start_nodes", f"the graph has {len(starts)} Start nodes ({ids})")
        )
    for node in nodes.values():
        if node.type == "start" and node.parent_id is not None:
            issues.append(
                _issue("misplaced_start", "a Start node cannot sit inside a container", node)
            )
        if node.parent_id is not None:
            parent = nodes.get(node.parent_id)
            if parent is None:
                issues.append(
                    _issue(
                        "unknown_container", f"inside unknown container {node.parent_id!r}", node
                    )
                )
            elif parent.type not in CONTAINER_TYPES:
                issues.append(
                    _issue(
                        "unknown_container",
                        f"inside {parent.label}, which is not an iteration or loop",
                        node,
                    )
                )
        if (
            node.type in CONTAINER_TYPES
            and app.children(node.id)
            and container_entry(app, node) is None
        ):
            issues.append(
                _issue(
                    "no_container_start",
                    f"the {node.type} has nodes inside but no {node.type}-start node",
                    node,
                    "data.start_node_id",
                )
            )
        if node.type in ("iteration-start", "loop-start", "loop-end") and node.parent_id is None:
            issues.append(
                _issue("misplaced_node", f"a {node.type} node must sit inside a container", node)
            )
    # Container nesting must not loop back on itself.
    for node in nodes.values():
        seen: set[str] = set()
        ancestor = node.parent_id
        while ancestor is not None and ancestor in nodes:
            if ancestor in seen or ancestor == node.id:
                issues.append(_issue("container_cycle", "containers enclose each other", node))
                break
            seen.add(ancestor)
            ancestor = nodes[ancestor].parent_id
    for edge in app.edges:
        for end in (edge.source, edge.target):
            if end not in nodes:
                issues.append(
                    _issue(
                        "dangling_edge",
                        f"edge {edge.id} points at unknown node {end!r}",
                        field="workflow.graph.edges",
                    )
                )


def _allowed_handles(node: Node) -> set[str]:
    branches = node.config.branch_handles()
    allowed = set(branches) if branches is not None else {SOURCE}
    if node.config.error_strategy == "fail-branch":
        allowed |= {SOURCE, FAIL_BRANCH}
    return allowed


def _visible(app: App, reader: Node, target: Node) -> bool:
    """Whether ``reader`` may read ``target``'s outputs (same or enclosing container)."""
    return target.parent_id is None or target.parent_id in app.container_chain(reader.id)


def _check_selector(app: App, reader: Node, selector: Selector) -> tuple[str, str] | None:
    shown = "{{#" + ".".join(selector) + "#}}"
    root, name = selector[0], selector[1]
    if root == "sys":
        if name not in SYS_VARIABLES:
            return ("unknown_variable", f"{shown}: unknown system variable sys.{name}")
        return None
    if root == "env":
        if name not in {v.name for v in app.environment_variables}:
            return ("unknown_variable", f"{shown}: no environment variable named {name!r}")
        return None
    if root == "conversation":
        if name not in {v.name for v in app.conversation_variables}:
            return ("unknown_variable", f"{shown}: no conversation variable named {name!r}")
        return None
    target = app.nodes.get(root)
    if target is None:
        return ("unknown_node", f"{shown}: no node with id {root!r}")
    if target.id == reader.id and target.type != "loop":
        return ("self_reference", f"{shown}: a node cannot read its own outputs")
    if target.id == reader.id or target.id in app.container_chain(reader.id):
        if target.type == "loop":
            allowed: set[str] | None = {v.label for v in target.config.loop_variables}  # type: ignore[attr-defined]
        else:
            allowed = _CONTAINER_INSIDE_VARS.get(target.type, set())
    elif not _visible(app, reader, target):
        return (
            "invisible_variable",
            f"{shown}: {target.label} sits inside an iteration/loop that {reader.label} is not in",
        )
    else:
        allowed = target.config.all_output_names()
    if allowed is not None and name not in allowed:
        choices = ", ".join(sorted(allowed)) or "none"
        return (
            "unknown_variable",
            f"{shown}: {target.label} has no output {name!r} (it has: {choices})",
        )
    return None


def _check_write(app: App, node: Node, target: Selector) -> str | None:
    shown = "{{#" + ".".join(target) + "#}}"
    if target[0] == "conversation":
        if target[1] not in {v.name for v in app.conversation_variables}:
            return f"{shown}: no conversation variable named {target[1]!r}"
        return None
    container = app.nodes.get(target[0])
    if (
        container is not None
        and container.type == "loop"
        and container.id in app.container_chain(node.id)
    ):
        labels = {v.label for v in container.config.loop_variables}  # type: ignore[attr-defined]
        if target[1] not in labels:
            return f"{shown}: loop {container.label} has no loop variable {target[1]!r}"
        return None
    return (
        f"{shown}: only conversation variables and variables of an enclosing loop can be assigned"
    )


def _check_iteration_output(app: App, node: Node, issues: list[Issue]) -> None:
    selector = node.config.output_selector  # type: ignore[attr-defined]
    if len(selector) < 2:
        issues.append(
            _issue("bad_node_config", "output_selector is empty", node, "data.output_selector")
        )
        return
    target = app.nodes.get(selector[0])
    if target is None or node.id not in app.container_chain(target.id):
        issues.append(
            _issue(
                "bad_node_config",
                f"output_selector {selector!r} must point at a node inside the iteration",
                node,
                "data.output_selector",
            )
        )
        return
    names = target.config.all_output_names()
    if names is not None and selector[1] not in names:
        issues.append(
            _issue(
                "unknown_variable",
                f"output_selector: {target.label} has no output {selector[1]!r}",
                node,
                "data.output_selector",
            )
        )
