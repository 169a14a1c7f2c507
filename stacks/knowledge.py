"""Knowledge ingestion: S3 events -> SQS (with a dead-letter queue) -> ingest function -> search.

Objects under ``kb/<kb id>/`` in the knowledge bucket are indexed when created and removed
from the index when deleted. A message that fails ``ingestMaxReceiveCount`` times moves to the
dead-letter queue (alarmed in stacks/operations.py); the document's record says why.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnCustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as notifications
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import DeployConfig
from stacks.data import Data
from stacks.functions import model_environment
from stacks.lambdas import FunctionSpec, make_function
from stacks.layers import Layers
from stacks.nag import acknowledge, arn_token
from stacks.search import Search

__all__ = ["INGEST_PERMISSIONS", "KB_PREFIX", "Knowledge"]

ROOT = Path(__file__).resolve().parents[1]
KB_PREFIX = "kb/"
INGEST_TIMEOUT_S = 900
#: What the ingest function's code does, by resource (asserted against the template).
INGEST_PERMISSIONS = {
    "objects": ["s3:GetObject", "s3:GetObjectVersion"],
    "queue": [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
    ],
    "key": ["kms:Decrypt", "kms:GenerateDataKey"],
    "documents": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    "secret": ["secretsmanager:GetSecretValue"],
    "search": ["es:ESHttpDelete", "es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"],
}


class Knowledge(Construct):
    """Queue, dead-letter queue, ingest function, search engine and its one-time setup."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        data: Data,
        layers: Layers,
        secret: secretsmanager.ISecret,
    ) -> None:
        super().__init__(scope, construct_id)
        self.search = Search(self, "Search", config=config, key=data.key)
        self.dead_letters = sqs.Queue(
            self,
            "IngestDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This is the dead-letter queue of the ingest queue.",
        )
        self.queue = sqs.Queue(
            self,
            "IngestQueue",
            # SQS-managed keys: S3 may send to them without a key-policy statement that would
            # tie the data key to the bucket it encrypts (a dependency cycle).
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(INGEST_TIMEOUT_S * 6),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=config.ingest_max_receive_count
            ),
        )
        for event in (s3.EventType.OBJECT_CREATED, s3.EventType.OBJECT_REMOVED):
            data.knowledge.add_event_notification(
                event,
                notifications.SqsDestination(self.queue),
                s3.NotificationKeyFilter(prefix=KB_PREFIX),
            )
        notifier = Stack.of(self).node.try_find_child(
            "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
        )
        if notifier is not None:
            acknowledge(
                notifier,
                "AwsSolutions-IAM4",
                "CDK's own handler that writes the bucket's notification configuration at deploy "
                "time uses the basic execution policy (logs only).",
                evidence=[
                    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole"
                ],
            )
        self.ingest, role = make_function(
            self,
            FunctionSpec(
                name="ingest",
                code_dir=ROOT / "functions" / "ingest",
                description=f"flowwright {config.stage}: index knowledge documents",
                layers=layers.for_function("ingest"),
                environment={
                    "FLOWWRIGHT_KNOWLEDGE_BUCKET": data.knowledge.bucket_name,
                    "FLOWWRIGHT_DOCUMENTS_TABLE": data.documents.table_name,
                    "FLOWWRIGHT_SEARCH_ENDPOINT": self.search.endpoint,
                    "FLOWWRIGHT_SEARCH_SERVICE": self.search.service,
                    "FLOWWRIGHT_EMBEDDING_MODEL": config.embedding_model,
                    "FLOWWRIGHT_MAX_DOCUMENT_MB": str(config.max_document_mb),
                    "FLOWWRIGHT_INGEST_MAX_RECEIVES": str(config.ingest_max_receive_count),
                    **model_environment(config, secret),
                },
                memory_mb=2048,
                timeout_s=INGEST_TIMEOUT_S,
            ),
            log_retention_days=config.log_retention_days,
        )
        self.ingest.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=5,
                max_batching_window=Duration.seconds(5),
                report_batch_item_failures=True,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=INGEST_PERMISSIONS["objects"],
                resources=[data.knowledge.arn_for_objects(f"{KB_PREFIX}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=INGEST_PERMISSIONS["documents"], resources=[data.documents.table_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=INGEST_PERMISSIONS["key"], resources=[data.key.key_arn])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=INGEST_PERMISSIONS["secret"], resources=[f"{secret.secret_arn}-??????"]
            )
        )
        self.search.grant(role, write=True)
        self.ingest_role = role
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "X-Ray writes take no resource ARN; documents are any object under kb/ (uploaded "
            "by users).",
            evidence=["Resource::*", f"Resource::{arn_token(data.knowledge, '/kb/*')}"],
        )
        if self.search.service == "es":
            self._setup(config, layers)

    def _setup(self, config: DeployConfig, layers: Layers) -> None:
        """A custom resource that maps the functions' roles to a knowledge-only search role."""
        self.setup, _ = make_function(
            self,
            FunctionSpec(
                name="search-setup",
                code_dir=ROOT / "functions" / "search_setup",
                description=f"flowwright {config.stage}: search roles and pipelines",
                layers=layers.for_function("search_setup"),
                environment={},
                timeout_s=300,
            ),
            log_retention_days=config.log_retention_days,
            role=self.search.admin,
        )
        self.search.admin.add_to_policy(
            iam.PolicyStatement(
                actions=["es:ESHttpGet", "es:ESHttpPut"],
                resources=[f"{self.search.domain.domain_arn}/*"],
            )
        )
        acknowledge(
            self.search.admin,
            "AwsSolutions-IAM5",
            "X-Ray writes take no resource ARN; the security API lives under the domain's path.",
            evidence=["Resource::*", f"Resource::{arn_token(self.search.domain)}/*"],
        )

    def finish(self, readers: list[iam.IRole]) -> None:
        """Grant search to ``readers`` and write the access policy and role mapping."""
        for role in readers:
            self.search.grant(role, write=False)
        self.search.finish()
        if self.search.service != "es":
            return
        resource = CfnCustomResource(self, "SearchRoles", service_token=self.setup.function_arn)
        resource.add_property_override("Endpoint", self.search.endpoint)
        resource.add_property_override("WriterRoles", [self.ingest_role.role_arn])
        resource.add_property_override("ReaderRoles", [r.role_arn for r in readers])
        resource.node.add_dependency(self.search.domain)
