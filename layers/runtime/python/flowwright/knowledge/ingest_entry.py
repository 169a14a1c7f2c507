"""The ingest function's logic: one SQS batch of S3 events, partial failures reported.

Each message is handled on its own: a message that raises is reported in
``batchItemFailures`` so SQS redelivers only it (and, after ``maxReceiveCount`` attempts,
moves it to the dead-letter queue); the rest of the batch is deleted.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flowwright.knowledge.events import EventError, parse_message
from flowwright.knowledge.pipeline import handle_object_event
from flowwright.knowledge.services import KnowledgeServices, knowledge_from_env

__all__ = ["handle_sqs_batch", "process_message"]

logger = logging.getLogger(__name__)
#: The stack's ``ingestMaxReceiveCount`` default (FLOWWRIGHT_INGEST_MAX_RECEIVES overrides).
DEFAULT_MAX_RECEIVES = 3
_services: KnowledgeServices | None = None


def process_message(
    body: str, services: KnowledgeServices, *, receive_count: int = 1, max_receives: int = 1
) -> None:
    """Apply every S3 event in one message body. Malformed messages are logged and dropped
    (redelivery cannot fix them); failures that may pass raise, and on the last delivery
    (``receive_count >= max_receives``) the document is recorded in error."""
    try:
        events = parse_message(body)
    except EventError as exc:
        logger.error("dropping a message that is not a usable S3 event: %s", exc)
        return
    for event in events:
        handle_object_event(event, services, final_attempt=receive_count >= max_receives)


def handle_sqs_batch(
    event: dict[str, Any], context: Any, *, services: KnowledgeServices | None = None
) -> dict[str, Any]:
    """Lambda entry for an SQS event source with ``ReportBatchItemFailures``."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    global _services
    if services is None:
        _services = _services or knowledge_from_env()
        services = _services
    chosen = services

    max_receives = int(os.environ.get("FLOWWRIGHT_INGEST_MAX_RECEIVES", str(DEFAULT_MAX_RECEIVES)))

    def record_handler(record: Any) -> None:
        count = int((record.attributes.approximate_receive_count) or 1)
        process_message(record.body, chosen, receive_count=count, max_receives=max_receives)

    processor = BatchProcessor(event_type=EventType.SQS)
    result = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(result)
