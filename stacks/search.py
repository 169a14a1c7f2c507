"""The search engine behind knowledge bases: an OpenSearch domain or a Serverless collection.

Both accept only SigV4-signed requests from the roles granted here; nothing is anonymous.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_opensearchserverless as aoss
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from stacks.config import DeployConfig
from stacks.nag import acknowledge, arn_token

__all__ = ["Search"]


class Search(Construct):
    """``endpoint`` (https URL), ``service`` (``es`` or ``aoss``) and ``grant(role)``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeployConfig, key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self._principals: list[iam.IRole] = []
        if config.search_mode == "serverless":
            self.service = "aoss"
            self._collection_name = f"flowwright-{config.stage}"[:32]
            self._serverless(key)
        else:
            self.service = "es"
            self._domain(key)

    # ---- managed domain -------------------------------------------------------------------

    def _domain(self, key: kms.IKey) -> None:
        config = self.config
        # The fine-grained access control master user: the setup function's role, which maps
        # the functions' roles to a role limited to the knowledge indexes (stacks/knowledge.py).
        self.admin = iam.Role(
            self,
            "Admin",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"flowwright {config.stage}: OpenSearch master user (search setup)",
        )
        self.domain_name = f"flowwright-{config.stage}"[:28]
        self.domain = opensearch.Domain(
            self,
            "Domain",
            domain_name=self.domain_name,
            version=opensearch.EngineVersion.OPENSEARCH_2_19,
            capacity=opensearch.CapacityConfig(
                data_nodes=config.search_instance_count,
                data_node_instance_type=config.search_instance_type,
                multi_az_with_standby_enabled=False,
            ),
            ebs=opensearch.EbsOptions(
                volume_size=config.search_volume_gb, volume_type=ec2.EbsDeviceVolumeType.GP3
            ),
            zone_awareness=opensearch.ZoneAwarenessConfig(
                enabled=config.search_instance_count > 1,
                availability_zone_count=2 if config.search_instance_count > 1 else None,
            ),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True, kms_key=key),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2,
            fine_grained_access_control=opensearch.AdvancedSecurityOptions(
                master_user_arn=self.admin.role_arn
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.endpoint = f"https://{self.domain.domain_endpoint}"
        acknowledge(
            self.domain,
            "AwsSolutions-OS1",
            "Outside a VPC so that functions need no NAT gateway or interface endpoints (which "
            "cost money while idle); every request must be SigV4-signed by a role named in the "
            "domain policy, and fine-grained access control maps only those roles.",
        )
        acknowledge(
            self.domain,
            "AwsSolutions-OS3",
            "Access is by IAM identity (domain policy + fine-grained access control), not by "
            "source IP: Lambda functions have no fixed addresses.",
        )
        acknowledge(
            self.domain,
            "AwsSolutions-OS4",
            "Dedicated master nodes triple the idle cost; set searchInstanceCount for data "
            "nodes and add masters in stacks/search.py for production clusters.",
        )
        acknowledge(
            self.domain,
            "AwsSolutions-OS7",
            "Zone awareness needs two or more data nodes; it is on when searchInstanceCount > 1.",
        )
        acknowledge(
            self.domain,
            "AwsSolutions-OS9",
            "Slow logs need a log-group resource policy custom resource; indexing and search "
            "errors are logged by the ingest and retrieval functions instead.",
            evidence=["LogExport::SEARCH_SLOW_LOGS", "LogExport::INDEX_SLOW_LOGS"],
        )

    # ---- serverless collection -------------------------------------------------------------

    def _serverless(self, key: kms.IKey) -> None:
        name = self._collection_name
        encryption = aoss.CfnSecurityPolicy(
            self,
            "Encryption",
            name=f"{name}-enc"[:32],
            type="encryption",
            policy=json.dumps(
                {
                    "Rules": [{"ResourceType": "collection", "Resource": [f"collection/{name}"]}],
                    "AWSOwnedKey": False,
                    "KmsARN": key.key_arn,
                }
            ),
        )
        network = aoss.CfnSecurityPolicy(
            self,
            "Network",
            name=f"{name}-net"[:32],
            type="network",
            # Reachable over HTTPS, but only SigV4 requests from the data-access roles succeed.
            policy=json.dumps(
                [
                    {
                        "Rules": [
                            {"ResourceType": "collection", "Resource": [f"collection/{name}"]}
                        ],
                        "AllowFromPublic": True,
                    }
                ]
            ),
        )
        self.collection = aoss.CfnCollection(self, "Collection", name=name, type="VECTORSEARCH")
        self.collection.add_dependency(encryption)
        self.collection.add_dependency(network)
        self.endpoint = self.collection.attr_collection_endpoint

    def finish(self) -> None:
        """Write the access policy once every role that needs search has been granted."""
        if not self._principals:
            return
        arns = [role.role_arn for role in self._principals]
        if self.service == "es":
            # Set on the CloudFormation resource itself: Domain.add_access_policies would add a
            # deploy-time custom resource (another function with broad KMS rights).
            policy = iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        actions=[
                            "es:ESHttpGet",
                            "es:ESHttpPost",
                            "es:ESHttpPut",
                            "es:ESHttpDelete",
                        ],
                        principals=[iam.ArnPrincipal(a) for a in [*arns, self.admin.role_arn]],
                        # by name: the domain's own ARN attribute would be a self-reference
                        resources=[
                            Stack.of(self).format_arn(
                                service="es",
                                resource="domain",
                                resource_name=f"{self.domain_name}/*",
                            )
                        ],
                    )
                ]
            )
            cfn = self.domain.node.default_child
            assert isinstance(cfn, opensearch.CfnDomain)
            cfn.access_policies = policy.to_json()
            return
        name = self._collection_name
        aoss.CfnAccessPolicy(
            self,
            "DataAccess",
            name=f"{name}-data"[:32],
            type="data",
            policy=json.dumps(
                [
                    {
                        "Rules": [
                            {
                                "ResourceType": "index",
                                "Resource": [f"index/{name}/flowwright-kb-*"],
                                "Permission": [
                                    "aoss:CreateIndex",
                                    "aoss:DescribeIndex",
                                    "aoss:UpdateIndex",
                                    "aoss:DeleteIndex",
                                    "aoss:ReadDocument",
                                    "aoss:WriteDocument",
                                ],
                            }
                        ],
                        "Principal": arns,
                    }
                ]
            ),
        )

    def grant(self, role: iam.IRole, *, write: bool) -> None:
        """Let ``role`` search (and with ``write`` index) the knowledge indexes."""
        self._principals.append(role)
        if self.service == "es":
            actions = ["es:ESHttpGet", "es:ESHttpPost"]
            if write:
                actions += ["es:ESHttpPut", "es:ESHttpDelete"]
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=actions, resources=[f"{self.domain.domain_arn}/*"])
            )
            acknowledge(
                role,
                "AwsSolutions-IAM5",
                "Indexes are created per knowledge base at run time, so the domain is granted by "
                "path; fine-grained access control limits the role to flowwright-kb-* indexes.",
                evidence=[f"Resource::{arn_token(self.domain)}/*"],
            )
        else:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["aoss:APIAccessAll"], resources=[self.collection.attr_arn]
                )
            )
