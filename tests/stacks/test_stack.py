"""The CDK stack, by template assertions (properties, never hashed logical ids)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flowwright.compiler import compile_app
from flowwright.dsl import load_app
from flowwright.nodes.registry import FUNCTION_NAMES

from stacks.apps import used_functions
from stacks.functions import MODEL_FUNCTIONS, SEARCH_READERS, permissions_for
from stacks.layers import EXTRA_LAYERS
from tests.support import EXAMPLES

pytestmark = pytest.mark.slow


def resources(template: Any, kind: str) -> dict[str, dict[str, Any]]:
    return template.find_resources(kind)


def functions_by_key(template: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    found = {}
    for logical_id, resource in resources(template, "AWS::Lambda::Function").items():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        service = variables.get("POWERTOOLS_SERVICE_NAME", "")
        if service.startswith("flowwright-"):
            found[service.removeprefix("flowwright-").replace("-", "_")] = (
                logical_id,
                resource["Properties"],
            )
    return found


def node_functions(template: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    return {k: v for k, v in functions_by_key(template).items() if k in FUNCTION_NAMES}


def test_one_function_per_node_function(template: Any) -> None:
    functions = node_functions(template)
    assert sorted(functions) == sorted(FUNCTION_NAMES)
    for key, (_, props) in functions.items():
        assert props["Runtime"] == "python3.14" and props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Environment"]["Variables"]["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
        assert ("SnapStart" in props) == (key in MODEL_FUNCTIONS)
        # runtime library + core dependencies, and litellm only where models are called
        assert len(props["Layers"]) == 2 + len(EXTRA_LAYERS.get(key, []))
    assert functions["llm"][1]["MemorySize"] == 1024 and functions["llm"][1]["Timeout"] == 300
    assert functions["llm"][1]["SnapStart"] == {"ApplyOn": "PublishedVersions"}


def test_no_plaintext_provider_keys(template: Any) -> None:
    text = json.dumps(template.to_json())
    assert "OPENAI_API_KEY" not in text and "sk-" not in text
    llm = functions_by_key(template)["llm"][1]
    assert (
        llm["Environment"]["Variables"]["FLOWWRIGHT_PROVIDER_SECRET"] == "flowwright/provider-keys"
    )


def _statements(template: Any, role_logical_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        roles = policy["Properties"]["Roles"]
        if {"Ref": role_logical_id} in roles:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


@pytest.mark.parametrize("key", FUNCTION_NAMES)
def test_each_function_may_do_only_what_its_code_does(template: Any, key: str) -> None:
    _, props = functions_by_key(template)[key]
    role = props["Role"]["Fn::GetAtt"][0]
    granted = sorted(a for s in _statements(template, role) for a in _actions(s))
    search = ["es:ESHttpGet", "es:ESHttpPost"] if key in SEARCH_READERS else []
    expected = sorted(
        [a for actions in permissions_for(key).values() for a in actions]
        + search
        + [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTelemetryRecords",
            "xray:PutTraceSegments",
        ]
    )
    assert granted == expected
    assert all(s["Effect"] == "Allow" for s in _statements(template, role))
    text = json.dumps(_statements(template, role))
    assert (
        "dynamodb:*" not in text
        and "s3:*" not in text
        and '"*"' not in text.replace('"Resource": "*"', "")
    )


def test_state_machines_run_the_compiled_asl(template: Any) -> None:
    machines = resources(template, "AWS::StepFunctions::StateMachine")
    by_name = {m["Properties"]["StateMachineName"]: m["Properties"] for m in machines.values()}
    assert set(by_name) == {
        "flowwright-dev-support-triage",
        "flowwright-dev-chat-assistant",
        "flowwright-dev-handbook-qa",
    }
    functions = functions_by_key(template)
    aliases = resources(template, "AWS::Lambda::Alias")
    alias_of = {a["Properties"]["FunctionName"]["Ref"]: logical for logical, a in aliases.items()}
    for path in sorted(EXAMPLES.glob("*.yml")):
        app = load_app(path)
        definition = compile_app(app)
        props = by_name[f"flowwright-dev-{app.name}"]
        assert json.loads(props["DefinitionString"]) == definition
        substitutions = props["DefinitionSubstitutions"]
        assert sorted(substitutions) == sorted(f"Fn_{k}" for k in used_functions(definition))
        for name, value in substitutions.items():
            key = name.removeprefix("Fn_")
            assert value == {"Ref": alias_of[functions[key][0]]}
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert by_name["flowwright-dev-chat-assistant"]["StateMachineType"] == "EXPRESS"
    assert by_name["flowwright-dev-support-triage"]["StateMachineType"] == "STANDARD"


def test_state_machine_may_invoke_only_its_functions(template: Any) -> None:
    machines = resources(template, "AWS::StepFunctions::StateMachine")
    for machine in machines.values():
        role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        used = set(machine["Properties"]["DefinitionSubstitutions"])
        invoke = [s for s in _statements(template, role) if "lambda:InvokeFunction" in _actions(s)]
        refs = {
            json.dumps(r)
            for s in invoke
            for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        }
        assert len([r for r in refs if ":*" not in r]) == len(used)


def test_buckets_are_private_encrypted_and_tls_only(template: Any) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 3
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    policies = resources(template, "AWS::S3::BucketPolicy")
    tls_denies = [
        s
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert len(tls_denies) == 3
    kms_buckets = [
        b
        for b in buckets.values()
        if b["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["SSEAlgorithm"]
        == "aws:kms"
    ]
    assert len(kms_buckets) == 2  # payloads and knowledge; access logs must use SSE-S3


def test_payloads_expire_and_knowledge_is_versioned(template: Any) -> None:
    buckets = [b["Properties"] for b in resources(template, "AWS::S3::Bucket").values()]
    payloads = next(
        b
        for b in buckets
        if any(
            r.get("Prefix") == "runs/" for r in b.get("LifecycleConfiguration", {}).get("Rules", [])
        )
    )
    assert payloads["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 7
    assert (
        sum(1 for b in buckets if b.get("VersioningConfiguration", {}).get("Status") == "Enabled")
        == 1
    )


def test_tables_have_pitr_and_customer_keys(template: Any) -> None:
    tables = resources(template, "AWS::DynamoDB::Table")
    assert len(tables) == 5
    for table in tables.values():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert (
            props["SSESpecification"]["SSEEnabled"] is True
            and props["SSESpecification"]["SSEType"] == "KMS"
        )
        assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_key_rotation_and_log_retention(template: Any) -> None:
    keys = resources(template, "AWS::KMS::Key")
    assert all(k["Properties"]["EnableKeyRotation"] for k in keys.values())
    groups = resources(template, "AWS::Logs::LogGroup")
    assert groups and all(g["Properties"]["RetentionInDays"] == 30 for g in groups.values())


def test_alarms_cover_runs_and_functions(template: Any) -> None:
    alarms = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    metrics = {(a["Namespace"], a["MetricName"]) for a in alarms}
    assert {
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/States", "ExecutionsTimedOut"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/ApiGateway", "5XXError"),
    } <= metrics
    # per app: failed + timed out; per function (nodes, ingest, api): errors + throttles;
    # the ingest dead-letter queue and the API's 5xx answers
    assert len(alarms) == 3 * 2 + 2 * (len(FUNCTION_NAMES) + 2) + 2
    assert all(a["AlarmActions"] for a in alarms)
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
