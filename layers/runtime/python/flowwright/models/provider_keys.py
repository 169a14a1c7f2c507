"""Provider keys (OPENAI_API_KEY ...) for litellm, loaded from Secrets Manager in AWS.

The secret named by ``FLOWWRIGHT_PROVIDER_SECRET`` holds a JSON object of environment
variables; they are set once per container (variables already set win). Locally nothing is
loaded: litellm reads the usual variables.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

__all__ = ["load_provider_keys"]

_lock = threading.Lock()
_loaded = False


def load_provider_keys(client: Any = None) -> list[str]:
    """Set the secret's variables in ``os.environ``; return their names (never the values)."""
    global _loaded
    name = os.environ.get("FLOWWRIGHT_PROVIDER_SECRET")
    with _lock:
        if _loaded or not name:
            return []
        if client is None:
            import boto3

            client = boto3.client("secretsmanager")
        raw = client.get_secret_value(SecretId=name)["SecretString"]
        try:
            values = json.loads(raw)
        except ValueError:
            raise ValueError(f"secret {name} must be a JSON object of variables") from None
        if not isinstance(values, dict):
            raise ValueError(f"secret {name} must be a JSON object of variables")
        for key, value in values.items():
            os.environ.setdefault(str(key), str(value))
        _loaded = True
        return sorted(values)
