"""Which litellm model answers a Dify ``{provider, name}``.

Profiles: ``offline`` (the default locally) sends every chat model to the embedded
SmolLM2-135M; ``cloud`` maps Dify providers to litellm provider prefixes. A JSON file
(``FLOWWRIGHT_MODEL_MAP``) can map exact ``provider/name`` pairs or ``*`` to any litellm model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LOCAL_CHAT_MODEL", "ModelChoice", "ModelMap"]

LOCAL_CHAT_MODEL = "flowwright-local/smollm2"

#: Dify provider names (last segment of plugin ids) -> litellm provider prefixes.
PROVIDER_PREFIXES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "bedrock": "bedrock",
    "azure_openai": "azure",
    "gemini": "gemini",
    "google": "gemini",
    "vertex_ai": "vertex_ai",
    "deepseek": "deepseek",
    "ollama": "ollama",
    "mistralai": "mistral",
    "cohere": "cohere",
    "groq": "groq",
    "openrouter": "openrouter",
    "tongyi": "dashscope",
    "xai": "xai",
    "togetherai": "together_ai",
    "fireworks": "fireworks_ai",
    "perplexity": "perplexity",
}


@dataclass(frozen=True)
class ModelChoice:
    """The litellm model to call and, for the trace, why."""

    model: str
    requested: str
    note: str | None = None


def _provider(provider: str) -> str:
    """``langgenius/openai/openai`` -> ``openai``."""
    return provider.strip().split("/")[-1] if provider else ""


class ModelMap:
    """Resolves Dify model names for one profile and optional explicit overrides."""

    def __init__(self, profile: str = "offline", overrides: dict[str, str] | None = None) -> None:
        if profile not in ("offline", "cloud"):
            raise ValueError(f"unknown model profile {profile!r} (offline or cloud)")
        self.profile = profile
        self.overrides = dict(overrides or {})

    @classmethod
    def from_env(cls) -> ModelMap:
        """``FLOWWRIGHT_MODEL_PROFILE`` (offline|cloud), ``FLOWWRIGHT_MODEL_MAP`` (a JSON file)
        and ``FLOWWRIGHT_MODEL_MAP_JSON`` (JSON text)."""
        overrides: dict[str, str] = {}
        path = os.environ.get("FLOWWRIGHT_MODEL_MAP")
        if path:
            overrides = json.loads(Path(path).read_text(encoding="utf-8"))
        inline = os.environ.get("FLOWWRIGHT_MODEL_MAP_JSON")  # set by the stacks from cdk.json
        if inline:
            overrides.update(json.loads(inline))
        return cls(os.environ.get("FLOWWRIGHT_MODEL_PROFILE", "offline"), overrides)

    def resolve(self, provider: str, name: str) -> ModelChoice:
        """The litellm model for a Dify node's ``model.provider``/``model.name``.

        >>> ModelMap("cloud").resolve("langgenius/openai/openai", "gpt-4o").model
        'openai/gpt-4o'
        >>> ModelMap().resolve("openai", "gpt-4o").model
        'flowwright-local/smollm2'
        """
        short = _provider(provider)
        requested = f"{short}/{name}" if short else name or "(no model)"
        for key in (f"{provider}/{name}", requested, "*"):
            if key in self.overrides:
                return ModelChoice(self.overrides[key], requested, f"model map: {requested}")
        if self.profile == "offline":
            return ModelChoice(
                LOCAL_CHAT_MODEL,
                requested,
                f"offline profile: SmolLM2-135M answers for {requested}",
            )
        prefix = PROVIDER_PREFIXES.get(short)
        if not name:
            raise ValueError("the node names no model")
        if prefix is None:
            return ModelChoice(f"{short}/{name}" if short else name, requested)
        return ModelChoice(f"{prefix}/{name}", requested)
