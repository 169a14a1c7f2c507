"""Service API keys: hashed at rest, one app each, SQLite and DynamoDB stores, the CLI."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from flowwright.api.keys import (
    INVALID_TOKEN,
    MISSING_HEADER,
    OTHER_APP,
    WRONG_SCHEME,
    AuthError,
    DynamoDbKeyStore,
    KeyStore,
    SqliteKeyStore,
    authenticate,
    generate_key,
    hash_key,
)
from flowwright.api.keys_cli import add_keys_parser, run_keys_command
from moto import mock_aws

REGION = "us-east-1"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def sqlite_store(tmp_path: Path) -> SqliteKeyStore:
    return SqliteKeyStore(tmp_path / "api_keys.sqlite")


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.resource("dynamodb", region_name=REGION)


@pytest.fixture
def dynamo_table(dynamodb: Any) -> str:
    # A fresh name: moto's state can outlive this mock when another test holds one open.
    name = f"api_keys-{uuid.uuid4().hex[:12]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "key_hash", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key_hash", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def dynamo_store(dynamodb: Any, dynamo_table: str) -> DynamoDbKeyStore:
    return DynamoDbKeyStore(dynamo_table, resource=dynamodb)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest) -> KeyStore:
    fixture = "sqlite_store" if request.param == "sqlite" else "dynamo_store"
    found: KeyStore = request.getfixturevalue(fixture)
    return found


# --------------------------------------------------------------------------- secrets


def test_generated_keys_follow_difys_format() -> None:
    app_key, dataset_key = generate_key("app"), generate_key("dataset")
    assert re.fullmatch(r"app-[A-Za-z0-9]{24}", app_key)
    assert re.fullmatch(r"dataset-[A-Za-z0-9]{24}", dataset_key)
    assert len({generate_key("app") for _ in range(50)}) == 50
    with pytest.raises(ValueError):
        generate_key("admin")  # type: ignore[arg-type]


def test_hash_is_sha256_hex() -> None:
    assert hash_key("app-abc") == hashlib.sha256(b"app-abc").hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", hash_key("app-abc"))


# --------------------------------------------------------------------------- both stores


def test_create_lookup_and_list(store: KeyStore) -> None:
    record, secret = store.create("support-bot")
    assert secret.startswith("app-") and record.last4 == secret[-4:]
    assert record.key_hash == hash_key(secret)
    assert record.masked == f"app-...{secret[-4:]}"
    assert secret not in record.model_dump_json()

    assert store.lookup(secret) == record
    assert store.lookup(generate_key("app")) is None

    other, _ = store.create("other-bot")
    dataset, dataset_secret = store.create("*", scope="dataset")
    assert dataset_secret.startswith("dataset-") and dataset.app == "*"
    assert [k.key_id for k in store.list("support-bot")] == [record.key_id]
    assert {k.key_id for k in store.list()} == {record.key_id, other.key_id, dataset.key_id}


def test_revoke_hides_the_key_from_lookup(store: KeyStore) -> None:
    record, secret = store.create("support-bot")
    assert store.revoke(record.key_id) is True
    assert store.lookup(secret) is None
    [listed] = store.list("support-bot")
    assert listed.revoked is True
    assert store.revoke("no-such-id") is False


def test_scope_and_app_are_checked_on_create(store: KeyStore) -> None:
    with pytest.raises(ValueError, match="workspace-wide"):
        store.create("support-bot", scope="dataset")
    with pytest.raises(ValueError, match="app's name"):
        store.create("*")
    with pytest.raises(ValueError):
        store.create("support-bot", scope="admin")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- hashed at rest


def test_sqlite_never_stores_the_secret(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    store = SqliteKeyStore(folder / "api_keys.sqlite")
    secrets_ = [store.create(f"app-{i}")[1] for i in range(3)]
    secrets_.append(store.create("*", scope="dataset")[1])
    files = list(folder.iterdir())  # the database and its WAL/SHM files
    data = b"".join(path.read_bytes() for path in files)
    for secret in secrets_:
        assert secret.encode() not in data
        assert secret[4:].encode() not in data  # not even without the prefix
    assert hash_key(secrets_[0]).encode() in data


def test_dynamodb_never_stores_the_secret(dynamodb: Any, dynamo_table: str) -> None:
    store = DynamoDbKeyStore(dynamo_table, resource=dynamodb)
    record, secret = store.create("support-bot")
    items = dynamodb.Table(dynamo_table).scan()["Items"]
    assert len(items) == 1
    assert secret not in json.dumps(items, default=str)
    assert items[0]["key_hash"] == hash_key(secret)
    assert items[0]["key_id"] == record.key_id and items[0]["revoked"] is False


# --------------------------------------------------------------------------- concurrency


def test_sqlite_sees_keys_made_by_another_instance(tmp_path: Path) -> None:
    path = tmp_path / "api_keys.sqlite"
    server = SqliteKeyStore(path)
    secret = generate_key("app")
    assert server.lookup(secret) is None  # a miss must not be remembered

    record, secret = SqliteKeyStore(path).create("support-bot")
    assert server.lookup(secret) == record
    SqliteKeyStore(path).revoke(record.key_id)
    assert server.lookup(secret) is None


def test_sqlite_sees_keys_made_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "api_keys.sqlite"
    server = SqliteKeyStore(path)
    assert server.list() == []
    script = (
        "import sys; from flowwright.api.keys import SqliteKeyStore;"
        "print(SqliteKeyStore(sys.argv[1]).create('support-bot')[1])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    secret = done.stdout.strip()
    key = server.lookup(secret)
    assert key is not None and key.app == "support-bot"


# --------------------------------------------------------------------------- authenticate


def _auth_error(store: KeyStore, header: str | None, **kwargs: Any) -> AuthError:
    kwargs.setdefault("app", "support-bot")
    kwargs.setdefault("scope", "app")
    with pytest.raises(AuthError) as caught:
        authenticate(store, header, **kwargs)
    assert caught.value.status == 401 and caught.value.code == "unauthorized"
    return caught.value


def test_authenticate_accepts_the_apps_key(sqlite_store: SqliteKeyStore) -> None:
    record, secret = sqlite_store.create("support-bot")
    assert authenticate(sqlite_store, f"Bearer {secret}", app="support-bot", scope="app") == record
    assert authenticate(sqlite_store, f"bearer  {secret} ", app=None, scope="app") == record


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", f"{'app-' + 'x' * 24}"])
def test_missing_or_malformed_header(sqlite_store: SqliteKeyStore, header: str | None) -> None:
    error = _auth_error(sqlite_store, header)
    assert error.message == MISSING_HEADER
    assert error.body() == {"code": "unauthorized", "message": MISSING_HEADER, "status": 401}
    assert error.headers == {"WWW-Authenticate": 'Bearer realm="api"'}


def test_wrong_scheme(sqlite_store: SqliteKeyStore) -> None:
    _, secret = sqlite_store.create("support-bot")
    assert _auth_error(sqlite_store, f"Basic {secret}").message == WRONG_SCHEME


def test_unknown_revoked_and_wrong_scope_keys_are_invalid(sqlite_store: SqliteKeyStore) -> None:
    record, secret = sqlite_store.create("support-bot")
    _, dataset_secret = sqlite_store.create("*", scope="dataset")
    assert _auth_error(sqlite_store, f"Bearer {generate_key('app')}").message == INVALID_TOKEN
    assert _auth_error(sqlite_store, "Bearer app-" + "x" * 500).message == INVALID_TOKEN
    # A dataset key does not open an app, nor an app key the knowledge API.
    assert _auth_error(sqlite_store, f"Bearer {dataset_secret}").message == INVALID_TOKEN
    error = _auth_error(sqlite_store, f"Bearer {secret}", app=None, scope="dataset")
    assert error.message == INVALID_TOKEN
    sqlite_store.revoke(record.key_id)
    assert _auth_error(sqlite_store, f"Bearer {secret}").message == INVALID_TOKEN


def test_an_app_key_opens_only_its_app(sqlite_store: SqliteKeyStore) -> None:
    _, secret = sqlite_store.create("other-bot")
    assert _auth_error(sqlite_store, f"Bearer {secret}").message == OTHER_APP


def test_dataset_keys_are_workspace_wide(sqlite_store: SqliteKeyStore) -> None:
    record, secret = sqlite_store.create("*", scope="dataset")
    assert authenticate(sqlite_store, f"Bearer {secret}", app=None, scope="dataset") == record
    assert authenticate(sqlite_store, f"Bearer {secret}", app="any", scope="dataset") == record


def test_authenticate_against_dynamodb(dynamo_store: DynamoDbKeyStore) -> None:
    record, secret = dynamo_store.create("support-bot")
    assert authenticate(dynamo_store, f"Bearer {secret}", app="support-bot", scope="app") == record
    dynamo_store.revoke(record.key_id)
    assert _auth_error(dynamo_store, f"Bearer {secret}").message == INVALID_TOKEN


# --------------------------------------------------------------------------- CLI


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="flowwright")
    add_keys_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_cli_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert _cli(["keys", "create", "--app", "support-bot", *data]) == 0
    printed = capsys.readouterr().out
    secret = re.search(r"app-[A-Za-z0-9]{24}", printed)
    key_id = re.search(r"key ([0-9a-f]{12})", printed)
    assert secret and key_id
    assert secret.group() not in (tmp_path / "api_keys.sqlite").read_bytes().decode("latin-1")

    assert _cli(["keys", "list", "--app", "support-bot", *data]) == 0
    table = capsys.readouterr().out
    assert key_id.group(1) in table and f"app-...{secret.group()[-4:]}" in table
    assert secret.group() not in table

    assert _cli(["keys", "revoke", key_id.group(1), *data]) == 0
    capsys.readouterr()
    assert _cli(["keys", "list", "--json", *data]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["key_id"] == key_id.group(1) and row["revoked"] is True
    assert row["app"] == "support-bot" and row["scope"] == "app"
    assert SqliteKeyStore(tmp_path / "api_keys.sqlite").lookup(secret.group()) is None


def test_cli_dataset_key_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["keys", "create", "--scope", "dataset", "--json", "--data-dir", str(tmp_path)]
    assert _cli(argv) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["secret"].startswith("dataset-") and created["app"] == "*"
    key = SqliteKeyStore(tmp_path / "api_keys.sqlite").lookup(created["secret"])
    assert key is not None and key.key_id == created["key_id"]


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert _cli(["keys", "revoke", "nope", *data]) == 1
    assert "no API key with id 'nope'" in capsys.readouterr().err
    assert _cli(["keys", "create", *data]) == 2  # an app key needs --app
    assert _cli(["keys", "create", "--scope", "dataset", "--app", "x", *data]) == 2
    assert "workspace-wide" in capsys.readouterr().err
    assert _cli(["keys", "list", *data]) == 0
    assert "No API keys" in capsys.readouterr().out


def test_cli_uses_the_default_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLOWWRIGHT_DATA_DIR", str(tmp_path / "state"))
    assert _cli(["keys", "create", "--app", "support-bot"]) == 0
    assert (tmp_path / "state" / "api_keys.sqlite").exists()


def test_cli_manages_a_deployed_stages_table(dynamo_table: str, tmp_path: Path) -> None:
    out = io.StringIO()
    code = run_keys_command(
        "create",
        app="support-triage",
        key_id=None,
        scope="app",
        data_dir=tmp_path,
        json_output=True,
        out=out,
        table=dynamo_table,
    )
    assert code == 0
    secret = json.loads(out.getvalue())["secret"]
    assert DynamoDbKeyStore(dynamo_table).lookup(secret) is not None
    assert not (tmp_path / "api_keys.sqlite").exists()
