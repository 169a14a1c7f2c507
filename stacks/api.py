"""The HTTPS front door: API Gateway (REST) streaming from one API function.

The API function runs the ASGI app (``flowwright.api.asgi:app``) under the Lambda Web
Adapter, which turns Lambda's response streaming into HTTP streaming for uvicorn; API
Gateway's ``STREAM`` transfer mode passes server-sent events through as they are written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from aws_cdk import ArnFormat, CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.config import DeployConfig
from stacks.data import Data
from stacks.functions import model_environment
from stacks.lambdas import FunctionSpec, make_function, retention
from stacks.layers import Layers
from stacks.nag import acknowledge, arn_token

__all__ = ["API_PERMISSIONS", "UNAUTHORIZED_BODY", "WEB_ADAPTER_ACCOUNT", "Api"]

ROOT = Path(__file__).resolve().parents[1]
#: The Lambda Web Adapter's publisher (github.com/awslabs/aws-lambda-web-adapter).
WEB_ADAPTER_ACCOUNT = "753240598075"
#: Dify's body for a request without a bearer key (API Gateway answers it before the function).
UNAUTHORIZED_BODY = {
    "code": "unauthorized",
    "message": "Authorization header must be provided and start with 'Bearer'",
    "status": 401,
}
#: What the API function's code does, by resource (asserted against the template).
API_PERMISSIONS = {
    "machines": ["states:StartExecution", "states:StartSyncExecution"],
    "executions": ["states:DescribeExecution", "states:StopExecution"],
    "tables": [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ],
    "payloads": ["s3:GetObject", "s3:PutObject"],
    "knowledge": ["s3:DeleteObject", "s3:PutObject"],
    "key": ["kms:Decrypt", "kms:GenerateDataKey"],
    "secret": ["secretsmanager:GetSecretValue"],
}


def api_code(apps_dir: Path) -> Path:
    """The API function's code: functions/api plus the app files it serves (in ``apps/``),
    staged in a fresh folder (the asset hash follows the content)."""
    staged = Path(tempfile.mkdtemp(prefix="flowwright-api-"))
    shutil.copytree(ROOT / "functions" / "api", staged, dirs_exist_ok=True)
    (staged / "apps").mkdir()
    for path in sorted([*apps_dir.glob("*.yml"), *apps_dir.glob("*.yaml")]):
        shutil.copy2(path, staged / "apps" / path.name)
    return staged


def _logical_id(construct: Construct) -> str:
    cfn = construct.node.default_child
    assert isinstance(cfn, CfnResource)
    return str(Stack.of(construct).resolve(Stack.of(construct).get_logical_id(cfn)))


class Api(Construct):
    """``rest_api`` (its ``url`` is the Service API base) and the ``function`` behind it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        data: Data,
        layers: Layers,
        secret: secretsmanager.ISecret,
        machines: dict[str, sfn.StateMachine],
        search_endpoint: str,
        search_service: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        adapter = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "WebAdapter",
            f"arn:aws:lambda:{stack.region}:{WEB_ADAPTER_ACCOUNT}:layer:"
            f"LambdaAdapterLayerArm64:{config.web_adapter_version}",
        )
        self.function, role = make_function(
            self,
            FunctionSpec(
                name="api",
                code_dir=api_code(ROOT / config.apps_dir),
                description=f"flowwright {config.stage}: Service API",
                handler="run.sh",
                layers=[*layers.for_function("api"), adapter],
                environment={
                    "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
                    "AWS_LWA_INVOKE_MODE": "response_stream",
                    "AWS_LWA_READINESS_CHECK_PATH": "/healthz",
                    "PORT": "8080",
                    "FLOWWRIGHT_STAGE": config.stage,
                    "FLOWWRIGHT_APP_MACHINES": stack.to_json_string(
                        {name: m.state_machine_arn for name, m in machines.items()}
                    ),
                    "FLOWWRIGHT_PAYLOAD_BUCKET": data.payloads.bucket_name,
                    "FLOWWRIGHT_KNOWLEDGE_BUCKET": data.knowledge.bucket_name,
                    "FLOWWRIGHT_RUNS_TABLE": data.runs.table_name,
                    "FLOWWRIGHT_EVENTS_TABLE": data.events.table_name,
                    "FLOWWRIGHT_CONVERSATIONS_TABLE": data.conversations.table_name,
                    "FLOWWRIGHT_API_KEYS_TABLE": data.api_keys.table_name,
                    "FLOWWRIGHT_DOCUMENTS_TABLE": data.documents.table_name,
                    "FLOWWRIGHT_SEARCH_ENDPOINT": search_endpoint,
                    "FLOWWRIGHT_SEARCH_SERVICE": search_service,
                    **model_environment(config, secret),
                },
                memory_mb=1024,
                timeout_s=900,
            ),
            log_retention_days=config.log_retention_days,
        )
        self.role = role
        self._grant(role, data, secret, machines)
        self.rest_api = self._rest_api(config)

    def _grant(
        self,
        role: iam.Role,
        data: Data,
        secret: secretsmanager.ISecret,
        machines: dict[str, sfn.StateMachine],
    ) -> None:
        stack = Stack.of(self)
        arns = [m.state_machine_arn for m in machines.values()]
        executions = [
            stack.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{m.state_machine_name}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for m in machines.values()
        ]
        statements = {
            "machines": arns,
            "executions": executions,
            "tables": [
                t.table_arn
                for t in (
                    data.runs,
                    data.events,
                    data.conversations,
                    data.api_keys,
                    data.documents,
                )
            ]
            + [f"{data.runs.table_arn}/index/*"],
            "payloads": [
                data.payloads.arn_for_objects("runs/*"),
                data.payloads.arn_for_objects("uploads/*"),
            ],
            "knowledge": [data.knowledge.arn_for_objects("kb/*")],
            "key": [data.key.key_arn],
            "secret": [f"{secret.secret_arn}-??????"],
        }
        for kind, resources in statements.items():
            if resources:
                role.add_to_policy(
                    iam.PolicyStatement(actions=API_PERMISSIONS[kind], resources=resources)
                )
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "X-Ray writes take no resource ARN; executions, run payloads, uploads, knowledge "
            "documents and the runs-by-app index are named at run time, so each is granted by "
            "its prefix under one resource.",
            evidence=[
                "Resource::*",
                f"Resource::{arn_token(data.payloads, '/runs/*')}",
                f"Resource::{arn_token(data.payloads, '/uploads/*')}",
                f"Resource::{arn_token(data.knowledge, '/kb/*')}",
                f"Resource::{arn_token(data.runs, '/index/*')}",
                *(
                    "Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
                    f"execution:<{_logical_id(m)}.Name>:*"
                    for m in machines.values()
                ),
            ],
        )

    def _rest_api(self, config: DeployConfig) -> apigateway.RestApi:
        access_logs = logs.LogGroup(
            self,
            "access-logs",
            retention=retention(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=f"flowwright-{config.stage}",
            description=f"flowwright {config.stage}: Dify Service API",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            binary_media_types=["multipart/form-data"],
            deploy_options=apigateway.StageOptions(
                stage_name=config.stage,
                throttling_rate_limit=config.api_throttle_rate,
                throttling_burst_limit=config.api_throttle_burst,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                metrics_enabled=True,
                tracing_enabled=True,
            ),
        )
        integration = apigateway.LambdaIntegration(
            self.function,
            proxy=True,
            response_transfer_mode=apigateway.ResponseTransferMode.STREAM,
            timeout=Duration.minutes(15),
            scope_permission_to_method=False,
        )
        validator = api.add_request_validator(
            "KeyRequired", validate_request_parameters=True, validate_request_body=True
        )
        # /v1/...: the bearer key must be present (API Gateway refuses early, with Dify's body);
        # the function checks that it is valid and belongs to the app.
        v1 = api.root.add_resource("v1")
        v1.add_proxy(any_method=False).add_method(
            "ANY",
            integration,
            request_parameters={"method.request.header.Authorization": True},
            request_validator=validator,
        )
        for path in ("openapi.json", "docs", "healthz"):
            api.root.add_resource(path).add_method("GET", integration)
        api.add_gateway_response(
            "MissingKey",
            type=apigateway.ResponseType.BAD_REQUEST_PARAMETERS,
            status_code="401",
            templates={"application/json": json.dumps(UNAUTHORIZED_BODY)},
        )
        for reason, rule in (
            (
                "App keys (Dify's `Authorization: Bearer app-...`) are checked by the API "
                "function against the hashed key table; Dify clients send no IAM or Cognito "
                "credentials.",
                "AwsSolutions-APIG4",
            ),
            ("As APIG4: Dify clients authenticate with app keys.", "AwsSolutions-COG4"),
            (
                "A web ACL costs money every month while idle; add one with "
                "wafv2.CfnWebACLAssociation on the stage where needed.",
                "AwsSolutions-APIG3",
            ),
        ):
            acknowledge(api, rule, reason)
        acknowledge(
            api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4",
            "API Gateway's account-level role for execution logs; AWS's policy is the documented "
            "way to let API Gateway write to CloudWatch Logs.",
            evidence=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs"
            ],
        )
        return api
