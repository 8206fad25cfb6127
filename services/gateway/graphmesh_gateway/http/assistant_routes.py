"""Assistants: create, get, update, delete, search, count, versions, the
latest version, schemas, graph."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graphmesh.client import Assistant, AssistantFields, AsyncClient
from graphmesh_gateway.http.app import Api, json_body, route
from graphmesh_gateway.http.errors import invalid
from graphmesh_gateway.http.payloads import body_object, page
from graphmesh_gateway.http.shapes import assistant_json

_SORT_KEYS = ("assistant_id", "graph_id", "name", "created_at", "updated_at")


def routes(api: Api) -> list[Route]:
    """The assistant routes."""

    async def create(request: Request) -> Response:
        body = body_object(await json_body(request))
        graph_id = body.get("graph_id")
        if not isinstance(graph_id, str) or not graph_id:
            raise invalid("GRAPH_ID_MISSING", "graph_id is required", "graph_id")
        if_exists = body.get("if_exists") or "raise"
        if if_exists not in ("raise", "do_nothing"):
            raise invalid("REQUEST_MALFORMED", "if_exists must be raise or do_nothing", "if_exists")
        assistant = await api.caller(request).create_assistant(
            graph_id,
            assistant_id=_text(body, "assistant_id"),
            if_exists_return=if_exists == "do_nothing",
            **_fields(body),
        )
        return JSONResponse(assistant_json(assistant))

    async def get(request: Request) -> Response:
        assistant = await api.caller(request).get_assistant(request.path_params["assistant_id"])
        return JSONResponse(assistant_json(assistant))

    async def update(request: Request) -> Response:
        body = body_object(await json_body(request))
        graph_id = body.get("graph_id")
        if graph_id is not None and not isinstance(graph_id, str):
            raise invalid("REQUEST_MALFORMED", "graph_id must be a string", "graph_id")
        assistant = await api.caller(request).update_assistant(
            request.path_params["assistant_id"], graph_id=graph_id, **_fields(body)
        )
        return JSONResponse(assistant_json(assistant))

    async def delete(request: Request) -> Response:
        await api.caller(request).delete_assistant(request.path_params["assistant_id"])
        return Response(status_code=204)

    async def search(request: Request) -> Response:
        body = body_object(await json_body(request))
        limit, offset = page(body)
        found = await _search(api.caller(request), body, limit + offset)
        return JSONResponse([_selected(assistant_json(a), body) for a in found[offset:]])

    async def count(request: Request) -> Response:
        body = body_object(await json_body(request))
        counted = await api.caller(request).count_assistants(
            _text(body, "graph_id"), metadata=_metadata(body), name=_text(body, "name")
        )
        return JSONResponse(counted)

    async def versions(request: Request) -> Response:
        body = body_object(await json_body(request))
        limit, offset = page(body)
        client = api.caller(request)
        found: list[Assistant] = []
        token = ""
        while len(found) < limit + offset:
            versions, token = await client.list_assistant_versions(
                request.path_params["assistant_id"],
                metadata=_metadata(body),
                page_size=100,
                page_token=token,
            )
            found.extend(versions)
            if not token:
                break
        return JSONResponse([assistant_json(a) for a in found[offset : offset + limit]])

    async def latest(request: Request) -> Response:
        body = body_object(await json_body(request))
        version = body.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise invalid("VERSION_OUT_OF_RANGE", "version must be an integer", "version")
        assistant = await api.caller(request).set_latest_assistant_version(
            request.path_params["assistant_id"], version
        )
        return JSONResponse(assistant_json(assistant))

    async def schemas(request: Request) -> Response:
        found = await api.caller(request).get_assistant_schemas(request.path_params["assistant_id"])
        return JSONResponse(found)

    async def graph(request: Request) -> Response:
        xray_param = request.query_params.get("xray", "false").lower()
        if xray_param in ("true", "false"):
            xray = 1 if xray_param == "true" else 0
        else:
            try:
                xray = int(xray_param)
            except ValueError:
                raise invalid(
                    "XRAY_OUT_OF_RANGE", "xray must be true, false or a depth", "xray"
                ) from None
        drawn, _ = await api.caller(request).get_assistant_graph(
            request.path_params["assistant_id"], xray=xray
        )
        return JSONResponse(drawn)

    async def subgraphs(request: Request) -> Response:
        recurse = request.query_params.get("recurse", "false").lower() in ("1", "true", "yes")
        found = await api.caller(request).get_assistant_subgraphs(
            request.path_params["assistant_id"],
            request.path_params.get("namespace", ""),
            recurse=recurse,
        )
        return JSONResponse(found)

    one = "/assistants/{assistant_id}"
    return [
        route("/assistants", create, "POST"),
        route("/assistants/search", search, "POST"),
        route("/assistants/count", count, "POST"),
        route(one, get, "GET"),
        route(one, update, "PATCH"),
        route(one, delete, "DELETE"),
        route(f"{one}/versions", versions, "POST"),
        route(f"{one}/latest", latest, "POST"),
        route(f"{one}/schemas", schemas, "GET"),
        route(f"{one}/graph", graph, "GET"),
        route(f"{one}/subgraphs", subgraphs, "GET"),
        route(one + "/subgraphs/{namespace}", subgraphs, "GET"),
    ]


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid("REQUEST_MALFORMED", f"{key} must be a string", key)
    return value


def _metadata(body: dict[str, Any]) -> dict[str, Any] | None:
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise invalid("REQUEST_MALFORMED", "metadata must be a JSON object", "metadata")
    return metadata or None


def _fields(body: dict[str, Any]) -> AssistantFields:
    """An assistant body's fields (those it has)."""
    fields: AssistantFields = {}
    for key in ("name", "description"):
        if body.get(key) is not None:
            fields[key] = _text(body, key)  # type: ignore[literal-required]
    config = body.get("config")
    if config is not None:
        if not isinstance(config, dict):
            raise invalid("CONFIG_MALFORMED", "config must be a JSON object", "config")
        fields["config"] = config
    if body.get("context") is not None:
        fields["context"] = body["context"]
    if (metadata := _metadata(body)) is not None:
        fields["metadata"] = metadata
    return fields


async def _search(client: AsyncClient, body: dict[str, Any], count: int) -> list[Assistant]:
    sort_by = body.get("sort_by")
    sort_order = body.get("sort_order") or "desc"
    if (sort_by is not None and sort_by not in _SORT_KEYS) or sort_order not in ("asc", "desc"):
        raise invalid(
            "REQUEST_MALFORMED",
            f"sort_by must be one of {', '.join(_SORT_KEYS)}, sort_order asc or desc",
            "sort_by",
        )
    found: list[Assistant] = []
    token = ""
    while sort_by is not None or len(found) < count:
        assistants, token = await client.search_assistants(
            _text(body, "graph_id"),
            metadata=_metadata(body),
            name=_text(body, "name"),
            page_size=100,
            page_token=token,
        )
        found.extend(assistants)
        if not token:
            break
    if sort_by is not None:
        found.sort(key=lambda a: getattr(a, sort_by), reverse=sort_order == "desc")
    return found[:count]


def _selected(assistant: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    select = body.get("select")
    if not select:
        return assistant
    if not isinstance(select, list):
        raise invalid("REQUEST_MALFORMED", "select must be a list of fields", "select")
    return {key: assistant[key] for key in select if key in assistant}
