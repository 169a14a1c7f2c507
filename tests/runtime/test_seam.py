"""The moto seam: fails loudly if moto moves what flowwright patches."""

from __future__ import annotations

import importlib.metadata

import pytest
from flowwright.runtime import moto_seam


def test_moto_is_the_pinned_release() -> None:
    assert importlib.metadata.version("moto") == moto_seam.MOTO_VERSION


def test_seams_are_where_we_patch_them() -> None:
    moto_seam.check_seams()


def test_a_moved_seam_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    monkeypatch.delattr(lambda_eval_utils, "boto_client_for")
    with pytest.raises(RuntimeError, match="boto_client_for is gone"):
        moto_seam.check_seams()


def test_function_names_from_arns() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:flowwright-llm-1a2b:live"
    assert moto_seam._function_name(arn) == "flowwright-llm-1a2b"
    assert moto_seam._function_name("plain-name") == "plain-name"


def test_unknown_functions_answer_like_lambda() -> None:
    headers: dict[str, str] = {}
    body = moto_seam._invoke(None, "flowwright-nothing-here", None, b"{}", {}, headers)
    assert headers["x-amz-function-error"] == "Unhandled"
    assert b"ResourceNotFoundException" in body
