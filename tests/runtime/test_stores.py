"""Conversation stores, event sinks, blob stores and value offloading (DynamoDB/S3 via moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from flowwright.runtime.blobs import InMemoryBlobStore, S3BlobStore
from flowwright.runtime.conversations import (
    DynamoDbConversationStore,
    InMemoryConversationStore,
    Message,
    SqliteConversationStore,
)
from flowwright.runtime.events import DynamoDbEventSink, InMemoryEventSink, NodeEvent
from flowwright.runtime.values import REF_KEY, Resolver, is_ref, json_size, offload_values
from moto import mock_aws

REGION = "us-east-1"
EVENTS_TABLE = "fw-events"
CONVERSATIONS_TABLE = "fw-conversations"
BUCKET = "fw-payloads"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def _table(resource: Any, name: str, hash_key: str, range_key: str) -> None:
    # moto's state outlives this test's mock when a session-wide runtime holds one open.
    if name in resource.meta.client.list_tables()["TableNames"]:
        resource.Table(name).delete()
    resource.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": range_key, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": hash_key, "AttributeType": "S"},
            {"AttributeName": range_key, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def dynamodb(aws: None) -> Any:
    resource = boto3.resource("dynamodb", region_name=REGION)
    _table(resource, EVENTS_TABLE, "run_id", "sk")
    _table(resource, CONVERSATIONS_TABLE, "pk", "sk")
    return resource


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    if BUCKET in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
        for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    else:
        client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def conversations(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "memory":
        return InMemoryConversationStore()
    if request.param == "sqlite":
        return SqliteConversationStore(tmp_path / "nested" / "conversations.sqlite")
    resource = request.getfixturevalue("dynamodb")
    return DynamoDbConversationStore(CONVERSATIONS_TABLE, resource=resource)


@pytest.fixture(params=["memory", "dynamodb"])
def events(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return InMemoryEventSink()
    return DynamoDbEventSink(EVENTS_TABLE, resource=request.getfixturevalue("dynamodb"))


@pytest.fixture(params=["memory", "s3"])
def blobs(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return InMemoryBlobStore()
    return S3BlobStore(BUCKET, client=request.getfixturevalue("s3"), prefix="runs/")


def _message(i: int) -> Message:
    return Message(query=f"q{i}", answer=f"a{i}", run_id=f"run-{i}", created_at=1000.0 + i / 8)


# --------------------------------------------------------------------------- conversations


def test_unknown_conversation_has_no_variables_and_no_messages(conversations: Any) -> None:
    assert conversations.variables("app", "nope") is None
    assert conversations.messages("app", "nope") == []
    assert conversations.messages("app", "nope", limit=3) == []


def test_variables_round_trip_with_unicode_and_nesting(conversations: Any) -> None:
    # GIVEN variables of every JSON type, with non-ASCII text
    values = {
        "name": "Zoë 世界 🚀",
        "count": 3,
        "ratio": 0.25,
        "flag": True,
        "nothing": None,
        "items": ["a", {"b": [1, 2.5]}],
        "obj": {"k": "v"},
    }
    # WHEN they are saved and read back
    conversations.save_variables("app", "c1", values)
    # THEN they come back equal, with types kept
    found = conversations.variables("app", "c1")
    assert found == values
    assert isinstance(found["count"], int) and isinstance(found["ratio"], float)


def test_saving_variables_replaces_the_previous_set(conversations: Any) -> None:
    conversations.save_variables("app", "c1", {"a": 1, "b": 2})
    conversations.save_variables("app", "c1", {"a": 10})
    assert conversations.variables("app", "c1") == {"a": 10}


def test_messages_come_back_in_chronological_order(conversations: Any) -> None:
    # GIVEN five turns appended one after another
    sent = [_message(i) for i in range(5)]
    for message in sent:
        conversations.append_message("app", "c1", message)
    # WHEN all messages are read
    found = conversations.messages("app", "c1")
    # THEN they come back oldest first with every field kept
    assert [m.query for m in found] == ["q0", "q1", "q2", "q3", "q4"]
    assert found == sent


@pytest.mark.parametrize(("limit", "expected"), [(1, ["q4"]), (2, ["q3", "q4"]), (9, None)])
def test_limit_returns_the_last_n_in_chronological_order(
    conversations: Any, limit: int, expected: list[str] | None
) -> None:
    for i in range(5):
        conversations.append_message("app", "c1", _message(i))
    found = [m.query for m in conversations.messages("app", "c1", limit=limit)]
    assert found == (expected or [f"q{i}" for i in range(5)])


def test_message_without_run_id_round_trips(conversations: Any) -> None:
    conversations.append_message("app", "c1", Message(query="¿qué?", answer="答え 🤖"))
    [found] = conversations.messages("app", "c1")
    assert (found.query, found.answer, found.run_id) == ("¿qué?", "答え 🤖", None)


def test_apps_and_conversations_are_isolated(conversations: Any) -> None:
    # GIVEN the same conversation id used by two apps, and a second conversation of one app
    conversations.save_variables("app-a", "c1", {"who": "a1"})
    conversations.save_variables("app-b", "c1", {"who": "b1"})
    conversations.append_message("app-a", "c1", Message(query="a1", answer="x"))
    conversations.append_message("app-b", "c1", Message(query="b1", answer="x"))
    conversations.append_message("app-a", "c2", Message(query="a2", answer="x"))
    # THEN each (app, conversation) sees only its own state
    assert conversations.variables("app-a", "c1") == {"who": "a1"}
    assert conversations.variables("app-b", "c1") == {"who": "b1"}
    assert conversations.variables("app-a", "c2") is None
    assert [m.query for m in conversations.messages("app-a", "c1")] == ["a1"]
    assert [m.query for m in conversations.messages("app-b", "c1")] == ["b1"]
    assert [m.query for m in conversations.messages("app-a", "c2")] == ["a2"]


def test_variables_do_not_appear_among_messages(conversations: Any) -> None:
    conversations.save_variables("app", "c1", {"a": 1})
    conversations.append_message("app", "c1", Message(query="q", answer="a"))
    assert [m.query for m in conversations.messages("app", "c1")] == ["q"]
    assert conversations.variables("app", "c1") == {"a": 1}


def test_dynamodb_keys_do_not_collide_on_separator(dynamodb: Any) -> None:
    # GIVEN an app name containing '#' and another app whose conversation id contains '#'
    store = DynamoDbConversationStore(CONVERSATIONS_TABLE, resource=dynamodb)
    store.save_variables("Support #1", "abc", {"secret": "app one"})
    # WHEN the other app reads its own (never written) conversation
    # THEN it sees nothing of the first app's state
    assert store.variables("Support ", "1#abc") is None


def test_in_memory_store_returns_copies() -> None:
    store = InMemoryConversationStore()
    values = {"a": 1}
    store.save_variables("app", "c", values)
    values["a"] = 2
    store.variables("app", "c")["a"] = 3  # type: ignore[index]
    assert store.variables("app", "c") == {"a": 1}


def test_sqlite_store_persists_across_instances(tmp_path: Path) -> None:
    # GIVEN state written through one store object
    path = tmp_path / "conv.sqlite"
    first = SqliteConversationStore(path)
    first.save_variables("app", "c1", {"n": 1})
    first.append_message("app", "c1", _message(1))
    # WHEN another store object opens the same file
    second = SqliteConversationStore(path)
    # THEN it sees the same state
    assert second.variables("app", "c1") == {"n": 1}
    assert second.messages("app", "c1") == [_message(1)]


def test_dynamodb_conversation_items_layout(dynamodb: Any) -> None:
    # The stacks grant access to one table keyed pk/sk; check the store uses it as documented.
    store = DynamoDbConversationStore(CONVERSATIONS_TABLE, resource=dynamodb)
    store.save_variables("app", "c1", {"x": 1.5})
    store.append_message("app", "c1", _message(1))
    items = dynamodb.Table(CONVERSATIONS_TABLE).scan()["Items"]
    assert {i["pk"] for i in items} == {"3:app#c1"}
    assert sorted(i["sk"].split("#")[0] for i in items) == ["msg", "vars"]
    [message] = [i for i in items if i["sk"].startswith("msg#")]
    assert isinstance(message["created_at"], Decimal)


# --------------------------------------------------------------------------- events


def _event(run_id: str, node_id: str, event: str = "node_started", **fields: Any) -> NodeEvent:
    status = "running" if event == "node_started" else "succeeded"
    return NodeEvent(
        run_id=run_id,
        event=event,  # type: ignore[arg-type]
        node_id=node_id,
        node_type="llm",
        status=status,  # type: ignore[arg-type]
        **fields,
    )


def test_unknown_run_has_no_events(events: Any) -> None:
    assert events.list_run("nope") == []


def test_events_come_back_in_emission_order_per_run(events: Any) -> None:
    # GIVEN two runs whose events interleave
    emitted = [
        _event("r1", "start"),
        _event("r2", "start"),
        _event("r1", "start", "node_finished"),
        _event("r1", "llm"),
        _event("r2", "start", "node_finished"),
        _event("r1", "llm", "node_finished"),
    ]
    for event in emitted:
        events.emit(event)
    # WHEN each run's events are listed
    # THEN each run sees its own events, in the order they were emitted
    assert events.list_run("r1") == [e for e in emitted if e.run_id == "r1"]
    assert [(e.node_id, e.event) for e in events.list_run("r2")] == [
        ("start", "node_started"),
        ("start", "node_finished"),
    ]


def test_event_fields_round_trip_with_floats_and_unicode(events: Any) -> None:
    # GIVEN an event with floats at every depth (DynamoDB needs Decimals) and non-ASCII text
    sent = _event(
        "r1",
        "llm",
        "node_finished",
        title="Résumé 要約",
        position=["iter", 2],
        attempt=1,
        ts=1722222222.123456,
        elapsed_ms=12.5,
        tokens=42,
        usage={"prompt_tokens": 30, "total_price": 0.000123, "currency": "USD"},
        note="scripted 🤖",
        outputs={
            "text": "héllo 世界",
            "score": 0.1,
            "nested": [1.5, {"x": -2.25, "n": None, "ok": True}],
            "count": 7,
            "empty": "",
        },
    )
    # WHEN it is emitted and listed
    events.emit(sent)
    [found] = events.list_run("r1")
    # THEN every field comes back equal, with floats as floats (not Decimal)
    assert found == sent
    assert isinstance(found.outputs["score"], float)  # type: ignore[index]
    assert isinstance(found.outputs["nested"][1]["x"], float)  # type: ignore[index]
    assert isinstance(found.outputs["count"], int)  # type: ignore[index]
    assert isinstance(found.usage["total_price"], float)  # type: ignore[index]


def test_failed_event_keeps_error_fields(events: Any) -> None:
    sent = NodeEvent(
        run_id="r1",
        event="node_finished",
        node_id="code",
        node_type="code",
        status="failed",
        error="boom: ünïcode",
        error_type="NodeExecutionError",
    )
    events.emit(sent)
    [found] = events.list_run("r1")
    assert (found.status, found.error, found.error_type) == (
        "failed",
        "boom: ünïcode",
        "NodeExecutionError",
    )
    assert found.outputs is None and found.usage is None


def test_in_memory_sink_notifies_listeners_and_forgets() -> None:
    sink = InMemoryEventSink()
    seen: list[str] = []
    sink.subscribe(lambda e: seen.append(f"{e.run_id}:{e.node_id}"))
    sink.emit(_event("r1", "a"))
    sink.emit(_event("r2", "b"))
    assert seen == ["r1:a", "r2:b"]
    sink.forget("r1")
    assert sink.list_run("r1") == []
    assert len(sink.list_run("r2")) == 1


# --------------------------------------------------------------------------- blobs


def test_blob_round_trip_with_unicode(blobs: Any) -> None:
    value = {"text": "naïve 世界 🚀", "items": [1, 2.5, None, True], "nested": {"k": ["v"]}}
    uri = blobs.put_json("run-1/node/out.json", value)
    assert blobs.get_json(uri) == value


def test_blob_keys_are_independent(blobs: Any) -> None:
    first = blobs.put_json("a.json", [1])
    second = blobs.put_json("b.json", [2])
    assert first != second
    assert (blobs.get_json(first), blobs.get_json(second)) == ([1], [2])


def test_in_memory_blob_is_a_snapshot() -> None:
    store = InMemoryBlobStore()
    value = {"a": [1]}
    uri = store.put_json("k", value)
    value["a"].append(2)
    assert uri == "mem://k"
    assert store.get_json(uri) == {"a": [1]}


def test_s3_blob_uri_names_bucket_and_prefixed_key(s3: Any) -> None:
    store = S3BlobStore(BUCKET, client=s3, prefix="runs/")
    uri = store.put_json("r1/x.json", {"ü": 1})
    assert uri == f"s3://{BUCKET}/runs/r1/x.json"
    obj = s3.get_object(Bucket=BUCKET, Key="runs/r1/x.json")
    assert obj["ContentType"] == "application/json"
    assert json.loads(obj["Body"].read().decode("utf-8")) == {"ü": 1}


def test_s3_blob_store_rejects_other_uris(s3: Any) -> None:
    store = S3BlobStore(BUCKET, client=s3)
    with pytest.raises(ValueError, match="not an S3 URI"):
        store.get_json("mem://whatever")


# --------------------------------------------------------------------------- values


class CountingStore(InMemoryBlobStore):
    def __init__(self) -> None:
        super().__init__()
        self.puts: list[str] = []
        self.gets: list[str] = []

    def put_json(self, key: str, value: Any) -> str:
        self.puts.append(key)
        return super().put_json(key, value)

    def get_json(self, uri: str) -> Any:
        self.gets.append(uri)
        return super().get_json(uri)


def test_values_under_budget_are_untouched() -> None:
    store = CountingStore()
    values = {"big": "x" * 1000, "small": 1}
    result = offload_values(values, budget=json_size(values), store=store, key_prefix="r/n")
    assert result == {"big": "x" * 1000, "small": 1}
    assert store.puts == []


def test_offloads_largest_first_until_under_budget() -> None:
    # GIVEN three large values and a budget that fits once the largest is gone
    store = CountingStore()
    values = {"huge": "h" * 5000, "large": "l" * 3000, "medium": "m" * 1000, "n": 1}
    budget = json_size(values) - 4000
    # WHEN offloaded
    result = offload_values(values, budget=budget, store=store, key_prefix="run-1/node")
    # THEN only the largest became a reference, and the record fits the budget
    assert is_ref(result["huge"])
    assert result["huge"]["bytes"] == json_size("h" * 5000)
    assert result["large"] == "l" * 3000 and result["medium"] == "m" * 1000 and result["n"] == 1
    assert json_size(result) <= budget
    assert store.get_json(result["huge"][REF_KEY]) == "h" * 5000
    assert len(store.puts) == 1 and store.puts[0].startswith("run-1/node/huge-")
    # AND the caller's dict is not modified
    assert values["huge"] == "h" * 5000


def test_offloads_several_in_size_order_when_needed() -> None:
    store = CountingStore()
    values = {"a": "a" * 1000, "b": "b" * 3000, "c": "c" * 2000, "d": "d" * 400}
    result = offload_values(values, budget=1000, store=store, key_prefix="p")
    assert [k.split("/")[1].split("-")[0] for k in store.puts] == ["b", "c", "a"]
    assert result["d"] == "d" * 400
    assert json_size(result) <= 1000


def test_never_offloads_values_under_256_bytes() -> None:
    # GIVEN many small values whose total is over the budget
    store = CountingStore()
    values = {f"k{i}": "v" * 200 for i in range(10)}
    # WHEN offloaded with a tiny budget
    result = offload_values(values, budget=100, store=store, key_prefix="p")
    # THEN nothing is offloaded: a reference would not save enough
    assert result == values
    assert store.puts == []


def test_existing_references_are_not_offloaded_again() -> None:
    store = CountingStore()
    ref = {REF_KEY: "mem://elsewhere/" + "x" * 400, "bytes": 10_000}
    values = {"ref": ref, "big": "b" * 1000}
    result = offload_values(values, budget=100, store=store, key_prefix="p")
    assert result["ref"] == ref
    assert is_ref(result["big"])
    assert len(store.puts) == 1


def test_resolver_resolves_and_caches() -> None:
    # GIVEN an offloaded value and a store that counts reads
    store = CountingStore()
    uri = store.put_json("k.json", {"text": "long"})
    ref = {REF_KEY: uri, "bytes": 99}
    resolver = Resolver(store)
    # WHEN the reference is resolved twice
    first = resolver(ref)
    second = resolver(dict(ref))
    # THEN both give the value, and the store was read once
    assert first == second == {"text": "long"}
    assert store.gets == [uri]


def test_resolver_passes_plain_values_through() -> None:
    store = CountingStore()
    resolver = Resolver(store)
    assert resolver("text") == "text"
    assert resolver({"a": 1}) == {"a": 1}
    assert resolver({REF_KEY: "x", "bytes": 1, "a": 2, "b": 3}) == {
        REF_KEY: "x",
        "bytes": 1,
        "a": 2,
        "b": 3,
    }
    assert store.gets == []


def test_resolver_deep_resolves_nested_references() -> None:
    store = InMemoryBlobStore()
    inner = store.put_json("inner", ["deep", 1])
    outer = store.put_json("outer", {"inner": {REF_KEY: inner, "bytes": 10}, "plain": 2})
    value = {
        "a": {REF_KEY: outer, "bytes": 50},
        "list": [{REF_KEY: inner, "bytes": 10}, "x", {"b": {REF_KEY: inner, "bytes": 10}}],
        "n": 3,
    }
    assert Resolver(store).deep(value) == {
        "a": {"inner": ["deep", 1], "plain": 2},
        "list": [["deep", 1], "x", {"b": ["deep", 1]}],
        "n": 3,
    }


def test_resolver_without_store_raises_for_references_only() -> None:
    resolver = Resolver(None)
    assert resolver({"plain": 1}) == {"plain": 1}
    with pytest.raises(RuntimeError, match="no blob store is configured"):
        resolver({REF_KEY: "s3://b/k", "bytes": 300})
