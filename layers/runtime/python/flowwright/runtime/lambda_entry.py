"""What the Lambda handlers in ``functions/`` call: one composition root per container."""

from __future__ import annotations

from typing import Any

from flowwright.runtime.entry import handle_node_event
from flowwright.runtime.services import Services, services_from_env

__all__ = ["run_node"]

_services: Services | None = None


def run_node(event: dict[str, Any]) -> dict[str, Any]:
    """Handle one node event with services built from the function's environment."""
    global _services
    if _services is None:
        _services = services_from_env()
    return handle_node_event(event, _services)
