"""Graph facts shared by validation and the compiler: regions, dependencies, order."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from flowwright.dsl.models import App, Edge, Node
from flowwright.variables import SPECIAL_SCOPES, Selector

__all__ = [
    "CONTAINER_TYPES",
    "START_TYPES",
    "container_entry",
    "data_dependencies",
    "find_cycle",
    "lift_to_region",
    "reachable",
    "region_edges",
    "topological_order",
]

CONTAINER_TYPES = frozenset({"iteration", "loop"})
START_TYPES = frozenset({"iteration-start", "loop-start"})


def region_edges(app: App, region: str | None) -> list[Edge]:
    """Control edges whose both ends are directly inside ``region``."""
    nodes = app.nodes
    return [
        e
        for e in app.edges
        if e.source in nodes
        and e.target in nodes
        and nodes[e.source].parent_id == region
        and nodes[e.target].parent_id == region
    ]


def container_entry(app: App, container: Node) -> Node | None:
    """The node a container's body starts at (its iteration-start/loop-start node)."""
    start_id = getattr(container.config, "start_node_id", None)
    if start_id and start_id in app.nodes and app.nodes[start_id].parent_id == container.id:
        return app.nodes[start_id]
    for child in app.children(container.id):
        if child.type in START_TYPES:
            return child
    return None


def lift_to_region(app: App, node_id: str, region: str | None) -> str | None:
    """The ancestor of ``node_id`` (or itself) that sits directly in ``region``."""
    current: str | None = node_id
    while current is not None:
        node = app.nodes.get(current)
        if node is None:
            return None
        if node.parent_id == region:
            return current
        current = node.parent_id
    return None


def _selector_source(app: App, reader: Node, selector: Selector) -> str | None:
    root = selector[0]
    if root in SPECIAL_SCOPES or root not in app.nodes or root == reader.id:
        return None
    if root in app.container_chain(reader.id):
        return None  # a container's own variables (item, index, loop variables)
    return root


def data_dependencies(app: App, region: str | None) -> set[tuple[str, str]]:
    """Ordering pairs ``(before, after)`` inside ``region`` implied by variable reads.

    A node that reads another node's output runs after it, even without an edge between
    them; the pair only orders, it never decides whether a node runs.
    """
    pairs: set[tuple[str, str]] = set()
    for reader in app.nodes.values():
        reader_top = lift_to_region(app, reader.id, region)
        if reader_top is None:
            continue
        for selector in reader.config.reads():
            source = _selector_source(app, reader, selector)
            if source is None:
                continue
            source_top = lift_to_region(app, source, region)
            if source_top is None or source_top == reader_top:
                continue
            if app.nodes[source_top].parent_id == region:
                pairs.add((source_top, reader_top))
    return pairs


def _adjacency(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    adj: dict[str, list[str]] = defaultdict(list)
    for a, b in pairs:
        if b not in adj[a]:
            adj[a].append(b)
    return adj


def find_cycle(node_ids: list[str], pairs: Iterable[tuple[str, str]]) -> list[str] | None:
    """One cycle among ``pairs`` as a list of node ids, or ``None``."""
    adj = _adjacency(pairs)
    color: dict[str, int] = {}
    for root in node_ids:
        if color.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, index = stack.pop()
            if index == 0:
                color[node] = 1
                path.append(node)
            successors = adj.get(node, [])
            if index < len(successors):
                stack.append((node, index + 1))
                nxt = successors[index]
                if color.get(nxt) == 1:
                    return [*path[path.index(nxt) :], nxt]
                if not color.get(nxt):
                    stack.append((nxt, 0))
            else:
                color[node] = 2
                path.pop()
    return None


def topological_order(node_ids: list[str], pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Kahn's order, stable by the order of ``node_ids`` (the file order)."""
    position = {n: i for i, n in enumerate(node_ids)}
    indegree = dict.fromkeys(node_ids, 0)
    adj = _adjacency(p for p in pairs if p[0] in position and p[1] in position)
    for succs in adj.values():
        for b in succs:
            indegree[b] += 1
    ready = deque(sorted((n for n in node_ids if indegree[n] == 0), key=position.__getitem__))
    order: list[str] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        released = []
        for b in adj.get(node, []):
            indegree[b] -= 1
            if indegree[b] == 0:
                released.append(b)
        for b in sorted(released, key=position.__getitem__):
            ready.append(b)
    return order


def reachable(start: str, edges: Iterable[Edge]) -> set[str]:
    """Node ids reachable from ``start`` along control edges."""
    adj = _adjacency((e.source, e.target) for e in edges)
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in adj.get(queue.popleft(), []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
