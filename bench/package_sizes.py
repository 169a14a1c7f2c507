"""Unzipped size of each function as Lambda receives it: its code plus its layers.

    .venv/bin/python bench/package_sizes.py

Layers are built exactly as `cdk synth` builds them (stacks/bundling.py: pip, manylinux
wheels for Python 3.14 on arm64) into .flowwright/layers/, reused while their requirements
are unchanged. Lambda's limit is 250 MiB for code and layers together.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stacks.bundling import build_layer, layer_digest  # noqa: E402
from stacks.layers import EXTRA_LAYERS  # noqa: E402
from stacks.requirements import LAYERS  # noqa: E402

LIMIT_MIB = 250
MIB = 1024 * 1024


def tree_size(path: Path) -> int:
    return sum(
        f.stat().st_size for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts
    )


def built_layers(cache: Path = ROOT / ".flowwright" / "layers") -> dict[str, Path]:
    """Every dependency layer, built (or reused) under ``cache``; plus the library layer."""
    layers: dict[str, Path] = {"runtime": ROOT / "layers" / "runtime"}
    for name, requirements in LAYERS.items():
        digest = layer_digest(requirements)[:16]
        folder = cache / f"{name}-{digest}"
        if not (folder / ".complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            build_layer(requirements, folder)
            (folder / ".complete").write_text("ok")
        layers[name] = folder
    return layers


def function_sizes(layers: dict[str, Path]) -> dict[str, dict[str, float]]:
    sizes = {}
    folders = sorted((ROOT / "functions" / "nodes").glob("*/")) + sorted(
        p for p in (ROOT / "functions").glob("*/") if p.name != "nodes"
    )
    for folder in folders:
        key = folder.name
        parts = {
            "code": tree_size(folder),
            "runtime": tree_size(layers["runtime"]),
            "core": tree_size(layers["core"]),
        }
        for extra in EXTRA_LAYERS.get(key, []):
            parts[extra] = tree_size(layers[extra])
        sizes[key] = {name: round(size / MIB, 2) for name, size in parts.items()}
        sizes[key]["total"] = round(sum(parts.values()) / MIB, 2)
    return sizes


def main() -> None:
    sizes = function_sizes(built_layers())
    out = ROOT / "bench" / "results" / "package_sizes.json"
    out.write_text(json.dumps(sizes, indent=2) + "\n", encoding="utf-8")
    print(f"{'function':<22}{'total MiB':>10}  parts")
    for key, row in sizes.items():
        parts = ", ".join(f"{k} {v}" for k, v in row.items() if k != "total")
        print(f"{key:<22}{row['total']:>10}  {parts}")
    worst = max(row["total"] for row in sizes.values())
    print(f"largest: {worst} MiB of {LIMIT_MIB} MiB")
    if os.environ.get("CI_STRICT") and worst > LIMIT_MIB:
        sys.exit(1)


if __name__ == "__main__":
    main()
