"""Tailing a run's node events while it runs (what the API's streams do)."""

from __future__ import annotations

from typing import Any

import pytest
from flowwright.dsl import load_app

from tests.support import ROOT

pytestmark = pytest.mark.slow


def test_follow_yields_every_event_and_keepalives_during_silence(runtime: Any) -> None:
    app = load_app(ROOT / "tests" / "api" / "apps" / "slow.yml")
    started = runtime.runner.start(app, {"seconds": 1})
    seen = list(runtime.runner.follow(started, keepalive_s=0.3))
    events = [e for e in seen if e is not None]
    assert None in seen  # the code node sleeps 1 s without an event
    assert [(e.node_id, e.event) for e in events] == [
        ("start", "node_started"),
        ("start", "node_finished"),
        ("wait", "node_started"),
        ("wait", "node_finished"),
        ("end", "node_started"),
        ("end", "node_finished"),
    ]
    assert runtime.runner.describe(started)["status"] == "SUCCEEDED"
