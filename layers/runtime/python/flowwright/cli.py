"""The ``flowwright`` command: validate, compile and run Dify apps."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowwright import __version__
from flowwright.errors import DslError, FlowwrightError

__all__ = ["main"]


class UsageError(Exception):
    """Bad command-line arguments (exit code 2)."""


def _load(path: str) -> Any:
    from flowwright.dsl import load_app

    return load_app(path)


def _json_arg(text: str | None, flag: str) -> dict[str, Any]:
    if text is None:
        return {}
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{flag}: cannot read {text[1:]}: {exc.strerror}") from None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{flag} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{flag} must be a JSON object, got {type(value).__name__}")
    return value


def cmd_validate(args: argparse.Namespace) -> int:
    failed = False
    for path in args.apps:
        try:
            app = _load(path)
        except DslError as exc:
            failed = True
            print(f"{path}: {len(exc.issues)} error(s)", file=sys.stderr)
            for issue in exc.issues:
                print(f"  {issue.render()}", file=sys.stderr)
            continue
        print(f"{path}: ok ({app.mode}, {len(app.nodes)} nodes, DSL {app.dsl_version})")
        for warning in app.warnings:
            print(f"  warning: {warning}")
    return 1 if failed else 0


def cmd_compile(args: argparse.Namespace) -> int:
    from flowwright.compiler import compile_app

    app = _load(args.app)
    text = json.dumps(compile_app(app), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({len(text.encode())} bytes)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _format_trace(result: Any) -> str:
    rows = [("node", "type", "status", "ms", "tokens")]
    for node in result.nodes:
        label = f"{node.title} ({node.id})" if node.title else node.id
        if node.position:
            label += " [" + ",".join(str(p) for p in node.position) + "]"
        elapsed = f"{node.elapsed_ms:.1f}" if node.elapsed_ms is not None else "-"
        rows.append(
            (label, node.type, node.status, elapsed, str(node.tokens) if node.tokens else "-")
        )
    widths = [min(48, max(len(r[i]) for r in rows)) for i in range(5)]
    lines = [
        "  ".join(cell[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]
    for node in result.nodes:
        if node.error:
            lines.append(f"error in {node.title or node.id}: {node.error}")
        elif node.note:
            lines.append(f"note on {node.title or node.id}: {node.note}")
    return "\n".join(lines)


def _model_factory(args: argparse.Namespace) -> Callable[[], Any] | None:
    """Apply ``--profile``; with ``--mock-llm``, a gateway factory scripting the replies."""
    if args.profile:
        os.environ["FLOWWRIGHT_MODEL_PROFILE"] = args.profile
    if args.mock_llm is None:
        return None
    from flowwright.models.gateway import LitellmGateway, parse_mock
    from flowwright.models.model_map import ModelMap

    mock = parse_mock(args.mock_llm)

    def factory() -> LitellmGateway:
        return LitellmGateway(ModelMap.from_env(), mock=mock)

    return factory


def cmd_run(args: argparse.Namespace) -> int:
    from flowwright.runtime.local import LocalRuntime

    inputs = _json_arg(args.inputs, "--inputs")
    app = _load(args.app)
    factory = _model_factory(args)
    with LocalRuntime(args.data_dir, model_factory=factory) as runtime:
        result = runtime.run(
            app, inputs, query=args.query, conversation_id=args.conversation, user=args.user
        )
    if args.json:
        print(json.dumps(result.as_cli_json(), ensure_ascii=False, indent=2))
    else:
        summary = f"{result.status} in {result.elapsed_ms:.0f} ms"
        if result.total_tokens:
            summary += f", {result.total_tokens} tokens"
        if result.exceptions_count:
            summary += f", {result.exceptions_count} handled exception(s)"
        print(f"run {result.run_id}: {summary}")
        if result.conversation_id:
            print(f"conversation: {result.conversation_id}")
        if result.error:
            print(f"error: {result.error}", file=sys.stderr)
        print("outputs:")
        print(json.dumps(result.outputs, ensure_ascii=False, indent=2))
        print()
        print(_format_trace(result))
    return 0 if result.status in ("succeeded", "partial-succeeded") else 1


def cmd_ingest(args: argparse.Namespace) -> int:
    from flowwright.knowledge.local import LocalKnowledge
    from flowwright.runtime.local import default_data_dir

    def progress(done: int, total: int, _record: Any) -> None:
        if sys.stderr.isatty() or args.progress:
            width = 30
            filled = int(width * done / max(total, 1))
            bar = "#" * filled + "-" * (width - filled)
            print(f"\r[{bar}] {done}/{total} files", end="", file=sys.stderr, flush=True)

    try:
        with LocalKnowledge(args.data_dir or default_data_dir()) as knowledge:
            records = knowledge.add_files(args.kb, args.paths, progress=progress)
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if sys.stderr.isatty() or args.progress:
        print(file=sys.stderr)
    failed = [r for r in records if r.status != "completed"]
    if args.json:
        print(
            json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False, indent=2)
        )
    else:
        for record in records:
            if record.status == "completed":
                print(f"indexed  {record.name}: {record.chunk_count} chunks")
            else:
                print(f"{record.status:<8} {record.name}: [{record.error_code}] {record.error}")
        print(
            f"knowledge base {args.kb}: {len(records) - len(failed)} indexed, {len(failed)} in error"
        )
    return 1 if failed else 0


def cmd_search(args: argparse.Namespace) -> int:
    from flowwright.knowledge.retrieve import KnowledgeBaseNotFound, search_kb
    from flowwright.knowledge.services import local_knowledge_services
    from flowwright.runtime.local import default_data_dir

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    services = local_knowledge_services(args.data_dir or default_data_dir())
    try:
        hits = search_kb(services, args.kb, args.query, mode=args.mode, top_k=args.top_k)
    except KnowledgeBaseNotFound as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps([h.model_dump(mode="json") for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("no results")
    for rank, hit in enumerate(hits, start=1):
        where = hit.metadata.get("name", hit.document_id)
        if hit.page is not None:
            where += f", page {hit.page}"
        text = " ".join(hit.text.split())
        print(f"{rank}. [{hit.score:.4f}] {where}")
        print(f"   {text[:300]}{'...' if len(text) > 300 else ''}")
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from flowwright.api.dev import serve

    factory = _model_factory(args)
    try:
        return serve(
            args.apps_dir,
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            model_factory=factory,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowwright", description="Run Dify-style LLM apps on AWS serverless (and locally)."
    )
    parser.add_argument("--version", action="version", version=f"flowwright {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check app files and print every problem found")
    p.add_argument("apps", nargs="+", metavar="APP.yml")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("compile", help="compile an app to a Step Functions definition (ASL JSON)")
    p.add_argument("app", metavar="APP.yml")
    p.add_argument("-o", "--output", help="write the ASL here instead of standard output")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("run", help="run an app locally (moto Step Functions, in-process functions)")
    p.add_argument("app", metavar="APP.yml")
    p.add_argument("--inputs", help="start inputs as a JSON object, or @file.json")
    p.add_argument("--query", help="the user message (chatflows: sys.query)")
    p.add_argument("--conversation", help="continue this conversation id (chatflows)")
    p.add_argument("--user", default="local-user", help="sys.user_id (default: local-user)")
    p.add_argument("--json", action="store_true", help="print one JSON object for scripts")
    p.add_argument(
        "--mock-llm",
        metavar="TEXT|JSON",
        help="script model replies: a text, or a JSON object {node_id: text, '*': text}",
    )
    p.add_argument(
        "--profile", choices=["offline", "cloud"], help="model profile (default: offline)"
    )
    p.add_argument(
        "--data-dir", help="local state folder (default: $FLOWWRIGHT_DATA_DIR or .flowwright)"
    )
    p.set_defaults(func=cmd_run)

    data_dir_help = "local state folder (default: $FLOWWRIGHT_DATA_DIR or .flowwright)"
    p = sub.add_parser(
        "ingest", help="add files to a local knowledge base (S3 -> SQS -> ingest, in moto)"
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    p.add_argument("--kb", required=True, help="knowledge base id")
    p.add_argument("--json", action="store_true", help="print the document records as JSON")
    p.add_argument("--progress", action="store_true", help="show the progress bar when piped")
    p.add_argument("--data-dir", help=data_dir_help)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="search a local knowledge base")
    p.add_argument("query")
    p.add_argument("--kb", required=True, help="knowledge base id")
    p.add_argument("--mode", choices=["hybrid", "semantic", "full_text"], help="default: the kb's")
    p.add_argument("--top-k", type=int, default=None, help="results (default: the kb's, 4)")
    p.add_argument("--json", action="store_true", help="print hits as JSON")
    p.add_argument("--data-dir", help=data_dir_help)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("dev", help="serve every app in a folder with Dify's Service API")
    p.add_argument("apps_dir", nargs="?", default="examples", metavar="APPS_DIR")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--mock-llm", metavar="TEXT|JSON", help="script model replies (as for run)")
    p.add_argument(
        "--profile", choices=["offline", "cloud"], help="model profile (default: offline)"
    )
    p.add_argument("--data-dir", help=data_dir_help)
    p.set_defaults(func=cmd_dev)

    from flowwright.api.keys_cli import add_keys_parser

    add_keys_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``flowwright`` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"flowwright: error: {exc}", file=sys.stderr)
        return 2
    except DslError as exc:
        print(f"flowwright: {len(exc.issues)} error(s) in the app:", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue.render(exc.file)}", file=sys.stderr)
        return 1
    except FlowwrightError as exc:
        print(f"flowwright: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
