"""Each app file becomes a state machine, compiled at synth time."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from flowwright.compiler import compile_app
from flowwright.dsl import load_app

from stacks.config import DeployConfig
from stacks.functions import NodeFunctions
from stacks.lambdas import retention
from stacks.nag import acknowledge

__all__ = ["AppMachines", "used_functions"]

ROOT = Path(__file__).resolve().parents[1]
_PLACEHOLDER = re.compile(r"\$\{Fn_([a-z_]+)\}")


def used_functions(definition: dict[str, Any]) -> list[str]:
    """Keys of the node functions a compiled definition invokes."""
    return sorted(set(_PLACEHOLDER.findall(json.dumps(definition))))


def slug(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-").lower()
    return cleaned[:48] or "app"


class AppMachines(Construct):
    """``machines[app name]``: one state machine per ``*.yml`` in the configured folder.

    Each definition is exactly ``flowwright compile`` of the file, with ``${Fn_<key>}``
    substituted by the ``live`` alias of that node function; the machine's role may invoke
    only the functions its definition uses.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeployConfig, functions: NodeFunctions
    ) -> None:
        super().__init__(scope, construct_id)
        self.machines: dict[str, sfn.StateMachine] = {}
        self.definitions: dict[str, dict[str, Any]] = {}
        folder = (ROOT / config.apps_dir).resolve()
        if not folder.is_dir():
            raise ValueError(f"appsDir {config.apps_dir!r}: no such folder ({folder})")
        for path in sorted(folder.glob("*.yml")):
            app = load_app(path)  # a broken app stops the synth with every problem listed
            if app.name in self.machines:
                raise ValueError(
                    f"{path}: app name {app.name!r} is used by another file in {config.apps_dir}"
                )
            definition = compile_app(app)
            used = used_functions(definition)
            name = slug(app.name)
            log_group = logs.LogGroup(
                self,
                f"{name}-logs",
                log_group_name=f"/aws/vendedlogs/states/flowwright-{config.stage}-{name}",
                retention=retention(config.log_retention_days),
                removal_policy=RemovalPolicy.DESTROY,
            )
            machine = sfn.StateMachine(
                self,
                name,
                state_machine_name=f"flowwright-{config.stage}-{name}",
                definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
                definition_substitutions={
                    f"Fn_{k}": functions.aliases[k].function_arn for k in used
                },
                state_machine_type=sfn.StateMachineType[config.machine_type(app.name)],
                logs=sfn.LogOptions(
                    destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False
                ),
                tracing_enabled=True,
            )
            for key in used:
                functions.aliases[key].grant_invoke(machine)
            acknowledge(
                machine.role,
                "AwsSolutions-IAM5",
                "Step Functions log delivery and X-Ray writes take no resource ARN.",
                evidence=["Resource::*"],
            )
            self.machines[app.name] = machine
            self.definitions[app.name] = definition
