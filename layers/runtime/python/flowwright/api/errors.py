"""Dify's error body ``{"code", "message", "status"}`` for every failure the API reports."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from flowwright.api.keys import AuthError

__all__ = ["ERROR_RESPONSES", "ApiError", "ErrorBody", "install_error_handlers"]


class ErrorBody(BaseModel):
    """Dify's error body."""

    code: str
    message: str
    status: int


#: Documented on every route (the OpenAPI document lists what clients can get back).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Invalid parameters (code invalid_param, with the field) or wrong app mode"),
        (401, "Missing or invalid key"),
        (404, "Not found"),
        (409, "An Idempotency-Key whose run is still starting"),
        (413, "File too large"),
        (415, "File type not allowed"),
        (500, "The run failed (blocking chat) or an unexpected error"),
        (503, "The deployment lacks the feature (knowledge, uploads)"),
    )
}


class ApiError(Exception):
    """An error answered with Dify's body (e.g. ``ApiError(404, "not_found", "...")``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"code": self.code, "message": self.message, "status": self.status},
            status_code=self.status,
        )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
            "message": str(e.get("msg", "")),
        }
        for e in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Every error, including FastAPI's own validation and routing errors, in Dify's shape."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        summary = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors[:5])
        return JSONResponse(
            {"code": "invalid_param", "message": summary, "status": 400, "errors": errors},
            status_code=400,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return JSONResponse(
            {"code": code, "message": str(exc.detail), "status": exc.status_code},
            status_code=exc.status_code,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {
                "code": "internal_server_error",
                "message": f"{type(exc).__name__}: {exc}",
                "status": 500,
            },
            status_code=500,
        )
