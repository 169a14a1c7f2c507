"""Where values live in the Step Functions state. Shared by the compiler and the node runtime.

The state is flat: ``sys``, ``env``, one record per node (``n_<id>``), one key per
conversation variable (``cv_<name>``) and per loop variable (``lv_<loop>__<name>``).
Flat keys let parallel branches hand back exactly what they wrote and be merged with
``States.JsonMerge``.
"""

from __future__ import annotations

import hashlib
import re

from flowwright.variables import Selector

__all__ = [
    "SKIPPED",
    "conversation_key",
    "loop_var_key",
    "node_key",
    "safe",
    "write_key",
]

#: Handle stored in the record of a node that did not run.
SKIPPED = "#skip"

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def safe(name: str) -> str:
    """A JSONPath-safe, collision-free spelling of ``name``.

    >>> safe("1754230715804"), safe("sketch-start")
    ('1754230715804', 'sketch_start_854521')
    """
    cleaned = _UNSAFE.sub("_", name)
    if cleaned == name and name:
        return name
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:6]
    return f"{cleaned}_{digest}"


def node_key(node_id: str) -> str:
    return f"n_{safe(node_id)}"


def conversation_key(name: str) -> str:
    return f"cv_{safe(name)}"


def loop_var_key(loop_id: str, name: str) -> str:
    return f"lv_{safe(loop_id)}__{safe(name)}"


def write_key(selector: Selector) -> str:
    """State key of an assignable variable (conversation or loop variable)."""
    if selector[0] == "conversation":
        return conversation_key(selector[1])
    return loop_var_key(selector[0], selector[1])
