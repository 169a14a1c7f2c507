"""The services a node needs beyond its inputs, and the composition root for Lambda."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from flowwright.runtime.blobs import BlobStore, S3BlobStore
from flowwright.runtime.conversations import (
    ConversationStore,
    DynamoDbConversationStore,
    InMemoryConversationStore,
)
from flowwright.runtime.events import DynamoDbEventSink, EventSink, InMemoryEventSink

__all__ = ["Services", "services_from_env"]


@dataclass
class Services:
    """Storage, events and models, injected into every node run.

    ``models`` is created on first use so that node types that never call a model never
    import litellm.
    """

    blobs: BlobStore | None = None
    events: EventSink = field(default_factory=InMemoryEventSink)
    conversations: ConversationStore = field(default_factory=InMemoryConversationStore)
    model_factory: Any = None
    secrets: dict[str, str] = field(default_factory=dict)
    #: Builds the :class:`flowwright.knowledge.services.KnowledgeServices` on first use.
    knowledge_factory: Any = None
    _models: Any = field(default=None, init=False, repr=False)
    _knowledge: Any = field(default=None, init=False, repr=False)

    @property
    def knowledge(self) -> Any:
        """Knowledge bases and their index, or None when this deployment has none."""
        if self._knowledge is None and self.knowledge_factory is not None:
            self._knowledge = self.knowledge_factory()
        return self._knowledge

    @property
    def models(self) -> Any:
        """The model gateway (a :class:`flowwright.models.gateway.ModelGateway`)."""
        if self._models is None:
            if self.model_factory is not None:
                self._models = self.model_factory()
            else:
                from flowwright.models.gateway import LitellmGateway

                self._models = LitellmGateway.from_env()
        return self._models


def services_from_env() -> Services:
    """Build services from a Lambda function's environment.

    ``FLOWWRIGHT_PAYLOAD_BUCKET``, ``FLOWWRIGHT_EVENTS_TABLE`` and
    ``FLOWWRIGHT_CONVERSATIONS_TABLE`` name the resources the stacks create.
    """
    bucket = os.environ.get("FLOWWRIGHT_PAYLOAD_BUCKET")
    events_table = os.environ.get("FLOWWRIGHT_EVENTS_TABLE")
    conversations_table = os.environ.get("FLOWWRIGHT_CONVERSATIONS_TABLE")
    knowledge_factory = None
    if os.environ.get("FLOWWRIGHT_SEARCH_ENDPOINT"):
        from flowwright.knowledge.services import knowledge_from_env

        knowledge_factory = knowledge_from_env
    return Services(
        knowledge_factory=knowledge_factory,
        blobs=S3BlobStore(bucket, prefix="runs/") if bucket else None,
        events=DynamoDbEventSink(events_table) if events_table else InMemoryEventSink(),
        conversations=(
            DynamoDbConversationStore(conversations_table)
            if conversations_table
            else InMemoryConversationStore()
        ),
    )
