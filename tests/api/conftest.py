"""A real local server (uvicorn on a free port, in a thread) serving tests/api/apps."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

APPS = Path(__file__).parent / "apps"


class Server:
    def __init__(self, base_url: str, platform: Any, keys: dict[str, str]) -> None:
        self.base_url = base_url
        self.platform = platform
        self.keys = keys

    def client(
        self, app: str | None = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Client:
        merged = {"Authorization": f"Bearer {self.keys[app]}"} if app else {}
        merged.update(headers or {})
        return httpx.Client(base_url=self.base_url, headers=merged, timeout=60, **kwargs)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, models: Any) -> Iterator[Server]:
    import uvicorn
    from flowwright.api.dev import local_server_app

    data = tmp_path_factory.mktemp("server")
    with local_server_app(APPS, data, model_factory=models.factory) as (app, platform):
        keys = {name: platform.keys.create(name)[1] for name in platform.apps}
        keys["dataset"] = platform.keys.create("*", scope="dataset")[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        uv = uvicorn.Server(config)
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not uv.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        yield Server(f"http://127.0.0.1:{port}", platform, keys)
        uv.should_exit = True
        thread.join(timeout=10)
