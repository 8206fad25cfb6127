"""The reference workload of graphmesh's benchmarks (see docs/benchmarks.md).

- chain3: three nodes in sequence; each bumps `n` and appends its name to
  `trail`. Input {"n": 0, "trail": []} ends as {"n": 3, "trail": ["s0", "s1", "s2"]}.
- fanout: one node fans out to four branches that each sleep 50 ms, then a join.
- hitl: node a, then an `interrupt()` asking for approval, then node b.
- sleeper: one node that awaits for `seconds`.
- streamer: a fake chat model streams `tokens` tokens `interval_ms` apart
  (the `stream` workload: tokens at a fast hosted model's pace). Token i is
  the text "i@t " where t is when the model emitted it (Unix seconds), so a
  client can tell each token's delay and whether any is missing.
"""

from __future__ import annotations

import asyncio
import operator
import time
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
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


class TickingChatModel(BaseChatModel):
    """A fake chat model that streams `tokens` tokens `interval_ms` apart, on
    a fixed schedule from its start (a busy event loop makes it late, which
    is what "the model was slowed" measures). Token i reads "i@t ", t being
    the Unix time it was emitted."""

    tokens: int = 200
    interval_ms: float = 10.0

    @property
    def _llm_type(self) -> str:
        return "graphmesh-fake-ticking"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(f"{i}@{time.time():.6f} " for i in range(self.tokens))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        start = time.monotonic()
        for i in range(self.tokens):
            time.sleep(max(0.0, start + (i + 1) * self.interval_ms / 1000 - time.monotonic()))
            token = f"{i}@{time.time():.6f} "
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager is not None:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        start = time.monotonic()
        for i in range(self.tokens):
            await asyncio.sleep(
                max(0.0, start + (i + 1) * self.interval_ms / 1000 - time.monotonic())
            )
            token = f"{i}@{time.time():.6f} "
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager is not None:
                await run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk


class StreamerState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    tokens: int
    interval_ms: float


async def _speak(state: StreamerState) -> dict[str, Any]:
    model = TickingChatModel(tokens=state["tokens"], interval_ms=state["interval_ms"])
    return {"messages": [await model.ainvoke(state["messages"] or "go")]}


def _build_streamer() -> Any:
    builder = StateGraph(StreamerState)
    builder.add_node("model", _speak)
    builder.add_edge(START, "model")
    builder.add_edge("model", END)
    return builder.compile()


#: The `stream` workload's agent: one model node streaming its tokens.
streamer = _build_streamer()
