"""Special places as a state machine: random sequences of take, wait, release, cancel and the passing
of time (capacity changes), checked against a reference model of a first-come-first-served pool."""

from __future__ import annotations

import simpy
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from hnsim.model.places import PlacePool


class PlacePoolMachine(RuleBasedStateMachine):
    """The pool under test beside a reference: a count of places held and a list of the children queueing."""

    @initialize(
        initial=st.integers(0, 4),
        changes=st.dictionaries(st.integers(0, 30), st.integers(0, 6), max_size=4),
    )
    def start(self, initial: int, changes: dict[int, int]) -> None:
        self.env = simpy.Environment()
        # changes fall between whole days: time reaches the instant of one only by stopping there on purpose
        self.schedule = [(0.0, initial)] + sorted((day + 0.5, places) for day, places in changes.items())
        self.pool = PlacePool(self.env, "special_secondary", self.schedule)
        self.held = 0
        self.queue: list[simpy.Event] = []
        self.granted: list[simpy.Event] = []
        self.pending: float | None = None  # a change of capacity due now whose admissions have not run yet

    def capacity(self, day: float | None = None) -> int:
        day = self.env.now if day is None else day
        return [places for when, places in self.schedule if when <= day][-1]

    def admit(self, day: float | None = None) -> None:
        """The reference rule: while someone queues and a place is free, the longest waiting gets it."""
        while self.queue and self.held < self.capacity(day):
            self.granted.append(self.queue.pop(0))
            self.held += 1

    def checked(self, action) -> None:
        """Run an action on the pool; no action may take occupancy above capacity (a fall in capacity
        displaces nobody, so occupancy may stay above it, but never grow there)."""
        before = self.pool.occupied
        action()
        assert self.pool.occupied <= max(self.capacity(), before)

    @rule()
    def take(self) -> None:
        expected = not self.queue and self.held < self.capacity()
        result = []
        self.checked(lambda: result.append(self.pool.take()))
        assert result == [expected]
        self.held += expected

    @rule()
    def wait(self) -> None:
        events: list[simpy.Event] = []
        self.checked(lambda: events.append(self.pool.wait(self.env.now)))
        self.queue.append(events[0])
        self.admit()

    @precondition(lambda self: self.held > 0)
    @rule()
    def release(self) -> None:
        self.checked(self.pool.release)
        self.held -= 1
        self.admit()

    @precondition(lambda self: self.queue)
    @rule(data=st.data())
    def leave_the_queue(self, data) -> None:
        event = data.draw(st.sampled_from(self.queue))
        self.checked(lambda: self.pool.cancel(event))
        self.queue.remove(event)

    @precondition(lambda self: self.granted and self.held > 0)
    @rule(data=st.data())
    def give_back_a_granted_place(self, data) -> None:
        event = data.draw(st.sampled_from(self.granted))
        self.checked(lambda: self.pool.cancel(event))
        self.granted.remove(event)
        self.held -= 1
        self.admit()

    def catch_up(self) -> None:
        """The admissions of a change of capacity that was due when time last stopped (call only
        as time moves on: the pool makes them when its clock runs)."""
        if self.pending is not None:
            self.admit(self.pending)
            self.pending = None

    @rule(days=st.integers(1, 10))
    def time_passes(self, days: int) -> None:
        until = self.env.now + days
        self.catch_up()
        for day, _ in self.schedule:
            if self.env.now < day < until:
                self.admit(day)  # each change of capacity admits whoever it can, then and there
            elif day == until:
                self.pending = day  # time stops at a change (after a stop at one): it has not run yet
        self.env.run(until=until)

    @rule()
    def the_moment_capacity_changes(self) -> None:
        """Stop at a change of capacity before the pool has admitted anyone, where a newcomer
        arrives: it must not take a place ahead of the queue."""
        later = [day for day, _ in self.schedule if day > self.env.now]
        if later:
            self.catch_up()  # the pool admits for a change due now only once time moves on
            self.env.run(until=later[0])
            self.pending = later[0]
            self.take()

    @invariant()
    def matches_the_reference(self) -> None:
        if not hasattr(self, "pool"):
            return
        assert self.pool.occupied == self.held >= 0
        assert self.pool.capacity() == self.capacity()
        assert all(event.triggered for event in self.granted)  # first come, first served
        assert not any(event.triggered for event in self.queue)
        assert self.pool.free() == max(self.capacity() - self.held, 0)
        if self.queue and self.pending is None:
            assert self.held >= self.capacity()  # nobody queues while a place stands free


PlacePoolMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestPlacePool = PlacePoolMachine.TestCase
