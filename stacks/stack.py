"""The stack of one stage: it only composes constructs and exports what users need."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from stacks.apps import AppMachines
from stacks.config import DeployConfig
from stacks.data import Data
from stacks.functions import PYTHON_RUNTIME, NodeFunctions
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
        self.operations = Operations(
            self,
            "Operations",
            config=config,
            key=self.data.key,
            functions=self.functions,
            machines=self.apps.machines,
        )
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
