"""The stack of one stage: it only composes constructs and exports what users need."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from stacks.api import Api
from stacks.apps import AppMachines
from stacks.config import DeployConfig
from stacks.data import Data
from stacks.functions import NodeFunctions
from stacks.knowledge import Knowledge
from stacks.lambdas import PYTHON_RUNTIME
from stacks.layers import Layers
from stacks.operations import Operations

__all__ = ["FlowwrightStack"]


class FlowwrightStack(Stack):
    """Everything flowwright runs for one stage (``Flowwright-<stage>``)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeployConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, description=f"flowwright ({config.stage})", **kwargs)
        self.config = config
        self.data = Data(self, "Data", config=config)
        self.layers = Layers(self, "Layers", runtime=PYTHON_RUNTIME)
        self.functions = NodeFunctions(
            self, "Nodes", config=config, data=self.data, layers=self.layers
        )
        self.apps = AppMachines(self, "Apps", config=config, functions=self.functions)
        self.knowledge = Knowledge(
            self,
            "Knowledge",
            config=config,
            data=self.data,
            layers=self.layers,
            secret=self.functions.secret,
        )
        self.api = Api(
            self,
            "Api",
            config=config,
            data=self.data,
            layers=self.layers,
            secret=self.functions.secret,
            machines=self.apps.machines,
            search_endpoint=self.knowledge.search.endpoint,
            search_service=self.knowledge.search.service,
        )
        self.functions.connect_search(self.knowledge.search.endpoint, self.knowledge.search.service)
        readers = [self.api.role, *self.functions.search_readers]
        self.knowledge.finish(readers)
        self.operations = Operations(
            self,
            "Operations",
            config=config,
            key=self.data.key,
            functions={
                **self.functions.functions,
                "ingest": self.knowledge.ingest,
                "api": self.api.function,
            },
            machines=self.apps.machines,
            dead_letters=self.knowledge.dead_letters,
            rest_api=self.api.rest_api,
        )
        CfnOutput(
            self, "ApiUrl", value=f"{self.api.rest_api.url}v1", description="Service API base URL"
        )
        CfnOutput(self, "SearchEndpoint", value=self.knowledge.search.endpoint)
        CfnOutput(self, "IngestDeadLetterQueue", value=self.knowledge.dead_letters.queue_url)
        CfnOutput(self, "PayloadBucket", value=self.data.payloads.bucket_name)
        CfnOutput(self, "KnowledgeBucket", value=self.data.knowledge.bucket_name)
        CfnOutput(self, "AlarmTopic", value=self.operations.topic.topic_arn)
        for name, machine in self.apps.machines.items():
            CfnOutput(
                self,
                f"App-{machine.node.id}",
                value=machine.state_machine_arn,
                description=f"app {name}",
            )
