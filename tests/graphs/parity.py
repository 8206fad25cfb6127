"""Graphs in the patterns of LangGraph's own documentation, run both
in-process and through graphmesh by tests/e2e/test_langgraph_parity.py."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal

from langgraph.config import get_stream_writer
from langgraph.func import entrypoint, task
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send, interrupt
from typing_extensions import TypedDict


def _merge_counts(left: dict[str, int], right: dict[str, int]) -> dict[str, int]:
    """A custom reducer: sums counts key by key."""
    out = dict(left)
    for key, value in right.items():
        out[key] = out.get(key, 0) + value
    return out


class ReducerState(TypedDict):
    items: Annotated[list[str], operator.add]
    counts: Annotated[dict[str, int], _merge_counts]
    last: str


def _build_reducers() -> Any:
    builder = StateGraph(ReducerState)
    builder.add_node("left", lambda s: {"items": ["l"], "counts": {"l": 1}, "last": "left"})
    builder.add_node("right", lambda s: {"items": ["r"], "counts": {"r": 2, "l": 1}})
    builder.add_node("join", lambda s: {"items": ["j"], "last": f"join:{len(s['items'])}"})
    builder.add_edge(START, "left")
    builder.add_edge(START, "right")
    builder.add_edge(["left", "right"], "join")
    builder.add_edge("join", END)
    return builder.compile()


reducers = _build_reducers()


class MapState(TypedDict):
    subjects: list[str]
    jokes: Annotated[list[str], operator.add]
    best: str


def _fan_out(state: MapState) -> list[Send]:
    return [Send("joke", {"subject": s}) for s in state["subjects"]]


def _build_map_reduce() -> Any:
    builder = StateGraph(MapState)
    builder.add_node("joke", lambda s: {"jokes": [f"a joke about {s['subject']}"]})
    builder.add_node("pick", lambda s: {"best": max(s["jokes"], key=len)})
    builder.add_conditional_edges(START, _fan_out, ["joke"])
    builder.add_edge("joke", "pick")
    builder.add_edge("pick", END)
    return builder.compile()


map_reduce = _build_map_reduce()


class RouteState(TypedDict):
    n: int
    path: Annotated[list[str], operator.add]


def _router(state: RouteState) -> Command[Literal["odd", "even"]]:
    target = "odd" if state["n"] % 2 else "even"
    return Command(goto=target, update={"path": ["router"], "n": state["n"] + 10})


def _build_commands() -> Any:
    builder = StateGraph(RouteState)
    builder.add_node("router", _router)
    builder.add_node("odd", lambda s: {"path": ["odd"]})
    builder.add_node("even", lambda s: {"path": ["even"]})
    builder.add_edge(START, "router")
    builder.add_edge("odd", END)
    builder.add_edge("even", END)
    return builder.compile()


commands = _build_commands()


def _escalate(state: RouteState) -> Command:  # type: ignore[type-arg]
    """A subgraph node that sends its parent to another node."""
    return Command(goto="handler", update={"path": ["escalated"]}, graph=Command.PARENT)


def _build_parent_command() -> Any:
    inner = StateGraph(RouteState)
    inner.add_node("escalate", _escalate)
    inner.add_edge(START, "escalate")
    outer = StateGraph(RouteState)
    outer.add_node("child", inner.compile())
    outer.add_node("handler", lambda s: {"path": ["handled"]})
    outer.add_edge(START, "child")
    outer.add_edge("handler", END)
    return outer.compile()


parent_command = _build_parent_command()


class ReviewState(TypedDict):
    reviews: Annotated[list[str], operator.add]


def _reviewer(name: str) -> Any:
    def review(state: ReviewState) -> dict[str, Any]:
        answer = interrupt({"review": name})
        return {"reviews": [f"{name}:{answer}"]}

    return review


def _build_parallel_interrupts() -> Any:
    """Two branches that each ask: resumed together with a map of ids."""
    builder = StateGraph(ReviewState)
    builder.add_node("legal", _reviewer("legal"))
    builder.add_node("tech", _reviewer("tech"))
    builder.add_node("done", lambda s: {"reviews": ["done"]})
    builder.add_edge(START, "legal")
    builder.add_edge(START, "tech")
    builder.add_edge(["legal", "tech"], "done")
    builder.add_edge("done", END)
    return builder.compile()


parallel_interrupts = _build_parallel_interrupts()


class WriterState(TypedDict):
    topic: str
    words: int


def _write(state: WriterState) -> dict[str, Any]:
    writer = get_stream_writer()
    for i, word in enumerate(state["topic"].split()):
        writer({"word": word, "index": i})
    return {"words": len(state["topic"].split())}


def _build_custom_stream() -> Any:
    builder = StateGraph(WriterState)
    builder.add_node("write", _write)
    builder.add_edge(START, "write")
    builder.add_edge("write", END)
    return builder.compile()


custom_stream = _build_custom_stream()


class DeferState(TypedDict):
    seen: Annotated[list[str], operator.add]


def _build_deferred() -> Any:
    """A deferred node runs once every branch before it has finished."""
    builder = StateGraph(DeferState)
    builder.add_node("a", lambda s: {"seen": ["a"]})
    builder.add_node("b1", lambda s: {"seen": ["b1"]})
    builder.add_node("b2", lambda s: {"seen": ["b2"]})
    builder.add_node("last", lambda s: {"seen": [f"last after {len(s['seen'])}"]}, defer=True)
    builder.add_edge(START, "a")
    builder.add_edge(START, "b1")
    builder.add_edge("b1", "b2")
    builder.add_edge("a", "last")
    builder.add_edge("b2", "last")
    builder.add_edge("last", END)
    return builder.compile()


deferred = _build_deferred()


class InState(TypedDict):
    question: str


class OutState(TypedDict):
    answer: str


class AllState(InState, OutState):
    notes: str


def _build_schemas() -> Any:
    """Input and output schemas that differ from the state."""
    builder = StateGraph(AllState, input_schema=InState, output_schema=OutState)
    builder.add_node("think", lambda s: {"notes": s["question"][::-1]})
    builder.add_node("answer", lambda s: {"answer": f"{s['question']}? {s['notes']}"})
    builder.add_edge(START, "think")
    builder.add_edge("think", "answer")
    builder.add_edge("answer", END)
    return builder.compile()


schemas = _build_schemas()


@task
def _double(x: int) -> int:
    return x * 2


@entrypoint()
def approval_flow(numbers: list[int]) -> dict[str, Any]:
    """The Functional API: tasks, then an interrupt in the entrypoint."""
    doubled = [f.result() for f in [_double(n) for n in numbers]]
    verdict = interrupt({"doubled": doubled})
    return {"doubled": doubled, "verdict": verdict}


class LoopState(TypedDict):
    n: int


def _more(state: LoopState) -> Literal["step", "__end__"]:
    return "step" if state["n"] < 3 else END


def _build_conditional() -> Any:
    builder = StateGraph(LoopState)
    builder.add_node("step", lambda s: {"n": s["n"] + 1})
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", _more)
    return builder.compile()


conditional = _build_conditional()
