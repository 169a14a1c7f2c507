"""Run every benchmark and print the README tables.

make bench        (or .venv/bin/python bench/run_all.py)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def main() -> None:
    for script in ("engine.py", "cold_start.py"):
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / script)], check=True, stdout=subprocess.DEVNULL
        )
    engine = json.loads((RESULTS / "engine.json").read_text())
    cold = json.loads((RESULTS / "cold_start.json").read_text())
    dify = engine.get("dify") or {}
    print("| graph | flowwright load + compile | Dify graph init |")
    print("|---|---|---|")
    for n, row in engine["compile"].items():
        peer = dify.get(f"chain-{n}", {})
        if not peer:
            peer_text = "not measured"
        elif "error" in peer:
            peer_text = f"fails: {peer['error'][-80:]}"
        else:
            peer_text = f"{peer['graph_init_ms']} ms"
        print(
            f"| chain of {n} | {row['total_ms']} ms ({row['load_ms']} + {row['compile_ms']}) | {peer_text} |"
        )
    runs = engine["runs"]
    print()
    print("| run | flowwright (moto) | Dify engine |")
    print("|---|---|---|")
    pairs = [
        ("chain", f"chain-{runs['chain']['n']}", "per_node_ms"),
        ("fanout", f"fanout-{runs['fanout']['n']}", "per_node_ms"),
        ("iteration", f"iter-{runs['iteration']['n']}", "per_item_ms"),
    ]
    for shape, peer_key, per in pairs:
        ours = runs[shape]
        peer = dify.get(peer_key)
        peer_text = (
            f"{peer['run_ms']} ms ({peer['run_per_n_ms']} per unit)" if peer else "not measured"
        )
        print(f"| {shape} {ours['n']} | {ours['run_ms']} ms ({ours[per]} per unit) | {peer_text} |")
    print()
    print("| function | cold import (ms over `python -c pass`) |")
    print("|---|---|")
    for name, row in cold.items():
        print(f"| {name} | {row['import_ms']} |")


if __name__ == "__main__":
    main()
