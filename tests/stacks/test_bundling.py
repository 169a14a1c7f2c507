"""Layers are built by pip for Lambda's platform, through the same entry point CDK calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.bundling import PipLayerBundling

pytestmark = pytest.mark.slow


def test_cdk_calls_local_bundling_with_options_positionally(tmp_path: Path) -> None:
    # jsii hands the bundling options as the second positional argument
    assert PipLayerBundling(["six==1.17.0", "boto3"]).try_bundle(str(tmp_path), object()) is True
    shipped = {p.name.split("-")[0] for p in (tmp_path / "python").iterdir()}
    assert "six.py" in shipped or "six" in shipped
    assert not shipped & {"boto3", "botocore", "s3transfer"}
