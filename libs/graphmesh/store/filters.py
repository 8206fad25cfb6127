"""LangGraph's store filter, as its `InMemoryStore` applies it: a filter
maps value keys to a value that must be equal (objects compared key by key,
lists item by item) or to operators (`$eq`, `$ne`, `$gt`, `$gte`, `$lt`,
`$lte`; the order comparisons are numeric)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})


def matches(value: Mapping[str, Any], filter_: Mapping[str, Any]) -> bool:
    """True if an item's value passes the filter."""
    return all(_compare(value.get(key), wanted) for key, wanted in filter_.items())


def _compare(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        if any(k.startswith("$") for k in wanted):
            return all(_apply(actual, op, operand) for op, operand in wanted.items())
        if not isinstance(actual, dict):
            return False
        return all(_compare(actual.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(wanted)
            and all(_compare(a, w) for a, w in zip(actual, wanted, strict=False))
        )
    return bool(actual == wanted)


def _apply(actual: Any, operator: str, operand: Any) -> bool:
    if operator == "$eq":
        return bool(actual == operand)
    if operator == "$ne":
        return bool(actual != operand)
    try:
        left, right = float(actual), float(operand)
    except (TypeError, ValueError):
        return False  # LangGraph raises here; a value that is not a number does not match
    if operator == "$gt":
        return left > right
    if operator == "$gte":
        return left >= right
    if operator == "$lt":
        return left < right
    if operator == "$lte":
        return left <= right
    raise ValueError(f"unsupported filter operator {operator!r}")
