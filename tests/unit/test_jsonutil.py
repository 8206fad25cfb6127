"""Graph state to plain JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass

from langchain_core.messages import AIMessage

from graphmesh.jsonutil import dumps, to_jsonable


@dataclass
class Point:
    x: int
    y: int


def test_state_of_any_shape_becomes_plain_json() -> None:
    state = {
        "point": Point(1, 2),
        "tags": {"b"},
        "raw": b"\x00\x01",
        "pair": (1, 2),
        "message": AIMessage(content="hi"),
        "nested": {3: [None, True, 1.5]},
    }
    data = json.loads(dumps(state))
    assert data["point"] == {"x": 1, "y": 2}
    assert data["tags"] == ["b"] and data["raw"] == "AAE=" and data["pair"] == [1, 2]
    assert data["message"]["content"] == "hi" and data["message"]["type"] == "ai"
    assert data["nested"] == {"3": [None, True, 1.5]}


def test_non_finite_floats_become_text_so_the_output_stays_json() -> None:
    assert to_jsonable([float("nan"), float("inf"), -float("inf")]) == [
        "NaN",
        "Infinity",
        "-Infinity",
    ]
    assert json.loads(dumps({"x": float("nan")})) == {"x": "NaN"}
