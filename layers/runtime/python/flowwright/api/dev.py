"""``flowwright dev``: the Service API for a folder of apps on localhost."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from flowwright.api.app import create_app
from flowwright.api.local import load_apps, local_platform
from flowwright.api.service import Platform
from flowwright.knowledge.writer import BackgroundLocalWriter

__all__ = ["local_server_app", "serve"]


@contextlib.contextmanager
def local_server_app(
    apps_dir: str | Path,
    data_dir: str | Path,
    *,
    model_factory: Callable[[], Any] | None = None,
) -> Iterator[tuple[Any, Platform]]:
    """The ASGI app for ``apps_dir`` with its runtime started (stopped on exit)."""
    from flowwright.knowledge.local import LocalKnowledge
    from flowwright.runtime.local import LocalRuntime

    apps = load_apps(apps_dir)
    with (
        LocalRuntime(data_dir, model_factory=model_factory) as runtime,
        LocalKnowledge(data_dir) as knowledge,
    ):
        platform = local_platform(apps, runtime, knowledge=knowledge.services)
        platform.knowledge_writer = BackgroundLocalWriter(knowledge)
        yield create_app(platform), platform


def announce(platform: Platform, base_url: str, out: TextIO = sys.stdout) -> None:
    """Print each app's URL and a key (a new one only when the app has none yet)."""
    print(f"flowwright Service API on {base_url}/v1  (docs: {base_url}/docs)", file=out)
    for name, app in sorted(platform.apps.items()):
        keys = [k for k in platform.keys.list(name) if not k.revoked]
        if keys:
            key_text = f"{len(keys)} key(s), e.g. {keys[0].masked} (new: flowwright keys create --app {name})"
        else:
            _, secret = platform.keys.create(name)
            key_text = f"new key {secret}"
        print(f"  {name} ({app.mode}): {key_text}", file=out)


def serve(
    apps_dir: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    data_dir: str | Path | None = None,
    model_factory: Callable[[], Any] | None = None,
) -> int:
    """Serve until interrupted."""
    import uvicorn

    from flowwright.runtime.local import default_data_dir

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with local_server_app(
        apps_dir, data_dir or default_data_dir(), model_factory=model_factory
    ) as (app, platform):
        announce(platform, f"http://{host}:{port}")
        uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0
