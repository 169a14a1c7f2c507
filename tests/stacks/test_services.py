"""The API, knowledge ingestion and search parts of the stack, by template assertions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.api import API_PERMISSIONS, UNAUTHORIZED_BODY
from stacks.knowledge import INGEST_PERMISSIONS
from tests.stacks.conftest import cdk_context
from tests.stacks.test_stack import _actions, _statements, functions_by_key, resources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def serverless() -> Any:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from stacks.app import build_app

    app = cdk.App(context=cdk_context(searchMode="serverless", stage="prod"))
    build_app(app)
    app.synth()  # cdk-nag gate for this variant too
    stack = next(c for c in app.node.children if isinstance(c, cdk.Stack))
    return Template.from_stack(stack)


def granted(template: Any, key: str) -> list[str]:
    _, props = functions_by_key(template)[key]
    role = props["Role"]["Fn::GetAtt"][0]
    return sorted(a for s in _statements(template, role) for a in _actions(s))


BASELINE = [
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
]


def test_s3_events_reach_the_ingest_function_through_a_queue_with_dlq(template: Any) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    with_dlq = [q["Properties"] for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert len(queues) == 2 and len(with_dlq) == 1
    assert with_dlq[0]["RedrivePolicy"]["maxReceiveCount"] == 3
    assert all(q["Properties"]["SqsManagedSseEnabled"] for q in queues.values())
    notifications = resources(template, "Custom::S3BucketNotifications")
    config = next(iter(notifications.values()))["Properties"]["NotificationConfiguration"]
    events = sorted(e for c in config["QueueConfigurations"] for e in c["Events"])
    assert events == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    for c in config["QueueConfigurations"]:
        assert c["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "kb/"}]
    mappings = resources(template, "AWS::Lambda::EventSourceMapping")
    (mapping,) = mappings.values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    ingest_id, props = functions_by_key(template)["ingest"]
    assert mapping["Properties"]["FunctionName"] == {"Ref": ingest_id}
    assert props["Timeout"] == 900
    assert props["Environment"]["Variables"]["FLOWWRIGHT_SEARCH_SERVICE"] == "es"


def test_ingest_function_may_do_only_what_its_code_does(template: Any) -> None:
    expected = sorted([a for actions in INGEST_PERMISSIONS.values() for a in actions] + BASELINE)
    assert granted(template, "ingest") == expected


def test_api_function_may_do_only_what_its_code_does(template: Any) -> None:
    expected = [a for actions in API_PERMISSIONS.values() for a in actions]
    expected += ["es:ESHttpGet", "es:ESHttpPost"]  # search, read-only
    assert granted(template, "api") == sorted(expected + BASELINE)


def test_search_domain_is_encrypted_and_iam_only(template: Any) -> None:
    (domain,) = resources(template, "AWS::OpenSearchService::Domain").values()
    props = domain["Properties"]
    assert props["EncryptionAtRestOptions"]["Enabled"] is True
    assert props["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert props["DomainEndpointOptions"]["EnforceHTTPS"] is True
    security = props["AdvancedSecurityOptions"]
    assert security["Enabled"] is True and security["InternalUserDatabaseEnabled"] is False
    assert props["EngineVersion"] == "OpenSearch_2.19"
    statements = props["AccessPolicies"]["Statement"]
    principals = [p for s in statements for p in s["Principal"]["AWS"]]
    assert principals and "*" not in json.dumps(principals)
    # the functions' roles are mapped to a knowledge-only role by the setup custom resource
    (setup,) = resources(template, "AWS::CloudFormation::CustomResource").values()
    assert len(setup["Properties"]["ReaderRoles"]) == 2  # the API and the retrieval node
    assert len(setup["Properties"]["WriterRoles"]) == 1


def test_serverless_collection_is_private_to_the_roles(serverless: Any) -> None:
    assert not resources(serverless, "AWS::OpenSearchService::Domain")
    (collection,) = resources(serverless, "AWS::OpenSearchServerless::Collection").values()
    assert collection["Properties"]["Type"] == "VECTORSEARCH"
    policies = {
        p["Properties"]["Type"]: p["Properties"]
        for p in resources(serverless, "AWS::OpenSearchServerless::SecurityPolicy").values()
    }
    # the policy is a JSON string joined with the data key's ARN
    assert '"AWSOwnedKey": false' in json.dumps(policies["encryption"]["Policy"]).replace(
        '\\"', '"'
    )
    (access,) = resources(serverless, "AWS::OpenSearchServerless::AccessPolicy").values()
    assert access["Properties"]["Type"] == "data"
    ingest = functions_by_key(serverless)["ingest"][1]
    assert ingest["Environment"]["Variables"]["FLOWWRIGHT_SEARCH_SERVICE"] == "aoss"


def test_api_streams_every_v1_route_and_requires_a_key(template: Any) -> None:
    (api,) = resources(template, "AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    methods = [m["Properties"] for m in resources(template, "AWS::ApiGateway::Method").values()]
    proxied = [m for m in methods if m["HttpMethod"] == "ANY"]
    assert proxied and all(
        m["RequestParameters"] == {"method.request.header.Authorization": True}
        and "RequestValidatorId" in m
        for m in proxied
    )
    for m in methods:
        if m["HttpMethod"] == "OPTIONS":
            continue
        integration = m["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["ResponseTransferMode"] == "STREAM"
        assert integration["TimeoutInMillis"] == 15 * 60 * 1000
        assert "response-streaming-invocations" in json.dumps(integration["Uri"])
    (response,) = resources(template, "AWS::ApiGateway::GatewayResponse").values()
    assert response["Properties"]["StatusCode"] == "401"
    body = response["Properties"]["ResponseTemplates"]["application/json"]
    assert json.loads(body) == UNAUTHORIZED_BODY


def test_stage_throttles_and_logs_access(template: Any) -> None:
    (stage,) = resources(template, "AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "dev" and props["TracingEnabled"] is True
    settings = props["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] == 50 and settings["ThrottlingBurstLimit"] == 100
    assert settings["LoggingLevel"] == "ERROR"
    assert "DestinationArn" in props["AccessLogSetting"]
    fields = json.loads(props["AccessLogSetting"]["Format"])
    assert {"status", "requestId", "ip"} <= set(fields)


def test_api_function_runs_the_asgi_app_under_the_web_adapter(template: Any) -> None:
    _, props = functions_by_key(template)["api"]
    env = props["Environment"]["Variables"]
    assert props["Handler"] == "run.sh"
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert "LambdaAdapterLayerArm64" in json.dumps(props["Layers"])
    machines = json.dumps(env["FLOWWRIGHT_APP_MACHINES"])
    assert "support-triage" in machines and "chat-assistant" in machines


def test_outputs_name_what_users_need(template: Any) -> None:
    outputs = template.to_json()["Outputs"]
    assert {"ApiUrl", "KnowledgeBucket", "SearchEndpoint", "IngestDeadLetterQueue"} <= set(outputs)
