"""Checking a request's ``inputs`` against the app's Start variables, as Dify does."""

from __future__ import annotations

from typing import Any

from flowwright.api.errors import ApiError
from flowwright.dsl.models import App

__all__ = ["check_inputs"]

_TEXT = {"text-input", "paragraph", "select"}


def check_inputs(app: App, given: Any) -> dict[str, Any]:
    """The inputs to run with, or ApiError 400 ``invalid_param`` naming the variable."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ApiError(400, "invalid_param", "inputs must be a JSON object")
    variables = getattr(app.start_node.config, "variables", [])
    checked: dict[str, Any] = {}
    for var in variables:
        name = var.variable
        value = given.get(name)
        if value is None or value == "":
            if var.required:
                raise ApiError(400, "invalid_param", f"{name} is required in input form")
            if var.default is not None:
                checked[name] = var.default
            continue
        if var.type in _TEXT:
            if not isinstance(value, str):
                raise ApiError(400, "invalid_param", f"{name} in input form must be a string")
            if var.max_length and len(value) > var.max_length:
                raise ApiError(
                    400,
                    "invalid_param",
                    f"{name} in input form must be less than {var.max_length} characters",
                )
            if var.type == "select" and var.options and value not in var.options:
                raise ApiError(
                    400, "invalid_param", f"{name} in input form must be one of {var.options}"
                )
        elif var.type == "number":
            value = _number(name, value)
        elif var.type in ("checkbox", "boolean") and not isinstance(value, bool):
            raise ApiError(400, "invalid_param", f"{name} in input form must be a boolean")
        checked[name] = value
    for name, value in given.items():  # undeclared inputs pass through, as in Dify
        checked.setdefault(name, value)
    return checked


def _number(name: str, value: Any) -> int | float:
    if isinstance(value, bool):
        raise ApiError(400, "invalid_param", f"{name} in input form must be a number")
    if isinstance(value, int | float):
        return value
    try:
        number = float(str(value))
    except ValueError:
        raise ApiError(400, "invalid_param", f"{name} in input form must be a number") from None
    return int(number) if number.is_integer() and "." not in str(value) else number
