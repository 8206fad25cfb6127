"""The checkpoint service's run watches: events its own appends hand over,
and its own notifications told from other processes'."""

from __future__ import annotations

from graphmesh import envelope as ev
from graphmesh.db import DatabaseSettings
from graphmesh_checkpoint.notifier import RunNotifier, RunWatch

RUN = "00000000-0000-0000-0000-0000000000aa"


def event(seq: int) -> ev.Event:
    return ev.new_event(RUN, "t-1", seq, 1, ev.NODE_UPDATED, "{}")


def test_a_watch_hands_over_events_only_when_they_follow_without_a_gap() -> None:
    watch = RunWatch()
    assert watch.take(0) is None  # nothing handed: read
    for seq in (3, 4, 5):
        watch.hand(event(seq))
    assert [e.seq for e in watch.take(3) or []] == [4, 5]  # what it has is dropped
    for seq in (6, 8):
        watch.hand(event(seq))
    assert watch.take(5) is None  # a gap: read
    watch.hand(event(7))
    assert watch.take(5) is None  # does not follow 5
    for seq in range(9, 9 + 1001):
        watch.hand(event(seq))
    assert watch.take(8) is None  # too many kept: read
    watch.hand(event(9))
    assert [e.seq for e in watch.take(8) or []] == [9]


def test_own_notifications_are_ignored_and_others_wake_the_watchers() -> None:
    notifier = RunNotifier(DatabaseSettings("postgresql+asyncpg://nowhere/none"))
    watch = notifier.watch(RUN)
    notifier.committed([RUN], [event(2), event(3)])
    assert watch.flag.is_set()
    assert [e.seq for e in watch.take(1) or []] == [2, 3]
    watch.flag.clear()
    notifier._on_notify(None, 0, "events", f"@{notifier.origin},{RUN}")
    assert not watch.flag.is_set()  # already woken by its own commit
    notifier._on_notify(None, 0, "events", f"@someone-else,{RUN}")
    assert watch.flag.is_set() and watch.take(3) is None
    watch.flag.clear()
    notifier._on_notify(None, 0, "events", RUN)  # untagged (thread events)
    assert watch.flag.is_set()
    notifier.unwatch(RUN, watch)
    notifier.committed([RUN], [event(4)])
    assert watch.take(3) is None
