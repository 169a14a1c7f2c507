"""One Lambda function per node type, each with only the layers and permissions it uses."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from flowwright.nodes.registry import FUNCTION_NAMES

from stacks.config import DeployConfig
from stacks.data import Data
from stacks.lambdas import PYTHON_RUNTIME, FunctionSpec, make_function
from stacks.layers import Layers
from stacks.nag import acknowledge, arn_token

__all__ = [
    "MODEL_FUNCTIONS",
    "PYTHON_RUNTIME",
    "NodeFunctions",
    "model_environment",
    "permissions_for",
]

ROOT = Path(__file__).resolve().parents[1]
#: Functions that call models: they get litellm, the provider secret and SnapStart.
MODEL_FUNCTIONS = frozenset({"llm"})
#: Functions that end runs (read a run's events) or keep conversations.
RUN_ENDERS = frozenset({"end", "answer"})
CONVERSATION_USERS = frozenset({"start", "llm", "answer"})
#: Functions that query knowledge bases (granted search by stacks/knowledge.py).
SEARCH_READERS = frozenset({"knowledge_retrieval"})
MEMORY_MB = {"llm": 1024, "code": 1024}
TIMEOUT_S = {"llm": 300, "code": 60}


def model_environment(config: DeployConfig, secret: secretsmanager.ISecret) -> dict[str, str]:
    """Environment of a function that calls models: profile, provider-key secret, model map."""
    environment = {
        "FLOWWRIGHT_MODEL_PROFILE": config.model_profile,
        "FLOWWRIGHT_PROVIDER_SECRET": secret.secret_name,
    }
    if config.model_map:
        environment["FLOWWRIGHT_MODEL_MAP_JSON"] = json.dumps(config.model_map, sort_keys=True)
    return environment


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
    if key in MODEL_FUNCTIONS or key in SEARCH_READERS:
        allowed["secret"] = ["secretsmanager:GetSecretValue"]
    if key in SEARCH_READERS:  # knowledge-base settings (embedding model, retrieval)
        allowed["documents"] = ["dynamodb:GetItem", "dynamodb:Query"]
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
        self.secret = secret
        for key in FUNCTION_NAMES:
            name = key.replace("_", "-")
            environment = {
                "FLOWWRIGHT_PAYLOAD_BUCKET": data.payloads.bucket_name,
                "FLOWWRIGHT_EVENTS_TABLE": data.events.table_name,
                "FLOWWRIGHT_CONVERSATIONS_TABLE": data.conversations.table_name,
            }
            if key in MODEL_FUNCTIONS or key in SEARCH_READERS:
                environment.update(model_environment(config, secret))
            if key in SEARCH_READERS:
                environment["FLOWWRIGHT_DOCUMENTS_TABLE"] = data.documents.table_name
            function, role = make_function(
                self,
                FunctionSpec(
                    name=name,
                    code_dir=ROOT / "functions" / "nodes" / key,
                    description=f"flowwright {config.stage}: {name} nodes",
                    layers=layers.for_function(key),
                    environment=environment,
                    memory_mb=MEMORY_MB.get(key, 256),
                    timeout_s=TIMEOUT_S.get(key, 30),
                    snap_start=key in MODEL_FUNCTIONS,
                ),
                log_retention_days=config.log_retention_days,
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

    def connect_search(self, endpoint: str, service: str) -> None:
        """Tell the functions that query knowledge bases where the search engine is."""
        for key in SEARCH_READERS:
            self.functions[key].add_environment("FLOWWRIGHT_SEARCH_ENDPOINT", endpoint)
            self.functions[key].add_environment("FLOWWRIGHT_SEARCH_SERVICE", service)

    @property
    def search_readers(self) -> list[iam.IRole]:
        """Roles of node functions that query knowledge bases."""
        return [
            f.role for k, f in self.functions.items() if k in SEARCH_READERS and f.role is not None
        ]

    def _grant(self, key: str, role: iam.Role, data: Data, secret: secretsmanager.ISecret) -> None:
        allowed = permissions_for(key)
        resources = {
            "payloads": [data.payloads.arn_for_objects("runs/*")],
            "key": [data.key.key_arn],
            "events": [data.events.table_arn],
            "conversations": [data.conversations.table_arn],
            "secret": [f"{secret.secret_arn}-??????"],
            "documents": [data.documents.table_arn],
        }
        for kind, actions in allowed.items():
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources[kind]))
