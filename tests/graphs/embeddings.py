"""A deterministic embedding function for the store's semantic search in
tests (langgraph.json's store.index names it): letter counts, so that texts
sharing letters are near."""

from __future__ import annotations

LETTERS = "aeiostcrn"


def embed(texts: list[str]) -> list[list[float]]:
    """One vector per text."""
    return [[float(t.lower().count(c)) + 0.01 for c in LETTERS] for t in texts]
