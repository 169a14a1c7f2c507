"""Graph analysis for the compiler: execution plans of regions and the facts emission needs.

A region is the top-level graph or the body of an iteration/loop. Its plan is a sequence
of steps; a step is one node or a :class:`Par` of independent sub-plans. Chains need no
Parallel; branches that fan out and join again become a Parallel followed by the join.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flowwright.dsl.graph import (
    CONTAINER_TYPES,
    container_entry,
    data_dependencies,
    reachable,
    region_edges,
    topological_order,
)
from flowwright.dsl.models import App, Edge
from flowwright.nodes.base import SOURCE

__all__ = ["Par", "Plan", "RegionPlan", "Step", "plan_app"]


@dataclass
class Par:
    """Independent sub-plans run side by side (an ASL Parallel state)."""

    branches: list[list[Step]]


Step = str | Par


@dataclass
class RegionPlan:
    """What the emitter needs to know about one region."""

    region: str | None
    entry: str | None
    steps: list[Step]
    order: list[str]
    incoming: dict[str, list[Edge]]
    certain: set[str]


@dataclass
class Plan:
    """Plans of every region, plus nodes that never run."""

    regions: dict[str | None, RegionPlan] = field(default_factory=dict)
    unreachable: list[str] = field(default_factory=list)


def plan_app(app: App) -> Plan:
    """Plan every region of ``app`` (top level first, then containers in file order)."""
    plan = Plan()
    containers = [n.id for n in app.nodes.values() if n.type in CONTAINER_TYPES]
    for region in [None, *containers]:
        members = [n.id for n in app.children(region)]
        if region is None:
            entry: str | None = app.start_node.id
        else:
            entry_node = container_entry(app, app.nodes[region])
            entry = entry_node.id if entry_node else None
        edges = region_edges(app, region)
        live = reachable(entry, edges) if entry else set()
        plan.unreachable.extend(n for n in members if n not in live)
        nodes = [n for n in members if n in live]
        live_edges = [e for e in edges if e.source in live and e.target in live]
        pairs = {(e.source, e.target) for e in live_edges}
        pairs |= {p for p in data_dependencies(app, region) if p[0] in live and p[1] in live}
        order = topological_order(nodes, pairs)
        incoming: dict[str, list[Edge]] = defaultdict(list)
        for edge in live_edges:
            incoming[edge.target].append(edge)
        plan.regions[region] = RegionPlan(
            region=region,
            entry=entry,
            steps=_sequence(order, pairs),
            order=order,
            incoming=dict(incoming),
            certain=_certain(app, entry, order, incoming),
        )
    return plan


def _certain(
    app: App, entry: str | None, order: list[str], incoming: dict[str, list[Edge]]
) -> set[str]:
    """Nodes that always run once their region runs (they need no guard)."""
    certain: set[str] = set()
    for node_id in order:
        if node_id == entry:
            certain.add(node_id)
            continue
        for edge in incoming.get(node_id, []):
            source = app.nodes[edge.source]
            single_exit = (
                source.config.branch_handles() is None
                and source.config.error_strategy != "fail-branch"
            )
            if edge.source in certain and single_exit and edge.source_handle == SOURCE:
                certain.add(node_id)
                break
    return certain


def _components(
    nodes: list[str], succ: dict[str, set[str]], pred: dict[str, set[str]]
) -> list[list[str]]:
    index = {n: i for i, n in enumerate(nodes)}
    seen: set[str] = set()
    components: list[list[str]] = []
    for root in nodes:
        if root in seen:
            continue
        stack, members = [root], []
        seen.add(root)
        while stack:
            node = stack.pop()
            members.append(node)
            for nxt in succ[node] | pred[node]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        components.append(sorted(members, key=index.__getitem__))
    return components


def _sequence(order: list[str], pairs: set[tuple[str, str]]) -> list[Step]:
    """Decompose the nodes of ``order`` (a topological order) into steps.

    Linear in a chain: the region is only re-split into components after a node with
    several successors leaves it (only such a node can have held two parts together).
    """
    members = set(order)
    succ: dict[str, set[str]] = {n: set() for n in order}
    pred: dict[str, set[str]] = {n: set() for n in order}
    for a, b in pairs:
        if a in members and b in members:
            succ[a].add(b)
            pred[b].add(a)
    steps: list[Step] = []
    remaining = list(order)
    check_components = True
    while remaining:
        if check_components:
            components = _components(remaining, succ, pred)
            if len(components) > 1:
                steps.append(_par([_sequence(c, pairs) for c in components]))
                return steps
        sources = [n for n in remaining if not pred[n]]
        if len(sources) == 1:
            source = sources[0]
            steps.append(source)
            if remaining[0] == source:
                remaining.pop(0)
            else:
                remaining.remove(source)
            check_components = len(succ[source]) > 1
            for nxt in succ[source]:
                pred[nxt].discard(source)
            succ[source] = set()
            continue
        # Several sources joining later: run what each source alone reaches side by side,
        # then continue with the nodes reached from more than one source.
        owners: dict[str, set[str]] = defaultdict(set)
        for source in sources:
            stack = [source]
            seen = {source}
            while stack:
                node = stack.pop()
                owners[node].add(source)
                for nxt in succ[node]:
                    if nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
        exclusive = [[n for n in remaining if owners[n] == {s}] for s in sources]
        steps.append(_par([_sequence(group, pairs) for group in exclusive]))
        done = {n for group in exclusive for n in group}
        remaining = [n for n in remaining if n not in done]
        for node in done:
            for nxt in succ[node]:
                pred[nxt].discard(node)
            succ[node] = set()
        check_components = True
    return steps


def _par(branches: list[list[Step]]) -> Par:
    """A Par, splicing in branches that are themselves a lone Par."""
    flat: list[list[Step]] = []
    for branch in branches:
        if len(branch) == 1 and isinstance(branch[0], Par):
            flat.extend(branch[0].branches)
        else:
            flat.append(branch)
    return Par(flat)
