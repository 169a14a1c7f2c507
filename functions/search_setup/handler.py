"""CloudFormation custom resource: maps the functions' roles to a knowledge-only search role.

The logic lives in flowwright.knowledge.search_setup.
"""

from aws_lambda_powertools import Logger
from flowwright.knowledge.search_setup import on_event

logger = Logger(service="flowwright-search-setup")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> None:
    on_event(event, context)
