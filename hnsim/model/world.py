"""What the stages of one replication share: the clock, the event log, the resources, the children.

A :class:`World` holds the SimPy environment, the :class:`~hnsim.model.records.EventLog`, the special
place pools and the assessment team, the hazard clocks with the replication's levers multiplied in,
and the bookkeeping of children (ids, spells, leaving). Every stage of the pathway receives the
world and the compiled :class:`~hnsim.model.parameters.Parameters`; none reads the config.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from typing import Callable, Generator

import numpy as np
import simpy

from hnsim.config.schema import PHASES, SPECIAL_POOLS
from hnsim.model import records as R
from hnsim.model.calendar import DAYS_PER_YEAR, PLAN_END_AGE, POST16_YEAR, POST19_YEAR, PRIMARY_YEAR, SECONDARY_YEAR
from hnsim.model.hazard import Clock
from hnsim.model.levers import LeverPlan
from hnsim.model.parameters import FLAT, Parameters
from hnsim.model.places import AssessmentTeam, PlacePool
from hnsim.model.streams import child_key, replication_key


#: A plan ends on the 25th birthday: days from birth (the product as the model has always computed it).
PLAN_END_DAYS = PLAN_END_AGE * DAYS_PER_YEAR


#: SimPy's priority of an ordinary (not urgent) event, which a timed call takes.
NORMAL = simpy.core.NORMAL


class Call:
    """A function to call with one argument at a time on the simulation clock: what a SimPy
    :class:`~simpy.events.Timeout` with a single callback does, without building the event.

    It takes its place in SimPy's own queue with the next number of SimPy's counter, as the timeout
    would, so events and calls are processed in the same order as if every call were a timeout.
    """

    __slots__ = ("fn", "arg")

    def __init__(self, fn: Callable[[object], None], arg: object):
        self.fn = fn
        self.arg = arg


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that can say how many events it has scheduled (the benchmark's unit of work),
    runs to a time with SimPy's own step written into its loop, and carries timed calls (:class:`Call`)."""

    def call_in(self, delay: float, fn: Callable[[object], None], arg: object = None) -> None:
        """Call ``fn(arg)`` ``delay`` days from now (``delay`` >= 0), in the order a timeout made now would be processed."""
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        heapq.heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), Call(fn, arg)))

    def step(self) -> None:
        """As :meth:`simpy.Environment.step`, for a timed call too (so that SimPy's own ``run``, to
        an event or to the end, can process them)."""
        queue = self._queue
        if queue and queue[0][3].__class__ is Call:
            self._now, _, _, call = heapq.heappop(queue)
            call.fn(call.arg)
            return
        super().step()

    def run(self, until: float | simpy.Event | None = None) -> object:
        """As :meth:`simpy.Environment.run`; to a time, with :meth:`~simpy.Environment.step` inlined
        (a replication takes up to a hundred thousand steps) and the same urgent stop event, so the
        same events are processed in the same order (one fewer is counted: SimPy schedules its stop
        event again when it stops)."""
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)
        at = until if isinstance(until, int) else float(until)
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        stop = simpy.Event(self)
        stop._ok, stop._value = True, None
        self.schedule(stop, simpy.core.URGENT, at - self._now)
        queue, pop = self._queue, heapq.heappop
        while True:
            self._now, _, _, event = pop(queue)
            if event.__class__ is Call:
                event.fn(event.arg)
                continue
            if event is stop:
                return None
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):  # a failed event nobody handled: crash, as SimPy does
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc

    def scheduled(self) -> int:
        """Events scheduled so far; read once, at the end of a run.

        SimPy numbers every event it schedules from one counter (its tie-break in the queue), so the
        count costs nothing during the run; reading it takes a number, which shifts no ordering.
        """
        return next(self._eid)


class Journey:
    """A child's journey (a generator yielding SimPy events), resumed by the events it waits for.

    What a :class:`simpy.Process` does for it, without the Process's own event when it ends: nobody
    waits for a journey to end, and there are tens of thousands of journeys. The events it yields
    (special place grants and conditions of them) never fail; a number it yields is a delay in days
    (a timeout's, as a timed :class:`Call`).
    """

    __slots__ = ("generator", "env")

    def __init__(self, generator: Generator[simpy.Event | float, object, object], env: CountingEnvironment):
        self.generator = generator
        self.env = env

    def resume(self, event: simpy.Event | None = None) -> None:
        """Run the journey on to the next event it waits for (from its start, or after a delay, if ``event`` is None)."""
        value = None if event is None else event._value
        generator = self.generator
        while True:
            try:
                event = generator.send(value)
            except StopIteration:
                return
            if event.__class__ is float or not isinstance(event, simpy.Event):  # a delay: resumed by a timed call
                self.env.call_in(float(event), self.resume)
                return
            if event.callbacks is not None:  # not yet processed: wait for it
                event.callbacks.append(self.resume)
                return
            value = event._value


class World:
    """One replication's shared state and the bookkeeping every stage uses."""

    def __init__(self, params: Parameters, levers: LeverPlan, seed: int, replication: int):
        self.params = params
        self.levers = levers
        self.seed, self.replication = seed, replication
        self.timeline = params.timeline
        self.horizon = params.timeline.horizon
        self.env = CountingEnvironment()
        self.log = R.EventLog()
        self.rep_key = replication_key(seed, replication)
        self.alive: dict[int, R.Child] = {}
        self.next_id = 0
        self.log.pool_schedules = pool_schedules(params, levers)
        self.pools = {name: PlacePool(self.env, name, self.log.pool_schedules[name]) for name in SPECIAL_POOLS}
        self.team = AssessmentTeam(self.env, [(0.0, params.assessment.team_capacity)])
        self.council = None  # the council's reviews (hnsim.model.council.Council) when the config has status_quo
        self._clocks: dict[str, tuple[Clock, ...]] = {}

    # ---------------------------------------------------------------- journeys
    def start(self, journey: Generator[simpy.Event, object, object]) -> None:
        """Start a journey once the current step of the simulation is over, as a SimPy process starts
        (the same urgent event SimPy's ``Initialize`` is, so the order of events is the same)."""
        start = simpy.Event(self.env)
        start._ok, start._value = True, None
        start.callbacks.append(Journey(journey, self.env).resume)
        self.env.schedule(start, simpy.core.URGENT)

    def start_now(self, journey: Generator[simpy.Event, object, object]) -> None:
        """Start a journey at once, for a caller whose step of the simulation ends here: nothing else
        can run between, so this is the order of :meth:`start`, without its event."""
        Journey(journey, self.env).resume()

    # ---------------------------------------------------------------- hazards
    def clocks(self, hazard: str) -> tuple[Clock, ...]:
        """A hazard's clock in each phase: its trend (config) times the levers acting on it.

        Stays the config's own clock (often the shared ``FLAT``) when no lever acts on it, so that
        identical clocks can be recognised and drawn together.
        """
        if hazard not in self._clocks:
            out = []
            for ph in range(len(PHASES)):
                base, lever = self.params.clock(hazard, ph), self.levers.hazard_clock(hazard, ph)
                if lever is None or (lever.constant and lever.multipliers[0] == 1.0):
                    out.append(base)
                else:
                    out.append(lever if base is FLAT else base.times(lever))
            self._clocks[hazard] = tuple(out)
        return self._clocks[hazard]

    # ---------------------------------------------------------------- time of life
    def phase_of(self, child: R.Child, day: float) -> int:
        """Phase from national curriculum year: reception is year 0, the year of turning 19 is post-19."""
        timeline = self.timeline
        ncy = timeline.first_year + bisect_right(timeline.sept1_list, day) - 1 - child.cohort  # academic year - cohort
        if ncy < PRIMARY_YEAR:
            return R.PHASE_EARLY_YEARS
        if ncy < SECONDARY_YEAR:
            return R.PHASE_PRIMARY
        if ncy < POST16_YEAR:
            return R.PHASE_SECONDARY
        if ncy < POST19_YEAR:
            return R.PHASE_POST16
        return R.PHASE_POST19

    def plan_end(self, child: R.Child) -> float:
        """The child's 25th birthday, when any plan ends."""
        return child.birth_day + PLAN_END_DAYS

    def transfers(self, child: R.Child) -> tuple[float, ...]:
        """The child's phase transfer days (reception, year 7, year 12, the year of turning 19; none
        after the 25th birthday) and its 25th birthday, last."""
        days = child.transfers
        if days is None:
            end = child.birth_day + PLAN_END_DAYS
            sept1, first = self.timeline.sept1_list, child.cohort - self.timeline.first_year
            days = child.transfers = (min(sept1[first + PRIMARY_YEAR], end), min(sept1[first + SECONDARY_YEAR], end),
                                      min(sept1[first + POST16_YEAR], end), min(sept1[first + POST19_YEAR], end), end)
        return days

    def next_transfer(self, child: R.Child, now: float) -> float:
        """Next phase transfer day (reception, year 7, year 12, the year of turning 19) or the 25th birthday."""
        days = child.transfers or self.transfers(child)
        for day in days:
            if day > now:
                return day
        return days[-1]

    def split_at_transfers(self, child: R.Child, day: float) -> None:
        """Close the open spell at every phase transfer between its start and ``day`` (a spell runs in one phase).

        For a child without a plan whose spell ran on through an assessment: early intervention
        becomes SEN support at reception, as in the no-plan stage.
        """
        days = child.transfers or self.transfers(child)
        end = days[-1]
        while True:
            transfer = self.next_transfer(child, child.spell_start)
            if transfer > day or transfer >= end:
                return
            state = R.SEN_SUPPORT if child.state == R.EARLY_INTERVENTION else child.state
            self.set_state(child, state, transfer)

    # ---------------------------------------------------------------- children
    def new_child(self, origin: int, index: int, birth_day: float, need: int) -> R.Child:
        """A child with its own random numbers (keyed by origin and index) and an id."""
        cohort = self.timeline.cohort_of(birth_day)
        child = R.Child(self.next_id, child_key(self.rep_key, origin, index), cohort, birth_day, need)
        self.next_id += 1
        self.alive[child.id] = child
        self.log.child_cohort.append(cohort)
        self.log.child_need.append(need)
        self.log.child_birth_day.append(birth_day)
        return child

    def new_ids(self, cohorts: np.ndarray, needs: np.ndarray, births: np.ndarray) -> np.ndarray:
        """Ids for a batch of children (who get a :class:`~hnsim.model.records.Child` only if they need a process)."""
        ids = np.arange(self.next_id, self.next_id + len(cohorts))
        self.next_id += len(cohorts)
        self.log.child_cohort.extend(cohorts.tolist())  # plain lists: set_need changes single entries
        self.log.child_need.extend(needs.tolist())
        self.log.child_birth_day.extend(births.tolist())
        return ids

    def set_need(self, child: R.Child, need: int) -> None:
        child.need = need
        self.log.child_need[child.id] = need

    def set_state(self, child: R.Child, state: int, day: float, phase: int | None = None) -> None:
        """Close the current spell on ``day`` and open a new one in ``state``."""
        if child.state >= 0:
            self.log.spell(child.id, child.state, child.phase, child.spell_start, day)
        child.state = state
        child.phase = self.phase_of(child, day) if phase is None else phase
        child.spell_start = child.day = day

    def leave(self, child: R.Child, code: int, day: float) -> None:
        """The child leaves the model on ``day`` (plan ceased, or a no-plan exit)."""
        self.release_place(child)
        if child.state >= 0:  # a young person requesting from further education has no spell until a plan
            self.log.spell(child.id, child.state, child.phase, child.spell_start, day)
        self.log.event(day, code, child.id)
        del self.alive[child.id]

    def release_place(self, child: R.Child) -> None:
        """Give up the child's special place, if it holds one (only on the simulation clock)."""
        if child.pool is not None:
            self.pools[child.pool].release()
            child.pool = None


def pool_schedules(params: Parameters, levers: LeverPlan) -> dict[str, list[tuple[float, int]]]:
    """Commissioned places by pool: the config's schedule plus places opened by levers."""
    schedules = {}
    for pool in SPECIAL_POOLS:
        base = params.pool_schedules[pool]
        changes = [base[0]] + [(day, places - before) for (day, places), (_, before) in zip(base[1:], base[:-1])]
        changes += [(day, places) for name, day, places in levers.extra_places if name == pool]
        schedule: list[tuple[float, int]] = []
        running = 0
        for day, change in sorted(changes, key=lambda c: c[0]):
            running = max(running + change, 0)
            if schedule and schedule[-1][0] == day:
                schedule[-1] = (day, running)
            else:
                schedule.append((day, running))
        schedules[pool] = schedule
    return schedules
