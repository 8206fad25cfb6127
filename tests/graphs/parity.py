"""Graphs in the patterns of LangGraph's own documentation, run both
in-process and through graphmesh by tests/e2e/test_langgraph_parity.py."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langchain_core.runnables import RunnableConfig
from langgraph.cache.memory import InMemoryCache
from langgraph.config import get_stream_writer
from langgraph.func import entrypoint, task
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime
from langgraph.types import CachePolicy, Command, RetryPolicy, Send, interrupt
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


_FAILED_ONCE: set[str] = set()


class RetryState(TypedDict):
    key: str
    tries: Annotated[list[str], operator.add]


def _flaky_once(state: RetryState) -> dict[str, Any]:
    """Fails the first time it sees a key (in this process), then succeeds."""
    if state["key"] not in _FAILED_ONCE:
        _FAILED_ONCE.add(state["key"])
        raise ConnectionError("the first try fails")
    return {"tries": ["ok"]}


def _build_retries() -> Any:
    builder = StateGraph(RetryState)
    builder.add_node(
        "call", _flaky_once, retry_policy=RetryPolicy(max_attempts=3, initial_interval=0.01)
    )
    builder.add_edge(START, "call")
    builder.add_edge("call", END)
    return builder.compile()


retries = _build_retries()


class CacheState(TypedDict):
    x: int
    calls: Annotated[list[int], operator.add]


def _build_cached() -> Any:
    """Node caching: the same input twice in one run hits the cache."""
    builder = StateGraph(CacheState)
    builder.add_node("square", lambda s: {"calls": [s["x"] * s["x"]]}, cache_policy=CachePolicy())
    builder.add_node("again", lambda s: {"x": s["x"]})
    builder.add_edge(START, "square")
    builder.add_edge("square", "again")
    builder.add_edge("again", END)
    return builder.compile(cache=InMemoryCache())


cached = _build_cached()


class FormState(TypedDict):
    answers: Annotated[list[str], operator.add]


def _form(state: FormState) -> dict[str, Any]:
    """One node that asks twice: each resume answers the next question."""
    name = interrupt("name?")
    age = interrupt("age?")
    return {"answers": [f"{name}/{age}"]}


def _build_two_questions() -> Any:
    builder = StateGraph(FormState)
    builder.add_node("form", _form)
    builder.add_edge(START, "form")
    builder.add_edge("form", END)
    return builder.compile()


two_questions = _build_two_questions()


class ChatState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def _reply(state: ChatState) -> dict[str, Any]:
    last = state["messages"][-1]
    n = len(state["messages"])
    return {"messages": [{"role": "ai", "content": f"echo: {last.content}", "id": f"ai-{n}"}]}


def _build_chat() -> Any:
    builder = StateGraph(ChatState)
    builder.add_node("reply", _reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder.compile()


chat = _build_chat()


class AskState(TypedDict):
    x: str


def _ask(state: AskState) -> dict[str, Any]:
    return {"x": state["x"] + str(interrupt("what next?"))}


def _build_subgraph_interrupt() -> Any:
    """An interrupt inside a subgraph, resumed through the parent."""
    inner = StateGraph(AskState)
    inner.add_node("ask", _ask)
    inner.add_node("after", lambda s: {"x": s["x"] + "!"})
    inner.add_edge(START, "ask")
    inner.add_edge("ask", "after")
    inner.add_edge("after", END)
    outer = StateGraph(AskState)
    outer.add_node("child", inner.compile())
    outer.add_node("wrap", lambda s: {"x": f"[{s['x']}]"})
    outer.add_edge(START, "child")
    outer.add_edge("child", "wrap")
    outer.add_edge("wrap", END)
    return outer.compile()


subgraph_interrupt = _build_subgraph_interrupt()


@dataclass
class Who:
    user_id: str
    lang: str = "en"


class GreetState(TypedDict):
    text: str


def _greet(state: GreetState, config: RunnableConfig, runtime: Runtime[Who]) -> dict[str, Any]:
    model = config["configurable"].get("model", "default")
    return {"text": f"{state['text']}|{runtime.context.user_id}|{runtime.context.lang}|{model}"}


def _build_configured() -> Any:
    """Reads `configurable` values and the runtime context."""
    builder = StateGraph(GreetState, context_schema=Who)
    builder.add_node("greet", _greet)
    builder.add_node("sign", lambda s: {"text": s["text"] + "|signed"})
    builder.add_edge(START, "greet")
    builder.add_edge("greet", "sign")
    builder.add_edge("sign", END)
    return builder.compile()


configured = _build_configured()


class StepState(TypedDict):
    log: Annotated[list[str], operator.add]


def _build_steps() -> Any:
    """Three steps: for breakpoints, forks (time travel) and state edits."""
    builder = StateGraph(StepState)
    for name in ("one", "two", "three"):
        builder.add_node(name, lambda s, name=name: {"log": [name]})
    builder.add_edge(START, "one")
    builder.add_edge("one", "two")
    builder.add_edge("two", "three")
    builder.add_edge("three", END)
    return builder.compile()


steps = _build_steps()


@task
def _count_letters(word: str) -> int:
    get_stream_writer()({"counted": word})
    return len(word)


@entrypoint()
def word_lengths(words: list[str]) -> dict[str, int]:
    """The Functional API with parallel tasks that write to the custom stream."""
    futures = [_count_letters(w) for w in words]
    return {w: f.result() for w, f in zip(words, futures, strict=True)}
