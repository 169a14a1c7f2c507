"""Lambda's 250 MiB limit (code + layers, unzipped), checked on layers built as synth builds them."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow

sys.path.insert(0, str(ROOT / "bench"))


@pytest.fixture(scope="module")
def layers() -> Any:
    import package_sizes

    return package_sizes.built_layers()


def test_every_function_fits_in_lambda(layers: Any) -> None:
    import package_sizes

    sizes = package_sizes.function_sizes(layers)
    assert sizes and all(row["total"] <= package_sizes.LIMIT_MIB for row in sizes.values()), sizes
    # each function gets exactly its layers: litellm only where models are called
    from stacks.layers import EXTRA_LAYERS

    for key, row in sizes.items():
        extras = {k for k in row if k not in ("code", "runtime", "core", "total")}
        assert extras == set(EXTRA_LAYERS.get(key, [])), key
    assert "models" in sizes["llm"] and "models" in sizes["ingest"]
    assert "models" not in sizes["api"] and "knowledge" not in sizes["llm"]


def test_no_layer_ships_boto3(layers: Any) -> None:
    for name, folder in layers.items():
        shipped = {p.name.split("-")[0].lower() for p in (folder / "python").iterdir()}
        assert not shipped & {"boto3", "botocore", "s3transfer"}, name


def test_layers_hold_what_the_functions_import(layers: Any) -> None:
    core = {p.name for p in (layers["core"] / "python").iterdir()}
    assert {"pydantic", "pydantic_core", "yaml", "jinja2", "aws_lambda_powertools"} <= core
    assert "litellm" in {p.name for p in (layers["models"] / "python").iterdir()}
    knowledge = {p.name for p in (layers["knowledge"] / "python").iterdir()}
    assert {"pypdf", "opensearchpy", "cryptography", "charset_normalizer"} <= knowledge
    assert not knowledge & {"grpc", "opensearch_protobufs"}  # the unused gRPC transport
    assert {"fastapi", "uvicorn"} <= {p.name for p in (layers["api"] / "python").iterdir()}
    # wheels are for Lambda: Linux arm64, CPython 3.14
    binaries = [p.name for p in (layers["core"] / "python" / "pydantic_core").glob("*.so")]
    assert binaries and all("314" in b and "aarch64" in b for b in binaries), binaries
