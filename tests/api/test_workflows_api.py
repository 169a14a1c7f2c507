"""Workflow runs over real HTTP: blocking, async + poll, idempotency, stop, logs, auth, bad input."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def test_blocking_run_returns_difys_shape(server: Any, scripted: Any) -> None:
    scripted({"llm": "forty-two"})
    with server.client("echo") as http:
        reply = http.post(
            "/v1/workflows/run",
            json={"inputs": {"q": "meaning?", "n": "3"}, "response_mode": "blocking", "user": "u1"},
        )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["task_id"] == body["workflow_run_id"] == body["data"]["id"]
    data = body["data"]
    assert data["status"] == "succeeded"
    assert data["outputs"] == {"answer": "forty-two", "n": 3}
    assert data["total_steps"] >= 3 and data["elapsed_time"] >= 0


def test_run_detail_and_logs(server: Any, scripted: Any) -> None:
    scripted({"llm": "ok"})
    with server.client("echo") as http:
        run_id = http.post(
            "/v1/workflows/run",
            json={"inputs": {"q": "hi"}, "response_mode": "blocking", "user": "u1"},
        ).json()["workflow_run_id"]
        detail = http.get(f"/v1/workflows/run/{run_id}").json()
        logs = http.get("/v1/workflows/logs", params={"limit": 5}).json()
    assert detail["status"] == "succeeded" and detail["outputs"]["answer"] == "ok"
    assert detail["inputs"] == '{"q": "hi"}'
    assert run_id in [entry["workflow_run"]["id"] for entry in logs["data"]]


def test_async_mode_answers_at_once_and_the_run_can_be_polled(server: Any) -> None:
    with server.client("slow") as http:
        started = time.monotonic()
        reply = http.post(
            "/v1/workflows/run",
            json={"inputs": {"seconds": 1.5}, "response_mode": "async", "user": "u1"},
        )
        assert reply.status_code == 202 and time.monotonic() - started < 1.5
        run_id = reply.json()["workflow_run_id"]
        assert http.get(f"/v1/workflows/run/{run_id}").json()["status"] == "running"
        deadline = time.monotonic() + 30
        while (detail := http.get(f"/v1/workflows/run/{run_id}").json())["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert detail["status"] == "succeeded" and detail["outputs"] == {"slept": 1.5}


def test_idempotency_key_starts_one_run(server: Any, scripted: Any) -> None:
    scripted({"llm": "once"})
    body = {"inputs": {"q": "x"}, "response_mode": "blocking", "user": "u1"}
    with server.client("echo", headers={"Idempotency-Key": "order-17"}) as http:
        first = http.post("/v1/workflows/run", json=body).json()
        second = http.post("/v1/workflows/run", json=body).json()
    assert first["workflow_run_id"] == second["workflow_run_id"]
    assert (
        second["data"]["outputs"] == {"answer": "once", "n": None}
        or second["data"]["outputs"]["answer"] == "once"
    )


def test_stop_ends_a_running_task(server: Any) -> None:
    # moto's interpreter honours a stop at the next state (AWS stops at once): the node
    # that is running finishes, the End node never runs
    with server.client("slow") as http:
        run_id = http.post(
            "/v1/workflows/run",
            json={"inputs": {"seconds": 2}, "response_mode": "async", "user": "u1"},
        ).json()["task_id"]
        time.sleep(0.3)
        stopped = http.post(f"/v1/workflows/tasks/{run_id}/stop", json={"user": "u1"})
        assert stopped.json() == {"result": "success"}
        detail = http.get(f"/v1/workflows/run/{run_id}").json()
    assert detail["status"] == "stopped" and detail["outputs"] == {}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Authorization header must be provided and start with 'Bearer'"),
        ({"Authorization": "Bearer app-wrong"}, "Access token is invalid"),
        ({"Authorization": "Basic abc"}, "Authorization scheme must be 'Bearer'"),
    ],
)
def test_auth_failures_are_401_with_difys_body(server: Any, headers: dict, message: str) -> None:
    with server.client(headers=headers) as http:
        reply = http.post("/v1/workflows/run", json={"inputs": {}, "user": "u"})
    assert reply.status_code == 401
    assert reply.json() == {"code": "unauthorized", "message": message, "status": 401}


def test_a_key_runs_only_its_own_app(server: Any) -> None:
    with server.client(
        "chat-assistant"
    ) as http:  # the chat app's key cannot reach /workflows/run of echo
        reply = http.post(
            "/v1/workflows/run",
            json={"inputs": {"q": "x"}, "response_mode": "blocking", "user": "u"},
        )
    assert reply.status_code == 400 and reply.json()["code"] == "not_workflow_app"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"inputs": {}, "response_mode": "blocking", "user": "u"}, "q is required"),
        ({"inputs": {"q": 5}, "response_mode": "blocking", "user": "u"}, "must be a string"),
        (
            {"inputs": {"q": "x", "n": "many"}, "response_mode": "blocking", "user": "u"},
            "must be a number",
        ),
        ({"inputs": {"q": "x"}, "response_mode": "sometimes", "user": "u"}, "response_mode"),
        ({"inputs": {"q": "x"}, "response_mode": "blocking"}, "user"),
        ({"inputs": "text", "user": "u"}, "inputs"),
    ],
)
def test_bad_bodies_are_400_with_the_field(server: Any, body: dict, fragment: str) -> None:
    with server.client("echo") as http:
        reply = http.post("/v1/workflows/run", json=body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["code"] == "invalid_param" and fragment in reply.json()["message"]


def test_malformed_json_is_400_not_500(server: Any) -> None:
    with server.client("echo") as http:
        reply = http.post(
            "/v1/workflows/run", content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert reply.status_code == 400


def test_info_parameters_and_openapi(server: Any) -> None:
    with server.client("echo") as http:
        info = http.get("/v1/info").json()
        params = http.get("/v1/parameters").json()
        spec = http.get("/openapi.json")
    assert info["name"] == "echo" and info["mode"] == "workflow"
    form = params["user_input_form"]
    assert form[0]["text-input"]["variable"] == "q" and form[0]["text-input"]["required"] is True
    assert spec.status_code == 200 and "/v1/workflows/run" in spec.json()["paths"]


def test_uploaded_file_reaches_a_code_node(server: Any) -> None:
    with server.client("files") as http:
        uploaded = http.post(
            "/v1/files/upload",
            files={"file": ("notes.txt", b"hello file", "text/plain")},
            data={"user": "u1"},
        )
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["id"]
        assert uploaded.json()["size"] == 10 and uploaded.json()["extension"] == "txt"
        reply = http.post(
            "/v1/workflows/run",
            json={
                "inputs": {
                    "doc": {
                        "type": "document",
                        "transfer_method": "local_file",
                        "upload_file_id": file_id,
                    }
                },
                "response_mode": "blocking",
                "user": "u1",
            },
        ).json()
        assert reply["data"]["status"] == "succeeded", reply
        assert reply["data"]["outputs"] == {"name": "notes.txt", "size": 10}
        other_user = http.post(
            "/v1/workflows/run",
            json={
                "inputs": {"doc": {"transfer_method": "local_file", "upload_file_id": file_id}},
                "response_mode": "blocking",
                "user": "someone-else",
            },
        )
        assert other_user.status_code == 400
        refused = http.post(
            "/v1/files/upload",
            files={"file": ("x.exe", b"MZ", "application/octet-stream")},
            data={"user": "u1"},
        )
        assert refused.status_code == 415
