"""LangGraph Server's request bodies read into graphmesh's call arguments:
pure, no I/O. What graphmesh checks itself (graph ids, sizes, schemas,
config keys) is left to the gRPC API, so that both APIs refuse the same
input for the same reason; what is read here is only the JSON's shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from graphmesh.client import CreateRunOptions
from graphmesh_gateway.http.errors import NotServed, invalid
from graphmesh_gateway.http.shapes import metadata_in
from graphmesh_gateway.http.sse import DEFAULT_MODES, RECORDED_MODE, recorded_modes

#: Run parameters LangGraph Server takes that graphmesh does not serve yet.
UNSERVED_RUN_FIELDS: Final = ("webhook", "after_seconds", "feedback_keys")
_STRATEGIES: Final = ("reject", "enqueue", "interrupt", "rollback")
_DURABILITIES: Final = ("sync", "async", "exit")


@dataclass(frozen=True, slots=True)
class RunRequest:
    """A run to create, read from a LangGraph run body."""

    #: A graph id or an assistant's id.
    target: str
    input: Any
    options: CreateRunOptions
    #: The stream modes the client asked for (LangGraph's names).
    stream_modes: tuple[str, ...] = DEFAULT_MODES
    stream_subgraphs: bool = False
    #: "reject": a missing thread is 404; "create": it is created.
    if_not_exists: str = "reject"
    #: "cancel": the run is cancelled when the client goes away.
    on_disconnect: str = "continue"
    #: Stateless runs: "delete" removes the thread once the run has ended.
    on_completion: str = "delete"
    multitask_strategy: str = "enqueue"


def body_object(body: Any, what: str = "the request body") -> dict[str, Any]:
    """The body as a JSON object, or a 422."""
    if not isinstance(body, dict):
        raise invalid("REQUEST_MALFORMED", f"{what} must be a JSON object")
    return body


def _text(body: Mapping[str, Any], key: str, default: str = "") -> str:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise invalid("REQUEST_MALFORMED", f"{key} must be a string", key)
    return value


def _choice(body: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = _text(body, key, default)
    if value not in choices:
        raise invalid("REQUEST_MALFORMED", f"{key} must be one of {', '.join(choices)}", key)
    return value


def _object(body: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("REQUEST_MALFORMED", f"{key} must be a JSON object", key)
    return value


def _nodes(body: Mapping[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if value == "*":
        return ["*"]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid("REQUEST_MALFORMED", f'{key} must be "*" or a list of node names', key)
    return list(value)


def stream_modes(value: Any) -> tuple[str, ...]:
    """A body's `stream_mode` (a name or a list of names) as a tuple."""
    if value is None:
        return DEFAULT_MODES
    modes = [value] if isinstance(value, str) else value
    if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
        raise invalid("STREAM_MODE_UNKNOWN", "stream_mode must be a name or a list of names")
    for mode in modes:
        if mode not in RECORDED_MODE:
            raise invalid(
                "STREAM_MODE_UNKNOWN",
                f"stream mode {mode!r} is not one of {', '.join(RECORDED_MODE)}",
                "stream_mode",
            )
    return tuple(dict.fromkeys(modes)) or DEFAULT_MODES


def run_request(body: Any, thread_id: str = "") -> RunRequest:
    """A LangGraph `RunCreate` body read into a graphmesh run."""
    body = body_object(body)
    for key in UNSERVED_RUN_FIELDS:
        if body.get(key) not in (None, [], 0):
            raise NotServed(f"{key} is not served by graphmesh yet", reason="FIELD_NOT_SERVED")
    target = _text(body, "assistant_id")
    if not target:
        raise invalid("ASSISTANT_ID_MISSING", "assistant_id is required", "assistant_id")
    modes = stream_modes(body.get("stream_mode"))
    options: CreateRunOptions = {
        "stream_modes": recorded_modes(modes),
        "stream_subgraphs": bool(body.get("stream_subgraphs")),
        "multitask_strategy": _choice(body, "multitask_strategy", _STRATEGIES, "enqueue"),
        "interrupt_before": _nodes(body, "interrupt_before"),
        "interrupt_after": _nodes(body, "interrupt_after"),
    }
    if thread_id:
        options["thread_id"] = thread_id
    durability = body.get("durability")
    if durability is None and body.get("checkpoint_during") is not None:
        # (LangGraph's older name: checkpoint during the run, or at its end.)
        durability = "async" if body["checkpoint_during"] else "exit"
    if durability is not None:
        options["durability"] = _choice({"durability": durability}, "durability", _DURABILITIES, "")
    if (metadata := _object(body, "metadata")) is not None:
        options["metadata"] = metadata_in(metadata)
    if (config := _object(body, "config")) is not None:
        options["config"] = config
    if body.get("context") is not None:
        options["context"] = body["context"]
    checkpoint = _object(body, "checkpoint") or {}
    checkpoint_id = _text(body, "checkpoint_id") or str(checkpoint.get("checkpoint_id") or "")
    if checkpoint_id:
        options["checkpoint_id"] = checkpoint_id
    if (command := _object(body, "command")) is not None:
        _command_options(command, options)
        if body.get("input") is not None:
            raise invalid("INPUT_AND_COMMAND", "send input or command, not both", "command")
    return RunRequest(
        target=target,
        input=body.get("input"),
        options=options,
        stream_modes=modes,
        stream_subgraphs=bool(body.get("stream_subgraphs")),
        if_not_exists=_choice(body, "if_not_exists", ("reject", "create"), "reject"),
        on_disconnect=_choice(body, "on_disconnect", ("cancel", "continue"), "continue"),
        on_completion=_choice(body, "on_completion", ("delete", "keep"), "delete"),
        multitask_strategy=options["multitask_strategy"],
    )


def _command_options(command: Mapping[str, Any], options: CreateRunOptions) -> None:
    if "resume" in command:
        options["resume"] = command["resume"]
    goto = command.get("goto")
    if goto is not None:
        items = goto if isinstance(goto, list) else [goto]
        nodes = []
        for item in items:
            node = item.get("node") if isinstance(item, dict) else item
            if not isinstance(node, str):
                raise invalid("REQUEST_MALFORMED", "command.goto must name nodes", "command")
            if isinstance(item, dict) and item.get("arg") is not None:
                raise NotServed(
                    "command.goto with a Send argument is not served yet",
                    reason="FIELD_NOT_SERVED",
                )
            nodes.append(node)
        options["goto"] = nodes
    update = command.get("update")
    if update is not None:
        if not isinstance(update, dict):
            raise invalid("REQUEST_MALFORMED", "command.update must be a JSON object", "command")
        options["update"] = update


def page(body: Mapping[str, Any], default_limit: int = 10) -> tuple[int, int]:
    """A body's `limit` and `offset`, checked."""
    limit, offset = body.get("limit", default_limit), body.get("offset", 0)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
        raise invalid("LIMIT_OUT_OF_RANGE", "limit must be an integer from 1 to 1000", "limit")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise invalid("OFFSET_OUT_OF_RANGE", "offset must be a non-negative integer", "offset")
    return limit, offset
