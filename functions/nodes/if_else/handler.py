"""Lambda function for if-else nodes: the logic lives in flowwright.nodes.if_else."""

from aws_lambda_powertools import Logger
from flowwright.runtime.lambda_entry import run_node

logger = Logger(service="flowwright-if-else")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return run_node(event)
