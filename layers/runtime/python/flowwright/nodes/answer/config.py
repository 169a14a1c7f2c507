"""Answer node: streams a templated reply in chatflows."""

from __future__ import annotations

from flowwright.nodes.base import NodeConfig, templates_selectors
from flowwright.variables import Selector


class AnswerConfig(NodeConfig):
    answer: str = ""

    def reads(self) -> list[Selector]:
        return templates_selectors(self.answer)

    def output_names(self) -> set[str] | None:
        return {"answer", "files"}
