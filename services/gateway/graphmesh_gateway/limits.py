"""Token-bucket rate limits on run submission, per graph.

Each bucket holds up to `burst` tokens and gains `rate` per second; a
CreateRun takes one or is refused with RESOURCE_EXHAUSTED and a RetryInfo
saying when a token will be there. Limits are per gateway process: with N
gateways a graph accepts up to N times its rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from graphmesh.errors import ResourceExhausted
from graphmesh.settings import SettingsError, env_pairs

#: The key of the limit for graphs that have none of their own.
ANY_GRAPH = "*"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`rate` runs per second, bursts of up to `burst`."""

    rate: float
    burst: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """ "RATE" or "RATE:BURST" (BURST defaults to RATE, at least 1)."""
        rate_text, _, burst_text = text.partition(":")
        rate = float(rate_text)
        burst = float(burst_text) if burst_text else max(rate, 1.0)
        if not (0 < rate <= 1e6 and 1 <= burst <= 1e7):
            raise ValueError(f"{text!r}: rate must be in (0, 1e6] and burst in [1, 1e7]")
        return cls(rate, burst)


def rate_limits_from_env(env: Mapping[str, str]) -> dict[str, RateLimit]:
    """GRAPHMESH_RATE_LIMITS: "graph=RATE[:BURST],...", "*" for every other graph."""
    limits: dict[str, RateLimit] = {}
    for graph_id, text in env_pairs(env, "GRAPHMESH_RATE_LIMITS").items():
        try:
            limits[graph_id] = RateLimit.parse(text)
        except ValueError as exc:
            raise SettingsError(f"GRAPHMESH_RATE_LIMITS: {graph_id}={exc}") from exc
    return limits


class _Bucket:
    def __init__(self, limit: RateLimit, now: float) -> None:
        self.limit = limit
        self.tokens = limit.burst
        self.at = now

    def take(self, now: float) -> float:
        """Takes a token: 0.0 if there was one, else the seconds until one."""
        self.tokens = min(self.limit.burst, self.tokens + (now - self.at) * self.limit.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.limit.rate


class RateLimiter:
    """The gateway's buckets, one per limited graph."""

    def __init__(
        self, limits: Mapping[str, RateLimit], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        #: Called with the graph id of each refused run (metrics).
        self.on_refused: Callable[[str], None] = lambda graph_id: None

    def admit(self, graph_id: str) -> None:
        """Takes a token for a run of `graph_id`; raises ResourceExhausted
        (reason RATE_LIMITED, with RetryInfo) if there is none."""
        limit = self._limits.get(graph_id) or self._limits.get(ANY_GRAPH)
        if limit is None:
            return
        now = self._clock()
        bucket = self._buckets.get(graph_id)
        if bucket is None:
            bucket = self._buckets[graph_id] = _Bucket(limit, now)
        wait = bucket.take(now)
        if wait > 0:
            self.on_refused(graph_id)
            raise ResourceExhausted(
                f"graph {graph_id} accepts {limit.rate:g} runs/s (bursts of {limit.burst:g});"
                f" retry in {wait:.3f} s",
                reason="RATE_LIMITED",
                metadata={
                    "graph_id": graph_id,
                    "rate_per_second": f"{limit.rate:g}",
                    "burst": f"{limit.burst:g}",
                },
                retry_after=wait,
            )
