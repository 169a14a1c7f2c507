"""The Service API on this machine: every app in a folder, on the embedded defaults."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowwright.api.keys import SqliteKeyStore
from flowwright.api.records import SqliteApiStore
from flowwright.api.service import Platform
from flowwright.api.uploads import UploadStore
from flowwright.dsl import load_app
from flowwright.dsl.models import App
from flowwright.runtime.local import PAYLOAD_BUCKET, REGION, LocalRuntime

__all__ = ["load_apps", "local_platform"]


def load_apps(apps_dir: str | Path) -> dict[str, App]:
    """Every ``*.yml``/``*.yaml`` app in ``apps_dir`` by ``app.name`` (a broken file raises
    DslError listing its problems; two files with one name raise ValueError)."""
    folder = Path(apps_dir)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    apps: dict[str, App] = {}
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        app = load_app(path)
        if app.name in apps:
            raise ValueError(f"{path}: app name {app.name!r} is used by another file")
        apps[app.name] = app
    return apps


def local_platform(
    apps: dict[str, App],
    runtime: LocalRuntime,
    *,
    knowledge: Any = None,
    model_factory: Callable[[], Any] | None = None,
) -> Platform:
    """A :class:`Platform` over a started :class:`LocalRuntime` and its data folder."""
    import boto3

    del model_factory  # the runtime already carries it
    for app in apps.values():
        runtime.deploy(app)
    assert runtime.services is not None
    return Platform(
        apps=apps,
        runner=runtime.runner,
        store=SqliteApiStore(runtime.data_dir / "api.sqlite"),
        keys=SqliteKeyStore(runtime.data_dir / "api_keys.sqlite"),
        knowledge=knowledge,
        uploads=UploadStore(PAYLOAD_BUCKET, client=boto3.client("s3", region_name=REGION)),
        background=True,
    )
