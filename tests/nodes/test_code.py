"""Code node: the sandboxed subprocess, Dify's output checks and the executor (no mocks)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flowwright.errors import NodeConfigError, NodeExecutionError, NodeTimeoutError
from flowwright.nodes.base import NodeContext
from flowwright.nodes.code import sandbox
from flowwright.nodes.code.checks import CodeLimits, CodeOutputError, check_outputs
from flowwright.nodes.code.config import CodeConfig, CodeOutput
from flowwright.nodes.code.run import run
from flowwright.nodes.code.sandbox import run_python
from flowwright.variables import VariablePool


@pytest.fixture(params=["fork-server", "subprocess"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a sandbox test through the fork server and through a plain subprocess."""
    monkeypatch.setenv(sandbox.FORK_SERVER_ENV, "1" if request.param == "fork-server" else "0")
    yield request.param


def outputs(**types: Any) -> dict[str, CodeOutput]:
    return {name: CodeOutput.model_validate(spec) for name, spec in types.items()}


def check(result: dict[str, Any], limits: CodeLimits | None = None, **types: Any) -> Any:
    return check_outputs(result, outputs(**types), limits or CodeLimits())


# --------------------------------------------------------------------------- sandbox


def test_simple_main(mode: str) -> None:
    assert run_python("def main():\n    return {'result': 'hi'}\n", {}) == {"result": "hi"}


def test_inputs_are_passed_as_keywords(mode: str) -> None:
    code = "def main(arg1: str, arg2: int) -> dict:\n    return {'result': arg1 * arg2}\n"
    assert run_python(code, {"arg1": "ab", "arg2": 3}) == {"result": "ababab"}


def test_inputs_and_results_cross_as_json(mode: str) -> None:
    code = "def main(x):\n    return {'x': x, 'kind': type(x['a']).__name__}\n"
    value = {"a": [1, 2.5, None, True, "é"], "b": {"c": None}}
    assert run_python(code, {"x": value}) == {"x": value, "kind": "list"}


def test_prints_do_not_break_the_result(mode: str) -> None:
    code = (
        "import sys\n"
        "def main():\n"
        '    print(\'{"result": "fake"}\')\n'
        "    for i in range(2000):\n"
        "        print('x' * 100, file=sys.stderr)\n"
        "    return {'result': 'real'}\n"
    )
    assert run_python(code, {}) == {"result": "real"}


def test_syntax_error_names_the_line(mode: str) -> None:
    with pytest.raises(NodeExecutionError, match=r"SyntaxError: .*line 2"):
        run_python("def main():\n    return {'a': 1\n", {})


def test_exception_names_type_message_and_line(mode: str) -> None:
    code = "def main(n):\n    x = n\n    return {'r': 1 / x}\n"
    with pytest.raises(NodeExecutionError) as info:
        run_python(code, {"n": 0})
    message = str(info.value)
    assert "ZeroDivisionError: division by zero" in message
    assert "line 3: return {'r': 1 / x}" in message


def test_error_includes_the_tail_of_stderr(mode: str) -> None:
    code = (
        "import sys\n"
        "def main():\n"
        "    print('looking at row 7', file=sys.stderr)\n"
        "    raise KeyError('id')\n"
    )
    with pytest.raises(NodeExecutionError, match=r"(?s)KeyError: 'id'.*looking at row 7"):
        run_python(code, {})


def test_missing_main_and_wrong_arguments(mode: str) -> None:
    with pytest.raises(NodeExecutionError, match=r"does not define a function main\(\)"):
        run_python("x = 1\n", {})
    with pytest.raises(NodeExecutionError, match="unexpected keyword argument 'b'"):
        run_python("def main(a):\n    return {}\n", {"a": 1, "b": 2})


def test_timeout_kills_the_code(mode: str) -> None:
    started = time.monotonic()
    with pytest.raises(NodeTimeoutError, match="code ran longer than 1 s"):
        run_python("def main():\n    while True:\n        pass\n", {}, timeout_s=1)
    assert time.monotonic() - started < 3


def test_memory_limit(mode: str) -> None:
    code = "def main():\n    block = bytearray(1024 ** 3)\n    return {'n': len(block)}\n"
    with pytest.raises(NodeExecutionError, match="memory limit of 128 MiB"):
        run_python(code, {}, memory_mb=128)


def test_result_must_be_a_dict(mode: str) -> None:
    with pytest.raises(NodeExecutionError, match="main\\(\\) must return a dict, got list"):
        run_python("def main():\n    return [1, 2]\n", {})


def test_result_must_be_json(mode: str) -> None:
    with pytest.raises(NodeExecutionError, match=r"output 'bad' .*not JSON-serializable"):
        run_python("def main():\n    return {'ok': 1, 'bad': {1, 2}}\n", {})
    with pytest.raises(NodeExecutionError, match=r"output 'nan' .*not JSON-serializable"):
        run_python("def main():\n    return {'nan': float('nan')}\n", {})


def test_exit_without_result(mode: str) -> None:
    with pytest.raises(NodeExecutionError, match="exited with status 3"):
        run_python("import os\ndef main():\n    os._exit(3)\n", {})


def test_child_gets_a_clean_environment(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    code = "import os, sys\ndef main():\n    return {'env': dict(os.environ), 'path': sys.path}\n"
    result = run_python(code, {})
    assert "AWS_SECRET_ACCESS_KEY" not in result["env"]
    assert not any("site-packages" in p for p in result["path"])


def test_concurrent_runs(mode: str) -> None:
    code = "import time\ndef main(i):\n    time.sleep(0.2)\n    return {'square': i * i}\n"
    results: dict[int, Any] = {}

    def work(i: int) -> None:
        try:
            results[i] = run_python(code, {"i": i})
        except Exception as exc:  # reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: {"square": i * i} for i in range(8)}


def test_falls_back_when_the_fork_server_dies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sandbox.FORK_SERVER_ENV, "1")
    code = "def main(a):\n    return {'a': a}\n"
    assert run_python(code, {"a": 1}) == {"a": 1}
    server = sandbox._server
    assert server is not None
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    assert run_python(code, {"a": 2}) == {"a": 2}


# --------------------------------------------------------------------------- output checks


def test_string_output() -> None:
    assert check({"r": "a\x00b"}, r={"type": "string"}) == {"r": "ab"}
    assert check({"r": None}, r={"type": "string"}) == {"r": None}
    with pytest.raises(CodeOutputError, match="output 'r' must be a string, got int"):
        check({"r": 1}, r={"type": "string"})
    with pytest.raises(CodeOutputError, match="output 'r' is 6 characters long"):
        check({"r": "abcdef"}, CodeLimits(max_string_length=5), r={"type": "string"})


def test_number_output() -> None:
    assert check({"n": 1.5}, n={"type": "number"}) == {"n": 1.5}
    assert check({"n": True}, n={"type": "number"}) == {"n": 1}
    with pytest.raises(CodeOutputError, match="output 'n' must be a number, got str"):
        check({"n": "1"}, n={"type": "number"})
    with pytest.raises(CodeOutputError, match="output 'n' is out of range"):
        check({"n": 2**63}, n={"type": "number"})
    with pytest.raises(CodeOutputError, match="output 'n' has 25 decimal places"):
        check({"n": 1e-25}, n={"type": "number"})


def test_boolean_output_is_not_type_checked_as_in_dify() -> None:
    assert check({"b": True, "c": "yes"}, b={"type": "boolean"}, c={"type": "boolean"}) == {
        "b": True,
        "c": "yes",
    }


def test_object_output_with_children() -> None:
    spec = {"type": "object", "children": {"name": {"type": "string"}, "n": {"type": "number"}}}
    assert check({"o": {"name": "a\x00", "n": False}}, o=spec) == {"o": {"name": "a", "n": 0}}
    assert check({"o": None}, o=spec) == {"o": None}
    with pytest.raises(CodeOutputError, match=r"output 'o.n' must be a number, got str"):
        check({"o": {"name": "a", "n": "x"}}, o=spec)
    with pytest.raises(CodeOutputError, match=r"output 'o.n' is missing"):
        check({"o": {"name": "a"}}, o=spec)
    with pytest.raises(CodeOutputError, match=r"undeclared outputs: 'o.extra'"):
        check({"o": {"name": "a", "n": 1, "extra": 1}}, o=spec)
    with pytest.raises(CodeOutputError, match="output 'o' must be an object, got list"):
        check({"o": []}, o=spec)


def test_object_output_without_children_is_validated_not_converted() -> None:
    value = {"a": {"b": {"c": {"d": 1}}}, "s": "x\x00", "l": [1, None, 2.5]}
    assert check({"o": value}, o={"type": "object"}) == {"o": value}
    with pytest.raises(CodeOutputError, match=r"output 'o.l' is not a valid array"):
        check({"o": {"l": [1, "x"]}}, o={"type": "object"})


def test_depth_limit() -> None:
    ok = {"a": {"b": {"c": {"d": 1}}}}
    assert check({"o": ok}, o={"type": "object"}) == {"o": ok}
    with pytest.raises(CodeOutputError, match=r"'o.a.b.c.d' is nested too deeply"):
        check({"o": {"a": {"b": {"c": {"d": {"e": 1}}}}}}, o={"type": "object"})


def test_array_outputs() -> None:
    assert check({"a": [1, True, 2.5]}, a={"type": "array[number]"}) == {"a": [1, 1, 2.5]}
    assert check({"a": ["x\x00", None]}, a={"type": "array[string]"}) == {"a": ["x", None]}
    assert check({"a": [True, None]}, a={"type": "array[boolean]"}) == {"a": [True, None]}
    assert check({"a": None}, a={"type": "array[number]"}) == {"a": None}
    with pytest.raises(CodeOutputError, match="output 'a' must be an array, got str"):
        check({"a": "x"}, a={"type": "array[string]"})
    with pytest.raises(CodeOutputError, match=r"output 'a\[1\]' must be a number, got None"):
        check({"a": [1, None]}, a={"type": "array[number]"})
    with pytest.raises(CodeOutputError, match=r"output 'a\[1\]' must be a string, got int"):
        check({"a": ["x", 1]}, a={"type": "array[string]"})
    with pytest.raises(CodeOutputError, match=r"output 'a\[0\]' must be a boolean, got int"):
        check({"a": [1]}, a={"type": "array[boolean]"})


def test_array_of_objects() -> None:
    spec = {"type": "array[object]", "children": {"id": {"type": "number"}}}
    assert check({"a": [{"id": True}, None]}, a=spec) == {"a": [{"id": 1}, None]}
    with pytest.raises(CodeOutputError, match=r"output 'a\[0\]' must be an object, got list"):
        check({"a": [[1]]}, a=spec)
    with pytest.raises(CodeOutputError, match=r"output 'a\[0\].id' is missing"):
        check({"a": [{}]}, a=spec)


def test_array_length_limits() -> None:
    assert check({"a": ["x"] * 30}, a={"type": "array[string]"}) == {"a": ["x"] * 30}
    with pytest.raises(
        CodeOutputError, match="output 'a' has 31 elements, more than the limit of 30"
    ):
        check({"a": ["x"] * 31}, a={"type": "array[string]"})
    with pytest.raises(CodeOutputError, match="31 elements, more than the limit of 30"):
        check({"a": [{}] * 31}, a={"type": "array[object]"})
    with pytest.raises(CodeOutputError, match="1001 elements, more than the limit of 1000"):
        check({"a": [1] * 1001}, a={"type": "array[number]"})


def test_missing_and_undeclared_outputs() -> None:
    with pytest.raises(CodeOutputError, match="output 'b' is missing"):
        check({"a": "x"}, a={"type": "string"}, b={"type": "string"})
    with pytest.raises(CodeOutputError, match="undeclared outputs: 'extra'"):
        check({"a": "x", "extra": 1}, a={"type": "string"})


def test_unsupported_output_type() -> None:
    with pytest.raises(NodeConfigError, match="type 'array\\[any\\]'"):
        check({"a": []}, a={"type": "array[any]"})


# --------------------------------------------------------------------------- executor


def _ctx() -> NodeContext:
    return NodeContext(app_id="app", run_id="run", node_id="code1", node_type="code")


def _config(code: str, **extra: Any) -> CodeConfig:
    return CodeConfig.model_validate({"type": "code", "code": code, **extra})


def test_run_reads_inputs_and_checks_outputs() -> None:
    config = _config(
        "def main(name, n):\n    return {'greeting': f'hi {name}', 'double': n * 2}\n",
        variables=[
            {"variable": "name", "value_selector": ["start", "name"]},
            {"variable": "n", "value_selector": ["start", "n"]},
        ],
        outputs={"greeting": {"type": "string"}, "double": {"type": "number"}},
    )
    pool = VariablePool({"start": {"name": "Ada", "n": 21}})
    result = run(config, pool, _ctx())
    assert result.outputs == {"greeting": "hi Ada", "double": 42}
    assert result.inputs == {"name": "Ada", "n": 21}


def test_run_missing_input_is_none() -> None:
    config = _config(
        "def main(x):\n    return {'r': x is None}\n",
        variables=[{"variable": "x", "value_selector": ["start", "nope"]}],
        outputs={"r": {"type": "boolean"}},
    )
    assert run(config, VariablePool({}), _ctx()).outputs == {"r": True}


def test_run_rejects_javascript() -> None:
    config = _config("function main() { return {} }", code_language="javascript")
    with pytest.raises(NodeConfigError, match="javascript code nodes are not supported"):
        run(config, VariablePool({}), _ctx())


def test_run_uses_the_timeout_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWWRIGHT_CODE_TIMEOUT_S", "0.5")
    config = _config("import time\ndef main():\n    time.sleep(5)\n    return {}\n")
    with pytest.raises(NodeTimeoutError, match=r"longer than 0.5 s") as info:
        run(config, VariablePool({}), _ctx())
    assert info.value.node_id == "code1"
    monkeypatch.setenv("FLOWWRIGHT_CODE_MEMORY_MB", "lots")
    with pytest.raises(NodeConfigError, match="FLOWWRIGHT_CODE_MEMORY_MB must be a positive"):
        run(_config("def main():\n    return {}\n"), VariablePool({}), _ctx())


def test_run_output_check_failure() -> None:
    config = _config("def main():\n    return {'r': 1}\n", outputs={"r": {"type": "string"}})
    with pytest.raises(CodeOutputError, match="output 'r' must be a string, got int"):
        run(config, VariablePool({}), _ctx())


def test_in_lambda_the_handler_hides_its_environment() -> None:
    """Lambda runs handlers as an unprivileged user; a non-dumpable process's /proc files
    (environ holds the function's AWS credentials) are then unreadable to the user code it
    spawns. The sandbox's children also start from a clean environment."""
    import subprocess
    import sys

    probe = (
        "import ctypes\n"
        "from flowwright.nodes.code.sandbox import run_python\n"
        'seen = run_python(\'import os\\ndef main():\\n    return {"k": os.environ.get("AWS_SECRET_ACCESS_KEY")}\', {})\n'
        "libc = ctypes.CDLL(None)\n"
        "print(seen['k'], libc.prctl(3, 0, 0, 0, 0))\n"  # PR_GET_DUMPABLE
    )
    env = dict(
        os.environ,
        FLOWWRIGHT_CODE_FORK_SERVER="0",
        AWS_LAMBDA_FUNCTION_NAME="fn",
        AWS_SECRET_ACCESS_KEY="top-secret",
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["None", "0"]
