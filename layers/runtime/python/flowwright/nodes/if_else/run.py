"""If/else executor: the first case whose conditions hold picks the branch, else "false"."""

from __future__ import annotations

from typing import Any

from flowwright.nodes.base import NodeContext, NodeResult
from flowwright.nodes.if_else.conditions import ConditionCheck, check_conditions
from flowwright.nodes.if_else.config import IfElseConfig
from flowwright.variables import VariablePool

__all__ = ["run"]


def run(config: IfElseConfig, pool: VariablePool, ctx: NodeContext) -> NodeResult:
    """Evaluate the cases in order; outputs ``result`` and ``selected_case_id``.

    The handle is the id of the first case that holds, or ``"false"``. A missing variable or
    a value of the wrong type fails the node (:class:`NodeExecutionError`), as in Dify.
    """
    selected = "false"
    check = ConditionCheck()
    results: list[dict[str, Any]] = []
    for case in config.cases:
        check = check_conditions(case.conditions, case.logical_operator, pool)
        results.append(
            {"case_id": case.case_id, "results": check.results, "final_result": check.result}
        )
        if check.result:
            selected = case.case_id
            break
    return NodeResult(
        outputs={"result": check.result, "selected_case_id": selected},
        handle=selected or "false",
        # Dify: the inputs are the conditions of the last case evaluated.
        inputs={"conditions": check.inputs},
        process_data={"condition_results": results},
    )
