"""The reference workload of graphmesh's benchmarks (see docs/benchmarks.md).

- chain3: three nodes in sequence; each bumps `n` and appends its name to
  `trail`. Input {"n": 0, "trail": []} ends as {"n": 3, "trail": ["s0", "s1", "s2"]}.
- fanout: one node fans out to four branches that each sleep 50 ms, then a join.
- hitl: node a, then an `interrupt()` asking for approval, then node b.
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from typing_extensions import TypedDict


class ChainState(TypedDict):
    n: int
    trail: Annotated[list[str], operator.add]


def _step(name: str) -> Any:
    def step(state: ChainState) -> dict[str, Any]:
        return {"n": state["n"] + 1, "trail": [name]}

    step.__name__ = name
    return step


def _build_chain3() -> Any:
    builder = StateGraph(ChainState)
    previous = START
    for name in ("s0", "s1", "s2"):
        builder.add_node(name, _step(name))
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)
    return builder.compile()


chain3 = _build_chain3()


class FanoutState(TypedDict):
    results: Annotated[list[str], operator.add]
    joined: str


def _branch(name: str) -> Any:
    async def branch(state: FanoutState) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        return {"results": [name]}

    return branch


def _build_fanout() -> Any:
    builder = StateGraph(FanoutState)
    builder.add_node("start", lambda state: {"results": []})
    builder.add_edge(START, "start")
    branches = [f"b{i}" for i in range(4)]
    for name in branches:
        builder.add_node(name, _branch(name))
        builder.add_edge("start", name)

    def join(state: FanoutState) -> dict[str, Any]:
        return {"joined": ",".join(sorted(state["results"]))}

    builder.add_node("join", join)
    builder.add_edge(branches, "join")
    builder.add_edge("join", END)
    return builder.compile()


fanout = _build_fanout()


class HitlState(TypedDict):
    trail: Annotated[list[str], operator.add]


def _build_hitl() -> Any:
    builder = StateGraph(HitlState)
    builder.add_node("a", lambda state: {"trail": ["a"]})

    def approve(state: HitlState) -> dict[str, Any]:
        answer = interrupt({"question": "approve?", "trail": state["trail"]})
        return {"trail": [f"approved:{answer}"]}

    builder.add_node("approve", approve)
    builder.add_node("b", lambda state: {"trail": ["b"]})
    builder.add_edge(START, "a")
    builder.add_edge("a", "approve")
    builder.add_edge("approve", "b")
    builder.add_edge("b", END)
    return builder.compile()


hitl = _build_hitl()


class SleeperState(TypedDict):
    seconds: float
    slept: float


async def _sleep(state: SleeperState) -> dict[str, Any]:
    # Stands for a node awaiting I/O (a model call, an HTTP request).
    await asyncio.sleep(state["seconds"])
    return {"slept": state["seconds"]}


def _build_sleeper() -> Any:
    builder = StateGraph(SleeperState)
    builder.add_node("sleep", _sleep)
    builder.add_edge(START, "sleep")
    builder.add_edge("sleep", END)
    return builder.compile()


#: One node that awaits for `seconds`: what cancelling a run mid-node stops.
sleeper = _build_sleeper()
