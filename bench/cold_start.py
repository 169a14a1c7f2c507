"""Cold import time of every node function in a fresh process, against ``python -c pass``.

    .venv/bin/python bench/cold_start.py [--repeat 7]

Each sample is the wall time of a new interpreter that imports the function's handler
module (functions/nodes/<type>/handler.py) and its node executor, minus the wall time of
``python -c pass`` measured in the same loop. Model-calling functions are also measured
with litellm imported, which their first model call does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions" / "nodes").glob("*/handler.py"))
MODEL_CALLING = {"llm"}


def _wall(code: str) -> float:
    env = {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
    return time.perf_counter() - t0


def _import_code(function: str, litellm: bool) -> str:
    handler = ROOT / "functions" / "nodes" / function / "handler.py"
    code = f"import runpy; runpy.run_path({str(handler)!r}); import flowwright.nodes.{function}.run"
    if litellm:
        code += "; import litellm"
    return code


def measure(repeat: int) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    variants = [(f, False) for f in FUNCTIONS] + [
        (f, True) for f in FUNCTIONS if f in MODEL_CALLING
    ]
    for function, litellm in variants:
        baseline, samples = [], []
        _wall(_import_code(function, litellm))  # warm the file cache
        for _ in range(repeat):
            baseline.append(_wall("pass"))
            samples.append(_wall(_import_code(function, litellm)))
        key = f"{function}+litellm" if litellm else function
        rows[key] = {
            "python_pass_ms": round(statistics.median(baseline) * 1000, 1),
            "process_ms": round(statistics.median(samples) * 1000, 1),
            "import_ms": round(
                (statistics.median(samples) - statistics.median(baseline)) * 1000, 1
            ),
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "cold_start.json"))
    args = parser.parse_args()
    rows = measure(args.repeat)
    Path(args.out).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(
        f"{'function':<28}{'python -c pass':>16}{'process':>10}{'import':>10}  (ms, median of {args.repeat})"
    )
    for name, row in rows.items():
        print(f"{name:<28}{row['python_pass_ms']:>16}{row['process_ms']:>10}{row['import_ms']:>10}")


if __name__ == "__main__":
    main()
