"""An assistant that remembers facts about its user across conversations.

It uses what a real LangGraph application gets from its runtime:

- the run's config: `configurable.model` picks the reply style ("terse",
  the default, or "chatty"), as an application picks its chat model;
- the runtime context: `user_id` says whose memories to use;
- the store: "remember that ..." saves a fact under ("memories", user_id),
  and any other message is answered with what is remembered. A new thread
  (conversation) sees the facts saved in earlier ones.

The "model" is a deterministic stand-in (no network, no API key) so that the
example runs anywhere and its answers can be checked.

    graphmesh run memory_agent --context '{"user_id": "ann"}' \\
      --input '{"messages": [{"role": "user", "content": "remember that I like tea"}]}'
    graphmesh run memory_agent --context '{"user_id": "ann"}' \\
      --config '{"configurable": {"model": "chatty"}}' \\
      --input '{"messages": [{"role": "user", "content": "what do you know about me?"}]}'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.runtime import Runtime

_REMEMBER = "remember that "


@dataclass
class User:
    """Whose memories a run uses."""

    user_id: str


async def respond(state: MessagesState, config: RunnableConfig, runtime: Runtime[User]) -> Any:
    """Saves a fact, or answers with the facts saved so far."""
    store = runtime.store
    if store is None:
        raise RuntimeError("memory_agent needs a store (graphmesh gives every run one)")
    namespace = ("memories", runtime.context.user_id)
    text = str(state["messages"][-1].content).strip()
    chatty = config.get("configurable", {}).get("model") == "chatty"
    if text.lower().startswith(_REMEMBER):
        fact = text[len(_REMEMBER) :].rstrip(".")
        count = len(await store.asearch(namespace, limit=1000))
        await store.aput(namespace, f"fact-{count:04d}", {"fact": fact})
        reply = (
            f"Got it, {runtime.context.user_id}: I'll remember that {fact}." if chatty else "Noted."
        )
    else:
        facts = [
            i.value["fact"]
            for i in sorted(await store.asearch(namespace, limit=1000), key=lambda i: i.key)
        ]
        if not facts:
            reply = "I don't know anything about you yet."
        elif chatty:
            reply = (
                f"Here is what I know about you, {runtime.context.user_id}: "
                + "; ".join(facts)
                + "."
            )
        else:
            reply = "; ".join(facts)
    return {"messages": [AIMessage(content=reply)]}


def _build() -> Any:
    builder = StateGraph(MessagesState, context_schema=User)
    builder.add_node("respond", respond)
    builder.add_edge(START, "respond")
    builder.add_edge("respond", END)
    return builder.compile()


memory_agent = _build()
