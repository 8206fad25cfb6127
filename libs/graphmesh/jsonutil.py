"""JSON in and out of graph state.

Graph state may hold LangChain messages, pydantic models, dataclasses and
other Python objects; on the wire everything is plain JSON so that clients in
any language can read it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Returns `value` as plain JSON data (dict, list, str, number, bool, None)."""
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN or Infinity: say what it was, as text.
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return to_jsonable(model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    return repr(value)


def dumps(value: Any) -> str:
    """Compact JSON text of `value` after `to_jsonable`."""
    return json.dumps(
        to_jsonable(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
