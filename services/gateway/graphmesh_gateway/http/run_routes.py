"""Runs: create (in the background, streamed, waited for), on a thread or
stateless, list, get, join, join the stream, cancel."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from graphmesh.client import AsyncClient, Run, RunFilters, RunStatus, Thread
from graphmesh.errors import GraphmeshError, NotFound
from graphmesh_gateway.http.app import Api, json_body, route
from graphmesh_gateway.http.errors import NotServed, error_body, invalid
from graphmesh_gateway.http.payloads import (
    RunRequest,
    body_object,
    page,
    run_request,
    stream_modes,
)
from graphmesh_gateway.http.shapes import STATUS_OF_NAME, run_json
from graphmesh_gateway.http.sse import SseEvent, SseTranslator

#: How long a waiting request waits for its run (a run may take long; the
#: client's own timeout ends it sooner).
WAIT_SECONDS = 24 * 3600.0
#: A waiting JSON answer sends a newline this often, as LangGraph Server
#: does, so that proxies keep the connection open.
KEEPALIVE_SECONDS = 5.0


def routes(api: Api) -> list[Route]:
    """The run routes."""

    async def create(request: Request) -> Response:
        client = api.caller(request)
        thread_id = request.path_params.get("thread_id", "")
        wanted = run_request(await json_body(request), thread_id)
        run = await _create(client, wanted)
        return JSONResponse(
            run_json(run, wanted.multitask_strategy),
            headers={"Content-Location": _run_path(run)},
        )

    async def create_batch(request: Request) -> Response:
        client = api.caller(request)
        bodies = await json_body(request)
        if not isinstance(bodies, list):
            raise invalid("REQUEST_MALFORMED", "the request body must be a JSON array of runs")
        wanted = [run_request(body) for body in bodies]
        created = [await _create(client, w) for w in wanted]
        return JSONResponse(
            [run_json(run, w.multitask_strategy) for run, w in zip(created, wanted, strict=True)]
        )

    async def create_stream(request: Request) -> Response:
        client = api.caller(request)
        thread_id = request.path_params.get("thread_id", "")
        wanted = run_request(await json_body(request), thread_id)
        run = await _create(client, wanted)
        translator = SseTranslator(wanted.stream_modes, wanted.stream_subgraphs)
        events = _sse(client, run, translator, "", metadata=True)
        if wanted.on_disconnect == "cancel":
            events = _cancel_on_disconnect(client, run, events)
        if not thread_id and wanted.on_completion == "delete":
            events = _delete_thread_after(client, run, events)
        return _event_stream(events, run)

    async def create_wait(request: Request) -> Response:
        client = api.caller(request)
        thread_id = request.path_params.get("thread_id", "")
        wanted = run_request(await json_body(request), thread_id)
        run = await _create(client, wanted)
        delete = not thread_id and wanted.on_completion == "delete"
        return _result(client, run, cancel=wanted.on_disconnect == "cancel", delete=delete)

    async def list_runs(request: Request) -> Response:
        client = api.caller(request)
        thread_id = request.path_params["thread_id"]
        await client.get_thread(thread_id)  # 404 for a thread that is not there
        params = request.query_params
        limit, offset = page(
            {
                "limit": _int_param(params.get("limit"), 10, "limit"),
                "offset": _int_param(params.get("offset"), 0, "offset"),
            }
        )
        status = params.get("status")
        if status is not None and status not in STATUS_OF_NAME:
            raise invalid("STATUS_UNKNOWN", f"status must be one of {', '.join(STATUS_OF_NAME)}")
        runs = await _runs_of_thread(client, thread_id, limit + offset, status)
        return JSONResponse([run_json(run) for run in runs[offset : offset + limit]])

    async def get(request: Request) -> Response:
        run = await _run_in_path(api.caller(request), request)
        return JSONResponse(run_json(run))

    async def join(request: Request) -> Response:
        client = api.caller(request)
        run = await _run_in_path(client, request)
        return _result(client, run, cancel=request.query_params.get("cancel_on_disconnect") in _YES)

    async def join_stream(request: Request) -> Response:
        client = api.caller(request)
        run = await _run_in_path(client, request)
        params = request.query_params
        asked = params.getlist("stream_mode")
        modes = stream_modes(asked) if asked else joined_modes(run)
        translator = SseTranslator(modes, run.stream_subgraphs)
        cursor = request.headers.get("last-event-id", "")
        if cursor == "-1":  # (LangGraph's JavaScript client: from the start)
            cursor = ""
        events = _sse(client, run, translator, cursor, metadata=not cursor)
        if params.get("cancel_on_disconnect") in _YES:
            events = _cancel_on_disconnect(client, run, events)
        return _event_stream(events, run)

    async def cancel(request: Request) -> Response:
        client = api.caller(request)
        run = await _run_in_path(client, request)
        params = request.query_params
        action = params.get("action", "interrupt")
        if action not in ("interrupt", "rollback"):
            raise invalid("ACTION_UNKNOWN", "action must be interrupt or rollback", "action")
        wait = params.get("wait", "false").lower() in _YES
        run = await client.cancel_run(run.run_id, rollback=action == "rollback", wait=wait)
        if not wait:
            return Response(status_code=202)
        return _result(client, run, cancel=False)

    async def cancel_many(request: Request) -> Response:
        client = api.caller(request)
        body = body_object(await json_body(request))
        action = request.query_params.get("action", "interrupt")
        if action not in ("interrupt", "rollback"):
            raise invalid("ACTION_UNKNOWN", "action must be interrupt or rollback", "action")
        targets = await _runs_to_cancel(client, body)
        for run in targets:
            await client.cancel_run(run.run_id, rollback=action == "rollback", wait=False)
        return Response(status_code=204)

    async def delete(request: Request) -> Response:
        await _run_in_path(api.caller(request), request)
        # The run log is append-only: a run is never removed on its own
        # (its thread's deletion retires it).
        raise NotServed(
            "deleting one run is not served: a run is kept in the run log "
            "until its thread is deleted",
            reason="RUN_DELETE_NOT_SERVED",
        )

    thread_runs = "/threads/{thread_id}/runs"
    return [
        route("/runs/stream", create_stream, "POST"),
        route("/runs/wait", create_wait, "POST"),
        route("/runs/batch", create_batch, "POST"),
        route("/runs/cancel", cancel_many, "POST"),
        route("/runs", create, "POST"),
        route(f"{thread_runs}/stream", create_stream, "POST"),
        route(f"{thread_runs}/wait", create_wait, "POST"),
        route(thread_runs, create, "POST"),
        route(thread_runs, list_runs, "GET"),
        route(thread_runs + "/{run_id}", get, "GET"),
        route(thread_runs + "/{run_id}", delete, "DELETE"),
        route(thread_runs + "/{run_id}/join", join, "GET"),
        route(thread_runs + "/{run_id}/stream", join_stream, "GET"),
        route(thread_runs + "/{run_id}/cancel", cancel, "POST"),
    ]


_YES = ("1", "true", "yes")


def _int_param(value: str | None, default: int, name: str) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise invalid("REQUEST_MALFORMED", f"{name} must be an integer", name) from None


def _run_path(run: Run) -> str:
    return f"/threads/{run.thread_id}/runs/{run.run_id}"


def joined_modes(run: Run) -> tuple[str, ...]:
    """What joining a run's stream without naming modes gives: every mode
    the run records, in LangGraph's names (its messages as recorded, the
    `messages-tuple` form)."""
    return tuple("messages-tuple" if m == "messages" else m for m in run.stream_modes)


async def _create(client: AsyncClient, wanted: RunRequest) -> Run:
    """Submits the run; on a thread, refuses one that is not there unless
    `if_not_exists` is "create" (as LangGraph Server does), and labels the
    thread with the run's graph and assistant, as LangGraph Server does
    (clients find a graph's threads by them: the Agent Chat UI does)."""
    thread_id = wanted.options.get("thread_id", "")
    thread: Thread | None = None
    if thread_id:
        if wanted.if_not_exists == "create":
            thread = await client.create_thread(thread_id, if_exists_return=True)
        else:
            thread = await client.get_thread(thread_id)
    # (The client takes text as JSON text: a string input is encoded here.)
    given = json.dumps(wanted.input) if isinstance(wanted.input, str) else wanted.input
    run = await client.create_run(wanted.target, given, **wanted.options)
    if thread is not None:
        labels = {"graph_id": run.graph_id, "assistant_id": run.assistant_id}
        changed = {k: v for k, v in labels.items() if v and thread.metadata.get(k) != v}
        if changed:
            # Best effort: the run is created whatever becomes of its labels
            # (a thread at its 64 labels keeps them as they are).
            with contextlib.suppress(GraphmeshError):
                await client.update_thread(thread_id, changed)
    return run


async def _run_in_path(client: AsyncClient, request: Request) -> Run:
    """The run the path names, if it is on the thread the path names."""
    run = await client.get_run(request.path_params["run_id"])
    if run.thread_id != request.path_params["thread_id"]:
        raise NotFound(f"run {run.run_id} is not on this thread", reason="RUN_NOT_FOUND")
    return run


async def _runs_of_thread(
    client: AsyncClient, thread_id: str, count: int, status: str | None
) -> list[Run]:
    """The thread's newest `count` runs, newest first (of a status, by
    LangGraph's name)."""
    found: list[Run] = []
    for wanted in STATUS_OF_NAME[status] if status else [RunStatus.UNSPECIFIED]:
        of_status: list[Run] = []
        token = ""
        while len(of_status) < count:
            filters: RunFilters = {
                "thread_id": thread_id,
                "status": wanted,
                "page_size": 100,
                "page_token": token,
            }
            page_runs, token = await client.list_runs(**filters)
            of_status.extend(page_runs)
            if not token:
                break
        found.extend(of_status[:count])
    found.sort(key=lambda run: run.created_at, reverse=True)
    return found[:count]


async def _runs_to_cancel(client: AsyncClient, body: dict[str, Any]) -> list[Run]:
    status = body.get("status")
    if status is not None:
        if (
            status not in ("pending", "running", "all")
            or body.get("thread_id")
            or body.get("run_ids")
        ):
            raise invalid(
                "REQUEST_MALFORMED",
                "status must be pending, running or all, without thread_id and run_ids",
                "status",
            )
        wanted = {"pending": [RunStatus.PENDING], "running": [RunStatus.RUNNING]}.get(
            status, [RunStatus.PENDING, RunStatus.RUNNING]
        )
        runs: list[Run] = []
        for each in wanted:
            token = ""
            while True:
                page_runs, token = await client.list_runs(status=each, page_token=token)
                runs.extend(page_runs)
                if not token:
                    break
        return runs
    thread_id, run_ids = body.get("thread_id"), body.get("run_ids")
    if not isinstance(thread_id, str) or not isinstance(run_ids, list):
        raise invalid("REQUEST_MALFORMED", "send thread_id and run_ids, or status")
    runs = [await client.get_run(str(run_id)) for run_id in run_ids]
    for run in runs:
        if run.thread_id != thread_id:
            raise NotFound(f"run {run.run_id} is not on this thread", reason="RUN_NOT_FOUND")
    return runs


async def _sse(
    client: AsyncClient, run: Run, translator: SseTranslator, cursor: str, *, metadata: bool
) -> AsyncIterator[SseEvent]:
    """The run's SSE events after `cursor`: `metadata` first when asked,
    then the events of its stored stream, to its end."""
    if metadata:
        yield SseEvent("metadata", {"run_id": run.run_id, "attempt": max(run.attempt, 1)})
    # (A translator that needs what came before reads it, and skips it.)
    skipping = bool(cursor) and translator.replays
    async for event in client.stream_run(run.run_id, "" if skipping else cursor, timeout=None):
        parts = translator.translate(event)
        if skipping:
            skipping = event.cursor != cursor
            continue
        for part in parts:
            yield part


async def _cancel_on_disconnect(
    client: AsyncClient, run: Run, events: AsyncIterator[SseEvent]
) -> AsyncIterator[SseEvent]:
    """`events`; the run is cancelled if the client goes before its end."""
    ended = False
    try:
        async for event in events:
            yield event
        ended = True
    finally:
        if not ended:
            with contextlib.suppress(GraphmeshError):
                await asyncio.shield(client.cancel_run(run.run_id, wait=False))


#: Deletions of stateless runs' threads under way (referenced until done).
_DELETIONS: set[asyncio.Task[None]] = set()


def _delete_thread_soon(client: AsyncClient, thread_id: str) -> None:
    """Deletes a stateless run's thread after its answer has gone (the
    client does not wait for it, as with LangGraph Server); a deletion that
    fails leaves the thread, which does no harm."""

    async def delete() -> None:
        with contextlib.suppress(GraphmeshError):
            await client.delete_thread(thread_id)

    task = asyncio.get_running_loop().create_task(delete())
    _DELETIONS.add(task)
    task.add_done_callback(_DELETIONS.discard)


async def _delete_thread_after(
    client: AsyncClient, run: Run, events: AsyncIterator[SseEvent]
) -> AsyncIterator[SseEvent]:
    """`events`; a stateless run's thread is deleted once it has ended."""
    async for event in events:
        yield event
    _delete_thread_soon(client, run.thread_id)


def _event_stream(events: AsyncIterator[SseEvent], run: Run) -> Response:
    """An SSE answer; a failure after it began is sent as an `error` event."""

    async def encoded() -> AsyncIterator[ServerSentEvent]:
        try:
            async for event in events:
                yield ServerSentEvent(
                    data=json.dumps(event.data, separators=(",", ":")),
                    event=event.event,
                    id=event.id,
                )
        except GraphmeshError as error:
            yield ServerSentEvent(
                data=json.dumps({"error": type(error).__name__, **error_body(error)}),
                event="error",
            )

    path = _run_path(run)
    return EventSourceResponse(
        encoded(),
        headers={"Location": f"{path}/stream", "Content-Location": path},
        ping=5,
    )


def run_result(run: Run) -> Any:
    """What waiting for a run answers, as LangGraph Server does: the final
    state; at an interrupt the state with `__interrupt__` (as `invoke`
    returns it); for a failed run `{"__error__": ...}`."""
    if run.status in (RunStatus.FAILED, RunStatus.TIMED_OUT):
        error = run.error or {}
        return {
            "__error__": {"error": error.get("type", "Error"), "message": error.get("message", "")}
        }
    values = run.output if run.output is not None else {}
    if run.status is RunStatus.INTERRUPTED and run.interrupts:
        if isinstance(values, dict):
            return {**values, "__interrupt__": run.interrupts}
        return {"__interrupt__": run.interrupts}
    return values


def _result(client: AsyncClient, run: Run, *, cancel: bool, delete: bool = False) -> Response:
    """A JSON answer with the run's result once it has ended: newlines keep
    the connection open meanwhile (JSON parsers skip them)."""
    path = _run_path(run)

    async def body() -> AsyncIterator[bytes]:
        ended = run.status.is_terminal
        waiting = asyncio.ensure_future(_ended(client, run) if not ended else asyncio.sleep(0, run))
        try:
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=KEEPALIVE_SECONDS)
                if done:
                    break
                yield b"\n"
            try:
                final = waiting.result()
            except GraphmeshError as error:
                yield json.dumps({"__error__": error_body(error)}).encode()
                return
            ended = True
            yield json.dumps(run_result(final), separators=(",", ":")).encode()
        finally:
            waiting.cancel()
            if cancel and not ended:
                with contextlib.suppress(GraphmeshError):
                    await asyncio.shield(client.cancel_run(run.run_id, wait=False))
            if delete and ended:
                _delete_thread_soon(client, run.thread_id)

    return StreamingResponse(
        body(),
        media_type="application/json",
        headers={"Location": f"{path}/join", "Content-Location": path},
    )


async def _ended(client: AsyncClient, run: Run) -> Run:
    return await client.wait_run(run.run_id, timeout=WAIT_SECONDS)
