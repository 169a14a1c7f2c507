"""cdk-nag acknowledgments, each placed next to the construct it concerns, with its reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct

__all__ = ["acknowledge", "arn_token"]


def arn_token(resource: IConstruct, suffix: str = "") -> str:
    """How cdk-nag spells a resource's ``Arn`` in IAM5 evidence (``<LogicalId.Arn>suffix``)."""
    cfn = resource.node.default_child
    assert isinstance(cfn, CfnResource)
    logical_id = Stack.of(resource).resolve(Stack.of(resource).get_logical_id(cfn))
    return f"<{logical_id}.Arn>{suffix}"


def acknowledge(
    scope: IConstruct, rule: str, reason: str, *, evidence: list[str] | None = None
) -> None:
    """Acknowledge an AwsSolutions ``rule`` on ``scope`` (one entry per piece of evidence)."""
    ids = (
        [f"AwsSolutions::{rule}[{e}]" for e in evidence] if evidence else [f"AwsSolutions::{rule}"]
    )
    Validations.of(scope).acknowledge(*(Acknowledgment(id=i, reason=reason) for i in ids))
