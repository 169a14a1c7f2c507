"""If/else node and Dify's condition operators (checked against graphon's ConditionProcessor)."""

from __future__ import annotations

from typing import Any

import pytest
from flowwright.errors import NodeExecutionError
from flowwright.nodes.base import NodeContext
from flowwright.nodes.if_else.conditions import compare, evaluate_conditions
from flowwright.nodes.if_else.config import Condition, IfElseConfig
from flowwright.nodes.if_else.run import run
from flowwright.variables import VariablePool

CTX = NodeContext(app_id="a", run_id="r", node_id="n", node_type="if-else")

PNG = {
    "dify_model_identity": "__dify__file__",
    "type": "image",
    "transfer_method": "remote_url",
    "url": "https://x/a.png",
    "filename": "a.png",
    "extension": ".png",
    "mime_type": "image/png",
    "size": 100,
}
PDF = {
    "type": "document",
    "transfer_method": "local_file",
    "remote_url": "https://x/b.pdf",
    "filename": "b.pdf",
    "extension": "pdf",
    "mime_type": "application/pdf",
    "size": 5000,
}

SCOPES: dict[str, Any] = {
    "n": {
        "s": "hello",
        "empty": "",
        "i": 5,
        "f": 2.5,
        "b": True,
        "bf": False,
        "none": None,
        "arr": ["a", "b"],
        "nums": [1, 2],
        "bools": [True, False],
        "obj": {"k": "v"},
        "files": [PNG, PDF],
        "t": "ell",
    },
}


def cond(name: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    selector = name.split(".") if "." in name else ["n", name]
    return {"variable_selector": selector, "comparison_operator": op, "value": value, **extra}


def holds(name: str, op: str, value: Any = None, **extra: Any) -> bool:
    condition = Condition.model_validate(cond(name, op, value, **extra))
    return evaluate_conditions([condition], "and", VariablePool(SCOPES))


def node(cases: list[dict[str, Any]], scopes: dict[str, Any] | None = None) -> Any:
    config = IfElseConfig.model_validate({"type": "if-else", "cases": cases})
    return run(config, VariablePool(scopes or SCOPES), CTX)


@pytest.mark.parametrize(
    ("name", "op", "value", "expected"),
    [
        ("s", "contains", "ell", True),
        ("s", "contains", "xyz", False),
        ("empty", "contains", "", False),  # Dify: an empty variable contains nothing
        ("arr", "contains", "a", True),
        ("nums", "contains", "1", False),  # Dify: array members compared as-is
        ("s", "not contains", "xyz", True),
        ("empty", "not contains", "x", True),
        ("arr", "not contains", "a", False),
        ("s", "start with", "he", True),
        ("s", "start with", "lo", False),
        ("empty", "start with", "", False),
        ("s", "end with", "lo", True),
        ("s", "is", "hello", True),
        ("s", "is", "hell", False),
        ("s", "is not", "hell", True),
        ("none", "is", "x", False),
        ("none", "is not", "x", False),  # Dify: "is not" is False for null
        ("empty", "empty", None, True),
        ("i", "empty", None, False),
        ("arr", "not empty", None, True),
        ("obj", "not empty", None, True),
        ("none", "empty", None, True),
        ("i", "=", "5", True),
        ("i", "=", "6", False),
        ("f", "=", "2.5", True),
        ("i", "≠", "6", True),
        ("none", "≠", "1", False),  # Dify: "≠" is False for null
        ("i", ">", "4", True),
        ("i", ">", "4.5", True),
        ("i", "<", "5", False),
        ("i", "≥", "5", True),
        ("f", "≤", "2.5", True),
        ("f", "<", "3", True),
        ("none", ">", "1", False),
        ("none", "null", None, True),
        ("s", "null", None, False),
        ("s", "not null", None, True),
        ("s", "in", ["hello", "x"], True),
        ("s", "in", ["x"], False),
        ("empty", "in", [""], False),  # Dify: an empty variable is never "in"
        ("s", "not in", ["x"], True),
        ("empty", "not in", [""], True),
        ("arr", "all of", ["a", "b"], True),
        ("arr", "all of", ["a", "c"], False),
        ("s", "all of", ["he", "lo"], True),  # Dify: substrings of a string
        ("arr", "all of", [], True),
        ("none", "exists", None, False),
        ("s", "exists", None, True),
        ("none", "not exists", None, True),
    ],
)
def test_operators(name: str, op: str, value: Any, expected: bool) -> None:
    assert holds(name, op, value) is expected


@pytest.mark.parametrize(
    ("op", "value", "expected", "result"),
    [
        ("=", 3, "3.0", ValueError),  # Dify: an integer variable converts with int()
        ("=", 3, 3.9, True),  # Dify: int(3.9) == 3
        ("=", 3.0, "3", True),
        (">", 3, "abc", ValueError),
        (">", 3, None, ValueError),
        (">", "3", "1", ValueError),  # a numeric string is not a number variable
        ("=", True, 1, True),
        ("contains", 5, "5", ValueError),
        ("start with", "abc", 1, ValueError),
        ("is", 5, "5", ValueError),
        ("in", "a", "a", ValueError),
        ("all of", ["a"], "a", ValueError),
        ("all of", ["a", True], ["a", True], ValueError),
        ("all of", [True, False], [True], True),
        ("all of", "true", [True], False),
        ("bogus", 1, 1, ValueError),
        ("==", 1, "1", True),
        ("!=", 1, "2", True),
        (">=", 1, "1", True),
        ("<=", 1, "0", False),
    ],
)
def test_compare_types(op: str, value: Any, expected: Any, result: Any) -> None:
    if result is ValueError:
        with pytest.raises(ValueError):
            compare(op, value, expected)
    else:
        assert compare(op, value, expected) is result


def test_number_strings_and_floats() -> None:
    assert compare(">", 5, "4.5") is True
    assert compare("≤", 2.5, 3) is True
    assert compare("<", 1, 1.5) is True


@pytest.mark.parametrize(
    ("name", "op", "value", "expected"),
    [
        ("b", "is", "true", True),
        ("b", "is", "false", False),
        ("bf", "is", "false", True),
        ("b", "=", "1", True),
        ("bf", "≠", "true", True),
        ("b", "is not", "false", True),
        ("b", "is", True, True),
        ("bools", "contains", "true", True),
        ("bools", "all of", ["true", "false"], True),
        ("b", "in", ["true"], True),
    ],
)
def test_booleans_convert_expected(name: str, op: str, value: Any, expected: bool) -> None:
    assert holds(name, op, value) is expected


def test_boolean_bad_expected_fails() -> None:
    # Dify: only JSON spellings convert ("True" is not JSON).
    with pytest.raises(NodeExecutionError, match=r"n\.b"):
        holds("b", "is", "True")


def test_expected_value_is_a_template() -> None:
    assert holds("s", "contains", "{{#n.t#}}") is True
    assert holds("s", "is", "h{{#n.t#}}o") is True
    assert holds("i", "=", "{{#n.i#}}") is True


def test_missing_variable_fails_naming_selector_and_operator() -> None:
    with pytest.raises(NodeExecutionError, match=r"n\.nope not found.*'is'"):
        holds("nope", "is", "x")
    with pytest.raises(NodeExecutionError, match=r"n\.obj\.zz not found"):
        holds("n.obj.zz", "is", "x")
    assert holds("n.obj.k", "is", "v") is True


def test_type_error_names_selector_and_operator() -> None:
    with pytest.raises(NodeExecutionError, match=r"n\.i.*'contains'"):
        holds("i", "contains", "5")


def test_and_or_short_circuit() -> None:
    pool = VariablePool(SCOPES)
    ok = Condition.model_validate(cond("s", "is", "hello"))
    no = Condition.model_validate(cond("s", "is", "x"))
    missing = Condition.model_validate(cond("nope", "is", "x"))
    assert evaluate_conditions([no, missing], "and", pool) is False
    assert evaluate_conditions([ok, missing], "or", pool) is True
    assert evaluate_conditions([ok, ok], "and", pool) is True
    assert evaluate_conditions([no, no], "or", pool) is False
    with pytest.raises(NodeExecutionError):
        evaluate_conditions([ok, missing], "and", pool)
    with pytest.raises(NodeExecutionError):
        evaluate_conditions([no, missing], "or", pool)
    # Dify: no conditions hold under "and", not under "or".
    assert evaluate_conditions([], "and", pool) is True
    assert evaluate_conditions([], "or", pool) is False


def files(op: str, *subs: tuple[str, str, Any], logic: str = "and") -> bool:
    group = {
        "logical_operator": logic,
        "conditions": [{"key": k, "comparison_operator": o, "value": v} for k, o, v in subs],
    }
    return holds("files", op, None, sub_variable_condition=group)


@pytest.mark.parametrize(
    ("op", "sub", "expected"),
    [
        ("contains", ("extension", "is", "png"), True),  # compared with a leading dot
        ("contains", ("extension", "is", ".pdf"), True),  # the file's "pdf" gets a dot too
        ("contains", ("extension", "is", "gif"), False),
        ("contains", ("type", "is", "image"), True),
        ("contains", ("type", "in", ["audio", "document"]), True),
        ("contains", ("name", "end with", ".pdf"), True),
        ("contains", ("mime_type", "start with", "image/"), True),
        ("contains", ("size", ">", "1000"), True),
        ("contains", ("size", "<", "50"), False),
        ("contains", ("transfer_method", "is", "local_file"), True),
        ("contains", ("url", "contains", "b.pdf"), True),
        # Dify: operators with "not" must hold for every file, others for any file.
        ("contains", ("type", "is not", "image"), False),
        ("contains", ("type", "not in", ["audio"]), True),
        ("not contains", ("type", "is", "image"), True),
        ("all of", ("type", "is", "image"), True),
    ],
)
def test_file_sub_conditions(op: str, sub: tuple[str, str, Any], expected: bool) -> None:
    assert files(op, sub) is expected


def test_file_sub_condition_groups() -> None:
    audio, image = ("type", "is", "audio"), ("type", "is", "image")
    assert files("contains", audio, image, logic="or") is True
    assert files("contains", audio, image, logic="and") is False
    with pytest.raises(NodeExecutionError, match="Sub variable is required"):
        holds("files", "contains")
    with pytest.raises(NodeExecutionError, match="FileAttribute"):
        files("contains", ("bogus", "is", "x"))
    with pytest.raises(NodeExecutionError):
        files("contains", ("extension", "in", ["png"]))  # extension needs a string
    # Other operators on a file list compare the list itself.
    assert holds("files", "not empty") is True


def test_cases_in_order_and_outputs() -> None:
    cases = [
        {"case_id": "c1", "conditions": [cond("s", "is", "nope")]},
        {"case_id": "c2", "logical_operator": "or", "conditions": [cond("i", ">", "3")]},
        {"case_id": "c3", "conditions": [cond("i", ">", "1")]},
    ]
    result = node(cases)
    assert result.handle == "c2"
    assert result.outputs == {"result": True, "selected_case_id": "c2"}
    assert result.inputs == {
        "conditions": [{"actual_value": 5, "expected_value": "3", "comparison_operator": ">"}]
    }
    assert [r["case_id"] for r in result.process_data["condition_results"]] == ["c1", "c2"]


def test_no_case_holds_takes_false() -> None:
    result = node([{"case_id": "c1", "conditions": [cond("s", "is", "nope")]}])
    assert result.handle == "false"
    assert result.outputs == {"result": False, "selected_case_id": "false"}


def test_empty_case_holds() -> None:
    assert node([{"case_id": "c1", "conditions": []}]).handle == "c1"


def test_node_error_fails() -> None:
    with pytest.raises(NodeExecutionError, match="not found"):
        node([{"case_id": "c1", "conditions": [cond("nope", "is", "x")]}])


def test_legacy_top_level_conditions() -> None:
    config = IfElseConfig.model_validate(
        {
            "type": "if-else",
            "logical_operator": "or",
            "conditions": [cond("s", "is", "x"), cond("i", "=", "5")],
        }
    )
    result = run(config, VariablePool(SCOPES), CTX)
    assert result.handle == "true"
    assert result.outputs == {"result": True, "selected_case_id": "true"}
    assert config.branch_handles() == ["true", "false"]
