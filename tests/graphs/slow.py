"""A graph whose nodes take a while, for fault tests: three nodes in
sequence, each sleeping `seconds` and appending its name to `trail`."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class SlowState(TypedDict):
    seconds: float
    trail: Annotated[list[str], operator.add]


def _step(name: str) -> Any:
    async def step(state: SlowState) -> dict[str, Any]:
        await asyncio.sleep(state["seconds"])
        return {"trail": [name]}

    return step


def _build() -> Any:
    builder = StateGraph(SlowState)
    previous = START
    for name in ("first", "second", "third"):
        builder.add_node(name, _step(name))
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)
    return builder.compile()


slow = _build()
