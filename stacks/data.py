"""Buckets, tables and the key that encrypts them."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.config import DeployConfig
from stacks.nag import acknowledge

__all__ = ["Data"]


class Data(Construct):
    """KMS key, S3 buckets (payloads, knowledge, access logs) and DynamoDB tables.

    Tables: ``runs`` (one item per run), ``events`` (node executions: run_id + sk),
    ``conversations`` (variables and messages: pk + sk), ``api_keys`` (hashed keys) and
    ``documents`` (knowledge documents: kb_id + doc_id). All have point-in-time recovery.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"flowwright {config.stage}: data at rest",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # log delivery cannot use a KMS key
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the access-log bucket itself; logging it into itself would loop.",
        )
        self.payloads = self._bucket(
            "Payloads",
            versioned=False,
            lifecycle=[
                s3.LifecycleRule(
                    prefix="runs/",
                    expiration=Duration.days(config.payload_retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        self.knowledge = self._bucket(
            "Knowledge",
            versioned=True,
            lifecycle=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30))],
        )
        self.runs = self._table("Runs", "run_id", None)
        self.runs.add_global_secondary_index(
            index_name="by_app",
            partition_key=dynamodb.Attribute(name="app", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="created_at", type=dynamodb.AttributeType.STRING),
        )
        self.events = self._table("Events", "run_id", "sk")
        self.conversations = self._table("Conversations", "pk", "sk")
        self.api_keys = self._table("ApiKeys", "key_hash", None)
        self.documents = self._table("Documents", "kb_id", "doc_id")

    def _bucket(
        self, name: str, *, versioned: bool, lifecycle: list[s3.LifecycleRule]
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=versioned,
            lifecycle_rules=lifecycle,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{name.lower()}/",
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _table(self, name: str, hash_key: str, range_key: str | None) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            name,
            partition_key=dynamodb.Attribute(name=hash_key, type=dynamodb.AttributeType.STRING),
            sort_key=(
                dynamodb.Attribute(name=range_key, type=dynamodb.AttributeType.STRING)
                if range_key
                else None
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
