"""Emission of ASL states from region plans.

Every node resolves to a record at ``$.n_<id>``: the Task's result when it ran, a skip
record when none of its incoming edges was taken. A guard Choice in front of each node
that might not run checks, for each incoming edge, that the source took that edge's handle.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from flowwright.compiler.native_choice import native_rules
from flowwright.compiler.plan import Par, Plan, RegionPlan, Step
from flowwright.compiler.states import (
    MAX_MERGE_ARGS,
    choice,
    merge_deltas,
    merge_writes,
    pass_result,
)
from flowwright.dsl.graph import CONTAINER_TYPES
from flowwright.dsl.models import App, Node
from flowwright.nodes.registry import kind_of
from flowwright.runtime.addresses import (
    SKIPPED,
    conversation_key,
    loop_var_key,
    node_key,
    write_key,
)
from flowwright.variables import Selector

__all__ = ["Emitter", "Resources"]

#: Bytes of state the node records of one run may use together (Step Functions allows 256 KiB).
STATE_BUDGET = 180 * 1024
MIN_RECORD_BUDGET = 1024
MAX_RECORD_BUDGET = 64 * 1024
SKIP_RECORD = {"o": {}, "h": SKIPPED}


class Resources:
    """Maps a node function key (``llm``, ``if_else`` ...) to the ``Resource`` of its Task."""

    def __init__(self, arns: dict[str, str] | None = None, *, pattern: str = "${Fn_%s}") -> None:
        self._arns = arns or {}
        self._pattern = pattern

    def function(self, key: str) -> str:
        return self._arns.get(key) or self._pattern % key


@dataclass
class Scope:
    """Where states are being emitted: their States dict and the enclosing containers."""

    states: dict[str, Any]
    iteration: str | None = None
    item_catch: str | None = None
    catchable: list[dict[str, Any]] = field(default_factory=list)


class Emitter:
    """Builds the ASL definition of one app from its plan."""

    def __init__(self, app: App, plan: Plan, resources: Resources) -> None:
        self.app = app
        self.plan = plan
        self.resources = resources
        self.budget = max(
            MIN_RECORD_BUDGET, min(MAX_RECORD_BUDGET, STATE_BUDGET // max(1, len(app.nodes)))
        )
        self._names: set[str] = set()

    # ----------------------------------------------------------------- names
    def name(self, base: str) -> str:
        """A state name unique in the whole machine (at most 80 characters)."""
        candidate = base[:80]
        counter = 1
        while candidate in self._names:
            counter += 1
            suffix = f"#{counter}"
            candidate = base[: 80 - len(suffix)] + suffix
        self._names.add(candidate)
        return candidate

    # ----------------------------------------------------------------- machine
    def machine(self) -> dict[str, Any]:
        states: dict[str, Any] = {}
        top = Scope(states=states)
        finish = self._finish(top)
        entry = self.sequence(self.plan.regions[None], self.plan.regions[None].steps, finish, top)
        init = self._init(states, entry)
        return {
            "Comment": f"flowwright: {self.app.name} ({self.app.mode})",
            "StartAt": init,
            "States": _in_execution_order(init, states),
        }

    def _init(self, states: dict[str, Any], entry: str) -> str:
        defaults, merged, build = (
            self.name("Init"),
            self.name("Init.input"),
            self.name("Init.state"),
        )
        states[defaults] = {
            "Type": "Pass",
            "Result": {"sys": {}, "inputs": {}},
            "ResultPath": "$.fw_defaults",
            "Next": merged,
        }
        states[merged] = {
            "Type": "Pass",
            "Parameters": {"s.$": "States.JsonMerge($.fw_defaults, $, false)"},
            "OutputPath": "$.s",
            "Next": build,
        }
        env = {
            v.name: (None if v.value_type == "secret" else v.value)
            for v in self.app.environment_variables
        }
        params: dict[str, Any] = {"sys.$": "$.sys", "inputs.$": "$.inputs", "env": env, "par": None}
        for var in self.app.conversation_variables:
            params[conversation_key(var.name)] = var.value
        # Records that may be read before (or without) their node running.
        placeholders = list(self.plan.unreachable)
        for node in self.app.nodes.values():
            if any(self.app.nodes[c].type == "loop" for c in self.app.container_chain(node.id)):
                placeholders.append(node.id)
        for node_id in placeholders:
            params[node_key(node_id)] = SKIP_RECORD
        states[build] = {"Type": "Pass", "Parameters": params, "Next": entry}
        return defaults

    def _finish(self, scope: Scope) -> str:
        top = self.plan.regions[None]
        records = {f"{n}.$": f"$.{node_key(n)}" for n in top.order}
        inputs: dict[str, Any] = {"sys.$": "$.sys", "#records": records}
        if self.app.mode == "advanced-chat":
            package = "answer"
            inputs["#answers"] = {"order": self._answer_sources(top.order)}
            inputs["#conversation"] = {
                f"{v.name}.$": f"$.{conversation_key(v.name)}"
                for v in self.app.conversation_variables
            }
        else:
            package = "end"
            inputs["#ends"] = {"order": [n for n in top.order if self.app.nodes[n].type == "end"]}
        name = self.name("Finish")
        scope.states[name] = {
            "Type": "Task",
            "Resource": self.resources.function(package),
            "Parameters": self._event("finish", package, None, inputs),
            "ResultPath": "$.result",
            "OutputPath": "$.result",
            "End": True,
        }
        return name

    def _answer_sources(self, order: list[str]) -> list[str]:
        """Nodes of ``order`` that contribute to the chat answer (answers and containers holding one)."""
        return [n for n in order if self._has_answer(n)]

    def _has_answer(self, node_id: str) -> bool:
        node = self.app.nodes[node_id]
        if node.type == "answer":
            return True
        if node.type in CONTAINER_TYPES:
            return any(self._has_answer(c.id) for c in self.app.children(node_id))
        return False

    # ----------------------------------------------------------------- sequences
    def sequence(self, region: RegionPlan, steps: list[Step], next_state: str, scope: Scope) -> str:
        """Emit ``steps`` so that they end at ``next_state``; return the entry state name."""
        for step in reversed(steps):
            if isinstance(step, Par):
                next_state = self._parallel(region, step, next_state, scope)
            else:
                next_state = self._guarded(region, step, next_state, scope)
        return next_state

    def written_keys(self, steps: list[Step]) -> list[str]:
        """State keys a sequence writes (what a Parallel branch hands back)."""
        keys: list[str] = []
        for step in steps:
            if isinstance(step, Par):
                for branch in step.branches:
                    keys.extend(self.written_keys(branch))
            else:
                keys.append(node_key(step))
                keys.extend(self._outer_writes(step))
        return list(dict.fromkeys(keys))

    def _outer_writes(self, node_id: str) -> list[str]:
        """Keys outside ``node_id``'s own record that it (or anything inside it) writes."""
        node = self.app.nodes[node_id]
        keys = [write_key(s) for s in node.config.writes()]
        if node.type == "start":
            keys += ["sys", "inputs"] + [
                conversation_key(v.name) for v in self.app.conversation_variables
            ]
        if node.type in CONTAINER_TYPES:
            for child in self.app.children(node_id):
                for key in self._outer_writes(child.id):
                    if not key.startswith(f"lv_{node_key(node_id)[2:]}__"):
                        keys.append(key)
        return keys

    def _parallel(self, region: RegionPlan, par: Par, next_state: str, scope: Scope) -> str:
        branches = par.branches
        if len(branches) > MAX_MERGE_ARGS:
            groups = [
                branches[i : i + MAX_MERGE_ARGS] for i in range(0, len(branches), MAX_MERGE_ARGS)
            ]
            branches = [[Par(group)] for group in groups]
        name = self.name(f"Parallel.{self._first_node(branches[0])}")
        merge = self.name(f"{name}.merge")
        scope.states[merge] = merge_deltas(len(branches), next_state)
        asl_branches = []
        for index, branch in enumerate(branches):
            branch_states: dict[str, Any] = {}
            inner = Scope(states=branch_states, iteration=scope.iteration)
            end = self.name(f"{name}.out{index}")
            delta: dict[str, Any] = {f"{k}.$": f"$.{k}" for k in self.written_keys(branch)}
            if index == len(branches) - 1:
                delta["par"] = None
            branch_states[end] = {"Type": "Pass", "Parameters": delta, "End": True}
            start = self.sequence(region, branch, end, inner)
            asl_branches.append({"StartAt": start, "States": branch_states})
        state = {"Type": "Parallel", "Branches": asl_branches, "ResultPath": "$.par", "Next": merge}
        self._add_item_catch(state, scope)
        scope.states[name] = state
        return name

    def _first_node(self, steps: list[Step]) -> str:
        first = steps[0]
        return self._first_node(first.branches[0]) if isinstance(first, Par) else first

    # ----------------------------------------------------------------- nodes
    def _guarded(self, region: RegionPlan, node_id: str, next_state: str, scope: Scope) -> str:
        run_entry = self._node(node_id, next_state, scope)
        if node_id in region.certain:
            return run_entry
        key = node_key(node_id)
        skip = self.name(f"{node_id}.skip")
        scope.states[skip] = pass_result(SKIP_RECORD, f"$.{key}", next_state)
        rules = [
            {"Variable": f"$.{node_key(e.source)}.h", "StringEquals": e.source_handle}
            for e in region.incoming.get(node_id, [])
        ]
        if not rules:
            return skip
        condition = rules[0] if len(rules) == 1 else {"Or": rules}
        guard = self.name(f"{node_id}.guard")
        scope.states[guard] = choice([{**condition, "Next": run_entry}], skip)
        return guard

    def _node(self, node_id: str, next_state: str, scope: Scope) -> str:
        node = self.app.nodes[node_id]
        kind = kind_of(node.type)
        assert kind is not None
        if kind.role in ("container-start", "loop-end"):
            name = self.name(node_id)
            scope.states[name] = pass_result(
                {"o": {}, "h": "source"}, f"$.{node_key(node_id)}", next_state
            )
            return name
        if kind.role == "iteration":
            from flowwright.compiler.containers import emit_iteration

            return emit_iteration(self, node, next_state, scope)
        if kind.role == "loop":
            from flowwright.compiler.containers import emit_loop

            return emit_loop(self, node, next_state, scope)
        entry = self.task(node, "run", kind.package, next_state, scope, self.inputs(node))
        if node.type == "if-else":
            return self._native_choice(node, entry, next_state, scope)
        return entry

    def _native_choice(self, node: Node, task: str, next_state: str, scope: Scope) -> str:
        """A Choice deciding the branch without a Lambda call, where that is exact."""
        rules = native_rules(self.app, node)
        if rules is None:
            return task
        decidable, cases = rules
        choices: list[dict[str, Any]] = [{"Not": decidable, "Next": task}]
        for case_id, rule in [*cases, ("false", None)]:
            name = self.name(f"{node.id}.case.{case_id}")
            record = {
                "o": {"result": case_id != "false", "selected_case_id": case_id},
                "h": case_id,
                "n": 1,
            }
            scope.states[name] = pass_result(record, f"$.{node_key(node.id)}", next_state)
            if rule is not None:
                choices.append({**rule, "Next": name})
            else:
                default = name
        native = self.name(f"{node.id}.native")
        scope.states[native] = choice(choices, default)
        return native

    def task(
        self,
        node: Node,
        op: str,
        package: str,
        next_state: str,
        scope: Scope,
        inputs: dict[str, Any],
        *,
        result_path: str | None = None,
        name: str | None = None,
        catch_errors: bool = True,
    ) -> str:
        """A Task invoking ``package``'s function for ``node``; merges its writes afterwards."""
        key = node_key(node.id)
        after = next_state
        if op in ("run", "init", "collect") and self._may_write(node, op):
            after = self.name(f"{node.id}.{op}.writes")
            scope.states[after] = merge_writes(key, next_state)
        state_name = name or self.name(node.id if op == "run" else f"{node.id}.{op}")
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": self.resources.function(package),
            "Parameters": self._event(op, package, node, inputs),
            "ResultPath": result_path or f"$.{key}",
            "Next": after,
        }
        if op == "run":
            retry = self._retry(node)
            if retry:
                state["Retry"] = retry
        if catch_errors and node.config.handles_errors:
            state["Catch"] = [self._catch(node, next_state, scope)]
        self._add_item_catch(state, scope)
        scope.states[state_name] = state
        return state_name

    def _may_write(self, node: Node, op: str) -> bool:
        if op == "run":
            return node.type == "start" or bool(node.config.writes())
        if op == "init":
            return node.type == "loop"
        return op == "collect" and bool(self._outer_writes(node.id))

    def _event(
        self, op: str, package: str, node: Node | None, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "op": op,
            "app": self.app.name,
            "mode": self.app.mode,
            "id": node.id if node else "#run",
            "type": node.type if node else package,
            "title": node.title if node else "",
            "node": json.dumps(
                _runtime_config(node.data) if node else {"type": package},
                ensure_ascii=False,
                sort_keys=True,
            ),
            "run.$": "$$.Execution.Name",
            "in": inputs,
        }
        if node is not None:
            if op == "run":
                event["attempt.$"] = "$$.State.RetryCount"
            chain = self.app.container_chain(node.id)
            iterations = [c for c in chain if self.app.nodes[c].type == "iteration"]
            if iterations:
                event["ob.$"] = f"$.{node_key(iterations[0])}.ob"
            else:
                event["ob"] = self.budget
            positions = [
                f"$.{node_key(c)}.o.index"
                if self.app.nodes[c].type == "iteration"
                else f"$.{node_key(c)}.round"
                for c in reversed(chain)
            ]
            if positions:
                event["pos.$"] = f"States.Array({', '.join(positions)})"
        else:
            event["ob"] = self.budget
        return event

    def _retry(self, node: Node) -> list[dict[str, Any]]:
        retry = node.config.retry_config
        if not retry.enabled or retry.max_retries <= 0:
            return []
        # Step Functions waits whole seconds (at least 1); Dify's interval is milliseconds.
        interval = max(1, math.ceil(retry.retry_interval / 1000))
        return [
            {"ErrorEquals": ["NodeConfigError", "NodeInputError"], "MaxAttempts": 0},
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": interval,
                "MaxAttempts": retry.max_retries,
                "BackoffRate": 1.0,
            },
        ]

    def _catch(self, node: Node, next_state: str, scope: Scope) -> dict[str, Any]:
        """Fallback for failures the node function could not report itself (timeouts, crashes).

        Failures the function sees are handled by the function: it returns the default
        values or takes the fail branch once its retries are used up.
        """
        key = node_key(node.id)
        handle = "fail-branch" if node.config.error_strategy == "fail-branch" else "source"
        outputs: dict[str, Any] = {}
        if node.config.error_strategy == "default-value":
            outputs = {d.key: d.value for d in node.config.default_value or []}
        outputs["error_type.$"] = f"$.{key}.Error"
        outputs["error_message.$"] = f"$.{key}.Cause"
        caught = self.name(f"{node.id}.caught")
        scope.states[caught] = {
            "Type": "Pass",
            "Parameters": {"o": outputs, "h": handle, "x": 1},
            "ResultPath": f"$.{key}",
            "Next": next_state,
        }
        return {"ErrorEquals": ["States.ALL"], "ResultPath": f"$.{key}", "Next": caught}

    def _add_item_catch(self, state: dict[str, Any], scope: Scope) -> None:
        """Inside an iteration that tolerates failed items, any failure ends just that item."""
        if scope.item_catch is None:
            return
        state.setdefault("Catch", []).append(
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.fw_error", "Next": scope.item_catch}
        )

    # ----------------------------------------------------------------- inputs
    def inputs(self, node: Node, extra_reads: list[Selector] | None = None) -> dict[str, Any]:
        """The ``in`` Parameters: each scope the node reads, addressed in the state."""
        scopes: dict[str, Any] = {"sys.$": "$.sys"}
        chain = self.app.container_chain(node.id)
        for selector in [*node.config.reads(), *(extra_reads or [])]:
            root, name = selector[0], selector[1]
            if root == "sys":
                continue
            if root == "env":
                scopes["env.$"] = "$.env"
            elif root == "conversation":
                scopes.setdefault("conversation", {})[f"{name}.$"] = f"$.{conversation_key(name)}"
            elif root in self.app.nodes:
                target = self.app.nodes[root]
                if target.type == "loop" and (root in chain or root == node.id):
                    scopes.setdefault(root, {})[f"{name}.$"] = f"$.{loop_var_key(root, name)}"
                else:
                    scopes[f"{root}.$"] = f"$.{node_key(root)}.o"
        if node.type == "start":
            scopes["#inputs.$"] = "$.inputs"
            scopes["#conversation"] = {
                "defaults": {v.name: v.value for v in self.app.conversation_variables},
                "types": {v.name: v.value_type for v in self.app.conversation_variables},
            }
        if node.config.writes():
            scopes["#types"] = self._write_types(node)
        return scopes

    def _write_types(self, node: Node) -> dict[str, str]:
        types: dict[str, str] = {}
        conv = {v.name: v.value_type for v in self.app.conversation_variables}
        for selector in node.config.writes():
            if selector[0] == "conversation" and selector[1] in conv:
                types[".".join(selector)] = conv[selector[1]]
            elif selector[0] in self.app.nodes:
                loop = self.app.nodes[selector[0]]
                for var in getattr(loop.config, "loop_variables", []):
                    if var.label == selector[1]:
                        types[".".join(selector)] = var.var_type
        return types


#: Canvas-only keys of a node's data that the node functions never read.
_CANVAS_KEYS = {
    "selected",
    "desc",
    "isInIteration",
    "isInLoop",
    "iteration_id",
    "loop_id",
    "height",
    "width",
    "position",
    "positionAbsolute",
    "sourcePosition",
    "targetPosition",
}


def _runtime_config(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in _CANVAS_KEYS and not k.startswith("_")}


def _successors(state: dict[str, Any]) -> list[str]:
    found = [state[k] for k in ("Next", "Default") if k in state]
    found += [rule["Next"] for rule in state.get("Choices", [])]
    found += [catch["Next"] for catch in state.get("Catch", [])]
    return found


def _in_execution_order(start: str, states: dict[str, Any]) -> dict[str, Any]:
    """The same states, listed depth-first from ``start`` (nested ones too) for readability."""
    ordered: dict[str, Any] = {}
    stack = [start]
    while stack:
        name = stack.pop()
        if name in ordered or name not in states:
            continue
        state = states[name]
        for branch in state.get("Branches", []):
            branch["States"] = _in_execution_order(branch["StartAt"], branch["States"])
        if "ItemProcessor" in state:
            processor = state["ItemProcessor"]
            processor["States"] = _in_execution_order(processor["StartAt"], processor["States"])
        ordered[name] = state
        stack.extend(reversed(_successors(state)))
    for name, state in states.items():  # unreachable leftovers keep their place at the end
        ordered.setdefault(name, state)
    return ordered
