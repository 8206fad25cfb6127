"""The store: put, get, delete, search items; list namespaces."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graphmesh_gateway.http.app import Api, json_body, route
from graphmesh_gateway.http.errors import invalid
from graphmesh_gateway.http.payloads import body_object
from graphmesh_gateway.http.shapes import item_json


def routes(api: Api) -> list[Route]:
    """The store routes."""

    async def put(request: Request) -> Response:
        body = body_object(await json_body(request))
        value = body.get("value")
        if not isinstance(value, dict):
            raise invalid("VALUE_MALFORMED", "value must be a JSON object", "value")
        index = body.get("index")
        if index is not None and index is not False and not _labels(index):
            raise invalid("REQUEST_MALFORMED", "index must be false or a list of fields", "index")
        ttl = body.get("ttl")
        if ttl is not None and (not isinstance(ttl, int | float) or isinstance(ttl, bool)):
            raise invalid("TTL_OUT_OF_RANGE", "ttl must be a number of minutes", "ttl")
        await api.caller(request).put_item(
            _namespace(body.get("namespace")),
            _key(body.get("key")),
            value,
            ttl_minutes=ttl,
            index=index,
        )
        return Response(status_code=204)

    async def get(request: Request) -> Response:
        params = request.query_params
        namespace = params.get("namespace", "")
        refresh = params.get("refresh_ttl")
        item = await api.caller(request).get_item(
            namespace.split(".") if namespace else [],
            _key(params.get("key")),
            refresh_ttl=None if refresh is None else refresh.lower() in ("1", "true", "yes"),
        )
        return JSONResponse(item_json(item))

    async def delete(request: Request) -> Response:
        body = body_object(await json_body(request))
        await api.caller(request).delete_item(
            _namespace(body.get("namespace")), _key(body.get("key"))
        )
        return Response(status_code=204)

    async def search(request: Request) -> Response:
        body = body_object(await json_body(request))
        filter_ = body.get("filter")
        if filter_ is not None and not isinstance(filter_, dict):
            raise invalid("FILTER_MALFORMED", "filter must be a JSON object", "filter")
        query = body.get("query") or ""
        if not isinstance(query, str):
            raise invalid("REQUEST_MALFORMED", "query must be a string", "query")
        items = await api.caller(request).search_items(
            _namespace(body.get("namespace_prefix"), empty=True),
            filter=filter_,
            query=query,
            limit=_count(body, "limit", 10),
            offset=_count(body, "offset", 0) or 0,
        )
        return JSONResponse({"items": [item_json(i) for i in items]})

    async def namespaces(request: Request) -> Response:
        body = body_object(await json_body(request))
        found = await api.caller(request).list_namespaces(
            _namespace(body.get("prefix"), empty=True),
            suffix=_namespace(body.get("suffix"), empty=True),
            max_depth=_count(body, "max_depth", None),
            limit=_count(body, "limit", 100),
            offset=_count(body, "offset", 0) or 0,
        )
        return JSONResponse({"namespaces": [list(n) for n in found]})

    return [
        route("/store/items", put, "PUT"),
        route("/store/items", get, "GET"),
        route("/store/items", delete, "DELETE"),
        route("/store/items/search", search, "POST"),
        route("/store/namespaces", namespaces, "POST"),
    ]


def _labels(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _namespace(value: Any, *, empty: bool = False) -> list[str]:
    if value is None and empty:
        return []
    if not _labels(value):
        raise invalid("NAMESPACE_MALFORMED", "namespace must be a list of strings", "namespace")
    return list(value)


def _key(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("KEY_EMPTY", "key must be a string", "key")
    return value


def _count(body: dict[str, Any], key: str, default: int | None) -> int | None:
    value = body.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid("REQUEST_MALFORMED", f"{key} must be an integer", key)
    return value
