"""Service API throughput: a three-node workflow (start -> model -> end) on the local server.

    .venv/bin/python bench/api_throughput.py [--requests 200]

Starts ``flowwright dev`` on the test apps in its own process, with the model mocked
(``--mock-llm``), and sends blocking ``POST /v1/workflows/run`` requests from 1, 8 and 32
concurrent clients. Reports requests/s and p50/p99 latency; writes
bench/results/api_throughput.json. Each run is a real Step Functions execution in moto with
the node functions invoked in the server process.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
APPS = ROOT / "tests" / "api" / "apps"


def start_server(data_dir: str) -> tuple[subprocess.Popen[str], str, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "flowwright"),
            "dev",
            str(APPS),
            "--port",
            str(port),
            "--mock-llm",
            "Paris is the capital of France.",
            "--data-dir",
            data_dir,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    key = None
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"echo \(workflow\): new key (app-\w+)", line)
        if found:
            key = found.group(1)
            break
    assert key, "no key printed"
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.1)
    threading.Thread(target=lambda: [None for _ in process.stdout or []], daemon=True).start()
    return process, url, key


def run_level(url: str, key: str, clients: int, total: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = max(1, total // clients)

    def client() -> None:
        nonlocal errors
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120
        ) as http:
            for _ in range(per_client):
                started = time.perf_counter()
                reply = http.post(
                    "/v1/workflows/run",
                    json={
                        "inputs": {"q": "capital of France?"},
                        "response_mode": "blocking",
                        "user": "bench",
                    },
                )
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if reply.status_code != 200 or reply.json()["data"]["status"] != "succeeded":
                        errors += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=192)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        process, url, key = start_server(data)
        try:
            run_level(url, key, 4, 16)  # warm-up: imports, first deploys
            rows = [run_level(url, key, c, args.requests) for c in (1, 8, 32)]
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"{'clients':>8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for row in rows:
        print(
            f"{row['clients']:>8}{row['requests_per_s']:>10}{row['p50_ms']:>10}{row['p99_ms']:>10}{row['errors']:>8}"
        )
    out = ROOT / "bench" / "results" / "api_throughput.json"
    out.write_text(
        json.dumps({"workflow": "start -> llm (mocked) -> end", "levels": rows}, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
