"""Variable assigner node: Dify's v2 operations, type checks, v1 format."""

from __future__ import annotations

from typing import Any

import pytest
from flowwright.errors import NodeConfigError, NodeExecutionError, NodeInputError
from flowwright.nodes.assigner.config import AssignerConfig
from flowwright.nodes.assigner.run import run
from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.variables import VariablePool

CTX = NodeContext(app_id="a", run_id="r", node_id="n", node_type="assigner")
V = ("conversation", "v")


def item(operation: str, value: Any = None, input_type: str = "constant") -> dict[str, Any]:
    return {
        "variable_selector": list(V),
        "input_type": input_type,
        "operation": operation,
        "value": value,
    }


def assign(
    current: Any,
    var_type: str | None,
    *items: dict[str, Any],
    inputs: dict[str, Any] | None = None,
) -> NodeResult:
    config = AssignerConfig.model_validate(
        {"type": "assigner", "version": "2", "items": list(items)}
    )
    scopes: dict[str, Any] = {"conversation": {"v": current}, "start": inputs or {}}
    if var_type is not None:
        scopes["#types"] = {"conversation.v": var_type}
    return run(config, VariablePool(scopes), CTX)


def new(current: Any, var_type: str | None, *items: dict[str, Any], **kw: Any) -> Any:
    result = assign(current, var_type, *items, **kw)
    assert result.outputs == {}
    return result.writes[V]


@pytest.mark.parametrize(
    ("current", "var_type", "operation", "value", "input_type", "expected"),
    [
        ("a", "string", "over-write", "b", "constant", "b"),
        ("a", "string", "over-write", ["start", "x"], "variable", "from-input"),
        ("a", "string", "set", "b", "constant", "b"),
        (5, "number", "set", 7, "constant", 7),
        (5, "number", "+=", 2, "constant", 7),
        (5, "number", "-=", 2, "constant", 3),
        (5, "number", "*=", 2.5, "constant", 12.5),
        (5, "number", "/=", 2, "constant", 2.5),
        (True, "boolean", "set", False, "constant", False),
        ({"a": 1}, "object", "set", {"b": 2}, "constant", {"b": 2}),
        ({"a": 1}, "object", "set", '{"b": 2}', "constant", {"b": 2}),  # Dify parses JSON text
        (["a"], "array[string]", "append", ["start", "x"], "variable", ["a", "from-input"]),
        (["a"], "array[string]", "extend", ["start", "xs"], "variable", ["a", "p", "q"]),
        (["a"], "array[string]", "over-write", ["start", "xs"], "variable", ["p", "q"]),
        (["a", "b", "c"], "array[string]", "remove-first", None, "variable", ["b", "c"]),
        (["a", "b", "c"], "array[string]", "remove-last", None, "variable", ["a", "b"]),
        ([], "array[string]", "remove-first", None, "variable", []),
        ([], "array[number]", "remove-last", None, "variable", []),
        ([{"a": 1}], "array[object]", "append", ["start", "obj"], "variable", [{"a": 1}, {"k": 1}]),
        ([1], "array[any]", "append", ["start", "x"], "variable", [1, "from-input"]),
    ],
)
def test_operations(
    current: Any, var_type: str, operation: str, value: Any, input_type: str, expected: Any
) -> None:
    inputs = {"x": "from-input", "xs": ["p", "q"], "obj": {"k": 1}}
    assert new(current, var_type, item(operation, value, input_type), inputs=inputs) == expected


@pytest.mark.parametrize(
    ("var_type", "current", "zero"),
    [
        ("string", "abc", ""),
        ("number", 5, 0),
        ("number", 2.5, 0.0),  # Dify: a float-valued number clears to 0.0
        ("object", {"a": 1}, {}),
        ("boolean", True, False),
        ("array[string]", ["a"], []),
        ("array[number]", [1], []),
        ("array[object]", [{}], []),
        ("array[boolean]", [True], []),
        ("array[any]", [1, "a"], []),
    ],
)
def test_clear_per_type(var_type: str, current: Any, zero: Any) -> None:
    value = new(current, var_type, item("clear", None, "variable"))
    assert value == zero and type(value) is type(zero)


def test_items_see_earlier_updates() -> None:
    result = assign(5, "number", item("+=", 1), item("*=", 10), item("-=", 3))
    assert result.writes == {V: 57}
    assert result.process_data == {
        "updated_variables": [{"name": "v", "selector": ["conversation", "v"], "new_value": 57}]
    }


def test_several_variables() -> None:
    config = AssignerConfig.model_validate(
        {
            "type": "assigner",
            "items": [
                {"variable_selector": ["conversation", "a"], "operation": "over-write",
                 "input_type": "variable", "value": ["conversation", "b"]},
                {"variable_selector": ["conversation", "b"], "operation": "clear"},
            ],
        }
    )  # fmt: skip
    pool = VariablePool({"conversation": {"a": "x", "b": "y"}})
    result = run(config, pool, CTX)
    assert result.writes == {("conversation", "a"): "y", ("conversation", "b"): ""}


@pytest.mark.parametrize(
    ("current", "var_type", "operation", "value", "message"),
    [
        ("a", "string", "over-write", 5, "cannot assign a number to conversation variable 'v' of type string"),
        (5, "number", "set", "7", "cannot assign a string to conversation variable 'v' of type number"),
        (True, "boolean", "set", 1, "cannot assign a number to conversation variable 'v' of type boolean"),
        ({}, "object", "set", "[1]", "cannot assign an array to conversation variable 'v' of type object"),
        ({}, "object", "set", "not json", "invalid JSON"),
        (5, "number", "+=", "2", "cannot apply \\+= to conversation variable .v. of type number with a string"),
        ("a", "string", "over-write", None, "cannot assign null"),
    ],
)  # fmt: skip
def test_constant_type_checks(
    current: Any, var_type: str, operation: str, value: Any, message: str
) -> None:
    with pytest.raises(NodeInputError, match=message):
        assign(current, var_type, item(operation, value))


@pytest.mark.parametrize(
    ("current", "var_type", "operation", "value", "message"),
    [
        (["a"], "array[string]", "append", 5, "cannot append a number to conversation variable 'v' of type array\\[string\\]"),
        (["a"], "array[string]", "extend", ["x", 1], "array containing a number"),
        (["a"], "array[string]", "extend", "x", "cannot extend conversation variable .v. of type array\\[string\\] with a string"),
        ([1], "array[number]", "over-write", ["x"], "array containing a string"),
        ([{}], "array[object]", "append", "x", "cannot append a string"),
        ([True], "array[boolean]", "append", 1, "cannot append a number"),
        ([1], "array[any]", "append", [1], "cannot append an array"),  # Dify: no nested lists
    ],
)  # fmt: skip
def test_variable_type_checks(
    current: Any, var_type: str, operation: str, value: Any, message: str
) -> None:
    with pytest.raises(NodeInputError, match=message):
        assign(current, var_type, item(operation, ["start", "x"], "variable"), inputs={"x": value})


def test_boolean_passes_as_number() -> None:
    # Dify: bool is an int in Python, so a boolean is accepted for a number variable.
    assert new(5, "number", item("over-write", True)) is True


@pytest.mark.parametrize(
    ("current", "var_type", "operation", "input_type", "error"),
    [
        ("a", "string", "+=", "constant", NodeConfigError),
        ("a", "string", "append", "variable", NodeConfigError),
        (["a"], "array[string]", "set", "constant", NodeConfigError),
        (5, "number", "+=", "variable", NodeConfigError),
        (5, "number", "set", "variable", NodeConfigError),
        # Dify: array variables take no constant input, whatever the operation.
        (["a"], "array[string]", "over-write", "constant", NodeConfigError),
        (["a"], "array[string]", "clear", "constant", NodeConfigError),
    ],
)
def test_unsupported_operations(
    current: Any, var_type: str, operation: str, input_type: str, error: type[Exception]
) -> None:
    with pytest.raises(error, match="not supported"):
        assign(current, var_type, item(operation, ["start", "x"], input_type), inputs={"x": 1})


def test_division_by_zero() -> None:
    with pytest.raises(NodeExecutionError, match="division by zero"):
        assign(5, "number", item("/=", 0))
    with pytest.raises(NodeExecutionError, match="division by zero"):
        assign(5, None, item("/=", 0.0))


def test_arithmetic_on_non_numbers() -> None:
    with pytest.raises(NodeExecutionError, match="both must be numbers"):
        assign("5", "number", item("+=", 1))
    with pytest.raises(NodeExecutionError, match="both must be numbers"):
        assign(5, None, item("+=", "1"))


def test_missing_input_variable() -> None:
    with pytest.raises(NodeInputError, match=r"start\.nope not found"):
        assign("a", "string", item("over-write", ["start", "nope"], "variable"))


def test_missing_target_variable() -> None:
    config = AssignerConfig.model_validate(
        {
            "type": "assigner",
            "items": [{"variable_selector": ["conversation", "zz"], "operation": "clear"}],
        }
    )
    with pytest.raises(NodeInputError, match=r"conversation\.zz not found"):
        run(config, VariablePool({"conversation": {}}), CTX)


def test_null_input_leaves_variable_unchanged() -> None:
    # Dify (v2): a variable input whose value is null skips the item.
    result = assign(
        "a", "string", item("over-write", ["start", "x"], "variable"), inputs={"x": None}
    )
    assert result.writes == {}


def test_undeclared_type_is_inferred_and_unchecked() -> None:
    assert new(5, None, item("+=", 2)) == 7
    assert new(["a"], None, item("append", ["start", "x"], "variable"), inputs={"x": 1}) == ["a", 1]
    assert new("a", None, item("over-write", ["start", "x"], "variable"), inputs={"x": 1}) == 1
    assert new([1], None, item("clear", None, "variable")) == []
    with pytest.raises(NodeInputError, match="not supported"):
        assign("a", None, item("append", ["start", "x"], "variable"), inputs={"x": 1})
    with pytest.raises(NodeExecutionError, match="cannot clear"):
        assign(None, None, item("clear", None, "variable"))


def v1(mode: str, source: list[str]) -> AssignerConfig:
    return AssignerConfig.model_validate(
        {
            "type": "assigner",
            "assigned_variable_selector": ["conversation", "v"],
            "input_variable_selector": source,
            "write_mode": mode,
        }
    )


def test_v1_format() -> None:
    def pool(current: Any, var_type: str) -> VariablePool:
        scopes = {"conversation": {"v": current}, "start": {"x": "in", "n": None}}
        return VariablePool({**scopes, "#types": {"conversation.v": var_type}})

    assert run(v1("over-write", ["start", "x"]), pool("a", "string"), CTX).writes == {V: "in"}
    assert run(v1("append", ["start", "x"]), pool(["a"], "array[string]"), CTX).writes == {
        V: ["a", "in"]
    }
    assert run(v1("clear", []), pool(["a"], "array[string]"), CTX).writes == {V: []}
    # Dify: v1 checks no types and writes a null input.
    assert run(v1("over-write", ["start", "x"]), pool(1, "number"), CTX).writes == {V: "in"}
    assert run(v1("over-write", ["start", "n"]), pool("a", "string"), CTX).writes == {V: None}
    with pytest.raises(NodeInputError, match=r"start\.zz not found"):
        run(v1("over-write", ["start", "zz"]), pool("a", "string"), CTX)
