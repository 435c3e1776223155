"""Special school places: a finite pool with a capacity schedule and a first-come queue."""

from __future__ import annotations

import bisect
from collections import deque
from typing import Sequence

import simpy


class PlacePool:
    """Commissioned places of one kind.

    Capacity follows a schedule of (day, capacity). A place is taken at once if one is free;
    otherwise a child may join the queue and is granted a place, first come first served, when one
    frees up or capacity grows. A shrinking capacity displaces nobody: it stops new admissions until
    occupancy falls below it.
    """

    def __init__(self, env: simpy.Environment, name: str, schedule: Sequence[tuple[float, int]]):
        self.env = env
        self.name = name
        ordered = sorted(schedule)
        self.change_days = [d for d, _ in ordered]
        self.capacities = [c for _, c in ordered]
        self.occupied = 0
        self.queue: deque[tuple[object, simpy.Event]] = deque()
        self.max_occupancy_over_capacity = 0  # > 0 only if the invariant is broken
        for day in self.change_days[1:]:
            if day > 0:
                env.process(self._capacity_change(day))

    def capacity(self, day: float | None = None) -> int:
        """Commissioned places on a day (default: now)."""
        day = self.env.now if day is None else day
        i = bisect.bisect_right(self.change_days, day) - 1
        return self.capacities[max(i, 0)]

    def free(self) -> int:
        """Places free now."""
        return max(self.capacity() - self.occupied, 0)

    def take(self) -> bool:
        """Take a place if one is free and nobody is queueing ahead; True if taken."""
        if self.queue or self.occupied >= self.capacity():
            return False
        self.occupied += 1
        return True

    def force_take(self) -> None:
        """Place a child already on roll at the start (may exceed capacity; recorded)."""
        self.occupied += 1
        self.max_occupancy_over_capacity = max(self.max_occupancy_over_capacity, self.occupied - self.capacity())

    def wait(self, child: object) -> simpy.Event:
        """Join the queue; the event succeeds when a place is granted (already counted as taken)."""
        event = self.env.event()
        self.queue.append((child, event))
        self._admit()
        return event

    def cancel(self, event: simpy.Event) -> None:
        """Leave the queue; if the place was granted meanwhile, give it back."""
        if event.triggered:
            self.release()
            return
        for i, (_, queued) in enumerate(self.queue):
            if queued is event:
                del self.queue[i]
                break

    def release(self) -> None:
        """A child leaves a place."""
        self.occupied -= 1
        self._admit()

    def _admit(self) -> None:
        capacity = self.capacity()
        while self.queue and self.occupied < capacity:
            _, event = self.queue.popleft()
            self.occupied += 1
            event.succeed()

    def _capacity_change(self, day: float):
        yield self.env.timeout(day - self.env.now)
        self._admit()
