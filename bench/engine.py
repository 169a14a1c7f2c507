"""Engine benchmarks, side by side with Dify's own engine on the same generated graphs.

    .venv/bin/python bench/engine.py [--repeat 5] [--peer-python PATH]

flowwright: load + compile time of chains of 50/200/1000 template nodes; local run time
(moto's interpreter + in-process node functions) of a 50-node chain, a 20-way fan-out and a
20-item sequential iteration. Dify: ../shared/peers/dify_engine.py ``bench`` on the same
shapes, run by this command in a subprocess (``--peer-python``, default ../.peer-venv or
.peer-venv). Medians after one warm-up run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import graphs  # noqa: E402

SHARED = Path(os.environ.get("FLOWWRIGHT_SHARED", ROOT.parent / "shared"))
PEER = SHARED / "peers" / "dify_engine.py"
COMPILE_SIZES = (50, 200, 1000)
CHAIN, FANOUT, ITEMS = 50, 20, 20


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def measure_compile(repeat: int) -> dict[str, Any]:
    from flowwright.compiler import compile_app
    from flowwright.dsl import load_app_text

    rows = {}
    for n in COMPILE_SIZES:
        text = yaml.safe_dump(graphs.chain(n), sort_keys=False)
        loads, compiles = [], []
        for i in range(repeat + 1):
            t0 = time.perf_counter()
            app = load_app_text(text)
            t1 = time.perf_counter()
            definition = compile_app(app)
            t2 = time.perf_counter()
            if i:
                loads.append(t1 - t0)
                compiles.append(t2 - t1)
        rows[n] = {
            "load_ms": _median_ms(loads),
            "compile_ms": _median_ms(compiles),
            "total_ms": round(_median_ms(loads) + _median_ms(compiles), 3),
            "asl_bytes": len(json.dumps(definition)),
        }
    return rows


def _time_runs(runtime: Any, app: Any, expect: dict[str, Any], repeat: int) -> float:
    samples = []
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        result = runtime.run(app, {"x": "a"})
        elapsed = time.perf_counter() - t0
        assert result.status == "succeeded", result.error
        assert all(result.outputs.get(k) == v for k, v in expect.items()), result.outputs
        if i:
            samples.append(elapsed)
    return _median_ms(samples)


def measure_runs(repeat: int) -> dict[str, Any]:
    from flowwright.dsl import load_app_text
    from flowwright.runtime.local import LocalRuntime

    def app(doc: dict[str, Any]) -> Any:
        return load_app_text(yaml.safe_dump(doc, sort_keys=False))

    with tempfile.TemporaryDirectory() as data, LocalRuntime(data) as runtime:
        chain_ms = _time_runs(runtime, app(graphs.chain(CHAIN)), {"out": "a" + "!" * CHAIN}, repeat)
        chain1_ms = _time_runs(runtime, app(graphs.chain(1)), {"out": "a!"}, repeat)
        fanout_ms = _time_runs(
            runtime,
            app(graphs.fanout(FANOUT)),
            {f"o{i}": "a!" for i in range(1, FANOUT + 1)},
            repeat,
        )
        iter_ms = _time_runs(runtime, app(graphs.iteration(ITEMS)), {"out": ["a!"] * ITEMS}, repeat)
        iter1_ms = _time_runs(runtime, app(graphs.iteration(1)), {"out": ["a!"]}, repeat)
    return {
        "chain": {
            "n": CHAIN,
            "run_ms": chain_ms,
            "per_node_ms": round(chain_ms / CHAIN, 3),
            "marginal_per_node_ms": round((chain_ms - chain1_ms) / (CHAIN - 1), 3),
        },
        "fanout": {"n": FANOUT, "run_ms": fanout_ms, "per_node_ms": round(fanout_ms / FANOUT, 3)},
        "iteration": {
            "n": ITEMS,
            "run_ms": iter_ms,
            "per_item_ms": round(iter_ms / ITEMS, 3),
            "marginal_per_item_ms": round((iter_ms - iter1_ms) / (ITEMS - 1), 3),
        },
    }


def _peer_python(explicit: str | None) -> str | None:
    candidates = (
        [explicit]
        if explicit
        else [str(ROOT.parent / ".peer-venv/bin/python"), str(ROOT / ".peer-venv/bin/python")]
    )
    return next((c for c in candidates if c and Path(c).exists()), None)


def _peer_bench(python: str, args: list[str]) -> tuple[str, str | None]:
    done = subprocess.run(
        [python, str(PEER), "bench", *args], capture_output=True, text=True, timeout=1800
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return done.stdout, last
    return done.stdout, None


def measure_dify(python: str | None, repeat: int) -> dict[str, Any] | None:
    """Dify's engine on the same shapes (``dify_engine.py bench``), or None if not installed."""
    if python is None or not PEER.exists():
        return None
    rows: dict[str, Any] = {}
    runs = [["--sizes", str(CHAIN), "--fanout", str(FANOUT), "--iteration", str(ITEMS)]]
    runs += [["--sizes", str(n), "--fanout", "2"] for n in COMPILE_SIZES if n != CHAIN]
    for extra in runs:
        out, error = _peer_bench(python, [*extra, "--repeat", str(repeat)])
        if error:
            rows[f"chain-{extra[1]}"] = {"error": error}
        for line in out.splitlines():
            match = re.match(r"^(chain|fanout|iter)\s+(\d+)" + r"\s+([\d.]+)" * 6, line)
            if match and not (match.group(1) == "fanout" and match.group(2) == "2"):
                graph_init, build, result, _, run, run_n = map(float, match.groups()[2:])
                rows[f"{match.group(1)}-{match.group(2)}"] = {
                    "graph_init_ms": graph_init,
                    "build_ms": build,
                    "result_ms": result,
                    "run_ms": run,
                    "run_per_n_ms": run_n,
                }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--peer-python")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "engine.json"))
    args = parser.parse_args()
    results = {
        "python": sys.version.split()[0],
        "repeat": args.repeat,
        "compile": measure_compile(args.repeat),
        "runs": measure_runs(args.repeat),
        "dify": measure_dify(_peer_python(args.peer_python), args.repeat),
    }
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
