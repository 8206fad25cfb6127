"""Threads: create, get, delete, search, count, state (get, update, at a
checkpoint), history."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graphmesh.client import AsyncClient, Thread, ThreadFilters, ThreadState
from graphmesh.errors import FailedPrecondition, NotFound
from graphmesh_gateway.http.app import Api, json_body, route
from graphmesh_gateway.http.errors import NotServed, invalid
from graphmesh_gateway.http.payloads import body_object, page
from graphmesh_gateway.http.shapes import (
    checkpoint_json,
    metadata_in,
    state_json,
    thread_json,
)

_STATUSES = ("idle", "busy", "interrupted", "error")
_SORT_KEYS = ("thread_id", "status", "created_at", "updated_at")


def routes(api: Api) -> list[Route]:
    """The thread routes."""

    async def create(request: Request) -> Response:
        client = api.caller(request)
        body = body_object(await json_body(request))
        if body.get("supersteps"):
            raise NotServed("supersteps are not served yet", reason="FIELD_NOT_SERVED")
        if_exists = body.get("if_exists") or "raise"
        if if_exists not in ("raise", "do_nothing"):
            raise invalid("REQUEST_MALFORMED", "if_exists must be raise or do_nothing", "if_exists")
        metadata = {} if body.get("metadata") is None else body["metadata"]
        if not isinstance(metadata, dict):
            raise invalid("REQUEST_MALFORMED", "metadata must be a JSON object", "metadata")
        if isinstance(body.get("graph_id"), str):
            metadata = {**metadata, "graph_id": body["graph_id"]}
        thread_id = body.get("thread_id") or ""
        if not isinstance(thread_id, str):
            raise invalid("THREAD_ID_MALFORMED", "thread_id must be a string", "thread_id")
        thread = await client.create_thread(
            thread_id, metadata_in(metadata), if_exists_return=if_exists == "do_nothing"
        )
        return JSONResponse(thread_json(thread, await _state_or_none(client, thread)))

    async def get(request: Request) -> Response:
        client = api.caller(request)
        thread = await client.get_thread(request.path_params["thread_id"])
        return JSONResponse(thread_json(thread, await _state_or_none(client, thread)))

    async def patch(request: Request) -> Response:
        client = api.caller(request)
        body = body_object(await json_body(request))
        metadata = {} if body.get("metadata") is None else body["metadata"]
        if not isinstance(metadata, dict):
            raise invalid("REQUEST_MALFORMED", "metadata must be a JSON object", "metadata")
        if body.get("ttl") is not None:
            raise NotServed("a thread's ttl is not served yet", reason="FIELD_NOT_SERVED")
        thread = await client.update_thread(request.path_params["thread_id"], metadata_in(metadata))
        return JSONResponse(thread_json(thread, await _state_or_none(client, thread)))

    async def delete(request: Request) -> Response:
        await api.caller(request).delete_thread(request.path_params["thread_id"])
        return Response(status_code=204)

    async def copy(request: Request) -> Response:
        client = api.caller(request)
        thread = await client.copy_thread(request.path_params["thread_id"])
        return JSONResponse(thread_json(thread, await _state_or_none(client, thread)))

    async def stream(request: Request) -> Response:
        await api.caller(request).get_thread(request.path_params["thread_id"])
        raise NotServed(
            "a thread's own stream is not served yet: join its runs' streams",
            reason="THREAD_STREAM_NOT_SERVED",
        )

    async def search(request: Request) -> Response:
        client = api.caller(request)
        body = body_object(await json_body(request))
        limit, offset = page(body)
        threads = await _search(client, body, limit + offset)
        found = threads[offset : offset + limit]
        return JSONResponse([thread_json(t, await _state_or_none(client, t)) for t in found])

    async def count(request: Request) -> Response:
        body = body_object(await json_body(request))
        return JSONResponse(len(await _search(api.caller(request), body, None)))

    async def state(request: Request) -> Response:
        client = api.caller(request)
        thread_id = request.path_params["thread_id"]
        subgraphs = request.query_params.get("subgraphs", "").lower() in ("1", "true", "yes")
        checkpoint_id = request.path_params.get("checkpoint_id", "")
        found = await client.get_thread_state(thread_id, checkpoint_id, subgraphs=subgraphs)
        return JSONResponse(state_json(thread_id, found))

    async def state_at(request: Request) -> Response:
        client = api.caller(request)
        thread_id = request.path_params["thread_id"]
        body = body_object(await json_body(request))
        checkpoint = {} if body.get("checkpoint") is None else body["checkpoint"]
        if not isinstance(checkpoint, dict):
            raise invalid("REQUEST_MALFORMED", "checkpoint must be a JSON object", "checkpoint")
        found = await client.get_thread_state(
            thread_id,
            str(checkpoint.get("checkpoint_id") or ""),
            subgraphs=bool(body.get("subgraphs")),
        )
        return JSONResponse(state_json(thread_id, found))

    async def update_state(request: Request) -> Response:
        client = api.caller(request)
        thread_id = request.path_params["thread_id"]
        body = body_object(await json_body(request))
        values = body.get("values")
        if isinstance(values, list):
            raise NotServed(
                "updating the state with a list of updates is not served yet",
                reason="FIELD_NOT_SERVED",
            )
        if values is not None and not isinstance(values, dict):
            raise invalid("UPDATE_INVALID", "values must be a JSON object", "values")
        checkpoint = {} if body.get("checkpoint") is None else body["checkpoint"]
        if not isinstance(checkpoint, dict):
            raise invalid("REQUEST_MALFORMED", "checkpoint must be a JSON object", "checkpoint")
        as_node = body.get("as_node") or ""
        if not isinstance(as_node, str):
            raise invalid("NODE_UNKNOWN", "as_node must be a node's name", "as_node")
        checkpoint_id = await client.update_thread_state(
            thread_id,
            values or {},
            as_node=as_node,
            checkpoint_id=str(body.get("checkpoint_id") or checkpoint.get("checkpoint_id") or ""),
            checkpoint_ns=str(checkpoint.get("checkpoint_ns") or ""),
        )
        return JSONResponse(
            {
                "checkpoint": checkpoint_json(
                    thread_id, checkpoint_id, checkpoint.get("checkpoint_ns") or ""
                )
            }
        )

    async def history(request: Request) -> Response:
        client = api.caller(request)
        thread_id = request.path_params["thread_id"]
        if request.method == "GET":
            params = request.query_params
            body: dict[str, Any] = {"before": params.get("before")}
            if "limit" in params:
                try:
                    body["limit"] = int(params["limit"])
                except ValueError:
                    raise invalid(
                        "LIMIT_OUT_OF_RANGE", "limit must be an integer", "limit"
                    ) from None
        else:
            body = body_object(await json_body(request))
        limit, _ = page(body)
        states = await _history(client, thread_id, body, limit)
        return JSONResponse([state_json(thread_id, s) for s in states])

    one = "/threads/{thread_id}"
    return [
        route("/threads", create, "POST"),
        route("/threads/search", search, "POST"),
        route("/threads/count", count, "POST"),
        route(one, get, "GET"),
        route(one, patch, "PATCH"),
        route(one, delete, "DELETE"),
        route(f"{one}/copy", copy, "POST"),
        route(f"{one}/stream", stream, "GET"),
        route(f"{one}/state", state, "GET"),
        route(f"{one}/state", update_state, "POST"),
        route(f"{one}/state/checkpoint", state_at, "POST"),
        route(one + "/state/{checkpoint_id}", state, "GET"),
        route(f"{one}/history", history, "GET"),
        route(f"{one}/history", history, "POST"),
    ]


async def _state_or_none(client: AsyncClient, thread: Thread) -> ThreadState | None:
    """The thread's state (None: it has not run a graph yet)."""
    if not thread.graph_id:
        return None
    try:
        return await client.get_thread_state(thread.thread_id)
    except (FailedPrecondition, NotFound):
        return None


async def _search(client: AsyncClient, body: dict[str, Any], count: int | None) -> list[Thread]:
    """The threads a search body asks for, in its order (the first `count`;
    None: all)."""
    if body.get("values"):
        raise NotServed("searching threads by values is not served yet", reason="FIELD_NOT_SERVED")
    status = body.get("status")
    if status is not None and status not in _STATUSES:
        raise invalid("STATUS_UNKNOWN", f"status must be one of {', '.join(_STATUSES)}", "status")
    metadata = {} if body.get("metadata") is None else body["metadata"]
    if not isinstance(metadata, dict):
        raise invalid("REQUEST_MALFORMED", "metadata must be a JSON object", "metadata")
    sort_by = body.get("sort_by") or "updated_at"
    sort_order = body.get("sort_order") or "desc"
    if sort_by not in _SORT_KEYS or sort_order not in ("asc", "desc"):
        raise invalid(
            "REQUEST_MALFORMED",
            f"sort_by must be one of {', '.join(_SORT_KEYS)}, sort_order asc or desc",
            "sort_by",
        )
    ids = body.get("ids")
    # The API lists threads by their last change, newest first: any other
    # order, or a list of ids, needs them all.
    whole = count is None or ids is not None or (sort_by, sort_order) != ("updated_at", "desc")
    labels = metadata_in(metadata)
    queries: list[ThreadFilters] = [{"metadata": labels}]
    if "graph_id" in labels:
        # LangGraph Server keeps a thread's graph in its metadata; graphmesh
        # keeps the graph of its latest run beside it: either matches.
        others = {k: v for k, v in labels.items() if k != "graph_id"}
        queries.append({"metadata": others, "graph_id": labels["graph_id"]})
    found: dict[str, Thread] = {}
    for query in queries:
        query["status"] = status.upper() if status else ""
        query["page_size"] = 100
        token, seen = "", 0
        while whole or seen < (count or 0):
            query["page_token"] = token
            threads, token = await client.list_threads(**query)
            seen += len(threads)
            found.update((t.thread_id, t) for t in threads)
            if not token:
                break
    matched = list(found.values())
    if ids is not None:
        wanted = {str(i) for i in ids} if isinstance(ids, list) else set()
        matched = [t for t in matched if t.thread_id in wanted]
    matched.sort(key=lambda t: getattr(t, sort_by), reverse=sort_order == "desc")
    return matched if count is None else matched[:count]


async def _history(
    client: AsyncClient, thread_id: str, body: dict[str, Any], limit: int
) -> list[ThreadState]:
    """The thread's states, newest first, before a checkpoint if asked,
    whose metadata holds the asked-for pairs."""
    before = body.get("before")
    if isinstance(before, dict):
        before = (before.get("configurable") or before).get("checkpoint_id")
    metadata = {} if body.get("metadata") is None else body["metadata"]
    if not isinstance(metadata, dict):
        raise invalid("REQUEST_MALFORMED", "metadata must be a JSON object", "metadata")
    checkpoint = {} if body.get("checkpoint") is None else body["checkpoint"]
    if isinstance(checkpoint, dict) and checkpoint.get("checkpoint_ns"):
        raise NotServed("a subgraph's history is not served yet", reason="FIELD_NOT_SERVED")
    found: list[ThreadState] = []
    passed = not before
    token = ""
    while len(found) < limit:
        states, token = await client.get_thread_history(thread_id, page_token=token, page_size=100)
        for state in states:
            if not passed:
                passed = state.checkpoint_id == before
                continue
            if all(state.metadata.get(k) == v for k, v in metadata.items()):
                found.append(state)
        if not token:
            break
    return found[:limit]
