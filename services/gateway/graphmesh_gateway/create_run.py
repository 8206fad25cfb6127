"""CreateRun's request, parsed once into a typed value.

`parse_create_run` is the only reader of a `CreateRunRequest`: it checks
every field (InvalidArgument, NotFound for an unknown graph) and hands on a
`CreateRunInput`, whose `created` is the run's RunCreated payload. What
follows (thread checks, admission, append, publish) reads only that value.
The run's assistant (`assistant_servicer.AssistantDirectory.for_run`) is
found first; its config and context go under the run's own here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from langgraph.pregel import Pregel

from graphmesh import envelope as ev
from graphmesh.assistants import Assistant, merge_config, merge_context
from graphmesh.envelope import Event
from graphmesh.errors import InvalidArgument
from graphmesh.registry import GraphRegistry
from graphmesh.run_created import Command, Durability, MultitaskStrategy, RunCreated
from graphmesh.v1 import run_service_pb2 as pb
from graphmesh_gateway import run_config, validation
from graphmesh_gateway.caller import Caller

_STRATEGIES: dict[int, MultitaskStrategy] = {
    pb.MULTITASK_STRATEGY_UNSPECIFIED: MultitaskStrategy.ENQUEUE,
    pb.MULTITASK_STRATEGY_REJECT: MultitaskStrategy.REJECT,
    pb.MULTITASK_STRATEGY_ENQUEUE: MultitaskStrategy.ENQUEUE,
    pb.MULTITASK_STRATEGY_INTERRUPT: MultitaskStrategy.INTERRUPT,
    pb.MULTITASK_STRATEGY_ROLLBACK: MultitaskStrategy.ROLLBACK,
}
_DURABILITIES: dict[int, Durability] = {
    pb.DURABILITY_UNSPECIFIED: Durability.ASYNC,
    pb.DURABILITY_SYNC: Durability.SYNC,
    pb.DURABILITY_ASYNC: Durability.ASYNC,
    pb.DURABILITY_EXIT: Durability.EXIT,
}


@dataclass(frozen=True, slots=True)
class CreateRunInput:
    """A checked CreateRun request."""

    run_id: str
    #: The thread as the caller names it (given, or derived from the run id).
    public_thread_id: str
    #: The thread as stored (scoped to the caller's tenant).
    thread_id: str
    #: True when the caller named the thread (it may exist already).
    thread_given: bool
    graph: Pregel[Any]
    created: RunCreated

    def event(self) -> Event:
        """The run's RunCreated event."""
        return self.created.to_event(self.run_id, self.thread_id)


def parse_create_run(
    request: pb.CreateRunRequest,
    caller: Caller,
    registry: GraphRegistry,
    max_input_bytes: int,
    assistant: Assistant,
) -> CreateRunInput:
    """Checks a CreateRun request for `assistant` (the one it names) and
    names its run and thread."""
    entry = registry.get(assistant.spec.graph_id)
    graph = entry.graph
    raw_thread = validation.thread_id(request.thread_id)
    request_id = validation.request_id(request.request_id)
    labels = validation.metadata(dict(request.metadata))
    strategy = validation.enum_value(
        request.multitask_strategy, pb.MultitaskStrategy, "multitask_strategy"
    )
    durability = validation.enum_value(request.durability, pb.Durability, "durability")
    checkpoint_id = _checkpoint_id(request)
    command = _command(request, graph, max_input_bytes) if request.HasField("command") else None
    modes = validation.stream_modes(request.stream_modes)
    timeout = validation.timeout_seconds(request.timeout_seconds)
    config = run_config.config(request.config_json, max_input_bytes)
    context = run_config.context_value(request.context_json, max_input_bytes)
    before = _breakpoints(request.interrupt_before, graph, "interrupt_before")
    after = _breakpoints(request.interrupt_after, graph, "interrupt_after")
    input_value: Any = None
    # No input (and none with a command): the run goes on from the thread's
    # checkpoint (LangGraph's `invoke(None, config)`).
    if command is None:
        input_value = validation.input_json(
            request.input_json, max_input_bytes, require_object=entry.input_is_object
        )
    created = RunCreated(
        graph_id=assistant.spec.graph_id,
        input=input_value,
        request_id=request_id,
        metadata=labels,
        multitask_strategy=_STRATEGIES[strategy],
        durability=_DURABILITIES[durability],
        checkpoint_id=checkpoint_id,
        command=command,
        stream_modes=tuple(modes),
        stream_subgraphs=request.stream_subgraphs,
        timeout_seconds=timeout,
        config=config,
        context=context,
        interrupt_before=before,
        interrupt_after=after,
    )
    # What was asked for (the run's own config and context, the assistant as
    # named) tells a retry from a reuse of the request id; the assistant's
    # later versions do not make a retry a reuse.
    named = assistant.assistant_id if request.assistant_id else ""
    created = _with_fingerprint(created, raw_thread, named)
    merged_context = merge_context(assistant.spec.context, context)
    run_config.check_context(merged_context, graph)
    created = replace(
        created,
        config=merge_config(assistant.spec.config, config),
        context=merged_context,
        assistant_id=assistant.assistant_id,
        assistant_version=assistant.version,
    )
    run_id = caller.run_id_for_request(request_id) if request_id else str(uuid.uuid4())
    public_thread = raw_thread or str(uuid.uuid5(ev.GRAPHMESH_NAMESPACE, f"thread:{run_id}"))
    return CreateRunInput(
        run_id=run_id,
        public_thread_id=public_thread,
        thread_id=caller.thread(public_thread),
        thread_given=bool(raw_thread),
        graph=graph,
        created=created,
    )


def _with_fingerprint(created: RunCreated, raw_thread: str, assistant_id: str) -> RunCreated:
    """`created` with the digest of what was asked for, which tells a retry
    of a request id from its reuse for another run (a run that names no
    assistant has the digest it had before assistants existed)."""
    parts: list[Any] = [
        created.graph_id,
        raw_thread,
        created.input,
        dict(created.metadata),
        created.options(),
    ]
    if assistant_id:
        parts.append({"assistant_id": assistant_id})
    digest = validation.fingerprint(*parts)
    return replace(created, fingerprint=digest)


def _breakpoints(values: Sequence[str], graph: Pregel[Any], field: str) -> tuple[str, ...]:
    """Nodes of the graph to pause at, or `*` (every node) alone."""
    names = validation.items(values, field)
    if list(names) == ["*"]:
        return ("*",)
    return tuple(validation.node_name(n, graph.nodes, field) for n in names)


def _checkpoint_id(request: pb.CreateRunRequest) -> str:
    if not request.checkpoint_id:
        return ""
    if not request.thread_id:
        raise InvalidArgument(
            "checkpoint_id needs the thread_id it belongs to",
            reason="CHECKPOINT_WITHOUT_THREAD",
            field="checkpoint_id",
        )
    return validation.text(request.checkpoint_id, "checkpoint_id", validation.MAX_ID_CHARS)


def _command(request: pb.CreateRunRequest, graph: Pregel[Any], limit: int) -> Command:
    if request.input_json.strip():
        raise InvalidArgument(
            "give input_json or command, not both",
            reason="INPUT_AND_COMMAND",
            field="input_json",
        )
    if not request.thread_id:
        raise InvalidArgument(
            "a command continues a thread: thread_id is required",
            reason="COMMAND_WITHOUT_THREAD",
            field="thread_id",
        )
    given = request.command
    resume: Any = None
    if given.resume_json:
        resume = validation.json_value(
            given.resume_json, "command.resume_json", limit, reason_prefix="RESUME"
        )
    update = None
    if given.update_json:
        update = validation.json_value(
            given.update_json,
            "command.update_json",
            limit,
            reason_prefix="UPDATE",
            require_object=True,
        )
    goto = tuple(
        validation.node_name(n, graph.nodes, "command.goto")
        for n in validation.items(given.goto, "command.goto")
    )
    if not (given.resume_json or given.update_json or goto):
        raise InvalidArgument(
            "command is empty: give resume_json, update_json or goto",
            reason="COMMAND_EMPTY",
            field="command",
        )
    return Command(resume=resume, has_resume=bool(given.resume_json), update=update, goto=goto)
