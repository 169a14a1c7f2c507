"""Read a Dify DSL file (app export or bare ``{nodes, edges}`` graph) into an :class:`App`.

Every problem is collected as an :class:`~flowwright.errors.Issue`; the loader raises only
:class:`~flowwright.errors.DslError`, whatever the input.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from flowwright.dsl.models import App, ConversationVariable, Edge, EnvVariable, Node
from flowwright.dsl.validate import validate_app
from flowwright.errors import DslError, Issue
from flowwright.nodes.registry import PLANNED_TYPES, kind_of

__all__ = ["MAX_DSL_VERSION", "MIN_DSL_VERSION", "load_app", "load_app_text"]

#: libyaml's loader when present (about 10x faster on large graphs), else the pure-Python one.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MIN_DSL_VERSION = (0, 1, 0)
MAX_DSL_VERSION = (0, 6, 0)
SUPPORTED_MODES = ("workflow", "advanced-chat")
#: Canvas-only nodes that carry no behaviour.
_IGNORED_NODE_TYPES = {"custom-note"}
_HANDLE_ALIASES = {"success-branch": "source"}


def load_app(path: str | Path) -> App:
    """Load and validate an app file.

    >>> app = load_app("examples/hello.yml")  # doctest: +SKIP
    >>> app.mode
    'workflow'
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DslError([Issue("file_not_found", "no such file")], file) from None
    except IsADirectoryError:
        raise DslError([Issue("not_a_file", "is a directory, not an app file")], file) from None
    except UnicodeDecodeError as exc:
        raise DslError([Issue("not_utf8", f"not UTF-8 text ({exc.reason})")], file) from None
    except OSError as exc:
        raise DslError([Issue("unreadable", f"cannot read: {exc.strerror}")], file) from None
    return load_app_text(text, source=file, default_name=Path(path).stem)


def load_app_text(text: str, *, source: str | None = None, default_name: str = "app") -> App:
    """Load and validate an app from YAML text."""
    try:
        doc = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise DslError(
            [Issue("yaml_syntax", f"YAML syntax error{where}: {problem}")], source
        ) from None
    except RecursionError:
        raise DslError([Issue("yaml_syntax", "YAML nesting is too deep")], source) from None
    return _Builder(doc, source, default_name).build()


def _parse_version(raw: Any) -> tuple[int, ...] | None:
    match = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.(\d+))?\s*", str(raw))
    if not match:
        return None
    return tuple(int(p or 0) for p in match.groups())


def _is_graph_node(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("data"), dict) and "type" in item["data"]


class _Builder:
    def __init__(self, doc: Any, source: str | None, default_name: str) -> None:
        self.doc = doc
        self.source = source
        self.default_name = default_name
        self.issues: list[Issue] = []
        self.failed_nodes: set[str] = set()
        self.broken_start = False

    def fail(self, code: str, message: str, **where: Any) -> None:
        self.issues.append(Issue(code, message, **where))

    def abort(self) -> DslError:
        return DslError(self.issues, self.source)

    def build(self) -> App:
        doc = self.doc
        if not isinstance(doc, dict):
            kind = "empty" if doc is None else type(doc).__name__
            self.fail("not_an_app", f"expected a Dify app (a YAML mapping), found {kind}")
            raise self.abort()
        header = self._header(doc)
        if self.issues:
            raise self.abort()
        name, mode, description, version, graph, workflow = header
        env = self._variables(
            workflow.get("environment_variables"), EnvVariable, "environment_variables"
        )
        conv = self._variables(
            workflow.get("conversation_variables"), ConversationVariable, "conversation_variables"
        )
        nodes = self._nodes(graph.get("nodes"))
        edges = self._edges(graph.get("edges"))
        if self.issues:
            self._graph_issues_despite(nodes, edges, mode)
            raise self.abort()
        if mode is None:
            mode = (
                "advanced-chat" if any(n.type == "answer" for n in nodes.values()) else "workflow"
            )
        features = workflow.get("features")
        app = App(
            name=name,
            mode=mode,
            description=description,
            dsl_version=version,
            nodes=nodes,
            edges=edges,
            environment_variables=env,
            conversation_variables=conv,
            features=features if isinstance(features, dict) else {},
            source=self.source,
        )
        issues, warnings = validate_app(app)
        if issues:
            self.issues.extend(issues)
            raise self.abort()
        app.warnings.extend(warnings)
        return app

    def _graph_issues_despite(self, nodes: dict[str, Node], edges: list[Edge], mode: Any) -> None:
        """Graph checks over the nodes that did load, so one report lists every problem.

        Problems that only echo a node that failed to load (edges to it, reads of it, a
        missing Start when the Start itself was broken) are left out.
        """
        broken = self.failed_nodes
        kept = [e for e in edges if e.source not in broken and e.target not in broken]
        app = App(
            name=self.default_name,
            mode=mode
            or ("advanced-chat" if any(n.type == "answer" for n in nodes.values()) else "workflow"),
            nodes=nodes,
            edges=kept,
        )
        try:
            issues, _ = validate_app(app)
        except Exception:  # a graph this broken is already reported
            return
        for issue in issues:
            if issue.code == "no_start_node" and self.broken_start:
                continue
            echoes_broken_start = (
                issue.code == "no_container_start"
                and issue.node_id in nodes
                and getattr(nodes[issue.node_id].config, "start_node_id", None) in broken
            )
            if echoes_broken_start:
                continue
            if any(f"{{{{#{b}." in issue.message for b in broken):
                continue
            self.issues.append(issue)

    def _header(
        self, doc: dict[str, Any]
    ) -> tuple[str, Any, str, str, dict[str, Any], dict[str, Any]]:
        """App name, mode, description, DSL version, graph and workflow sections."""
        if "app" not in doc and "workflow" not in doc:
            nodes = doc.get("nodes")
            if isinstance(nodes, list) and nodes and all(_is_graph_node(n) for n in nodes):
                return self.default_name, None, "", "0.1.0", doc, {}
            if isinstance(nodes, list):
                self.fail(
                    "not_an_app",
                    "has 'nodes' but they are not Dify graph nodes (each needs 'id' and "
                    "'data.type'), and there is no 'app' section",
                )
            else:
                self.fail("not_an_app", "no 'app' or 'workflow' section and no graph 'nodes'")
            return "", None, "", "", {}, {}
        kind = doc.get("kind", "app")
        if kind != "app":
            self.fail("not_an_app", f"kind is {kind!r}, expected 'app'", field="kind")
        raw_version = doc.get("version", "0.1.0")
        version = _parse_version(raw_version)
        if version is None:
            self.fail(
                "bad_version", f"version {raw_version!r} is not a version number", field="version"
            )
        elif not (MIN_DSL_VERSION <= version <= MAX_DSL_VERSION):
            self.fail(
                "unsupported_version",
                f"DSL version {raw_version} is not supported (supported: 0.1.0 to 0.6.0)",
                field="version",
            )
        app = doc.get("app")
        if not isinstance(app, dict):
            self.fail(
                "missing_app_section", "'app' section is missing or not a mapping", field="app"
            )
            app = {}
        mode = app.get("mode")
        if mode not in SUPPORTED_MODES:
            self.fail(
                "unsupported_mode",
                f"app mode {mode!r} is not supported (supported: workflow, advanced-chat)",
                field="app.mode",
            )
        name = app.get("name")
        name = str(name) if name not in (None, "") else self.default_name
        if mode not in SUPPORTED_MODES:
            return name, mode, "", str(raw_version), {}, {}
        description = app.get("description")
        description = description if isinstance(description, str) else ""
        workflow = doc.get("workflow")
        if not isinstance(workflow, dict):
            self.fail(
                "missing_workflow",
                "'workflow' section is missing or not a mapping",
                field="workflow",
            )
            return name, mode, description, str(raw_version), {}, {}
        graph = workflow.get("graph")
        if not isinstance(graph, dict):
            self.fail(
                "missing_graph",
                "'workflow.graph' is missing or not a mapping",
                field="workflow.graph",
            )
            graph = {}
        return name, mode, description, str(raw_version), graph, workflow

    def _variables(self, raw: Any, model: Any, section: str) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.fail("bad_variables", "expected a list", field=f"workflow.{section}")
            return []
        found = []
        for index, item in enumerate(raw):
            try:
                found.append(model.model_validate(item))
            except ValidationError as exc:
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"])
                    self.fail(
                        "bad_variable",
                        err["msg"],
                        field=f"workflow.{section}[{index}].{loc}".rstrip("."),
                    )
        return found

    def _nodes(self, raw: Any) -> dict[str, Node]:
        nodes: dict[str, Node] = {}
        seen: set[str] = set()
        if not isinstance(raw, list):
            self.fail(
                "missing_nodes",
                "graph 'nodes' is missing or not a list",
                field="workflow.graph.nodes",
            )
            return nodes
        for index, item in enumerate(raw):
            where = f"nodes[{index}]"
            if not isinstance(item, dict):
                self.fail(
                    "bad_node", f"expected a mapping, found {type(item).__name__}", field=where
                )
                continue
            if item.get("type") in _IGNORED_NODE_TYPES:
                continue
            raw_id = item.get("id")
            if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or str(raw_id) == "":
                self.fail("bad_node", "node has no 'id'", field=where)
                continue
            node_id = str(raw_id)
            data = item.get("data")
            if not isinstance(data, dict):
                self.fail(
                    "bad_node", "node has no 'data' mapping", node_id=node_id, field=f"{where}.data"
                )
                continue
            title = data.get("title")
            title = str(title) if title not in (None, "") else ""
            node_type = data.get("type")
            if node_id in seen:
                self.fail(
                    "duplicate_node_id",
                    f"node id {node_id!r} is used more than once",
                    node_id=node_id,
                )
                continue
            seen.add(node_id)
            if not isinstance(node_type, str) or not node_type:
                self.fail("bad_node", "node has no 'data.type'", node_id=node_id, node_title=title)
                self.failed_nodes.add(node_id)
                continue
            kind = kind_of(node_type)
            if kind is None:
                self.failed_nodes.add(node_id)
                if node_type in PLANNED_TYPES:
                    self.fail(
                        "unsupported_node_type",
                        f"node type {node_type!r} is not supported yet",
                        node_id=node_id,
                        node_title=title,
                        field="data.type",
                    )
                else:
                    self.fail(
                        "unknown_node_type",
                        f"unknown node type {node_type!r}",
                        node_id=node_id,
                        node_title=title,
                        field="data.type",
                    )
                continue
            try:
                config = kind.config.model_validate(data)
            except ValidationError as exc:
                self.failed_nodes.add(node_id)
                self.broken_start |= node_type == "start"
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"]) or None
                    self.fail(
                        "bad_node_config",
                        err["msg"],
                        node_id=node_id,
                        node_title=title,
                        field=f"data.{loc}" if loc else "data",
                    )
                continue
            parent = item.get("parentId") or data.get("iteration_id") or data.get("loop_id")
            nodes[node_id] = Node(
                id=node_id,
                type=node_type,
                title=title,
                parent_id=str(parent) if isinstance(parent, (str, int)) and parent != "" else None,
                config=config,
                data=data,
            )
        return nodes

    def _edges(self, raw: Any) -> list[Edge]:
        edges: list[Edge] = []
        if raw is None:
            return edges
        if not isinstance(raw, list):
            self.fail("bad_edges", "graph 'edges' is not a list", field="workflow.graph.edges")
            return edges
        for index, item in enumerate(raw):
            where = f"edges[{index}]"
            if not isinstance(item, dict):
                self.fail(
                    "bad_edge", f"expected a mapping, found {type(item).__name__}", field=where
                )
                continue
            source, target = item.get("source"), item.get("target")
            if not isinstance(source, (str, int)) or not isinstance(target, (str, int)):
                self.fail("bad_edge", "edge needs 'source' and 'target'", field=where)
                continue
            if isinstance(source, bool) or isinstance(target, bool):
                self.fail("bad_edge", "edge needs 'source' and 'target'", field=where)
                continue
            handle = item.get("sourceHandle")
            handle = "source" if handle in (None, "") else str(handle)
            handle = _HANDLE_ALIASES.get(handle, handle)
            edge_id = item.get("id")
            edges.append(
                Edge(
                    id=str(edge_id) if edge_id not in (None, "") else f"{source}-{handle}-{target}",
                    source=str(source),
                    target=str(target),
                    source_handle=handle,
                )
            )
        return edges
