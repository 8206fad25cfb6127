"""The HTTP API's OpenAPI document, served at /openapi.json.

`OPERATIONS` says what each route does and answers; a test checks that it
names exactly the routes served, so the document cannot drift from them."""

from __future__ import annotations

import re
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

_OBJECT: Final = {"type": "object"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


_SSE: Final = {"text/event-stream": {"schema": {"type": "string"}}}
_NONE: Final = None

#: (method, path) -> (tag, summary, request body schema or None, answer schema or
#: None for no content, or "sse").
OPERATIONS: Final[dict[tuple[str, str], tuple[str, str, Any, Any]]] = {
    ("GET", "/ok"): ("System", "Liveness", _NONE, {"type": "object"}),
    ("GET", "/info"): ("System", "Server information", _NONE, _OBJECT),
    ("POST", "/assistants"): ("Assistants", "Create an assistant", _OBJECT, _ref("Assistant")),
    ("POST", "/assistants/search"): (
        "Assistants",
        "Search assistants",
        _OBJECT,
        _list("Assistant"),
    ),
    ("POST", "/assistants/count"): ("Assistants", "Count assistants", _OBJECT, {"type": "integer"}),
    ("GET", "/assistants/{assistant_id}"): (
        "Assistants",
        "Get an assistant",
        _NONE,
        _ref("Assistant"),
    ),
    ("PATCH", "/assistants/{assistant_id}"): (
        "Assistants",
        "Update an assistant (a new version)",
        _OBJECT,
        _ref("Assistant"),
    ),
    ("DELETE", "/assistants/{assistant_id}"): ("Assistants", "Delete an assistant", _NONE, None),
    ("POST", "/assistants/{assistant_id}/versions"): (
        "Assistants",
        "List an assistant's versions",
        _OBJECT,
        _list("Assistant"),
    ),
    ("POST", "/assistants/{assistant_id}/latest"): (
        "Assistants",
        "Set the latest version",
        _OBJECT,
        _ref("Assistant"),
    ),
    ("GET", "/assistants/{assistant_id}/schemas"): (
        "Assistants",
        "An assistant's graph's schemas",
        _NONE,
        _OBJECT,
    ),
    ("GET", "/assistants/{assistant_id}/graph"): (
        "Assistants",
        "An assistant's graph, drawn",
        _NONE,
        _OBJECT,
    ),
    ("GET", "/assistants/{assistant_id}/subgraphs"): (
        "Assistants",
        "An assistant's subgraphs' schemas",
        _NONE,
        _OBJECT,
    ),
    ("GET", "/assistants/{assistant_id}/subgraphs/{namespace}"): (
        "Assistants",
        "An assistant's subgraphs' schemas",
        _NONE,
        _OBJECT,
    ),
    ("POST", "/threads"): ("Threads", "Create a thread", _OBJECT, _ref("Thread")),
    ("POST", "/threads/search"): ("Threads", "Search threads", _OBJECT, _list("Thread")),
    ("POST", "/threads/count"): ("Threads", "Count threads", _OBJECT, {"type": "integer"}),
    ("GET", "/threads/{thread_id}"): ("Threads", "Get a thread", _NONE, _ref("Thread")),
    ("PATCH", "/threads/{thread_id}"): (
        "Threads",
        "Add to a thread's metadata",
        _OBJECT,
        _ref("Thread"),
    ),
    ("DELETE", "/threads/{thread_id}"): ("Threads", "Delete a thread", _NONE, None),
    ("POST", "/threads/{thread_id}/copy"): ("Threads", "Copy a thread", _NONE, _ref("Thread")),
    ("GET", "/threads/{thread_id}/stream"): ("Threads", "Not served yet (501)", _NONE, "sse"),
    ("GET", "/threads/{thread_id}/state"): (
        "Threads",
        "A thread's state",
        _NONE,
        _ref("ThreadState"),
    ),
    ("POST", "/threads/{thread_id}/state"): (
        "Threads",
        "Update a thread's state",
        _OBJECT,
        _OBJECT,
    ),
    ("POST", "/threads/{thread_id}/state/checkpoint"): (
        "Threads",
        "A thread's state at a checkpoint",
        _OBJECT,
        _ref("ThreadState"),
    ),
    ("GET", "/threads/{thread_id}/state/{checkpoint_id}"): (
        "Threads",
        "A thread's state at a checkpoint",
        _NONE,
        _ref("ThreadState"),
    ),
    ("GET", "/threads/{thread_id}/history"): (
        "Threads",
        "A thread's states, newest first",
        _NONE,
        _list("ThreadState"),
    ),
    ("POST", "/threads/{thread_id}/history"): (
        "Threads",
        "A thread's states, newest first",
        _OBJECT,
        _list("ThreadState"),
    ),
    ("POST", "/threads/{thread_id}/runs"): (
        "Thread runs",
        "Create a run in the background",
        _ref("RunCreate"),
        _ref("Run"),
    ),
    ("POST", "/threads/{thread_id}/runs/stream"): (
        "Thread runs",
        "Create a run and stream it",
        _ref("RunCreate"),
        "sse",
    ),
    ("POST", "/threads/{thread_id}/runs/wait"): (
        "Thread runs",
        "Create a run and wait for its result",
        _ref("RunCreate"),
        _OBJECT,
    ),
    ("GET", "/threads/{thread_id}/runs"): (
        "Thread runs",
        "List a thread's runs",
        _NONE,
        _list("Run"),
    ),
    ("GET", "/threads/{thread_id}/runs/{run_id}"): ("Thread runs", "Get a run", _NONE, _ref("Run")),
    ("DELETE", "/threads/{thread_id}/runs/{run_id}"): (
        "Thread runs",
        "Not served (501): runs are kept with their thread",
        _NONE,
        None,
    ),
    ("GET", "/threads/{thread_id}/runs/{run_id}/join"): (
        "Thread runs",
        "Wait for a run's result",
        _NONE,
        _OBJECT,
    ),
    ("GET", "/threads/{thread_id}/runs/{run_id}/stream"): (
        "Thread runs",
        "Join a run's stream (Last-Event-ID resumes)",
        _NONE,
        "sse",
    ),
    ("POST", "/threads/{thread_id}/runs/{run_id}/cancel"): (
        "Thread runs",
        "Cancel a run",
        _NONE,
        _OBJECT,
    ),
    ("POST", "/runs"): (
        "Stateless runs",
        "Create a run on a new thread",
        _ref("RunCreate"),
        _ref("Run"),
    ),
    ("POST", "/runs/stream"): (
        "Stateless runs",
        "Create a run on a new thread and stream it",
        _ref("RunCreate"),
        "sse",
    ),
    ("POST", "/runs/wait"): (
        "Stateless runs",
        "Create a run on a new thread and wait",
        _ref("RunCreate"),
        _OBJECT,
    ),
    ("POST", "/runs/batch"): (
        "Stateless runs",
        "Create runs on new threads",
        {"type": "array", "items": _ref("RunCreate")},
        _list("Run"),
    ),
    ("POST", "/runs/cancel"): ("Stateless runs", "Cancel runs", _OBJECT, None),
    ("PUT", "/store/items"): ("Store", "Put an item", _OBJECT, None),
    ("GET", "/store/items"): ("Store", "Get an item", _NONE, _ref("Item")),
    ("DELETE", "/store/items"): ("Store", "Delete an item", _OBJECT, None),
    ("POST", "/store/items/search"): ("Store", "Search items", _OBJECT, _OBJECT),
    ("POST", "/store/namespaces"): ("Store", "List namespaces", _OBJECT, _OBJECT),
}

_TIME: Final = {"type": "string", "format": "date-time"}
SCHEMAS: Final = {
    "Assistant": {
        "type": "object",
        "properties": {
            "assistant_id": {"type": "string", "format": "uuid"},
            "graph_id": {"type": "string"},
            "config": _OBJECT,
            "context": _OBJECT,
            "created_at": _TIME,
            "updated_at": _TIME,
            "metadata": _OBJECT,
            "version": {"type": "integer"},
            "name": {"type": "string"},
            "description": {"type": ["string", "null"]},
        },
    },
    "Thread": {
        "type": "object",
        "properties": {
            "thread_id": {"type": "string"},
            "created_at": _TIME,
            "updated_at": _TIME,
            "metadata": _OBJECT,
            "status": {"enum": ["idle", "busy", "interrupted", "error"]},
            "values": {},
            "interrupts": _OBJECT,
        },
    },
    "ThreadState": {
        "type": "object",
        "properties": {
            "values": {},
            "next": {"type": "array", "items": {"type": "string"}},
            "tasks": {"type": "array", "items": _OBJECT},
            "checkpoint": _OBJECT,
            "metadata": _OBJECT,
            "created_at": {"type": ["string", "null"]},
            "parent_checkpoint": {"type": ["object", "null"]},
            "interrupts": {"type": "array", "items": _OBJECT},
        },
    },
    "Run": {
        "type": "object",
        "properties": {
            "run_id": {"type": "string"},
            "thread_id": {"type": "string"},
            "assistant_id": {"type": "string"},
            "created_at": _TIME,
            "updated_at": _TIME,
            "status": {
                "enum": ["pending", "running", "error", "success", "timeout", "interrupted"]
            },
            "metadata": _OBJECT,
            "multitask_strategy": {"type": ["string", "null"]},
            "kwargs": _OBJECT,
        },
    },
    "RunCreate": {
        "type": "object",
        "required": ["assistant_id"],
        "properties": {
            "assistant_id": {"type": "string", "description": "A graph id or an assistant's id"},
            "input": {},
            "command": _OBJECT,
            "metadata": _OBJECT,
            "config": _OBJECT,
            "context": {},
            "checkpoint_id": {"type": "string"},
            "checkpoint": _OBJECT,
            "stream_mode": {
                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
            "stream_subgraphs": {"type": "boolean"},
            "stream_resumable": {"type": "boolean"},
            "interrupt_before": {
                "oneOf": [{"const": "*"}, {"type": "array", "items": {"type": "string"}}]
            },
            "interrupt_after": {
                "oneOf": [{"const": "*"}, {"type": "array", "items": {"type": "string"}}]
            },
            "multitask_strategy": {"enum": ["reject", "interrupt", "rollback", "enqueue"]},
            "if_not_exists": {"enum": ["create", "reject"]},
            "on_disconnect": {"enum": ["cancel", "continue"]},
            "on_completion": {"enum": ["delete", "keep"]},
            "durability": {"enum": ["sync", "async", "exit"]},
        },
    },
    "Item": {
        "type": "object",
        "properties": {
            "namespace": {"type": "array", "items": {"type": "string"}},
            "key": {"type": "string"},
            "value": _OBJECT,
            "created_at": _TIME,
            "updated_at": _TIME,
        },
    },
    "Error": {
        "type": "object",
        "properties": {"detail": {"type": "string"}, "reason": {"type": "string"}},
    },
}


def document(version: str = "") -> dict[str, Any]:
    """The OpenAPI 3.1 document of the HTTP API."""
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), (tag, summary, request, answer) in OPERATIONS.items():
        operation: dict[str, Any] = {"tags": [tag], "summary": summary}
        names = re.findall(r"{(\w+)}", path)
        if names:
            operation["parameters"] = [
                {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                for n in names
            ]
        if request is not None:
            operation["requestBody"] = {
                "content": {"application/json": {"schema": request}},
            }
        operation["responses"] = {
            **_answer(answer),
            "4XX": {
                "description": "Refused",
                "content": {"application/json": {"schema": _ref("Error")}},
            },
        }
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "graphmesh: LangGraph Server's HTTP API", "version": version or "0"},
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }


def _answer(answer: Any) -> dict[str, Any]:
    if answer is None:
        return {"204": {"description": "Done"}}
    if answer == "sse":
        return {"200": {"description": "Server-sent events", "content": _SSE}}
    return {"200": {"description": "OK", "content": {"application/json": {"schema": answer}}}}


def served_operations(routes: list[BaseRoute]) -> set[tuple[str, str]]:
    """(method, path) of every route (HEAD, which Starlette adds, left out)."""
    return {
        (method, route.path)
        for route in routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }


def openapi_route(version: str = "") -> Route:
    """The route serving the document."""
    body = document(version)

    async def openapi(request: Request) -> Response:
        return JSONResponse(body)

    return Route("/openapi.json", openapi, methods=["GET"])
