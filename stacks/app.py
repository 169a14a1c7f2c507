"""CDK entry point (cdk.json: ``"app"``). Offline: no credentials, no Docker needed to synth."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `stacks` as a package when run as a script
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from stacks.config import DeployConfig  # noqa: E402
from stacks.stack import FlowwrightStack  # noqa: E402


def build_app(app: cdk.App | None = None) -> cdk.App:
    """The CDK app with the stage's stack and cdk-nag's AWS Solutions checks."""
    app = app or cdk.App()
    config = DeployConfig.from_context(app.node)
    env = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    FlowwrightStack(app, f"Flowwright-{config.stage}", config=config, env=env)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
