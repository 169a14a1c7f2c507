"""Lambda function for knowledge ingestion: S3 events through SQS, one batch at a time.

The logic lives in flowwright.knowledge.ingest_entry (partial batch failures reported to SQS).
"""

from aws_lambda_powertools import Logger
from flowwright.knowledge.ingest_entry import handle_sqs_batch

logger = Logger(service="flowwright-ingest")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return handle_sqs_batch(event, context)
