"""Conditions a node must meet before it starts, checked in LangGraph's
callback for a node's start (which LangGraph awaits before the node runs):
the run's lease is proven (`leases`), and the run is not too far ahead of
its acknowledged log (`backlog`)."""

from __future__ import annotations

import abc
from typing import Any

from langchain_core.callbacks import AsyncCallbackHandler


class NodeStartGate(AsyncCallbackHandler, abc.ABC):
    """Holds a node back until `before_node` returns (or raises, and the
    node does not start). Chains inside a node are not held back."""

    run_inline = True  # awaited in order, before the other handlers
    raise_error = True

    async def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        node = (metadata or {}).get("langgraph_node")
        if node is not None and kwargs.get("name") == node:
            await self.before_node()

    @abc.abstractmethod
    async def before_node(self) -> None:
        """Returns once the node may start."""
