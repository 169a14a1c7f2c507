"""Generated apps for the benchmarks: the same shapes Dify's peer harness generates
(../shared/peers/dify_engine.py: chain_app, fanout_app, iteration_app), written as DSL files
so both engines load identical graphs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def _template(node_id: str, source: list[str], parent: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": node_id,
        "data": {
            "type": "template-transform",
            "title": node_id,
            "template": "{{ x }}!",
            "variables": [{"variable": "x", "value_selector": source}],
        },
    }
    if parent:
        node["parentId"] = parent
        node["data"]["iteration_id"] = parent
    return node


def _app(
    nodes: list[dict[str, Any]], edges: list[tuple[str, str]], outputs: dict[str, list[str]]
) -> dict[str, Any]:
    start = {
        "id": "start",
        "data": {
            "type": "start",
            "title": "Start",
            "variables": [{"variable": "x", "label": "x", "type": "text-input"}],
        },
    }
    end = {
        "id": "end",
        "data": {
            "type": "end",
            "title": "End",
            "outputs": [{"variable": k, "value_selector": v} for k, v in outputs.items()],
        },
    }
    return {
        "app": {"name": "bench", "mode": "workflow"},
        "kind": "app",
        "version": "0.3.1",
        "workflow": {
            "graph": {
                "nodes": [start, *nodes, end],
                "edges": [{"source": s, "target": t, "sourceHandle": "source"} for s, t in edges],
            }
        },
    }


def chain(n: int) -> dict[str, Any]:
    """start -> t1 -> ... -> tN -> end; each renders "{{ x }}!" of its predecessor."""
    ids = [f"t{i}" for i in range(1, n + 1)]
    sources = [["start", "x"]] + [[i, "output"] for i in ids[:-1]]
    return _app(
        [_template(i, s) for i, s in zip(ids, sources, strict=True)],
        list(zip(["start", *ids], [*ids, "end"], strict=True)),
        {"out": [ids[-1], "output"]},
    )


def fanout(n: int) -> dict[str, Any]:
    """start -> p1..pN side by side -> end reading all N outputs."""
    ids = [f"p{i}" for i in range(1, n + 1)]
    return _app(
        [_template(i, ["start", "x"]) for i in ids],
        [("start", i) for i in ids] + [(i, "end") for i in ids],
        {f"o{k}": [i, "output"] for k, i in enumerate(ids, 1)},
    )


def iteration(n: int) -> dict[str, Any]:
    """start -> code (n items) -> sequential iteration of one template node -> end."""
    code = {
        "id": "mk",
        "data": {
            "type": "code",
            "title": "mk",
            "code_language": "python3",
            "code": f"def main():\n    return {{'items': ['a'] * {n}}}\n",
            "outputs": {"items": {"type": "array[string]", "children": None}},
            "variables": [],
        },
    }
    it = {
        "id": "it",
        "data": {
            "type": "iteration",
            "title": "it",
            "iterator_selector": ["mk", "items"],
            "output_selector": ["body", "output"],
            "is_parallel": False,
            "start_node_id": "itstart",
            "error_handle_mode": "terminated",
            "output_type": "array[string]",
        },
    }
    it_start = {
        "id": "itstart",
        "parentId": "it",
        "data": {"type": "iteration-start", "title": "s", "iteration_id": "it"},
    }
    body = _template("body", ["it", "item"], parent="it")
    return _app(
        [code, it, it_start, body],
        [("start", "mk"), ("mk", "it"), ("itstart", "body"), ("it", "end")],
        {"out": ["it", "output"]},
    )


def write(doc: dict[str, Any], folder: Path, name: str) -> Path:
    path = folder / f"{name}.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path
