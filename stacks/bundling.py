"""Building Lambda layers offline, without Docker: pip downloads manylinux wheels for the
Lambda platform (Python 3.14, arm64) straight into the layer folder."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import ILocalBundling

from stacks.requirements import NEVER_SHIP, UNUSED

__all__ = ["PYTHON_VERSION", "PipLayerBundling", "build_layer", "layer_digest"]

PYTHON_VERSION = "3.14"
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")


def layer_digest(requirements: Sequence[str]) -> str:
    """Identifies a layer's build: it changes when its requirements or Python version do."""
    return hashlib.sha256(json.dumps([PYTHON_VERSION, list(requirements)]).encode()).hexdigest()


def build_layer(requirements: Sequence[str], output_dir: str | Path) -> Path:
    """Install ``requirements`` for Lambda (arm64, Python 3.14) under ``output_dir/python``."""
    target = Path(output_dir) / "python"
    target.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--target",
        str(target),
    ]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    subprocess.run([*command, *requirements], check=True)
    for path in list(target.iterdir()):
        name = path.name.split("-")[0].lower()
        if name in NEVER_SHIP or name in UNUSED or path.name == "bin":
            shutil.rmtree(path, ignore_errors=True)
    protobuf = target / "google" / "protobuf"  # protobuf's package lives in a namespace
    if protobuf.exists():
        shutil.rmtree(protobuf)
        if not any((target / "google").iterdir()):
            (target / "google").rmdir()
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    return target


@jsii.implements(ILocalBundling)
class PipLayerBundling:
    """Local bundling for a dependency layer (CDK calls ``try_bundle`` instead of Docker)."""

    def __init__(self, requirements: Sequence[str]) -> None:
        self.requirements = list(requirements)

    def try_bundle(self, output_dir: str, options: Any = None, **kwargs: Any) -> bool:
        build_layer(self.requirements, output_dir)
        return True
