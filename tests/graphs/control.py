"""Test-only graphs for run control: retries, long streams, subgraphs and
an executor that dies.

- flaky: its node raises ConnectionError on the first two tries of each run
  and succeeds on the third, under the node's own RetryPolicy.
- flaky_default: the same node with no policy of its own: it succeeds only
  if the executor's default policy (GRAPHMESH_RETRY_*) retries it.
- ticker: writes `count` custom events of `size` characters, `interval`
  seconds apart (long and large streams, slow subscribers).
- nested: a parent whose node is a compiled subgraph (stream namespaces).
- dies: its node ends the executor process (os._exit), on every attempt.
- grower: appends `size` characters to its state `steps` times (a run whose
  state outgrows the executor's limit).
- gated: one node that waits until the file `gate` exists (a workload that
  cannot finish before a test lets it).
- effects: four nodes in sequence, each a side effect outside the graph:
  it appends "start" and, `seconds` later, "end" lines (node, process id,
  time) to the file `log` (counting what ran, and where, across takeovers).
"""

from __future__ import annotations

import asyncio
import json
import operator
import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.config import get_store, get_stream_writer
from langgraph.func import entrypoint
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import InjectedStore, ToolNode, tools_condition
from langgraph.runtime import Runtime
from langgraph.types import RetryPolicy
from typing_extensions import TypedDict

#: Tries per run id, in this executor process.
_TRIES: Counter[str] = Counter()


class FlakyState(TypedDict):
    tries: int


def _flaky(state: FlakyState, config: RunnableConfig) -> dict[str, Any]:
    run_id = str((config.get("metadata") or {}).get("run_id"))
    _TRIES[run_id] += 1
    if _TRIES[run_id] < 3:
        raise ConnectionError(f"try {_TRIES[run_id]} of run {run_id} fails")
    return {"tries": _TRIES[run_id]}


def _build_flaky(policy: RetryPolicy | None) -> Any:
    builder = StateGraph(FlakyState)
    builder.add_node("call", _flaky, retry_policy=policy)
    builder.add_edge(START, "call")
    builder.add_edge("call", END)
    return builder.compile()


flaky = _build_flaky(RetryPolicy(max_attempts=3, initial_interval=0.01, jitter=False))
flaky_default = _build_flaky(None)


class TickerState(TypedDict):
    count: int
    size: int
    interval: float
    ticks: int


async def _tick(state: TickerState) -> dict[str, Any]:
    write = get_stream_writer()
    for i in range(state["count"]):
        write({"tick": i, "pad": "x" * state["size"]})
        await asyncio.sleep(state["interval"])
    return {"ticks": state["count"]}


def _build_ticker() -> Any:
    builder = StateGraph(TickerState)
    builder.add_node("tick", _tick)
    builder.add_edge(START, "tick")
    builder.add_edge("tick", END)
    return builder.compile()


ticker = _build_ticker()


class NestedState(TypedDict):
    trail: Annotated[list[str], operator.add]


def _inner_step(state: NestedState) -> dict[str, Any]:
    return {"trail": ["inner"]}


def _outer_step(state: NestedState) -> dict[str, Any]:
    return {"trail": ["outer"]}


def _build_nested() -> Any:
    child = StateGraph(NestedState)
    child.add_node("inner", _inner_step)
    child.add_edge(START, "inner")
    child.add_edge("inner", END)
    parent = StateGraph(NestedState)
    parent.add_node("child", child.compile())
    parent.add_node("outer", _outer_step)
    parent.add_edge(START, "child")
    parent.add_edge("child", "outer")
    parent.add_edge("outer", END)
    return parent.compile()


nested = _build_nested()


class DiesState(TypedDict):
    trail: Annotated[list[str], operator.add]


def _die(state: DiesState) -> dict[str, Any]:
    os._exit(17)


def _build_dies() -> Any:
    builder = StateGraph(DiesState)
    builder.add_node("die", _die)
    builder.add_edge(START, "die")
    builder.add_edge("die", END)
    return builder.compile()


dies = _build_dies()


class GrowerState(TypedDict):
    blob: Annotated[list[str], operator.add]
    size: int
    steps: int


def _grow(state: GrowerState) -> dict[str, Any]:
    return {"blob": ["x" * state["size"]], "steps": state["steps"] - 1}


def _build_grower() -> Any:
    builder = StateGraph(GrowerState)
    builder.add_node("grow", _grow)
    builder.add_edge(START, "grow")
    builder.add_conditional_edges("grow", lambda s: "grow" if s["steps"] > 0 else END)
    return builder.compile()


grower = _build_grower()


class EffectsState(TypedDict):
    log: str
    seconds: float
    trail: Annotated[list[str], operator.add]


def _effect(name: str) -> Any:
    def record(path: str, what: str, run_id: str) -> None:
        line = {"node": name, "what": what, "pid": os.getpid(), "time": time.time(), "run": run_id}
        with open(path, "a") as out:
            out.write(json.dumps(line) + "\n")

    async def effect(state: EffectsState, config: RunnableConfig) -> dict[str, Any]:
        run_id = str((config.get("metadata") or {}).get("run_id"))
        record(state["log"], "start", run_id)
        await asyncio.sleep(state["seconds"])
        record(state["log"], "end", run_id)
        return {"trail": [name]}

    return effect


def _build_effects() -> Any:
    builder = StateGraph(EffectsState)
    previous = START
    for name in ("e1", "e2", "e3", "e4"):
        builder.add_node(name, _effect(name))
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)
    return builder.compile()


effects = _build_effects()


class GatedState(TypedDict):
    gate: str
    trail: Annotated[list[str], operator.add]


async def _wait_for_gate(state: GatedState) -> dict[str, Any]:
    # Another process (the test) makes the file: nothing to await but time.
    while not os.path.exists(state["gate"]):  # noqa: ASYNC110, ASYNC240
        await asyncio.sleep(0.05)
    return {"trail": ["passed"]}


def _build_gated() -> Any:
    builder = StateGraph(GatedState)
    builder.add_node("gate", _wait_for_gate)
    builder.add_edge(START, "gate")
    builder.add_edge("gate", END)
    return builder.compile()


gated = _build_gated()


@dataclass
class Caller:
    """The runtime context of `greeter`."""

    user_id: str
    tone: str = "plain"


class GreetState(TypedDict):
    name: str
    greeting: str
    seen: list[str]


def _greet(state: GreetState, config: RunnableConfig, runtime: Runtime[Caller]) -> dict[str, Any]:
    """Reads everything a run's config and context carry."""
    model = config["configurable"].get("model", "none")
    return {
        "greeting": f"{runtime.context.tone} hello {state['name']} from {runtime.context.user_id}"
        f" via {model}",
        "seen": [
            ",".join(config.get("tags", [])),
            str(config.get("metadata", {}).get("team", "")),
            str(config.get("recursion_limit")),
            str(config["configurable"].get("thread_id") is not None),
        ],
    }


def _build_greeter() -> Any:
    builder = StateGraph(GreetState, context_schema=Caller)
    builder.add_node("greet", _greet)
    builder.add_edge(START, "greet")
    builder.add_edge("greet", END)
    return builder.compile()


greeter = _build_greeter()


class LoopState(TypedDict):
    laps: int


def _lap(state: LoopState) -> dict[str, Any]:
    return {"laps": state["laps"] + 1}


def _build_looper() -> Any:
    """Goes round for ever: only the recursion limit stops it."""
    builder = StateGraph(LoopState)
    builder.add_node("lap", _lap)
    builder.add_edge(START, "lap")
    builder.add_conditional_edges("lap", lambda state: "lap")
    return builder.compile()


looper = _build_looper()


class StepsState(TypedDict):
    steps: Annotated[list[str], operator.add]


def _build_paused() -> Any:
    """Three steps, compiled with a breakpoint before the last."""
    builder = StateGraph(StepsState)
    for name in ("a", "b", "c"):
        builder.add_node(name, lambda state, name=name: {"steps": [name]})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder.compile(interrupt_before=["c"])


paused = _build_paused()


@entrypoint()
def shout(topic: str) -> str:
    """A Functional API entrypoint taking a string, as in LangGraph's docs."""
    return topic.upper() + "!"


class CountState(TypedDict):
    n: int


def _build_doubler() -> Any:
    builder = StateGraph(CountState)
    builder.add_node("double", lambda state: {"n": state["n"] * 2})
    builder.add_edge(START, "double")
    builder.add_edge("double", END)
    return builder.compile()


_doubler = _build_doubler()


def _call_doubler(state: CountState) -> dict[str, Any]:
    """A sync node invoking a compiled subgraph synchronously (LangGraph's
    documented pattern): the subgraph checkpoints through the run's saver."""
    return {"n": _doubler.invoke({"n": state["n"]})["n"] + 1}


def _build_sync_caller() -> Any:
    builder = StateGraph(CountState)
    builder.add_node("call", _call_doubler)
    builder.add_edge(START, "call")
    builder.add_edge("call", END)
    return builder.compile()


sync_caller = _build_sync_caller()


@entrypoint()
def noop(topic: str) -> None:
    """An entrypoint whose state (its return value) is None."""
    return None


@dataclass
class Member:
    """Whose memories a run reads and writes."""

    user_id: str


class MemoryState(TypedDict):
    text: str
    answer: str
    count: int


async def _recall(state: MemoryState, runtime: Runtime[Member]) -> dict[str, Any]:
    """`remember X` stores a fact for the user; anything else lists them."""
    store = runtime.store
    assert store is not None
    namespace = ("memories", runtime.context.user_id)
    if state["text"].startswith("remember "):
        fact = state["text"].removeprefix("remember ")
        known = await store.asearch(namespace, limit=1000)
        await store.aput(namespace, f"fact-{len(known)}", {"fact": fact})
        return {"answer": f"noted: {fact}"}
    found = sorted(await store.asearch(namespace, limit=1000), key=lambda i: i.key)
    return {"answer": "; ".join(i.value["fact"] for i in found) or "nothing yet"}


def _count(state: MemoryState) -> dict[str, Any]:
    """A sync node reading the store through `get_store()`."""
    return {"count": len(get_store().search(("memories",), limit=1000))}


def _build_remember() -> Any:
    builder = StateGraph(MemoryState, context_schema=Member)
    builder.add_node("recall", _recall)
    builder.add_node("count", _count)
    builder.add_edge(START, "recall")
    builder.add_edge("recall", "count")
    builder.add_edge("count", END)
    return builder.compile()


remember = _build_remember()


@tool
def save_fact(fact: str, store: Annotated[Any, InjectedStore()]) -> str:
    """Saves a fact through the store LangGraph injects into tools."""
    store.put(("tool-facts",), fact, {"fact": fact})
    return f"saved {fact}"


def _ask_tool(state: MessagesState) -> dict[str, Any]:
    last = state["messages"][-1]
    if isinstance(last, ToolMessage):
        return {"messages": [AIMessage(content=str(last.content))]}
    call = {"name": "save_fact", "args": {"fact": str(last.content)}, "id": "call-1"}
    return {"messages": [AIMessage(content="", tool_calls=[call])]}


def _build_tool_store() -> Any:
    builder = StateGraph(MessagesState)
    builder.add_node("ask", _ask_tool)
    builder.add_node("tools", ToolNode([save_fact]))
    builder.add_edge(START, "ask")
    builder.add_conditional_edges("ask", tools_condition)
    builder.add_edge("tools", "ask")
    return builder.compile()


tool_store = _build_tool_store()
