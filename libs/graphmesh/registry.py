"""The graph registry: graph names mapped to where the graphs are defined.

The file has the shape of LangGraph's `langgraph.json`:

    {"graphs": {"chain3": "./graphs/workload.py:chain3"}}

Paths are relative to the file. The attribute may be a compiled graph, a
`StateGraph` (compiled here) or a function of no arguments returning either.
Only files named in the registry are ever loaded: a request names a graph by
id and never carries code or paths.

Its `store` section configures the long-term memory store as LangGraph
Server's does: `"store": {"index": {"embed": "file.py:function", "dims": N,
"fields": ["text"]}, "ttl": {"default_ttl": minutes, "refresh_on_read":
true}}`. `embed` names a function from texts to vectors (or an async one, or
a LangChain `Embeddings`) in a file, as graphs are named, or a LangChain
"provider:model" string.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphmesh.errors import NotFound

if TYPE_CHECKING:
    from langgraph.pregel import Pregel

DEFAULT_REGISTRY = Path(__file__).resolve().parents[2] / "examples" / "langgraph.json"


class RegistryError(Exception):
    """The registry file or a graph it names cannot be loaded."""


@dataclass(frozen=True, slots=True)
class GraphEntry:
    """One registered graph, loaded."""

    graph_id: str
    source: str
    graph: Pregel[Any]
    #: False for a graph whose input is not an object (a Functional API
    #: entrypoint taking a string, a number...): any JSON value is given to it.
    input_is_object: bool = True

    @property
    def nodes(self) -> list[str]:
        """The graph's node names, without LangGraph's start and end markers."""
        return [n for n in self.graph.nodes if not n.startswith("__")]

    def input_schema_json(self) -> str:
        """JSON Schema of the graph's input."""
        return _schema_json(self.graph.get_input_jsonschema)

    def output_schema_json(self) -> str:
        """JSON Schema of the graph's output."""
        return _schema_json(self.graph.get_output_jsonschema)


def _input_is_object(graph: Pregel[Any]) -> bool:
    """True unless the graph's input schema says it takes something else."""
    try:
        kind = graph.get_input_jsonschema().get("type")
    except Exception:
        return True
    return kind in (None, "object")


def _schema_json(make_schema: Callable[[], Any]) -> str:
    # A user's state type may not be expressible as JSON Schema; the graph
    # still runs, so describe it as "any object" rather than fail.
    try:
        return json.dumps(make_schema(), separators=(",", ":"), default=str)
    except Exception:
        return "{}"


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """The `store` section: LangGraph's `IndexConfig` (its `embed` loaded)
    and `TTLConfig`, each None when not given."""

    index: Mapping[str, Any] | None = None
    ttl: Mapping[str, Any] | None = None


class GraphRegistry:
    """The loaded graphs, by id, and the store's settings."""

    def __init__(
        self, entries: Mapping[str, GraphEntry], store: StoreSettings | None = None
    ) -> None:
        self._entries = dict(sorted(entries.items()))
        self.store = store or StoreSettings()

    def get(self, graph_id: str) -> GraphEntry:
        """The graph named `graph_id`; raises NotFound otherwise."""
        entry = self._entries.get(graph_id)
        if entry is None:
            raise NotFound(
                f"no graph named {graph_id[:128]!r};"
                f" known graphs: {', '.join(self._entries) or 'none'}",
                reason="GRAPH_NOT_FOUND",
                field="graph_id",
                metadata={"graph_id": graph_id[:128]},
            )
        return entry

    def __contains__(self, graph_id: object) -> bool:
        return graph_id in self._entries

    def entries(self) -> list[GraphEntry]:
        """Every graph, sorted by id."""
        return list(self._entries.values())


def load_registry(path: Path) -> GraphRegistry:
    """Loads the registry file at `path` and every graph it names."""
    try:
        spec = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RegistryError(f"cannot read graph registry {path}: {exc}") from exc
    graphs = spec.get("graphs") if isinstance(spec, dict) else None
    if not isinstance(graphs, dict) or not graphs:
        raise RegistryError(f'{path} has no "graphs" object')
    entries = {}
    for graph_id, source in graphs.items():
        if not isinstance(source, str) or ":" not in source:
            raise RegistryError(f"{path}: graph {graph_id!r} must be 'file.py:attribute'")
        graph = _load_graph(path.parent, source)
        entries[graph_id] = GraphEntry(graph_id, source, graph, _input_is_object(graph))
    return GraphRegistry(entries, _store_settings(path, spec.get("store")))


def _store_settings(path: Path, section: Any) -> StoreSettings:
    if section is None:
        return StoreSettings()
    if not isinstance(section, dict):
        raise RegistryError(f'{path}: "store" must be an object')
    index = section.get("index")
    if index is not None:
        if not isinstance(index, dict) or "embed" not in index or "dims" not in index:
            raise RegistryError(f'{path}: "store.index" needs "embed" and "dims"')
        embed = index["embed"]
        if isinstance(embed, str) and (".py:" in embed or embed.endswith(".py")):
            embed = _load_attribute(path.parent, embed)
        index = {**index, "embed": embed}
    ttl = section.get("ttl")
    if ttl is not None and not isinstance(ttl, dict):
        raise RegistryError(f'{path}: "store.ttl" must be an object')
    return StoreSettings(index, ttl)


def _load_attribute(base: Path, source: str) -> Any:
    """The attribute a "file.py:attribute" source names (the file loaded
    once, relative to `base`)."""
    file_part, attr = source.rsplit(":", 1)
    file_path = (base / file_part).resolve()
    module_name = f"graphmesh_user_graphs.{file_path.stem}_{abs(hash(str(file_path))):x}"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, file_path)
        if spec is None or spec.loader is None:
            raise RegistryError(f"cannot load {file_path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[module_name]
            raise RegistryError(f"importing {file_path} failed: {exc!r}") from exc
    obj = getattr(module, attr, None)
    if obj is None:
        raise RegistryError(f"{file_path} has no attribute {attr!r}")
    return obj


def _load_graph(base: Path, source: str) -> Pregel[Any]:
    # (LangGraph is imported here, not above: whoever needs only the
    # registry's path, as `graphmesh up` does, starts faster.)
    from langgraph.graph import StateGraph
    from langgraph.pregel import Pregel

    obj = _load_attribute(base, source)
    if callable(obj) and not isinstance(obj, Pregel | StateGraph):
        obj = obj()
    if isinstance(obj, StateGraph):
        obj = obj.compile()
    if not isinstance(obj, Pregel):
        raise RegistryError(f"{source} is not a LangGraph graph (got {type(obj).__name__})")
    return obj
