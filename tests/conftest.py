"""Shared fixtures: the conformance data folder and one local runtime per test session."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


class ScriptedModels:
    """A model gateway factory whose replies tests can change between runs."""

    def __init__(self) -> None:
        self.replies: dict[str, Any] = {}
        self.requests: list[Any] = []

    def mock(self, request: Any) -> str | None:
        self.requests.append(request)
        reply = self.replies.get(request.node_id, self.replies.get("*"))
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply

    def factory(self) -> Any:
        from flowwright.models.gateway import LitellmGateway

        return LitellmGateway(mock=self.mock)


@pytest.fixture(scope="session")
def models() -> ScriptedModels:
    return ScriptedModels()


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory, models: ScriptedModels) -> Iterator[Any]:
    from flowwright.runtime.local import LocalRuntime

    with LocalRuntime(tmp_path_factory.mktemp("data"), model_factory=models.factory) as rt:
        yield rt


@pytest.fixture
def scripted(models: ScriptedModels) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Set model replies for one test: ``scripted({"node_id": "text", "*": "default"})``."""

    def set_replies(replies: dict[str, Any]) -> None:
        models.replies = dict(replies)
        models.requests.clear()

    yield set_replies
    models.replies = {}
    models.requests.clear()
