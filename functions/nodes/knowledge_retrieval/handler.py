"""Lambda function for knowledge-retrieval nodes: the logic lives in flowwright.nodes.knowledge_retrieval."""

from aws_lambda_powertools import Logger
from flowwright.runtime.lambda_entry import run_node

logger = Logger(service="flowwright-knowledge-retrieval")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return run_node(event)
