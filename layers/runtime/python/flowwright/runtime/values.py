"""Offloading large values to blob storage so no Step Functions state passes 256 KiB.

A node's outputs are measured after it runs; while the record is over its byte budget the
largest values are stored as blobs and replaced by references
``{"$fw_ref": uri, "bytes": n}``. Readers resolve references transparently.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flowwright.runtime.blobs import BlobStore
from flowwright.variables.pool import resolve_deep

__all__ = ["REF_KEY", "Resolver", "is_ref", "json_size", "offload_values"]

REF_KEY = "$fw_ref"
#: A reference costs about this much in the state; offloading smaller values gains nothing.
_MIN_OFFLOAD = 256


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and REF_KEY in value and len(value) <= 3


def json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def offload_values(
    values: dict[str, Any],
    *,
    budget: int,
    store: BlobStore,
    key_prefix: str,
) -> dict[str, Any]:
    """Return ``values`` with the largest entries offloaded until the whole fits ``budget``."""
    total = json_size(values)
    if total <= budget:
        return values
    result = dict(values)
    sizes = sorted(((json_size(v), k) for k, v in values.items()), reverse=True)
    for size, key in sizes:
        if total <= budget or size < _MIN_OFFLOAD:
            break
        if is_ref(result[key]):
            continue
        uri = store.put_json(f"{key_prefix}/{key}-{uuid.uuid4().hex[:12]}.json", result[key])
        ref = {REF_KEY: uri, "bytes": size}
        result[key] = ref
        total += json_size(ref) - size
    return result


class Resolver:
    """Resolves references (cached per instance, so one node run fetches each blob once)."""

    def __init__(self, store: BlobStore | None) -> None:
        self._store = store
        self._cache: dict[str, Any] = {}

    def __call__(self, value: Any) -> Any:
        if not is_ref(value):
            return value
        uri = value[REF_KEY]
        if uri not in self._cache:
            if self._store is None:
                raise RuntimeError(f"value {uri} is offloaded but no blob store is configured")
            self._cache[uri] = self._store.get_json(uri)
        return self._cache[uri]

    def deep(self, value: Any) -> Any:
        """Resolve references anywhere inside ``value``."""
        return resolve_deep(value, self)
