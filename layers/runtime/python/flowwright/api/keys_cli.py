"""``flowwright keys create|list|revoke``: manage the local Service API keys."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from flowwright.api.keys import (
    PREFIXES,
    WORKSPACE,
    ApiKey,
    DynamoDbKeyStore,
    KeyStore,
    Scope,
    SqliteKeyStore,
)

__all__ = ["add_keys_parser", "run_keys_command", "store_path"]

ACTIONS = ("create", "list", "revoke")


def store_path(data_dir: Path) -> Path:
    """The local key store inside a data folder."""
    return Path(data_dir) / "api_keys.sqlite"


def _row(key: ApiKey) -> dict[str, object]:
    return {
        "key_id": key.key_id,
        "app": key.app,
        "scope": key.scope,
        "created_at": key.created_at.isoformat(),
        "key": key.masked,
        "revoked": key.revoked,
    }


def _print_table(keys: list[ApiKey], out: TextIO) -> None:
    header = ("KEY ID", "APP", "SCOPE", "CREATED (UTC)", "KEY", "REVOKED")
    rows = [
        (
            k.key_id,
            k.app,
            k.scope,
            k.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            k.masked,
            "yes" if k.revoked else "no",
        )
        for k in keys
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip(), file=out
        )


def run_keys_command(
    action: str,
    *,
    app: str | None,
    key_id: str | None,
    scope: str,
    data_dir: Path,
    json_output: bool,
    out: TextIO | None = None,
    err: TextIO | None = None,
    table: str | None = None,
) -> int:
    """Run one ``keys`` action on ``data_dir/api_keys.sqlite`` (or, with ``table``, on a
    deployed stage's ``ApiKeys`` DynamoDB table).

    Returns 0 on success, 1 when ``revoke`` finds no such key id, 2 on a usage error.
    """
    out = out or sys.stdout
    err = err or sys.stderr

    def usage(message: str) -> int:
        print(f"flowwright: error: {message}", file=err)
        return 2

    if action not in ACTIONS:
        return usage(f"unknown keys action {action!r}: expected one of {', '.join(ACTIONS)}")
    if scope not in PREFIXES:
        return usage(f"unknown scope {scope!r}: expected 'app' or 'dataset'")
    store: KeyStore = DynamoDbKeyStore(table) if table else SqliteKeyStore(store_path(data_dir))

    if action == "create":
        key_scope: Scope = "dataset" if scope == "dataset" else "app"
        if key_scope == "dataset" and app is not None:
            return usage("dataset keys are workspace-wide: drop --app")
        if key_scope == "app" and not app:
            return usage("keys create needs --app NAME (or --scope dataset)")
        record, secret = store.create(app or WORKSPACE, key_scope)
        if json_output:
            print(json.dumps({**_row(record), "secret": secret}), file=out)
        else:
            target = f"app '{record.app}'" if key_scope == "app" else "the workspace"
            print(f"Created {key_scope} key {record.key_id} for {target}.", file=out)
            print("Secret (shown only now; store it safely):", file=out)
            print(secret, file=out)
        return 0

    if action == "list":
        keys = store.list(app)
        if json_output:
            print(json.dumps([_row(k) for k in keys], indent=2), file=out)
        elif keys:
            _print_table(keys, out)
        else:
            print("No API keys" + (f" for app '{app}'." if app else "."), file=out)
        return 0

    if not key_id:
        return usage("keys revoke needs a KEY_ID")
    if not store.revoke(key_id):
        print(f"flowwright: error: no API key with id {key_id!r}", file=err)
        return 1
    if json_output:
        print(json.dumps({"key_id": key_id, "revoked": True}), file=out)
    else:
        print(f"Revoked key {key_id}.", file=out)
    return 0


def _cmd_keys(args: argparse.Namespace) -> int:
    if args.data_dir:
        data_dir = Path(args.data_dir)
    else:
        from flowwright.runtime.local import default_data_dir  # heavy: import on use only

        data_dir = default_data_dir()
    return run_keys_command(
        args.keys_action,
        app=args.app,
        key_id=args.key_id,
        scope=args.scope,
        data_dir=data_dir,
        json_output=args.json,
        table=args.table,
    )


def add_keys_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``keys create|list|revoke``; the parsed namespace's ``func`` runs it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    common.add_argument(
        "--data-dir", help="local state folder (default: $FLOWWRIGHT_DATA_DIR or .flowwright)"
    )
    common.add_argument(
        "--table", help="a deployed stage's ApiKeys DynamoDB table instead of the local store"
    )

    keys = subparsers.add_parser("keys", help="manage Service API keys (stored hashed)")
    actions = keys.add_subparsers(dest="keys_action", required=True, metavar="ACTION")

    p = actions.add_parser("create", parents=[common], help="create a key; prints it once")
    p.add_argument("--app", help="the app the key opens (its DSL app.name)")
    p.add_argument(
        "--scope",
        choices=list(PREFIXES),
        default="app",
        help="app: one app's API (default); dataset: the workspace's knowledge API",
    )
    p.set_defaults(func=_cmd_keys, key_id=None)

    p = actions.add_parser("list", parents=[common], help="list keys (secrets are not stored)")
    p.add_argument("--app", help="only this app's keys")
    p.set_defaults(func=_cmd_keys, key_id=None, scope="app")

    p = actions.add_parser("revoke", parents=[common], help="revoke a key by its id")
    p.add_argument("key_id", metavar="KEY_ID")
    p.set_defaults(func=_cmd_keys, app=None, scope="app")
