"""The variable pool a node reads from: only the scopes its selectors reference."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flowwright.variables.selectors import Selector, parse_template
from flowwright.variables.text import to_markdown, to_text

__all__ = ["MISSING", "VariablePool", "resolve_deep"]


class _Missing:
    """Marker for a selector that resolves to nothing (not even null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

Resolver = Callable[[Any], Any]


def resolve_deep(value: Any, resolve: Resolver) -> Any:
    """``value`` with ``resolve`` applied at every depth (references inside lists and objects)."""
    value = resolve(value)
    if isinstance(value, Mapping):
        return {k: resolve_deep(v, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_deep(v, resolve) for v in value]
    return value


class VariablePool:
    """Values by selector. ``scopes`` maps a node id (or ``sys``/``env``/``conversation``)
    to that scope's variables; ``resolve`` turns offloaded references into values.

    >>> pool = VariablePool({"sys": {"query": "hi"}, "n1": {"text": "x"}})
    >>> pool.get(("sys", "query")), pool.render("{{#n1.text#}}!")
    ('hi', 'x!')
    """

    def __init__(
        self,
        scopes: Mapping[str, Mapping[str, Any] | None],
        *,
        resolve: Resolver | None = None,
    ) -> None:
        self._scopes = {k: dict(v) if isinstance(v, Mapping) else {} for k, v in scopes.items()}
        self._resolve = resolve or (lambda value: value)

    def get(self, selector: Selector | list[str]) -> Any:
        """The value at ``selector``, or ``MISSING`` when nothing is there."""
        if len(selector) < 2:
            return MISSING
        scope = self._scopes.get(selector[0])
        if scope is None or selector[1] not in scope:
            return MISSING
        value = self._resolve(scope[selector[1]])
        for key in selector[2:]:
            value = self._resolve(value)
            if isinstance(value, Mapping) and key in value:
                value = value[key]
            else:
                return MISSING
        return self._resolve(value)

    def value(self, selector: Selector | list[str]) -> Any:
        """Like :meth:`get` but ``None`` where nothing is there."""
        found = self.get(selector)
        return None if found is MISSING else found

    def resolve(self, value: Any) -> Any:
        """``value`` with an offloaded reference fetched (other values pass through)."""
        return self._resolve(value)

    def resolve_deep(self, value: Any) -> Any:
        """``value`` with offloaded references resolved at any depth."""
        return resolve_deep(value, self._resolve)

    def set(self, selector: Selector | list[str], value: Any) -> None:
        """Store ``value`` at a two-part selector (used for writes within one node)."""
        self._scopes.setdefault(selector[0], {})[selector[1]] = value

    def scope(self, name: str) -> dict[str, Any]:
        return self._scopes.get(name, {})

    def render(self, template: str, *, markdown: bool = False) -> str:
        """Replace every ``{{#node.var#}}`` with the value's text (or markdown) form."""
        convert = to_markdown if markdown else to_text
        parts: list[str] = []
        for segment in parse_template(template):
            if segment.selector is None:
                parts.append(segment.text)
            else:
                parts.append(convert(self.value(segment.selector)))
        return "".join(parts)
