"""The model's shared resources: special school places by pool, and the assessment team.

Both are counting resources on SimPy events: a unit is taken at once when one is free (no event is
scheduled for it), otherwise the taker may queue and is granted a unit when one frees up or the
capacity grows. Capacity follows a schedule of (day, capacity); a shrinking capacity displaces
nobody, it stops new admissions until occupancy falls below it.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections import deque
from typing import Sequence

import simpy


class _Scheduled:
    """Capacity on a schedule of (day, capacity), with a SimPy process at each change."""

    def __init__(self, env: simpy.Environment, schedule: Sequence[tuple[float, int]]):
        self.env = env
        ordered = sorted(schedule)
        self.change_days = [d for d, _ in ordered]
        self.capacities = [c for _, c in ordered]
        self.occupied = 0
        for day in self.change_days[1:]:
            if day > 0:
                env.process(self._capacity_change(day))

    def capacity(self, day: float | None = None) -> int:
        """Capacity on a day (default: now)."""
        day = self.env.now if day is None else day
        i = bisect.bisect_right(self.change_days, day) - 1
        return self.capacities[max(i, 0)]

    def free(self) -> int:
        """Units free now."""
        return max(self.capacity() - self.occupied, 0)

    def schedule(self, day: float, n: int) -> None:
        """Add ``n`` units from ``day`` (now or later) on: every later step of the schedule rises by ``n``;
        those waiting are admitted when the day comes."""
        if n <= 0:
            return
        day = max(day, self.env.now)
        i = bisect.bisect_left(self.change_days, day)
        if i == len(self.change_days) or self.change_days[i] != day:
            self.change_days.insert(i, day)
            self.capacities.insert(i, self.capacities[max(i - 1, 0)])
        for j in range(i, len(self.capacities)):
            self.capacities[j] += n
        if day > self.env.now:
            self.env.process(self._capacity_change(day))
        else:
            self._admit()

    def add(self, n: int) -> None:
        """Add ``n`` units now, admitting those waiting at once (in the order they queued)."""
        self.schedule(self.env.now, n)

    def steps(self) -> list[tuple[float, int]]:
        """The capacity schedule as (day, capacity) steps, additions included."""
        return list(zip(self.change_days, self.capacities))

    def _capacity_change(self, day: float):
        yield self.env.timeout(day - self.env.now)
        self._admit()

    def _admit(self) -> None:  # pragma: no cover - each resource defines its queue
        raise NotImplementedError


class PlacePool(_Scheduled):
    """Commissioned special school places of one kind (a pool).

    The queue is ordered by the day each child's wait began, then by arrival in the queue: a child
    who re-queues for the next phase's pool at a phase transfer keeps its place in the line.
    Children on roll in special schools at the start date are placed even beyond capacity
    (:meth:`force_take`); :attr:`over_capacity_at_start` records by how much.
    """

    def __init__(self, env: simpy.Environment, name: str, schedule: Sequence[tuple[float, int]]):
        self.name = name
        self.queue: list[tuple[float, int, simpy.Event]] = []  # (wait start, order, grant), sorted
        self._order = itertools.count()
        self.over_capacity_at_start = 0
        super().__init__(env, schedule)

    def take(self) -> bool:
        """Take a place if one is free and nobody is queueing ahead; True if taken."""
        if self.queue or self.occupied >= self.capacity():
            return False
        self.occupied += 1
        return True

    def force_take(self) -> None:
        """Place a child already on roll at the start date, beyond capacity if need be."""
        self.occupied += 1
        self.over_capacity_at_start = max(self.over_capacity_at_start, self.occupied - self.capacity())

    def wait(self, wait_start: float) -> simpy.Event:
        """Join the queue; the event succeeds when a place is granted (already counted as taken)."""
        event = self.env.event()
        bisect.insort(self.queue, (wait_start, next(self._order), event), key=lambda item: item[:2])
        self._admit()
        return event

    def cancel(self, event: simpy.Event) -> None:
        """Leave the queue; if the place was granted meanwhile, give it back."""
        if event.triggered:
            self.release()
            return
        for i, (_, _, queued) in enumerate(self.queue):
            if queued is event:
                del self.queue[i]
                return

    def release(self) -> None:
        """A child leaves a place."""
        self.occupied -= 1
        self._admit()

    def _admit(self) -> None:
        capacity = self.capacity()
        while self.queue and self.occupied < capacity:
            _, _, event = self.queue.pop(0)
            self.occupied += 1
            event.succeed()


class AssessmentTeam(_Scheduled):
    """The educational psychologists and caseworkers: assessments carried at once, first come first served.

    An assessment holds its caseworker until the day given to :meth:`hold`. The caseworker is free
    again from that day, but the team only counts it so when next it is asked, or, while someone
    waits, on that day (the one event it schedules, for the earliest end). So a team that keeps up
    with its requests costs no event per assessment, and one that falls behind grants the next in
    the queue on the day a caseworker finishes, as if each end were an event.
    """

    def __init__(self, env: simpy.Environment, schedule: Sequence[tuple[float, int]]):
        self.queue: deque[simpy.Event] = deque()
        self.ends: list[float] = []  # a heap: the end days of the assessments held
        self._wake_day = math.inf  # the earliest end day an event is set for, while someone waits
        super().__init__(env, schedule)

    def request(self) -> simpy.Event | None:
        """A caseworker now (``None``: no need to wait) or an event that succeeds when one is free."""
        self._free_ended()
        if not self.queue and self.occupied < self.capacity():
            self.occupied += 1
            return None
        event = self.env.event()
        self.queue.append(event)
        if self.ends:
            self._wake(self.ends[0])
        return event

    def hold(self, end: float) -> None:
        """A caseworker granted now is busy until ``end`` (now or later)."""
        heapq.heappush(self.ends, end)
        if self.queue:
            self._wake(end)

    def free(self) -> int:
        """Caseworkers free now."""
        self._free_ended()
        return super().free()

    def _free_ended(self) -> None:
        now, ends = self.env.now, self.ends
        while ends and ends[0] <= now:
            heapq.heappop(ends)
            self.occupied -= 1

    def _wake(self, day: float) -> None:
        if day < self._wake_day:
            self._wake_day = day
            # on the end day itself: a timeout of (day - now) lands at now + (day - now), which can
            # round below the day, find the assessment not yet ended and never be set again
            env = self.env
            event = simpy.Event(env)
            event._ok, event._value = True, None
            event.callbacks.append(self._woken)
            heapq.heappush(env._queue, (day, simpy.core.NORMAL, next(env._eid), event))

    def _woken(self, _event: simpy.Event) -> None:
        if self.env.now >= self._wake_day:
            self._wake_day = math.inf
        self._admit()
        if self.queue and self.ends:
            self._wake(self.ends[0])

    def _admit(self) -> None:
        self._free_ended()
        capacity = self.capacity()
        while self.queue and self.occupied < capacity:
            self.occupied += 1
            self.queue.popleft().succeed()
