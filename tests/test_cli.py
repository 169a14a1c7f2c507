"""The flowwright command, run as users run it (a real subprocess for the end-to-end cases)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flowwright.cli import main

from tests.support import EXAMPLES, FIXTURES, ROOT


def flowwright(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowwright.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_validate_ok_and_warnings(capsys: Any) -> None:
    assert main(["validate", str(EXAMPLES / "support-triage.yml")]) == 0
    assert "ok (workflow, 8 nodes" in capsys.readouterr().out


def test_validate_reports_every_error(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "nodes:\n  - id: a\n    data: {type: tool}\n  - id: b\n    data: {type: nope}\nedges: []\n"
    )
    assert main(["validate", str(bad), str(EXAMPLES / "chat-assistant.yml")]) == 1
    err = capsys.readouterr().err
    assert "3 error(s)" in err and "unsupported_node_type" in err and "unknown_node_type" in err
    assert "no_start_node" in err


def test_compile_writes_asl(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    assert main(["compile", str(FIXTURES / "simple_passthrough_workflow.yml"), "-o", str(out)]) == 0
    definition = json.loads(out.read_text())
    assert definition["StartAt"] == "Init" and "States" in definition


def test_bad_inputs_are_usage_errors(capsys: Any) -> None:
    assert main(["run", str(EXAMPLES / "support-triage.yml"), "--inputs", "{not json"]) == 2
    assert "--inputs is not valid JSON" in capsys.readouterr().err
    assert main(["run", str(EXAMPLES / "support-triage.yml"), "--inputs", "[1]"]) == 2


@pytest.mark.slow
def test_run_json_for_scripts(tmp_path: Path) -> None:
    done = flowwright(
        "run",
        str(EXAMPLES / "support-triage.yml"),
        "--json",
        "--data-dir",
        str(tmp_path),
        "--mock-llm",
        "Checkout is down.",
        "--inputs",
        json.dumps({"ticket": "URGENT: site down", "customer": "Ada"}),
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded"
    assert result["outputs"]["urgent"] is True
    assert result["outputs"]["reply"].startswith("Hi Ada, this looks urgent (urgent, down).")
    assert "Summary: Checkout is down." in result["outputs"]["reply"]
    by_id = {n["id"]: n for n in result["nodes"]}
    assert by_id["standard"]["status"] == "skipped" and by_id["summarize"]["tokens"] > 0


@pytest.mark.slow
def test_failed_run_exits_1_and_names_the_node(tmp_path: Path) -> None:
    done = flowwright(
        "run", str(EXAMPLES / "support-triage.yml"), "--data-dir", str(tmp_path), "--inputs", "{}"
    )
    assert done.returncode == 1
    assert "node 'Ticket' (start) failed: input 'ticket' is required" in done.stderr
