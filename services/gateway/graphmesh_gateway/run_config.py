"""A run's LangGraph config and runtime context, checked as CreateRun takes them.

The config is the part of LangGraph's `RunnableConfig` a caller may choose:
`configurable` values, `tags`, `metadata`, `recursion_limit` and
`max_concurrency`. What graphmesh sets itself (the thread, the checkpoint
to start from, LangGraph's internal `__pregel_*` keys, the run's callbacks)
is refused rather than silently overwritten. The context is validated
against the graph's `context_schema` (a TypedDict, dataclass or pydantic
model) the way pydantic reads it; LangGraph then coerces the JSON object to
the schema's type itself (`astream(context=...)`).
"""

from __future__ import annotations

import functools
from typing import Any

import pydantic
from langgraph.pregel import Pregel

from graphmesh.errors import InvalidArgument
from graphmesh_gateway import validation

#: The config keys a run may set.
CONFIG_KEYS = frozenset({"configurable", "tags", "metadata", "recursion_limit", "max_concurrency"})
#: `configurable` keys graphmesh sets for the run.
RESERVED_CONFIGURABLE = frozenset(
    {"thread_id", "checkpoint_id", "checkpoint_ns", "checkpoint_map", "checkpoint_during"}
)
#: A recursion limit beyond this is a mistake, not a graph.
MAX_RECURSION_LIMIT = 100_000


def config(text: str, max_bytes: int, field: str = "config_json") -> dict[str, Any]:
    """The run config in `text` ({} when empty), from the request `field`."""
    if not text.strip():
        return {}
    value = validation.json_value(
        text, field, max_bytes, reason_prefix="CONFIG", require_object=True
    )
    unknown = sorted(set(value) - CONFIG_KEYS)
    if unknown:
        raise _invalid(
            f"{field} key(s) {', '.join(unknown)} are not run config; allowed:"
            f" {', '.join(sorted(CONFIG_KEYS))}",
            "CONFIG_KEY_UNKNOWN",
            field,
        )
    if "\u0000" in text or _holds_nul(value):
        # PostgreSQL's JSON cannot store it, and the config reaches the
        # checkpoints' metadata.
        raise _invalid(f"{field} holds a NUL character (\\u0000)", "NUL_IN_TEXT", field)
    configurable = value.get("configurable", {})
    if not isinstance(configurable, dict):
        raise _invalid(f"{field}.configurable must be an object", "CONFIG_MALFORMED", field)
    reserved = sorted(k for k in configurable if k in RESERVED_CONFIGURABLE or k.startswith("__"))
    if reserved:
        raise _invalid(
            f"{field}.configurable may not set {', '.join(reserved)}: graphmesh sets it"
            " for the run (the thread and checkpoint are CreateRun's own fields)",
            "CONFIG_RESERVED_KEY",
            field,
            {"keys": ",".join(reserved)},
        )
    tags = value.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _invalid(f"{field}.tags must be a list of strings", "CONFIG_MALFORMED", field)
    if not isinstance(value.get("metadata", {}), dict):
        raise _invalid(f"{field}.metadata must be an object", "CONFIG_MALFORMED", field)
    for key in ("recursion_limit", "max_concurrency"):
        if key in value and not _positive_int(value[key]):
            raise _invalid(
                f"{field}.{key} must be a whole number from 1 to {MAX_RECURSION_LIMIT}",
                "CONFIG_MALFORMED",
                field,
            )
    return dict(value)


def context(text: str, graph: Pregel[Any], max_bytes: int) -> Any:
    """The run's context from `context_json` (None when empty), valid for
    the graph's `context_schema` if it has one."""
    value = context_value(text, max_bytes)
    check_context(value, graph)
    return value


def context_value(text: str, max_bytes: int, field: str = "context_json") -> Any:
    """The context in `text` (None when empty), not checked against a schema."""
    if not text.strip():
        return None
    return validation.json_value(text, field, max_bytes, reason_prefix="CONTEXT")


def check_context(value: Any, graph: Pregel[Any], field: str = "context_json") -> None:
    """Refuses a context that does not match the graph's `context_schema`
    (when it has one) with CONTEXT_INVALID and the path of each problem."""
    schema = getattr(graph, "context_schema", None)
    if schema is None or value is None:
        return
    try:
        _adapter(schema).validate_python(value)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(the context)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidArgument(
            f"{field} does not match the graph's context schema"
            f" {getattr(schema, '__name__', schema)}: {problems}",
            reason="CONTEXT_INVALID",
            field=field,
        ) from None
    except (pydantic.PydanticSchemaGenerationError, TypeError):
        return  # a schema pydantic cannot read: LangGraph takes it as it is


@functools.lru_cache(maxsize=256)
def _adapter(schema: Any) -> pydantic.TypeAdapter[Any]:
    """Pydantic's reader of a context schema, built once per schema (a
    registry's schemas are few and fixed)."""
    return pydantic.TypeAdapter(schema)


def _positive_int(value: Any) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_RECURSION_LIMIT
    )


def refuse_nul(value: Any, field: str) -> None:
    """Refuses JSON data holding a NUL character (PostgreSQL's JSON cannot
    store it) with NUL_IN_TEXT."""
    if _holds_nul(value):
        raise InvalidArgument(
            f"{field} holds a NUL character (\\u0000)", reason="NUL_IN_TEXT", field=field
        )


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _invalid(
    message: str, reason: str, field: str, metadata: dict[str, str] | None = None
) -> InvalidArgument:
    return InvalidArgument(message, reason=reason, field=field, metadata=metadata)
