"""Keeping the local mesh's processes up, as a process manager does.

`graphmesh up` is the embedded default users run, so the crash of one
process (an executor killed by the OOM killer, a service that hit a bug)
must not take the whole mesh down: the process is started again after a
backoff that doubles with each crash in a row, the others keep serving, and
only a crash loop (the same process crashing again and again in a short
time) makes it give up, saying which process and why.

`CrashHistory` is the rule, without I/O; `Supervisor` applies it to a
`LocalStack`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from graphmesh.testing.stack import LocalStack


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """How soon a crashed process is started again, and when to give up."""

    #: The wait before the first restart; it doubles with each crash in a row.
    first_delay: float = 0.5
    max_delay: float = 30.0
    #: Give up when one process crashed this many times within `window` seconds.
    crash_loop: int = 5
    window: float = 60.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do about a process that exited."""

    #: Seconds to wait before starting it again; None: give up.
    restart_in: float | None
    #: The crashes of this process within the policy's window, this one included.
    crashes: int
    reason: str = ""


@dataclass
class CrashHistory:
    """Each process's recent crashes, and the verdict on a new one."""

    policy: RestartPolicy = field(default_factory=RestartPolicy)
    _crashes: dict[str, list[float]] = field(default_factory=dict)

    def crashed(self, name: str, now: float) -> Verdict:
        """Records a crash of `name` at `now` and judges it."""
        window = self.policy.window
        recent = [t for t in self._crashes.get(name, []) if now - t < window] + [now]
        self._crashes[name] = recent
        if len(recent) >= self.policy.crash_loop:
            return Verdict(
                None,
                len(recent),
                f"{name} crashed {len(recent)} times within {window:g} s (a crash loop)",
            )
        delay = min(self.policy.first_delay * 2 ** (len(recent) - 1), self.policy.max_delay)
        return Verdict(delay, len(recent))


class CrashLoop(RuntimeError):
    """A process keeps crashing: the supervisor gives up."""


class Supervisor:
    """Watches the stack's service processes and starts again those that
    exited, one look at a time (`check`)."""

    def __init__(
        self,
        stack: LocalStack,
        policy: RestartPolicy | None = None,
        say: Callable[[str], None] = print,
        on_restart: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stack = stack
        self._history = CrashHistory(policy or RestartPolicy())
        self._say = say
        self._on_restart = on_restart
        self._clock = clock
        self._due: dict[str, float] = {}
        #: Restarts so far, per process name.
        self.restarts: Counter[str] = Counter()

    def check(self) -> None:
        """Notes processes that exited since the last look and restarts
        those whose backoff is over; raises CrashLoop to give up."""
        now = self._clock()
        for service in list(self._stack.services):
            code = service.proc.poll()
            if code is None or service.name in self._due:
                continue
            verdict = self._history.crashed(service.name, now)
            logs = self._stack.config.data_dir / "logs" / f"{service.name}.log"
            if verdict.restart_in is None:
                raise CrashLoop(f"{verdict.reason}; its last exit code was {code}; see {logs}")
            self._due[service.name] = now + verdict.restart_in
            self._say(
                f"{service.name} exited ({code}); starting it again in"
                f" {verdict.restart_in:g} s (crash {verdict.crashes} within"
                f" {self._history.policy.window:g} s); see {logs}"
            )
        for name, due in list(self._due.items()):
            if now < due:
                continue
            del self._due[name]
            restarted = self._stack.restart_service(name)
            self.restarts[name] += 1
            self._say(
                f"{name} started again (pid {restarted.proc.pid}; restarts: {self.restarts[name]})"
            )
            self._on_restart()
