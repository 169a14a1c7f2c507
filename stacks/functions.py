"""One Lambda function per node type, each with only the layers and permissions it uses."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from flowwright.nodes.registry import FUNCTION_NAMES

from stacks.config import DeployConfig
from stacks.data import Data
from stacks.layers import Layers
from stacks.nag import acknowledge, arn_token

__all__ = ["MODEL_FUNCTIONS", "PYTHON_RUNTIME", "NodeFunctions", "permissions_for"]

ROOT = Path(__file__).resolve().parents[1]
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
#: Functions that call models: they get litellm, the provider secret and SnapStart.
MODEL_FUNCTIONS = frozenset({"llm"})
#: Functions that end runs (read a run's events) or keep conversations.
RUN_ENDERS = frozenset({"end", "answer"})
CONVERSATION_USERS = frozenset({"start", "llm", "answer"})
MEMORY_MB = {"llm": 1024, "code": 1024}
TIMEOUT_S = {"llm": 300, "code": 60}


def permissions_for(key: str) -> dict[str, list[str]]:
    """The actions each node function's code uses, by resource kind (tested against the template)."""
    allowed: dict[str, list[str]] = {
        "payloads": ["s3:GetObject", "s3:PutObject"],
        "key": ["kms:Decrypt", "kms:GenerateDataKey"],
        "events": ["dynamodb:PutItem", "dynamodb:Query"]
        if key in RUN_ENDERS
        else ["dynamodb:PutItem"],
    }
    if key in CONVERSATION_USERS:
        allowed["conversations"] = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    if key in MODEL_FUNCTIONS:
        allowed["secret"] = ["secretsmanager:GetSecretValue"]
    return allowed


class NodeFunctions(Construct):
    """The node functions; ``aliases[key]`` is what state machines invoke."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        data: Data,
        layers: Layers,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, lambda_.Function] = {}
        self.aliases: dict[str, lambda_.Alias] = {}
        secret = secretsmanager.Secret.from_secret_name_v2(
            self, "ProviderKeys", config.provider_secret_name
        )
        for key in FUNCTION_NAMES:
            name = key.replace("_", "-")
            log_group = logs.LogGroup(
                self,
                f"{name}-logs",
                retention=retention(config.log_retention_days),
                removal_policy=RemovalPolicy.DESTROY,
            )
            role = iam.Role(
                self,
                f"{name}-role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"flowwright {config.stage}: {name} node function",
            )
            log_group.grant_write(role)
            environment = {
                "FLOWWRIGHT_PAYLOAD_BUCKET": data.payloads.bucket_name,
                "FLOWWRIGHT_EVENTS_TABLE": data.events.table_name,
                "FLOWWRIGHT_CONVERSATIONS_TABLE": data.conversations.table_name,
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "POWERTOOLS_SERVICE_NAME": f"flowwright-{name}",
            }
            if key in MODEL_FUNCTIONS:
                environment["FLOWWRIGHT_MODEL_PROFILE"] = config.model_profile
                environment["FLOWWRIGHT_PROVIDER_SECRET"] = secret.secret_name
                if config.model_map:
                    environment["FLOWWRIGHT_MODEL_MAP_JSON"] = json.dumps(
                        config.model_map, sort_keys=True
                    )
            function = lambda_.Function(
                self,
                name,
                description=f"flowwright {config.stage}: {name} nodes",
                runtime=PYTHON_RUNTIME,
                architecture=lambda_.Architecture.ARM_64,
                handler="handler.handler",
                code=lambda_.Code.from_asset(str(ROOT / "functions" / "nodes" / key)),
                layers=layers.for_function(key),
                memory_size=MEMORY_MB.get(key, 256),
                timeout=Duration.seconds(TIMEOUT_S.get(key, 30)),
                tracing=lambda_.Tracing.ACTIVE,
                log_group=log_group,
                role=role,
                environment=environment,
                snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS
                if key in MODEL_FUNCTIONS
                else None,
            )
            self._grant(key, role, data, secret)
            if key in MODEL_FUNCTIONS:
                Validations.of(function).acknowledge(
                    Acknowledgment(
                        id="Annotation::@aws-cdk/aws-lambda:snapStartRequirePublish",
                        reason="The live alias below publishes a version on every code change.",
                    )
                )
            self.functions[key] = function
            self.aliases[key] = lambda_.Alias(
                self, f"{name}-live", alias_name="live", version=function.current_version
            )
            acknowledge(
                role,
                "AwsSolutions-IAM5",
                "X-Ray segment writes take no resource ARN (Resource::*); run payloads are "
                "objects under runs/<run id>/, created at run time, so they are granted by prefix.",
                evidence=["Resource::*", f"Resource::{arn_token(data.payloads, '/runs/*')}"],
            )

    def _grant(self, key: str, role: iam.Role, data: Data, secret: secretsmanager.ISecret) -> None:
        allowed = permissions_for(key)
        resources = {
            "payloads": [data.payloads.arn_for_objects("runs/*")],
            "key": [data.key.key_arn],
            "events": [data.events.table_arn],
            "conversations": [data.conversations.table_arn],
            "secret": [f"{secret.secret_arn}-??????"],
        }
        for kind, actions in allowed.items():
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources[kind]))


_RETENTION = [
    (1, "ONE_DAY"),
    (3, "THREE_DAYS"),
    (5, "FIVE_DAYS"),
    (7, "ONE_WEEK"),
    (14, "TWO_WEEKS"),
    (30, "ONE_MONTH"),
    (60, "TWO_MONTHS"),
    (90, "THREE_MONTHS"),
    (120, "FOUR_MONTHS"),
    (150, "FIVE_MONTHS"),
    (180, "SIX_MONTHS"),
    (365, "ONE_YEAR"),
    (400, "THIRTEEN_MONTHS"),
    (545, "EIGHTEEN_MONTHS"),
    (731, "TWO_YEARS"),
    (1096, "THREE_YEARS"),
    (1827, "FIVE_YEARS"),
]


def retention(days: int) -> logs.RetentionDays:
    """The shortest CloudWatch retention (it allows only some values) of at least ``days``."""
    name = next((n for d, n in _RETENTION if d >= days), "FIVE_YEARS")
    return logs.RetentionDays[name]
