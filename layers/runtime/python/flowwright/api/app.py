"""The Service API as an ASGI app: Dify's ``/v1`` routes over :class:`ServiceApi`.

The same app runs under uvicorn locally (``flowwright dev``) and behind API Gateway in the
API function (Lambda Web Adapter, response streaming).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from flowwright.api.datasets import datasets_router
from flowwright.api.errors import ERROR_RESPONSES, ApiError, install_error_handlers
from flowwright.api.keys import ApiKey, authenticate
from flowwright.api.records import RunRecord
from flowwright.api.service import Platform, RunRequest, ServiceApi
from flowwright.api.uploads import MAX_UPLOAD_BYTES
from flowwright.dsl.models import App
from flowwright.runtime.values import Resolver

__all__ = ["create_app"]


class WorkflowRunBody(BaseModel):
    """``POST /v1/workflows/run``."""

    model_config = ConfigDict(extra="allow")
    inputs: dict[str, Any] = Field(default_factory=dict)
    response_mode: Literal["blocking", "streaming", "async"] = "streaming"
    user: str = Field(min_length=1)
    files: list[dict[str, Any]] = Field(default_factory=list)


class ChatMessageBody(WorkflowRunBody):
    """``POST /v1/chat-messages``."""

    query: str
    conversation_id: str | None = None
    auto_generate_name: bool = True


class UserBody(BaseModel):
    user: str = Field(min_length=1)


class FeedbackBody(BaseModel):
    rating: Literal["like", "dislike"] | None = None
    user: str = Field(min_length=1)
    content: str = ""


class RenameBody(BaseModel):
    name: str | None = None
    auto_generate: bool = False
    user: str = Field(min_length=1)


def app_key(request: Request, authorization: Annotated[str | None, Header()] = None) -> ApiKey:
    """The caller's app key (401 with Dify's body when missing or wrong)."""
    return authenticate(request.app.state.platform.keys, authorization, app=None, scope="app")


def current_app(request: Request, key: Annotated[ApiKey, Depends(app_key)]) -> App:
    """The app the key belongs to."""
    service: ServiceApi = request.app.state.service
    return service.app(key.app)


AppDep = Annotated[App, Depends(current_app)]

#: Runs answer JSON (blocking), server-sent events (streaming) or 202 (async).
RUN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "blocking: the finished run; streaming: server-sent events",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            # each server-sent event: a `data:` line holding one JSON event
            "text/event-stream": {
                "schema": {"type": "object", "properties": {"data": {"type": "string"}}}
            },
        },
    },
    202: {
        "description": "async: the run started; poll GET /v1/workflows/run/{id}",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
}


def create_app(platform: Platform) -> FastAPI:
    """The ASGI application serving every app of ``platform``."""
    service = ServiceApi(platform)
    api = FastAPI(
        title="flowwright Service API",
        version=platform.version,
        description="Dify's Service API for apps deployed with flowwright.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        responses=ERROR_RESPONSES,
    )
    install_error_handlers(api)
    api.state.platform = platform
    api.state.service = service
    api.include_router(datasets_router())

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # ------------------------------------------------------------------ app info
    @api.get("/v1/info")
    def info(app: AppDep) -> dict[str, Any]:
        return {
            "name": app.name,
            "description": app.description,
            "tags": [],
            "mode": app.mode,
            "author_name": "",
        }

    @api.get("/v1/parameters")
    def parameters(app: AppDep) -> dict[str, Any]:
        return _parameters(app)

    @api.get("/v1/meta")
    def meta(app: AppDep) -> dict[str, Any]:
        return {"tool_icons": {}}

    # ------------------------------------------------------------------ workflows
    @api.post("/v1/workflows/run", response_model=None, responses=RUN_RESPONSES)
    def run_workflow(
        body: WorkflowRunBody,
        app: AppDep,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> Response:
        if app.mode != "workflow":
            raise ApiError(
                400,
                "not_workflow_app",
                "Please check if your app mode matches the right API route.",
            )
        record, _ = service.start(
            app,
            RunRequest(
                inputs=body.inputs,
                user=body.user,
                files=body.files,
                idempotency_key=idempotency_key,
            ),
        )
        return _respond(service, platform, app, record, body.response_mode)

    @api.get("/v1/workflows/run/{workflow_run_id}")
    def workflow_run(workflow_run_id: str, app: AppDep) -> dict[str, Any]:
        record = platform.store.get_run(workflow_run_id)
        if record is None or record.app != app.name:
            raise ApiError(404, "not_found", "Workflow run not found.")
        record = service.finish(app, record)
        return _run_detail(record)

    @api.post("/v1/workflows/tasks/{task_id}/stop")
    def stop_workflow(task_id: str, body: UserBody, app: AppDep) -> dict[str, str]:
        service.stop(app, task_id, body.user)
        return {"result": "success"}

    @api.get("/v1/workflows/logs")
    def workflow_logs(
        app: AppDep,
        status: str | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        records = platform.store.list_runs(app.name, limit=limit + 1, offset=(page - 1) * limit)
        records = [service.finish(app, r) for r in records]
        if status:
            records = [r for r in records if r.status == status]
        return {
            "page": page,
            "limit": limit,
            "total": len(records),
            "has_more": len(records) > limit,
            "data": [
                {
                    "id": r.id,
                    "workflow_run": _run_detail(r),
                    "created_from": "service-api",
                    "created_by_end_user": {
                        "id": r.user,
                        "type": "service_api",
                        "session_id": r.user,
                    },
                    "created_at": int(r.created_at),
                }
                for r in records[:limit]
            ],
        }

    # ------------------------------------------------------------------ chat
    @api.post("/v1/chat-messages", response_model=None, responses=RUN_RESPONSES)
    def chat_message(
        body: ChatMessageBody,
        app: AppDep,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> Response:
        if app.mode != "advanced-chat":
            raise ApiError(
                400, "not_chat_app", "Please check if your app mode matches the right API route."
            )
        record, _ = service.start(
            app,
            RunRequest(
                inputs=body.inputs,
                user=body.user,
                query=body.query,
                conversation_id=body.conversation_id or None,
                files=body.files,
                idempotency_key=idempotency_key,
            ),
        )
        return _respond(service, platform, app, record, body.response_mode)

    @api.post("/v1/chat-messages/{task_id}/stop")
    def stop_chat(task_id: str, body: UserBody, app: AppDep) -> dict[str, str]:
        service.stop(app, task_id, body.user)
        return {"result": "success"}

    @api.get("/v1/messages")
    def messages(
        app: AppDep,
        conversation_id: str,
        user: str,
        first_id: str | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        conversation = platform.store.get_conversation(app.name, conversation_id)
        if conversation is None or conversation.user != user:
            raise ApiError(404, "not_found", "Conversation Not Exists.")
        history = platform.runner.services.conversations.messages(app.name, conversation_id)
        items: list[dict[str, Any]] = [
            {
                "id": m.run_id or f"{conversation_id}-{i}",
                "conversation_id": conversation_id,
                "inputs": conversation.inputs,
                "query": m.query,
                "answer": m.answer,
                "message_files": [],
                "feedback": platform.store.get_feedback(app.name, m.run_id or ""),
                "retriever_resources": [],
                "created_at": int(m.created_at),
            }
            for i, m in enumerate(history)
        ]
        if first_id:
            ids = [m["id"] for m in items]
            items = items[: ids.index(first_id)] if first_id in ids else []
        return {"limit": limit, "has_more": len(items) > limit, "data": items[-limit:]}

    @api.post("/v1/messages/{message_id}/feedbacks")
    def feedback(message_id: str, body: FeedbackBody, app: AppDep) -> dict[str, str]:
        record = platform.store.get_run(message_id)
        if record is None or record.app != app.name or record.user != body.user:
            raise ApiError(404, "not_found", "Message Not Exists.")
        platform.store.put_feedback(app.name, message_id, body.rating, body.content)
        return {"result": "success"}

    @api.post("/v1/files/upload", status_code=201)
    async def upload(
        app: AppDep,
        file: Annotated[UploadFile, File()],
        user: Annotated[str, Form(min_length=1)],
    ) -> dict[str, Any]:
        if platform.uploads is None:
            raise ApiError(503, "uploads_unavailable", "this deployment stores no uploads")
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        saved = platform.uploads.save(
            (file.filename or "upload").rsplit("/", 1)[-1], data, user, file.content_type
        )
        return saved.public()

    @api.get("/v1/conversations")
    def conversations(
        app: AppDep,
        user: str,
        last_id: str | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        found = platform.store.list_conversations(app.name, user)
        if last_id:
            ids = [c.id for c in found]
            found = found[ids.index(last_id) + 1 :] if last_id in ids else []
        return {
            "limit": limit,
            "has_more": len(found) > limit,
            "data": [_conversation(c) for c in found[:limit]],
        }

    @api.delete("/v1/conversations/{conversation_id}", status_code=204)
    def delete_conversation(conversation_id: str, body: UserBody, app: AppDep) -> Response:
        _owned(platform, app, conversation_id, body.user)
        platform.store.delete_conversation(app.name, conversation_id)
        return Response(status_code=204)

    @api.post("/v1/conversations/{conversation_id}/name")
    def rename(conversation_id: str, body: RenameBody, app: AppDep) -> dict[str, Any]:
        conversation = _owned(platform, app, conversation_id, body.user)
        if body.name:
            conversation.name = body.name
        elif not body.auto_generate:
            raise ApiError(400, "invalid_param", "name is required unless auto_generate is true")
        conversation.updated_at = time.time()
        platform.store.put_conversation(conversation)
        return _conversation(conversation)

    @api.get("/v1/conversations/{conversation_id}/variables")
    def variables(conversation_id: str, user: str, app: AppDep) -> dict[str, Any]:
        conversation = _owned(platform, app, conversation_id, user)
        values = platform.runner.services.conversations.variables(app.name, conversation.id) or {}
        declared = {v.name: v for v in app.conversation_variables}
        data = []
        for name, variable in declared.items():
            value = values.get(name, variable.value)
            data.append(
                {
                    "id": getattr(variable, "id", None) or name,
                    "name": name,
                    "value_type": variable.value_type,
                    "value": value if isinstance(value, str) else json.dumps(value),
                    "description": getattr(variable, "description", "") or "",
                    "created_at": int(conversation.created_at),
                    "updated_at": int(conversation.updated_at),
                }
            )
        return {"limit": 100, "has_more": False, "data": data}

    return api


def _respond(
    service: ServiceApi, platform: Platform, app: App, record: RunRecord, mode: str
) -> Response:
    if mode == "async":
        if platform.background:
            service.finish_in_background(app, record)
        return JSONResponse(
            {"workflow_run_id": record.id, "task_id": record.id, "status": record.status},
            status_code=202,
        )
    if mode == "blocking":
        record = service.finish(app, record, wait_s=600)
        if app.mode == "advanced-chat":
            return JSONResponse(_chat_blocking(record))
        return JSONResponse(
            {"task_id": record.id, "workflow_run_id": record.id, "data": _finished_data(record)}
        )
    return StreamingResponse(
        _stream(service, app, record),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _stream(service: ServiceApi, app: App, record: RunRecord) -> Iterator[bytes]:
    from flowwright.api.stream import StreamTranslator, sse

    translator = StreamTranslator(
        app=app,
        task_id=record.id,
        run_id=record.id,
        conversation_id=record.conversation_id,
        message_id=record.id if app.mode == "advanced-chat" else None,
        inputs=record.inputs,
        created_at=int(record.created_at),
        system={"query": record.query or "", "user_id": record.user, "workflow_run_id": record.id},
        resolve=Resolver(service.platform.runner.services.blobs).deep,
    )
    for event in translator.started():
        yield sse(event)
    for node_event in service.events(record):
        batch = [translator.ping()] if node_event is None else translator.on_event(node_event)
        for event in batch:
            yield sse(event)
    service.finish(app, record, wait_s=60)
    result = service.result_of(app, record)
    for event in translator.finished(result):
        yield sse(event)


def _finished_data(record: RunRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "workflow_id": record.app,
        "status": record.status,
        "outputs": record.outputs or {},
        "error": record.error,
        "elapsed_time": record.elapsed_time,
        "total_tokens": record.total_tokens,
        "total_steps": record.total_steps,
        "created_at": int(record.created_at),
        "finished_at": int(record.finished_at) if record.finished_at else None,
    }


def _run_detail(record: RunRecord) -> dict[str, Any]:
    data = _finished_data(record)
    data["inputs"] = json.dumps(record.inputs, ensure_ascii=False)
    return data


def _chat_blocking(record: RunRecord) -> dict[str, Any]:
    if record.status == "failed":
        raise ApiError(500, "completion_request_error", record.error or "run failed")
    return {
        "event": "message",
        "task_id": record.id,
        "id": record.id,
        "message_id": record.id,
        "conversation_id": record.conversation_id,
        "mode": "advanced-chat",
        "answer": str((record.outputs or {}).get("answer", "")),
        "metadata": {
            "usage": {"total_tokens": record.total_tokens, "latency": record.elapsed_time},
            "retriever_resources": [],
        },
        "created_at": int(record.created_at),
    }


def _conversation(c: Any) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "inputs": c.inputs,
        "status": "normal",
        "introduction": "",
        "created_at": int(c.created_at),
        "updated_at": int(c.updated_at),
    }


def _owned(platform: Platform, app: App, conversation_id: str, user: str) -> Any:
    conversation = platform.store.get_conversation(app.name, conversation_id)
    if conversation is None or conversation.user != user:
        raise ApiError(404, "not_found", "Conversation Not Exists.")
    return conversation


def _parameters(app: App) -> dict[str, Any]:
    form = []
    for var in getattr(app.start_node.config, "variables", []):
        kind = {"text-input": "text-input", "paragraph": "paragraph", "select": "select"}.get(
            var.type, var.type
        )
        form.append(
            {
                kind: {
                    "label": var.label if isinstance(var.label, str) else var.variable,
                    "variable": var.variable,
                    "required": var.required,
                    "default": var.default if var.default is not None else "",
                    **({"options": var.options} if var.type == "select" else {}),
                    **({"max_length": var.max_length} if var.max_length else {}),
                }
            }
        )
    features = app.features or {}
    return {
        "opening_statement": features.get("opening_statement", ""),
        "suggested_questions": features.get("suggested_questions", []),
        "suggested_questions_after_answer": features.get(
            "suggested_questions_after_answer", {"enabled": False}
        ),
        "speech_to_text": features.get("speech_to_text", {"enabled": False}),
        "text_to_speech": features.get("text_to_speech", {"enabled": False}),
        "retriever_resource": features.get("retriever_resource", {"enabled": False}),
        "annotation_reply": {"enabled": False},
        "more_like_this": {"enabled": False},
        "user_input_form": form,
        "file_upload": features.get("file_upload", {"enabled": False}),
        "system_parameters": {
            "file_size_limit": 15,
            "image_file_size_limit": 10,
            "audio_file_size_limit": 50,
            "video_file_size_limit": 100,
            "workflow_file_upload_limit": 10,
        },
    }
