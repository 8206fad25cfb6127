"""Limits on run submission: token-bucket rates per graph and per tenant,
and a cap on each tenant's unfinished runs.

Each bucket holds up to `burst` tokens and gains `rate` per second; a
CreateRun takes one from its graph's bucket and one from its tenant's, or is
refused with RESOURCE_EXHAUSTED and a RetryInfo saying when a token will be
there. Rates are per gateway process: with N gateways a graph or tenant
accepts up to N times its rate. The cap on unfinished runs (pending or
running) is read from the read model, so it is mesh-wide but may let a few
runs more through while the projector catches up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from graphmesh.errors import ResourceExhausted
from graphmesh.settings import SettingsError, env_pairs

#: The key of the limit for graphs (or tenants) that have none of their own.
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


def rate_limits_from_env(
    env: Mapping[str, str], name: str = "GRAPHMESH_RATE_LIMITS"
) -> dict[str, RateLimit]:
    """GRAPHMESH_RATE_LIMITS: "graph=RATE[:BURST],...", "*" for every other
    graph (GRAPHMESH_TENANT_RATE_LIMITS: the same by tenant)."""
    limits: dict[str, RateLimit] = {}
    for key, text in env_pairs(env, name).items():
        try:
            limits[key] = RateLimit.parse(text)
        except ValueError as exc:
            raise SettingsError(f"{name}: {key}={exc}") from exc
    return limits


def active_run_caps_from_env(env: Mapping[str, str]) -> dict[str, int]:
    """GRAPHMESH_TENANT_MAX_ACTIVE_RUNS: "tenant=N,...", "*" for every other
    tenant: the most unfinished runs a tenant may have."""
    caps: dict[str, int] = {}
    for tenant, text in env_pairs(env, "GRAPHMESH_TENANT_MAX_ACTIVE_RUNS").items():
        try:
            caps[tenant] = int(text)
            if caps[tenant] < 1:
                raise ValueError(text)
        except ValueError:
            raise SettingsError(
                f"GRAPHMESH_TENANT_MAX_ACTIVE_RUNS: {tenant}={text!r} is not a positive count"
            ) from None
    return caps


class TenantQuota:
    """The caps on each tenant's unfinished runs ("*": any other tenant)."""

    def __init__(self, caps: Mapping[str, int]) -> None:
        self.caps = dict(caps)
        #: Called with the tenant of each refused run (metrics).
        self.on_refused: Callable[[str], None] = lambda tenant: None

    @property
    def enabled(self) -> bool:
        """True when some tenant has a cap (else nothing need be counted)."""
        return bool(self.caps)

    def check(self, tenant: str, active: int) -> None:
        """Refuses one more run when `tenant` has `active` unfinished runs
        and its cap allows no more (RESOURCE_EXHAUSTED, TENANT_QUOTA_EXCEEDED)."""
        cap = self.caps.get(tenant) or self.caps.get(ANY_GRAPH)
        if cap is None or active < cap:
            return
        self.on_refused(tenant)
        raise ResourceExhausted(
            f"tenant {tenant} has {active} runs pending or running; its quota is {cap}",
            reason="TENANT_QUOTA_EXCEEDED",
            metadata={"tenant": tenant, "active_runs": str(active), "quota": str(cap)},
            quota_subject=f"tenant:{tenant}",
        )


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
    """The gateway's buckets, one per limited graph (or tenant: `subject`)."""

    def __init__(
        self,
        limits: Mapping[str, RateLimit],
        clock: Callable[[], float] = time.monotonic,
        subject: str = "graph",
    ) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._subject = subject
        self._buckets: dict[str, _Bucket] = {}
        #: Called with the graph id of each refused run (metrics).
        self.on_refused: Callable[[str], None] = lambda graph_id: None

    def admit(self, graph_id: str) -> None:
        """Takes a token for a run of `graph_id` (or of that tenant); raises
        ResourceExhausted (reason RATE_LIMITED or TENANT_RATE_LIMITED, with
        RetryInfo) if there is none."""
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
                f"{self._subject} {graph_id} may submit {limit.rate:g} runs/s (bursts of"
                f" {limit.burst:g}); retry in {wait:.3f} s",
                reason="RATE_LIMITED" if self._subject == "graph" else "TENANT_RATE_LIMITED",
                metadata={
                    f"{self._subject}_id": graph_id,
                    "rate_per_second": f"{limit.rate:g}",
                    "burst": f"{limit.burst:g}",
                },
                retry_after=wait,
            )
