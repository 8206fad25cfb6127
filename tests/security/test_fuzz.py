"""Hostile input at every public RPC (hypothesis): messages built from the
RPCs' own descriptors with random and nasty values, and raw random bytes.

Every answer must be a proper status (OK, or a code a client can act on,
with google.rpc ErrorInfo from graphmesh), a refused call must change
nothing, another tenant's data must not change at all, and no service may
die. The examples are derandomised, so a run in CI is repeatable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor, message_factory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmesh.errors import ERROR_DOMAIN
from graphmesh.runs import RunStatus
from tests.e2e.helpers import status_details
from tests.security.conftest import API_KEYS, SecureMesh
from tests.security.rpcs import PUBLIC_RPCS, Rpc

pytestmark = pytest.mark.e2e

FD = descriptor.FieldDescriptor
#: What a well-behaved service may answer to nonsense.
PROPER = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.OUT_OF_RANGE,
}
FUZZ_AUTH = [("authorization", f"Bearer {API_KEYS['fuzzco']}")]
#: The victim tenant's objects, whose ids the fuzzer throws around too.
VICTIM_IDS: list[str] = []


def _nasty_strings() -> st.SearchStrategy[str]:
    fixed = [
        "",
        "chain3",
        "hitl",
        "fanout",
        str(uuid.uuid4()),
        "globex/victim-thread",
        "../../etc/passwd",
        "' OR 1=1 --",
        "\x00",
        "%s%s%n",
        "{}",
        '{"n": 0, "trail": []}',
        '{"a":' * 200 + "1" + "}" * 200,
        "[" * 5000 + "]" * 5000,
        '{"s": "\\ud800"}',
        '["\\udfff", "a\\u0000b"]',
        "x" * 300,
        "é" * 300,
        "x" * 5000,
    ]
    return st.one_of(
        st.sampled_from(fixed),
        st.sampled_from(VICTIM_IDS) if VICTIM_IDS else st.just(""),
        st.text(max_size=40),
        st.text(alphabet="abc-_.:/0123456789", max_size=140),
    )


def _field(field: descriptor.FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key = field.message_type.fields_by_name["key"]
        value = field.message_type.fields_by_name["value"]
        return st.dictionaries(_scalar(key, depth), _scalar(value, depth), max_size=4)
    one = _scalar(field, depth)
    if field.is_repeated:
        return st.lists(one, max_size=6)
    return one


def _scalar(field: descriptor.FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind == FD.TYPE_STRING:
        return _nasty_strings()
    if kind == FD.TYPE_BYTES:
        return st.binary(max_size=64)
    if kind == FD.TYPE_BOOL:
        return st.booleans()
    if kind in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=32)
    if kind == FD.TYPE_ENUM:
        return st.integers(-3, 40)
    if kind == FD.TYPE_MESSAGE:
        if depth > 2 or field.message_type.full_name.startswith("google.protobuf"):
            return st.none()
        return _message(field.message_type, depth + 1)
    unsigned = kind in (FD.TYPE_UINT32, FD.TYPE_UINT64, FD.TYPE_FIXED32, FD.TYPE_FIXED64)
    bits = 64 if kind in (FD.TYPE_INT64, FD.TYPE_UINT64, FD.TYPE_SINT64) else 32
    low = 0 if unsigned else -(2 ** (bits - 1))
    return st.one_of(st.integers(low, 2 ** (bits - (0 if unsigned else 1)) - 1), st.just(0))


def _message(message: descriptor.Descriptor, depth: int = 0) -> st.SearchStrategy[Any]:
    cls = message_factory.GetMessageClass(message)
    fields = {f.name: _field(f, depth) for f in message.fields}

    def build(values: dict[str, Any]) -> Any:
        built = cls()
        for name, value in values.items():
            if value is None:
                continue
            target = getattr(built, name)
            field = message.fields_by_name[name]
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                target.update(value)
            elif field.is_repeated:
                target.extend(value)
            elif field.message_type is not None:
                target.CopyFrom(value)
            else:
                setattr(built, name, value)
        return built

    return st.fixed_dictionaries({}, optional=fields).map(build)


def _requests() -> st.SearchStrategy[tuple[Rpc, Any]]:
    return st.sampled_from(PUBLIC_RPCS).flatmap(
        lambda rpc: st.tuples(st.just(rpc), _message(rpc.method.input_type))
    )


def _victim_digest(secure: SecureMesh) -> str:
    return secure.mesh.postgres.query(
        "SELECT count(*), md5(coalesce(string_agg(event_id, ',' ORDER BY position), '')),"
        " (SELECT count(*) FROM threads WHERE thread_id LIKE 'globex/victim-%' AND NOT deleted)"
        " FROM events WHERE thread_id LIKE 'globex/victim-%'"
    ).strip()


def _fuzz_rows(secure: SecureMesh) -> str:
    """What a fuzz call can add or remove at once: the fuzzing tenant's runs
    and live threads (executors later add events, never these)."""
    return secure.mesh.postgres.query(
        "SELECT (SELECT count(*) FROM run_heads r JOIN events e ON e.run_id = r.run_id"
        "  AND e.seq = 1 WHERE e.thread_id LIKE 'fuzzco/%'),"
        " (SELECT count(*) FROM threads WHERE thread_id LIKE 'fuzzco/%' AND NOT deleted)"
    ).strip()


@pytest.fixture(scope="module")
def victim(secure: SecureMesh) -> Iterator[str]:
    """A tenant with a finished run, an interrupted one and a thread; its
    stored data must come through the fuzzing unchanged."""
    with secure.client("globex") as victim_client:
        done = victim_client.create_run("chain3", {"n": 0, "trail": []}, thread_id="victim-thread")
        victim_client.wait_run(done.run_id)
        held = victim_client.create_run("hitl", {"trail": []}, thread_id="victim-hitl")
        assert victim_client.wait_run(held.run_id).status is RunStatus.INTERRUPTED
        VICTIM_IDS.extend([done.run_id, held.run_id, "victim-thread", "victim-hitl"])
    yield "globex"


def _check(secure: SecureMesh, call: Any) -> None:
    before = _fuzz_rows(secure)
    try:
        call()
        return
    except grpc.RpcError as exc:
        code = exc.code()  # type: ignore[attr-defined]
        if code is grpc.StatusCode.DEADLINE_EXCEEDED:
            return  # a wait or stream on one of its own runs outlasting the client's deadline
        assert code in PROPER, f"{code}: {exc.details()}"  # type: ignore[attr-defined]
        _, domain, reason, _ = status_details(exc)
        assert domain == ERROR_DOMAIN and reason, (code, domain, reason)
    assert _fuzz_rows(secure) == before, "a refused call changed stored data"


def _alive(secure: SecureMesh) -> None:
    dead = {s.name: s.proc.returncode for s in secure.mesh.services if s.proc.poll() is not None}
    assert not dead, f"services died: {dead}"


FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_random_messages_get_proper_statuses_and_change_nothing(
    secure: SecureMesh, victim: str
) -> None:
    victim_before = _victim_digest(secure)
    with secure.channel() as channel:

        @FUZZ
        @given(_requests())
        def one(case: tuple[Rpc, Any]) -> None:
            rpc, request = case
            _check(secure, lambda: rpc.call(channel, request, FUZZ_AUTH, timeout=5))

        one()
    _alive(secure)
    assert _victim_digest(secure) == victim_before


def test_random_bytes_get_proper_statuses(secure: SecureMesh, victim: str) -> None:
    victim_before = _victim_digest(secure)
    with secure.channel() as channel:

        @FUZZ
        @given(st.sampled_from(PUBLIC_RPCS), st.binary(max_size=300))
        def one(rpc: Rpc, body: bytes) -> None:
            _check(secure, lambda: rpc.call_raw(channel, body, FUZZ_AUTH, timeout=5))

        one()
        # Bytes that cannot be a protobuf message at all: a precise refusal.
        for rpc in PUBLIC_RPCS:
            with pytest.raises(grpc.RpcError) as exc:
                rpc.call_raw(channel, b"\xff\xff\xff\xff", FUZZ_AUTH, timeout=5)
            code, _, reason, _ = status_details(exc.value)
            assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_MALFORMED")
    _alive(secure)
    assert _victim_digest(secure) == victim_before


#: Text that must be refused with its documented reason wherever a client
#: can put it: NUL, lone surrogates inside JSON, JSON nested far past the
#: limit (past Python's recursion limit too), ids far past their limits.
BAD_TEXT = {
    "nul": "a\x00b",
    "overlong": "x" * 300,
    "very long": "y" * 200_000,
}
BAD_JSON = {
    "lone surrogate": '{"s": "\\ud800"}',
    "lone surrogate key": '{"\\udfff": 1}',
    "lone surrogate value": '"\\ud83d"',
    "deep 5000": "[" * 5000 + "]" * 5000,
    "deep 200000": "[" * 200_000 + "]" * 200_000,
    "deep objects": '{"a":' * 3000 + "1" + "}" * 3000,
    "nul escape": '{"s": "a\\u0000b"}',
}
#: Valid values by field name, so that each mutated field is judged with
#: the rest of its request well formed.
_BASE: dict[str, Any] = {
    "graph_id": "chain3",
    # The graph's default assistant, which every tenant has.
    "assistant_id": "chain3",
    "input_json": '{"n": 0, "trail": []}',
    "values_json": '{"trail": ["x"]}',
    "resume_json": '"yes"',
    "update_json": '{"trail": ["x"]}',
}


def _base_request(rpc: Rpc, run_id: str, thread_id: str) -> Any:
    request = rpc.request()
    for field in rpc.method.input_type.fields:
        if field.name == "run_id":
            request.run_id = run_id
        elif field.name == "thread_id" and rpc.method.name != "CreateThread":
            request.thread_id = thread_id
        elif field.name in _BASE and field.type == FD.TYPE_STRING:
            setattr(request, field.name, _BASE[field.name])
    return request


def _string_fields(message: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, holder message, field) of every string field of a request,
    nested messages (Command) and maps and repeated fields included."""
    for field in message.DESCRIPTOR.fields:
        path = f"{prefix}{field.name}"
        if (
            field.message_type is not None and field.message_type.GetOptions().map_entry
        ) or field.type == FD.TYPE_STRING:
            yield path, message, field
        elif (
            field.message_type is not None
            and not field.is_repeated
            and not field.message_type.full_name.startswith("google.protobuf")
        ):
            yield from _string_fields(getattr(message, field.name), f"{path}.")


def _mutations(rpc: Rpc, run_id: str, thread_id: str) -> Iterator[tuple[str, Any]]:
    probe = _base_request(rpc, run_id, thread_id)
    for path, _, field in list(_string_fields(probe)):
        is_json = field.name.endswith("_json")
        values = {**BAD_TEXT, **(BAD_JSON if is_json else {})}
        for label, value in values.items():
            request = _base_request(rpc, run_id, thread_id)
            holder = request
            for part in path.split(".")[:-1]:
                holder = getattr(holder, part)
            target = getattr(holder, field.name)
            if field.message_type is not None:  # a map: the bad text as key, then as value
                target.update({value: "v"})
                yield f"{rpc.name} {path} key {label}", request
                request = _base_request(rpc, run_id, thread_id)
                holder = request
                for part in path.split(".")[:-1]:
                    holder = getattr(holder, part)
                getattr(holder, field.name).update({"k": value})
                yield f"{rpc.name} {path} value {label}", request
            elif field.is_repeated:
                target.append(value)
                yield f"{rpc.name} {path}[0] {label}", request
            else:
                setattr(holder, field.name, value)
                yield f"{rpc.name} {path} {label}", request


def test_bad_text_in_every_field_is_refused_with_a_documented_reason(
    secure: SecureMesh, victim: str
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    with secure.client("fuzzco") as client:
        hitl = client.create_run("hitl", {"trail": []}, thread_id="text-fuzz")
        assert client.wait_run(hitl.run_id).status is RunStatus.INTERRUPTED
    victim_before = _victim_digest(secure)
    problems: list[str] = []
    seen: set[str] = set()
    with secure.channel() as channel:
        for rpc in PUBLIC_RPCS:
            for label, request in _mutations(rpc, hitl.run_id, "text-fuzz"):
                before = _fuzz_rows(secure)
                try:
                    rpc.call(channel, request, FUZZ_AUTH, timeout=10)
                except grpc.RpcError as exc:
                    code = exc.code()  # type: ignore[attr-defined]
                    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
                        continue  # a wait on its own interrupted run
                    if code not in PROPER:
                        problems.append(f"{label}: {code} {exc.details()[:200]}")  # type: ignore[attr-defined]
                        continue
                    _, domain, reason, _ = status_details(exc)
                    if domain != ERROR_DOMAIN or not reason or f"`{reason}`" not in readme:
                        problems.append(f"{label}: {code} {reason!r} is not documented")
                    if "long" in label and code is grpc.StatusCode.NOT_FOUND:
                        problems.append(f"{label}: looked up ({reason}) instead of refused")
                    seen.add(reason)
                    if _fuzz_rows(secure) != before:
                        problems.append(f"{label}: refused, yet stored data changed")
                    continue
    assert not problems, "\n".join(problems)
    assert {"NUL_IN_TEXT", "INPUT_TOO_DEEP", "GRAPH_ID_TOO_LONG"} <= seen, seen
    _alive(secure)
    assert _victim_digest(secure) == victim_before
