"""One way to make a flowwright Lambda function: its own role, log group, X-Ray, arm64."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

__all__ = ["PYTHON_RUNTIME", "FunctionSpec", "make_function", "retention"]

ROOT = Path(__file__).resolve().parents[1]
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between functions; everything else is the same for all of them."""

    name: str
    code_dir: Path
    description: str
    layers: list[lambda_.ILayerVersion]
    environment: dict[str, str]
    memory_mb: int = 256
    timeout_s: int = 30
    handler: str = "handler.handler"
    snap_start: bool = False


def make_function(
    scope: Construct,
    spec: FunctionSpec,
    *,
    log_retention_days: int,
    role: iam.Role | None = None,
) -> tuple[lambda_.Function, iam.Role]:
    """The function and its own role (or ``role``), which is granted only the function's log
    group here; callers add what the code uses."""
    log_group = logs.LogGroup(
        scope,
        f"{spec.name}-logs",
        retention=retention(log_retention_days),
        removal_policy=RemovalPolicy.DESTROY,
    )
    role = role or iam.Role(
        scope,
        f"{spec.name}-role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=spec.description,
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        spec.name,
        description=spec.description,
        runtime=PYTHON_RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        handler=spec.handler,
        code=lambda_.Code.from_asset(str(spec.code_dir), exclude=["**/__pycache__", "**/*.pyc"]),
        layers=spec.layers,
        memory_size=spec.memory_mb,
        timeout=Duration.seconds(spec.timeout_s),
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        role=role,
        environment={
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "POWERTOOLS_SERVICE_NAME": f"flowwright-{spec.name}",
            **spec.environment,
        },
        snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if spec.snap_start else None,
    )
    return function, role


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
