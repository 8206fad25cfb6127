"""Assistants: named, versioned configurations of a graph (LangGraph
Server's assistants).

An assistant names a graph and the config and context its runs get under
their own (`merge_config`, `merge_context`). Each update writes a new
version; one version is the latest, which runs use. Every registered graph
has a default assistant with LangGraph Server's id for it
(`default_assistant_id`), shared by every tenant and not changeable; the
others belong to one tenant.

`AssistantStore` is the interface (PostgreSQL in the checkpoint service,
`remote.RemoteAssistants` over its internal API); `contract` holds the
tests every implementation passes.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphmesh.errors import NotFound

#: LangGraph Server's namespace for the ids of graphs' default assistants.
DEFAULT_ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
#: The tenant of the default assistants: every tenant sees them.
SHARED_TENANT = ""
#: The metadata of a default assistant.
SYSTEM_METADATA: Mapping[str, Any] = {"created_by": "system"}
#: A new assistant's name when none is given (LangGraph's).
UNTITLED = "Untitled"


def default_assistant_id(graph_id: str) -> str:
    """The id of `graph_id`'s default assistant (LangGraph Server's)."""
    return str(uuid.uuid5(DEFAULT_ASSISTANT_NAMESPACE, graph_id))


@dataclass(frozen=True, slots=True)
class AssistantSpec:
    """What an assistant version says: its graph and what its runs get."""

    graph_id: str
    name: str = UNTITLED
    description: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)
    #: The runtime context (None: none).
    context: Any = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Assistant:
    """One version of an assistant, as stored."""

    assistant_id: str
    spec: AssistantSpec
    version: int
    created_at: datetime
    updated_at: datetime
    #: True for a graph's default assistant.
    shared: bool = False


@dataclass(frozen=True, slots=True)
class AssistantPatch:
    """An update: the fields given replace the latest version's, metadata
    entries are merged into its metadata."""

    graph_id: str | None = None
    name: str | None = None
    description: str | None = None
    config: Mapping[str, Any] | None = None
    #: Set `has_context` to replace the context (with None: remove it).
    context: Any = None
    has_context: bool = False
    metadata: Mapping[str, Any] | None = None

    def apply(self, spec: AssistantSpec) -> AssistantSpec:
        """The spec of the new version."""
        return AssistantSpec(
            graph_id=spec.graph_id if self.graph_id is None else self.graph_id,
            name=spec.name if self.name is None else self.name,
            description=spec.description if self.description is None else self.description,
            config=spec.config if self.config is None else self.config,
            context=self.context if self.has_context else spec.context,
            metadata={**spec.metadata, **(self.metadata or {})},
        )


@dataclass(frozen=True, slots=True)
class AssistantQuery:
    """A search: filters, and where the page starts (after the keyset
    position (created_at, assistant_id), newest first)."""

    graph_id: str = ""
    #: Only assistants whose metadata contains this object.
    metadata: Mapping[str, Any] = field(default_factory=dict)
    #: Only assistants whose name contains this, case-insensitively.
    name: str = ""
    limit: int = 10
    before: tuple[datetime, str] | None = None


def merge_config(base: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """A run's config: its own over its assistant's. `configurable` and
    `metadata` are merged key by key (the run's win), `tags` are the
    assistant's followed by the run's, other keys are the run's if it set
    them."""
    merged: dict[str, Any] = {**base, **own}
    for key in ("configurable", "metadata"):
        if key in base or key in own:
            merged[key] = {**base.get(key, {}), **own.get(key, {})}
    if "tags" in base or "tags" in own:
        merged["tags"] = list(dict.fromkeys([*base.get("tags", []), *own.get("tags", [])]))
    return merged


def merge_context(base: Any, own: Any) -> Any:
    """A run's context: its own object's keys over its assistant's; a run's
    context that is not an object (or no assistant context) is taken as it is."""
    if own is None:
        return base
    if isinstance(base, dict) and isinstance(own, dict):
        return {**base, **own}
    return own


def assistant_not_found(assistant_id: str) -> NotFound:
    """The error for an assistant the caller has no such assistant."""
    return NotFound(
        f"assistant {assistant_id!r} not found",
        reason="ASSISTANT_NOT_FOUND",
        field="assistant_id",
    )


class AssistantStore(abc.ABC):
    """Where assistants and their versions are kept. Every call names the
    caller's tenant; a tenant sees its own assistants and the shared
    default ones, and can change only its own."""

    @abc.abstractmethod
    async def create(
        self, tenant: str, assistant_id: str, spec: AssistantSpec, *, if_exists_return: bool
    ) -> tuple[Assistant, bool]:
        """Stores version 1; returns it and True. An id in use (by the
        tenant or a default assistant): AlreadyExists ASSISTANT_EXISTS, or
        the existing assistant and False with `if_exists_return`."""

    @abc.abstractmethod
    async def ensure_defaults(self, specs: Mapping[str, AssistantSpec]) -> None:
        """Makes sure each graph's default assistant exists (keyed by its
        id), and says what the registry now says (name, description)."""

    @abc.abstractmethod
    async def get(self, tenant: str, assistant_id: str) -> Assistant:
        """The latest version; NotFound ASSISTANT_NOT_FOUND."""

    @abc.abstractmethod
    async def update(self, tenant: str, assistant_id: str, patch: AssistantPatch) -> Assistant:
        """Writes the next version and makes it the latest."""

    @abc.abstractmethod
    async def delete(self, tenant: str, assistant_id: str) -> None:
        """Deletes the assistant and its versions."""

    @abc.abstractmethod
    async def search(self, tenant: str, query: AssistantQuery) -> list[Assistant]:
        """Latest versions, newest first."""

    @abc.abstractmethod
    async def count(self, tenant: str, query: AssistantQuery) -> int:
        """How many a search would find (limit and position aside)."""

    @abc.abstractmethod
    async def versions(
        self,
        tenant: str,
        assistant_id: str,
        metadata: Mapping[str, Any],
        limit: int,
        before_version: int = 0,
    ) -> list[Assistant]:
        """The assistant's versions, newest first (below `before_version`
        when it is set)."""

    @abc.abstractmethod
    async def set_latest(self, tenant: str, assistant_id: str, version: int) -> Assistant:
        """Makes an existing version the latest; NotFound
        ASSISTANT_VERSION_NOT_FOUND otherwise."""
