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

    @field_validator("state_machine_types")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        return {str(k): v for k, v in value.items()}

    @classmethod
    def from_context(cls, node: Any) -> DeployConfig:
        """Read ``flowwright`` from cdk.json context; top-level ``-c key=value`` wins."""
        base = dict(node.try_get_context("flowwright") or {})
        for key in ("stage", "appsDir", "defaultStateMachineType", "alarmEmail"):
            override = node.try_get_context(key)
            if override is not None:
                base[key] = override
        return cls.model_validate(base)

    def machine_type(self, app_name: str) -> MachineType:
        return self.state_machine_types.get(app_name, self.default_state_machine_type)
