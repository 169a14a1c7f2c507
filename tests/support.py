"""Paths and helpers shared by the tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FLOWWRIGHT_SHARED", ROOT.parent / "shared"))
FIXTURES = SHARED / "conformance" / "dify"
TEMPLATES = SHARED / "conformance" / "dify-templates" / "en-US"
EXAMPLES = ROOT / "examples"


def load_fixture(name: str) -> Any:
    """A Dify conformance fixture loaded as an app."""
    from flowwright.dsl import load_app

    return load_app(FIXTURES / name)


def app_from_yaml(text: str, name: str = "test-app") -> Any:
    """An app from inline YAML (bare graphs or full exports)."""
    from flowwright.dsl import load_app_text

    return load_app_text(text, source=f"{name}.yml", default_name=name)
