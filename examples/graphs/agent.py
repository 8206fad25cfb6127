"""An agent-like example: a chat model that calls a calculator tool.

The chat model is a deterministic fake (no network, no API key) so that the
example runs anywhere and its answers can be checked: asked "what is 2 + 3?",
it calls the `add` tool with a=2, b=3, then answers "The answer is 5.".
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

_QUESTION = re.compile(r"(-?\d+)\s*\+\s*(-?\d+)")


@tool
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


class CalculatorChatModel(BaseChatModel):
    """A fake chat model: asks the `add` tool to sum the first "a + b" in the
    user's last message, then states the tool's result."""

    @property
    def _llm_type(self) -> str:
        return "graphmesh-fake-calculator"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        last = messages[-1]
        if isinstance(last, ToolMessage):
            return AIMessage(content=f"The answer is {last.content}.")
        match = _QUESTION.search(str(last.content))
        if match is None:
            return AIMessage(content="I can only add two integers, as in 'what is 2 + 3?'.")
        a, b = int(match.group(1)), int(match.group(2))
        call_id = f"call_add_{len(messages)}"
        return AIMessage(
            content="", tool_calls=[{"name": "add", "args": {"a": a, "b": b}, "id": call_id}]
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._reply(messages)
        if reply.tool_calls:
            chunk = AIMessageChunk(
                content="",
                tool_call_chunks=[
                    {"name": c["name"], "args": _json(c["args"]), "id": c["id"], "index": 0}
                    for c in reply.tool_calls
                ],
            )
            yield ChatGenerationChunk(message=chunk)
            return
        for token in re.findall(r"\S+\s*", str(reply.content)):
            chunk = AIMessageChunk(content=token)
            if run_manager is not None:
                run_manager.on_llm_new_token(token, chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


_model = CalculatorChatModel().bind_tools([add])


def call_model(state: MessagesState) -> dict[str, Any]:
    return {"messages": [_model.invoke(state["messages"])]}


def _build_agent() -> Any:
    builder = StateGraph(MessagesState)
    builder.add_node("model", call_model)
    builder.add_node("tools", ToolNode([add]))
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", tools_condition, {"tools": "tools", END: END})
    builder.add_edge("tools", "model")
    return builder.compile()


agent = _build_agent()
