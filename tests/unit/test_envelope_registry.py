"""The event envelope's encoding and the graph registry."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

import pytest

from graphmesh import envelope as ev
from graphmesh.errors import NotFound
from graphmesh.registry import RegistryError, load_registry


def test_event_id_is_derived_from_run_attempt_and_seq() -> None:
    a = ev.new_event("r", "t", 3, 1, ev.NODE_UPDATED, "{}")
    b = ev.new_event("r", "t", 3, 1, ev.NODE_UPDATED, '{"other": 1}')
    assert a.event_id == b.event_id == ev.event_id_for("r", 1, 3)
    assert a.event_id != ev.event_id_for("r", 2, 3) != ev.event_id_for("r", 1, 4)


def test_envelope_round_trips_through_kafka_bytes() -> None:
    event = ev.new_event("r-1", "t-1", 2, 1, ev.RUN_STARTED, '{"x":1}')
    assert ev.decode(ev.encode(event)) == event


def test_a_batch_round_trips_in_order() -> None:
    events = [ev.new_event("r-1", "t-1", seq, 1, ev.NODE_UPDATED, "{}") for seq in (2, 3, 4)]
    assert ev.decode_batch(ev.encode_batch(events)) == events
    with pytest.raises(ValueError, match="no events"):
        ev.decode_batch(b"")
    with pytest.raises(ValueError):
        ev.decode_batch(b"\x0a\x03abc")


@pytest.mark.parametrize("data", [b"", b"\x00\x01garbage", b"\x0a\x03abc"])
def test_bytes_that_are_not_an_event_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="not an event envelope"):
        ev.decode(data)


def test_same_request_id_gives_the_same_run_id() -> None:
    assert ev.run_id_for_request("abc") == ev.run_id_for_request("abc")
    assert ev.run_id_for_request("abc") != ev.run_id_for_request("abd")


def test_registry_loads_a_users_file(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(
        "from typing_extensions import TypedDict\n"
        "from langgraph.graph import StateGraph, START, END\n"
        "class S(TypedDict):\n    x: int\n"
        "def build():\n"
        "    g = StateGraph(S)\n"
        "    g.add_node('double', lambda s: {'x': s['x'] * 2})\n"
        "    g.add_edge(START, 'double'); g.add_edge('double', END)\n"
        "    return g\n"
    )
    (tmp_path / "langgraph.json").write_text(json.dumps({"graphs": {"doubler": "./mine.py:build"}}))
    registry = load_registry(tmp_path / "langgraph.json")
    entry = registry.get("doubler")
    assert entry.nodes == ["double"]
    assert entry.graph.invoke({"x": 21}) == {"x": 42}
    with pytest.raises(NotFound) as exc:
        registry.get("missing")
    assert exc.value.reason == "GRAPH_NOT_FOUND"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read"),
        ('{"graphs": {}}', 'no "graphs"'),
        ('{"graphs": {"g": "nocolon"}}', "file.py:attribute"),
    ],
)
def test_bad_registry_files_are_reported(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "langgraph.json").write_text(content)
    with pytest.raises(RegistryError, match=message):
        load_registry(tmp_path / "langgraph.json")


def test_event_ids_are_the_uuid5_they_always_were() -> None:
    # Event ids are stored and compared across versions: the fast way of
    # computing them must give exactly uuid5's answer.
    rng = random.Random(7)
    for _ in range(2000):
        run_id = str(uuid.UUID(int=rng.getrandbits(128)))
        attempt, seq = rng.randint(1, 9), rng.randint(1, 10**6)
        expected = uuid.uuid5(ev.GRAPHMESH_NAMESPACE, f"event:{run_id}:{attempt}:{seq}")
        assert ev.event_id_for(run_id, attempt, seq) == str(expected)
    assert ev.event_id_for("ü-run", 1, 1) == str(
        uuid.uuid5(ev.GRAPHMESH_NAMESPACE, "event:ü-run:1:1")
    )
