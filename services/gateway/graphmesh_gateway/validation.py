"""Checking public requests: pure functions that return typed values or
raise InvalidArgument with the offending field. No I/O."""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Sequence
from typing import Any

from graphmesh import streams
from graphmesh.errors import InvalidArgument
from graphmesh.v1 import run_pb2

THREAD_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MAX_REQUEST_ID_CHARS = 128
MAX_METADATA_ENTRIES = 64
MAX_METADATA_CHARS = 1024
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_JSON_DEPTH = 100
#: The longest graph id, checkpoint id or node name accepted.
MAX_ID_CHARS = 256
#: The most items in a repeated field (stream modes, goto nodes).
MAX_LIST_ITEMS = 64


def run_id(value: str, field: str = "run_id") -> str:
    """A run id: a UUID in canonical form."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument(
            f"{field} must be a UUID, got {value[:64]!r}", reason="RUN_ID_MALFORMED", field=field
        ) from None
    return str(parsed)


def text(value: str, field: str, max_chars: int) -> str:
    """A free-form id or name of at most `max_chars` characters."""
    if len(value) > max_chars:
        raise InvalidArgument(
            f"{field} is longer than {max_chars} characters",
            reason=f"{field.rsplit('.', 1)[-1].upper()}_TOO_LONG",
            field=field,
            metadata={"limit_chars": str(max_chars)},
        )
    return value


def graph_id(value: str) -> str:
    """A graph id to look up: refused as too long before it is looked up
    (a lookup would answer NOT_FOUND and echo it)."""
    return text(value, "graph_id", MAX_ID_CHARS)


def items(values: Sequence[Any], field: str, max_items: int = MAX_LIST_ITEMS) -> Sequence[Any]:
    """A repeated field of at most `max_items` items."""
    if len(values) > max_items:
        raise InvalidArgument(
            f"{field} has more than {max_items} items",
            reason="TOO_MANY_ITEMS",
            field=field,
            metadata={"limit_items": str(max_items)},
        )
    return values


def thread_id(value: str, field: str = "thread_id") -> str:
    """A client-given thread id ("" means: make one)."""
    if value and not THREAD_ID_PATTERN.match(value):
        raise InvalidArgument(
            f"{field} must be 1-128 letters, digits or '._:-', starting with a letter or digit",
            reason="THREAD_ID_MALFORMED",
            field=field,
        )
    return value


def request_id(value: str) -> str:
    """An idempotency key."""
    if len(value) > MAX_REQUEST_ID_CHARS:
        raise InvalidArgument(
            f"request_id is longer than {MAX_REQUEST_ID_CHARS} characters",
            reason="REQUEST_ID_TOO_LONG",
            field="request_id",
        )
    return value


def metadata(value: dict[str, str]) -> dict[str, str]:
    """Run labels."""
    if len(value) > MAX_METADATA_ENTRIES:
        raise InvalidArgument(
            f"metadata has more than {MAX_METADATA_ENTRIES} entries",
            reason="METADATA_TOO_LARGE",
            field="metadata",
        )
    for key, item in value.items():
        if len(key) > MAX_METADATA_CHARS or len(item) > MAX_METADATA_CHARS:
            raise InvalidArgument(
                f"metadata keys and values are limited to {MAX_METADATA_CHARS} characters",
                reason="METADATA_TOO_LARGE",
                field="metadata",
            )
    return dict(value)


def input_json(text: str, max_bytes: int, *, require_object: bool = True) -> Any:
    """The run input: JSON of at most `max_bytes` bytes of UTF-8, an object
    when `require_object` (the graph's input is an object); None for none."""
    if not text.strip() and len(text.encode("utf-8")) <= max_bytes:
        return None
    return json_value(
        text, "input_json", max_bytes, reason_prefix="INPUT", require_object=require_object
    )


def json_value(
    text: str,
    field: str,
    max_bytes: int,
    *,
    reason_prefix: str = "JSON",
    require_object: bool = False,
) -> Any:
    """A JSON value of at most `max_bytes` bytes of UTF-8 and
    `MAX_JSON_DEPTH` levels; reasons are `<prefix>_TOO_LARGE`,
    `_MALFORMED_JSON` (also for a string holding a lone surrogate, which
    `\\ud800` escapes can make and no UTF-8 can carry), `_NOT_OBJECT` and
    `_TOO_DEEP` (however deep: nesting past Python's recursion limit is
    refused as too deep, not as malformed)."""
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise InvalidArgument(
            f"{field} is {size} bytes; the limit is {max_bytes}",
            reason=f"{reason_prefix}_TOO_LARGE",
            field=field,
            metadata={"limit_bytes": str(max_bytes), "size_bytes": str(size)},
        )
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _too_deep(field, reason_prefix) from None
    except ValueError as exc:
        raise InvalidArgument(
            f"{field} is not valid JSON: {exc}",
            reason=f"{reason_prefix}_MALFORMED_JSON",
            field=field,
        ) from None
    if require_object and not isinstance(value, dict):
        raise InvalidArgument(
            f"{field} must be a JSON object, got {type(value).__name__}",
            reason=f"{reason_prefix}_NOT_OBJECT",
            field=field,
        )
    if _depth(value) > MAX_JSON_DEPTH:
        raise _too_deep(field, reason_prefix)
    if _SURROGATE_ESCAPE.search(text) and (where := _lone_surrogate(value)) is not None:
        raise InvalidArgument(
            f"{field} is not valid JSON: a string{where} holds a lone surrogate"
            " (an unpaired \\ud800-\\udfff escape), which is not Unicode text",
            reason=f"{reason_prefix}_MALFORMED_JSON",
            field=field,
        )
    return value


def _too_deep(field: str, reason_prefix: str) -> InvalidArgument:
    return InvalidArgument(
        f"{field} nests deeper than {MAX_JSON_DEPTH} levels",
        reason=f"{reason_prefix}_TOO_DEEP",
        field=field,
        metadata={"limit_depth": str(MAX_JSON_DEPTH)},
    )


#: A \\uD800-\\uDFFF escape: only then can a parsed string hold a surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogate(value: Any) -> str | None:
    """Where in `value` a string (or key) holds an unpaired surrogate
    (" at key 'k'", "" at the top), or None."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return where
        elif isinstance(item, dict):
            for key, inner in item.items():
                try:
                    key.encode("utf-8")
                except UnicodeEncodeError:
                    return " (a key)"
                stack.append((inner, f" at key {key[:64]!r}"))
        elif isinstance(item, list):
            stack.extend((inner, where) for inner in item)
    return None


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON does not, and clients in
    # other languages could not read them back.
    raise ValueError(f"{name} is not valid JSON")


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        nxt: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                nxt.extend(item.values())
            elif isinstance(item, list):
                nxt.extend(item)
        level = nxt
    return depth - 1


def page_size(value: int | None) -> int:
    """A page size: unset means the default; 0, negative or too large is refused."""
    if value is None:
        return DEFAULT_PAGE_SIZE
    if value <= 0 or value > MAX_PAGE_SIZE:
        raise InvalidArgument(
            f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {value}",
            reason="PAGE_SIZE_OUT_OF_RANGE",
            field="page_size",
        )
    return value


def fingerprint(*parts: Any) -> str:
    """A digest of what a CreateRun asked for, to tell a retry from a reuse of
    its request id."""
    canonical = json.dumps(list(parts), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def status_out_of_range(value: int) -> None:
    """Refuses a RunStatus number the API does not define."""
    raise InvalidArgument(
        f"status {value} is not a RunStatus", reason="STATUS_UNKNOWN", field="status"
    )


def enum_value(value: int, known: Any, field: str) -> int:
    """Refuses an enum number the API does not define."""
    if value not in known.values():
        raise InvalidArgument(
            f"{field} {value} is not defined", reason=f"{field.upper()}_UNKNOWN", field=field
        )
    return value


def node_name(value: str, nodes: Any, field: str) -> str:
    """A node of the graph."""
    if value not in nodes:
        raise InvalidArgument(
            f"{field} {value[:64]!r} is not a node of the graph",
            reason="NODE_UNKNOWN",
            field=field,
            metadata={"nodes": ",".join(sorted(n for n in nodes if not n.startswith("__")))},
        )
    return value


#: The longest run timeout accepted: a week.
MAX_TIMEOUT_SECONDS = 7 * 86400.0


def stream_modes(values: Sequence[int], field: str = "stream_modes") -> list[str]:
    """Stream mode numbers as mode names, in the order given, once each."""
    names: list[str] = []
    for value in items(values, field):
        if value == 0 or value not in run_pb2.StreamMode.values():
            raise InvalidArgument(
                f"{field}: {value} is not a stream mode (1-{len(streams.STREAM_MODES)})",
                reason="STREAM_MODE_UNKNOWN",
                field=field,
            )
        name = streams.mode_name(value)
        if name not in names:
            names.append(name)
    return names


def timeout_seconds(value: float, field: str = "timeout_seconds") -> float:
    """A run timeout: 0 for none, else positive and at most a week."""
    if value == 0:
        return 0.0
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT_SECONDS):
        raise InvalidArgument(
            f"{field} must be 0 (none) or in (0, {MAX_TIMEOUT_SECONDS:g}] seconds, got {value!r}",
            reason="TIMEOUT_OUT_OF_RANGE",
            field=field,
        )
    return value
