"""graphmesh's Python client for asyncio: the same API as `Client`, with
`await` and `async for`.

    from graphmesh import AsyncClient

    async with AsyncClient("127.0.0.1:50051") as client:
        run = await client.create_run("chain3", {"n": 0, "trail": []})
        async for event in client.stream_run(run.run_id):
            print(event.seq, event.type, event.payload)
        print((await client.wait_run(run.run_id)).output)

Requests and answers are built and read by the same code as `Client`'s
(`_calls`), so the two differ only in how they wait.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from types import TracebackType
from typing import Any, Unpack

import grpc

from graphmesh.client import _calls
from graphmesh.client._calls import AssistantFields, CreateRunOptions, RunFilters, ThreadFilters
from graphmesh.client._models import Assistant, Run, RunEvent, StoreItem, Thread, ThreadState
from graphmesh.grpcutil import error_from_status
from graphmesh.v1 import assistant_service_pb2 as as_pb2
from graphmesh.v1 import graph_service_pb2 as gr_pb2
from graphmesh.v1 import run_service_pb2 as pb
from graphmesh.v1 import store_service_pb2 as st_pb2
from graphmesh.v1 import thread_service_pb2 as th_pb2


class AsyncClient(_calls.Connection):
    """An asyncio connection to a graphmesh gateway (see `Connection` for its arguments)."""

    _transport = grpc.aio

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the connection."""
        await self._channel.close()

    async def _call(self, method: Any, request: Any, timeout: float | None = None) -> Any:
        deadline = timeout if timeout is not None else self._timeout
        try:
            return await method(request, timeout=deadline, metadata=self._metadata)
        except grpc.RpcError as exc:
            raise error_from_status(exc) from None

    async def create_run(self, target: str, input: Any, **options: Unpack[CreateRunOptions]) -> Run:
        """Submits a run of `target`: a graph id, or an assistant's id (a
        UUID; see `create_assistant`); `input` is JSON data (or JSON text,
        passed as is).
        The options (`CreateRunOptions`): `thread_id`, `request_id`
        (idempotent submit), `metadata`; `resume`/`goto`/`update` send a
        LangGraph Command instead of input (pass input=None);
        `checkpoint_id` forks from that checkpoint; `multitask_strategy`,
        `durability`, `stream_modes`, `stream_subgraphs`, `timeout_seconds`."""
        request = _calls.create_run(target, input, options)
        return Run.from_proto((await self._call(self._runs.CreateRun, request)).run)

    async def create_thread(
        self,
        thread_id: str = "",
        metadata: Mapping[str, str] | None = None,
        *,
        if_exists_return: bool = False,
    ) -> Thread:
        """Creates a thread (a new id when `thread_id` is empty)."""
        request = th_pb2.CreateThreadRequest(
            thread_id=thread_id, metadata=dict(metadata or {}), if_exists_return=if_exists_return
        )
        return Thread.from_proto((await self._call(self._threads.CreateThread, request)).thread)

    async def get_thread(self, thread_id: str) -> Thread:
        """The thread and its status."""
        request = th_pb2.GetThreadRequest(thread_id=thread_id)
        return Thread.from_proto((await self._call(self._threads.GetThread, request)).thread)

    async def update_thread(self, thread_id: str, metadata: Mapping[str, str]) -> Thread:
        """Adds `metadata` to the thread's (replacing entries of the same key)."""
        request = th_pb2.UpdateThreadRequest(thread_id=thread_id, metadata=dict(metadata))
        answer = await self._call(self._threads.UpdateThread, request)
        return Thread.from_proto(answer.thread)

    async def copy_thread(self, thread_id: str, new_thread_id: str = "") -> Thread:
        """A new thread (a new id when `new_thread_id` is empty) with a copy of
        the thread's checkpoints and metadata: it goes on from the same state."""
        request = th_pb2.CopyThreadRequest(thread_id=thread_id, new_thread_id=new_thread_id)
        answer = await self._call(self._threads.CopyThread, request)
        return Thread.from_proto(answer.thread)

    async def list_threads(self, **filters: Unpack[ThreadFilters]) -> tuple[list[Thread], str]:
        """One page of threads, most recently updated first, and the next
        token (filters: `ThreadFilters`)."""
        answer = await self._call(self._threads.ListThreads, _calls.list_threads(filters))
        return [Thread.from_proto(t) for t in answer.threads], answer.next_page_token

    async def get_thread_state(
        self, thread_id: str, checkpoint_id: str = "", *, subgraphs: bool = False
    ) -> ThreadState:
        """The thread's state now, or at a checkpoint; with `subgraphs`, each
        task of its next step carries the state of the subgraph it runs."""
        request = th_pb2.GetThreadStateRequest(
            thread_id=thread_id, checkpoint_id=checkpoint_id, subgraphs=subgraphs
        )
        return ThreadState.from_proto(
            (await self._call(self._threads.GetThreadState, request)).state
        )

    async def get_thread_history(
        self, thread_id: str, *, page_size: int | None = None, page_token: str = ""
    ) -> tuple[list[ThreadState], str]:
        """One page of the thread's states, newest first, and the next token."""
        request = _calls.thread_history(thread_id, page_size, page_token)
        answer = await self._call(self._threads.GetThreadHistory, request)
        return [ThreadState.from_proto(s) for s in answer.states], answer.next_page_token

    async def update_thread_state(
        self,
        thread_id: str,
        values: Mapping[str, Any],
        *,
        as_node: str = "",
        checkpoint_id: str = "",
        checkpoint_ns: str = "",
    ) -> str:
        """Writes a new checkpoint with `values`; returns its id. With
        `checkpoint_ns` (a task's `state.checkpoint_ns`), the subgraph's."""
        request = th_pb2.UpdateThreadStateRequest(
            thread_id=thread_id,
            values_json=json.dumps(values),
            as_node=as_node,
            checkpoint_id=checkpoint_id,
            checkpoint_ns=checkpoint_ns,
        )
        return str((await self._call(self._threads.UpdateThreadState, request)).checkpoint_id)

    async def delete_thread(self, thread_id: str) -> None:
        """Deletes the thread's state and retires its id."""
        await self._call(
            self._threads.DeleteThread, th_pb2.DeleteThreadRequest(thread_id=thread_id)
        )

    async def get_run(self, run_id: str) -> Run:
        """The run's current state."""
        return Run.from_proto(
            (await self._call(self._runs.GetRun, pb.GetRunRequest(run_id=run_id))).run
        )

    async def list_runs(self, **filters: Unpack[RunFilters]) -> tuple[list[Run], str]:
        """One page of runs, newest first, and the next page's token
        (filters: `RunFilters`)."""
        answer = await self._call(self._runs.ListRuns, _calls.list_runs(filters))
        return [Run.from_proto(r) for r in answer.runs], answer.next_page_token

    async def wait_run(self, run_id: str, timeout: float | None = 300.0) -> Run:
        """The run, once it has ended."""
        answer = await self._call(self._runs.WaitRun, pb.WaitRunRequest(run_id=run_id), timeout)
        return Run.from_proto(answer.run)

    async def stream_run(
        self,
        run_id: str,
        cursor: str = "",
        timeout: float | None = 300.0,
        *,
        stream_modes: Sequence[str] = (),
        resume: bool = True,
    ) -> AsyncGenerator[RunEvent, None]:
        """The run's events after `cursor`, as they are stored, to the end;
        only lifecycle events and those of `stream_modes` if given. With
        `resume`, a stream the server drops (the client fell behind, or the
        gateway went away) is resumed from the last event's cursor, so no
        event is missed or repeated. Each event's `previous_seq` is checked
        against the last one received: a gap raises DataLoss (STREAM_GAP)
        rather than pass unnoticed."""
        position = _calls.StreamPosition(run_id, cursor, stream_modes, resume)
        while True:
            call = self._runs.StreamRun(
                position.request(), timeout=timeout, metadata=self._metadata
            )
            try:
                async for answer in call:
                    for event in position.accept(answer):
                        yield event
                return
            except grpc.RpcError as exc:
                error = error_from_status(exc)
                if not position.resumes_after(error):
                    raise error from None
            finally:
                call.cancel()

    async def cancel_run(self, run_id: str, *, rollback: bool = False, wait: bool = True) -> Run:
        """Stops a run (`rollback` also removes its checkpoints); with `wait`,
        returns once the cancellation is stored. A run that has ended is
        returned unchanged."""
        request = _calls.cancel_run(run_id, rollback, wait)
        return Run.from_proto((await self._call(self._runs.CancelRun, request)).run)

    async def queue_depth(self, graph_id: str = "") -> dict[str, dict[str, int]]:
        """{graph_id: {"pending": n, "running": m}} for every graph (or one)."""
        request = gr_pb2.GetQueueDepthRequest(graph_id=graph_id)
        return _calls.queue_depths(await self._call(self._graphs.GetQueueDepth, request))

    async def list_graphs(self) -> list[gr_pb2.Graph]:
        """The graphs the server runs."""
        return list((await self._call(self._graphs.ListGraphs, gr_pb2.ListGraphsRequest())).graphs)

    async def create_assistant(
        self,
        graph_id: str,
        *,
        assistant_id: str = "",
        if_exists_return: bool = False,
        **fields: Unpack[AssistantFields],
    ) -> Assistant:
        """Creates an assistant of a graph (`AssistantFields`: `name`,
        `description`, `config`, `context`, `metadata`) as version 1; a new
        id when `assistant_id` is empty."""
        request = _calls.create_assistant(graph_id, assistant_id, if_exists_return, fields)
        return Assistant.from_proto(
            (await self._call(self._assistants.CreateAssistant, request)).assistant
        )

    async def get_assistant(self, assistant_id: str) -> Assistant:
        """An assistant's latest version (a graph id: its default assistant)."""
        request = as_pb2.GetAssistantRequest(assistant_id=assistant_id)
        return Assistant.from_proto(
            (await self._call(self._assistants.GetAssistant, request)).assistant
        )

    async def update_assistant(
        self, assistant_id: str, *, graph_id: str | None = None, **fields: Unpack[AssistantFields]
    ) -> Assistant:
        """Writes a new version from the latest one: the fields given replace
        its own (`metadata` entries are merged in); returns the new version."""
        request = _calls.update_assistant(assistant_id, graph_id, fields)
        return Assistant.from_proto(
            (await self._call(self._assistants.UpdateAssistant, request)).assistant
        )

    async def delete_assistant(self, assistant_id: str) -> None:
        """Deletes an assistant and its versions."""
        request = as_pb2.DeleteAssistantRequest(assistant_id=assistant_id)
        (await self._call(self._assistants.DeleteAssistant, request))

    async def search_assistants(
        self,
        graph_id: str = "",
        *,
        metadata: Mapping[str, Any] | None = None,
        name: str = "",
        page_size: int | None = None,
        page_token: str = "",
    ) -> tuple[list[Assistant], str]:
        """One page of assistants (newest first) and the next page's token."""
        request = _calls.search_assistants(graph_id, metadata, name, page_size, page_token)
        answer = await self._call(self._assistants.SearchAssistants, request)
        return [Assistant.from_proto(a) for a in answer.assistants], answer.next_page_token

    async def count_assistants(
        self, graph_id: str = "", *, metadata: Mapping[str, Any] | None = None, name: str = ""
    ) -> int:
        """How many assistants a search finds."""
        search = _calls.search_assistants(graph_id, metadata, name, None, "")
        request = as_pb2.CountAssistantsRequest(
            graph_id=search.graph_id, metadata_json=search.metadata_json, name=search.name
        )
        return int((await self._call(self._assistants.CountAssistants, request)).count)

    async def list_assistant_versions(
        self,
        assistant_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        page_token: str = "",
    ) -> tuple[list[Assistant], str]:
        """One page of an assistant's versions (newest first) and the next token."""
        request = _calls.assistant_versions(assistant_id, metadata, page_size, page_token)
        answer = await self._call(self._assistants.ListAssistantVersions, request)
        return [Assistant.from_proto(a) for a in answer.versions], answer.next_page_token

    async def set_latest_assistant_version(self, assistant_id: str, version: int) -> Assistant:
        """Makes `version` the one runs use."""
        request = as_pb2.SetLatestAssistantVersionRequest(
            assistant_id=assistant_id, version=version
        )
        return Assistant.from_proto(
            (await self._call(self._assistants.SetLatestAssistantVersion, request)).assistant
        )

    async def get_assistant_schemas(self, assistant_id: str) -> dict[str, Any]:
        """The JSON schemas of the assistant's graph: `input_schema`,
        `output_schema`, `state_schema`, `config_schema`, `context_schema`."""
        request = as_pb2.GetAssistantSchemasRequest(assistant_id=assistant_id)
        return _calls.assistant_schemas(
            await self._call(self._assistants.GetAssistantSchemas, request)
        )

    async def get_assistant_subgraphs(
        self, assistant_id: str, namespace: str = "", *, recurse: bool = False
    ) -> dict[str, Any]:
        """{namespace: schemas} of the assistant's graph's subgraphs (only the
        one at `namespace` if given; with `recurse`, nested ones too)."""
        request = as_pb2.GetAssistantSubgraphsRequest(
            assistant_id=assistant_id, namespace=namespace, recurse=recurse
        )
        answer = await self._call(self._assistants.GetAssistantSubgraphs, request)
        return _calls.subgraph_schemas(answer)

    async def get_assistant_graph(
        self, assistant_id: str, *, xray: int = 0
    ) -> tuple[dict[str, Any], str]:
        """The assistant's graph: its nodes and edges (JSON data) and Mermaid text."""
        request = as_pb2.GetAssistantGraphRequest(assistant_id=assistant_id, xray=xray)
        answer = await self._call(self._assistants.GetAssistantGraph, request)
        return json.loads(answer.graph_json), answer.mermaid

    async def put_item(
        self,
        namespace: Sequence[str],
        key: str,
        value: Mapping[str, Any],
        *,
        ttl_minutes: float | None = None,
        index: Sequence[str] | bool | None = None,
    ) -> None:
        """Stores an item in the long-term memory store (durable on return);
        `index`: the fields to embed, or False for none."""
        request = _calls.put_item(namespace, key, value, ttl_minutes, index)
        (await self._call(self._store.PutItem, request))

    async def get_item(
        self, namespace: Sequence[str], key: str, *, refresh_ttl: bool | None = None
    ) -> StoreItem:
        """One item (NotFound ITEM_NOT_FOUND when there is none)."""
        request = st_pb2.GetItemRequest(namespace=list(namespace), key=key)
        if refresh_ttl is not None:
            request.refresh_ttl = refresh_ttl
        return StoreItem.from_proto((await self._call(self._store.GetItem, request)).item)

    async def delete_item(self, namespace: Sequence[str], key: str) -> None:
        """Removes an item."""
        request = st_pb2.DeleteItemRequest(namespace=list(namespace), key=key)
        (await self._call(self._store.DeleteItem, request))

    async def search_items(
        self,
        namespace_prefix: Sequence[str] = (),
        *,
        filter: Mapping[str, Any] | None = None,
        query: str = "",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[StoreItem]:
        """Items under a namespace prefix: filtered, ranked by `query`, paged."""
        request = _calls.search_items(namespace_prefix, filter, query, limit, offset)
        answer = await self._call(self._store.SearchItems, request)
        return [StoreItem.from_proto(i) for i in answer.items]

    async def list_namespaces(
        self,
        prefix: Sequence[str] = (),
        *,
        suffix: Sequence[str] = (),
        max_depth: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """Namespaces holding items (`*` in a prefix or suffix matches any label)."""
        request = _calls.list_namespaces(prefix, suffix, max_depth, limit, offset)
        answer = await self._call(self._store.ListNamespaces, request)
        return [tuple(n.labels) for n in answer.namespaces]
