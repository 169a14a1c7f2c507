"""Deployment configuration: the ``flowwright`` object in cdk.json, overridable with ``-c``.

cdk deploy -c stage=prod -c appsDir=apps
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DeployConfig"]

MachineType = Literal["EXPRESS", "STANDARD"]


class DeployConfig(BaseModel):
    """Everything a stage needs, with documented defaults."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    stage: str = Field(default="dev", pattern=r"^[a-z][a-z0-9-]{0,19}$")
    #: Folder (relative to the repository) whose ``*.yml`` apps become state machines.
    apps_dir: str = Field(default="examples", alias="appsDir")
    #: Step Functions type per app name (``app.name`` in the DSL); others use the default.
    state_machine_types: dict[str, MachineType] = Field(
        default_factory=dict, alias="stateMachineTypes"
    )
    default_state_machine_type: MachineType = Field(
        default="STANDARD", alias="defaultStateMachineType"
    )
    #: ``cloud`` maps Dify providers to litellm; ``offline`` is for local use only.
    model_profile: Literal["cloud"] = Field(default="cloud", alias="modelProfile")
    #: Exact ``provider/model`` (or ``*``) to litellm model strings.
    model_map: dict[str, str] = Field(default_factory=dict, alias="modelMap")
    #: Secrets Manager secret (JSON object of litellm variables such as OPENAI_API_KEY).
    provider_secret_name: str = Field(
        default="flowwright/provider-keys", alias="providerSecretName"
    )
    log_retention_days: int = Field(default=30, alias="logRetentionDays")
    payload_retention_days: int = Field(default=7, alias="payloadRetentionDays", ge=1)
    alarm_email: str | None = Field(default=None, alias="alarmEmail")
    #: ``domain`` (managed OpenSearch domain) or ``serverless`` (OpenSearch Serverless collection).
    search_mode: Literal["domain", "serverless"] = Field(default="domain", alias="searchMode")
    search_instance_type: str = Field(default="t3.small.search", alias="searchInstanceType")
    search_instance_count: int = Field(default=1, ge=1, alias="searchInstanceCount")
    search_volume_gb: int = Field(default=10, ge=10, alias="searchVolumeGb")
    #: litellm embedding model for knowledge bases created without one.
    embedding_model: str = Field(
        default="bedrock/amazon.titan-embed-text-v2:0", alias="embeddingModel"
    )
    #: Files larger than this end as documents in error (``too_large``).
    max_document_mb: int = Field(default=50, ge=1, le=1024, alias="maxDocumentMb")
    #: Deliveries of one S3 event before it moves to the dead-letter queue.
    ingest_max_receive_count: int = Field(default=3, ge=1, alias="ingestMaxReceiveCount")
    #: Stage-wide API Gateway throttling (requests per second, burst).
    api_throttle_rate: float = Field(default=50, gt=0, alias="apiThrottleRate")
    api_throttle_burst: int = Field(default=100, ge=1, alias="apiThrottleBurst")
    #: Version of the Lambda Web Adapter layer (LambdaAdapterLayerArm64) the API runs under.
    web_adapter_version: int = Field(default=25, ge=1, alias="webAdapterVersion")

    @field_validator("state_machine_types")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        return {str(k): v for k, v in value.items()}

    @classmethod
    def from_context(cls, node: Any) -> DeployConfig:
        """Read ``flowwright`` from cdk.json context; top-level ``-c key=value`` wins."""
        base = dict(node.try_get_context("flowwright") or {})
        for key in ("stage", "appsDir", "defaultStateMachineType", "alarmEmail", "searchMode"):
            override = node.try_get_context(key)
            if override is not None:
                base[key] = override
        return cls.model_validate(base)

    def machine_type(self, app_name: str) -> MachineType:
        return self.state_machine_types.get(app_name, self.default_state_machine_type)
