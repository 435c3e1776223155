"""The no-plan stage, fast-forwarded in numpy for whole batches of children.

Without a plan (early intervention, SEN support, AP or EHE) a child uses no shared resource: its
competing hazards run on clocks and its phase changes on fixed dates. Its path until it leaves or
requests an assessment therefore depends only on its own random numbers, and can be computed ahead
for a whole batch: each pass of the loop makes one competing-risk draw for every child still in the
stage, exactly as :meth:`NoPlanStage.fast_forward_one` does for one child (same options, same order of
draws from the child's counter-based stream). Spells and events go straight to the event log; the
children who request an assessment are handed back, with their open spell and their draw counter,
to continue as SimPy processes. A single child back from an assessment takes the same path in plain
Python (:meth:`NoPlanStage.fast_forward_one`), which is far cheaper than a batch of one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from hnsim.config.schema import NEEDS, PHASES
from hnsim.model import records as R
from hnsim.model.calendar import PHASE_START_YEARS, POST16_YEAR, PRIMARY_YEAR, SECONDARY_YEAR
from hnsim.model.hazard import Clock
from hnsim.model.parameters import FLAT, NoPlanRates
from hnsim.model.streams import draw_uniform, uniforms
from hnsim.model.world import World

# Outcomes of one competing-risk draw: the options of a no-plan state, then the phase-transfer date.
REQUEST, STEP_DOWN, MOVE_AWAY, EXCLUSION, EHE, ENHANCE, REINTEGRATE, RETURN, DEADLINE = range(9)
N_OUTCOMES = 9
MAX_OPTIONS = 6
NO_PLAN_STATES = (R.EARLY_INTERVENTION, R.SEN_SUPPORT, R.SEN_SUPPORT_ENHANCED, R.AP_NO_PLAN, R.EHE_NO_PLAN)
assert NO_PLAN_STATES == R.NO_PLAN_STATES == tuple(range(len(NO_PLAN_STATES)))  # state codes index the tables directly
#: Phase transfers a child without a plan meets: reception, year 7, year 12 (where it leaves).
TRANSFER_YEARS = np.array([PRIMARY_YEAR, SECONDARY_YEAR, POST16_YEAR])

_EVENT = np.zeros(N_OUTCOMES, dtype=np.int64)
_EVENT[[STEP_DOWN, MOVE_AWAY]] = R.EV_NO_PLAN_EXIT
_EVENT[EXCLUSION] = R.EV_PERMANENT_EXCLUSION
_EVENT[EHE] = R.EV_EHE_DEREGISTRATION
_LEAVES = np.isin(np.arange(N_OUTCOMES), [STEP_DOWN, MOVE_AWAY])
#: State after an outcome, by (outcome, state); request and leaving outcomes never use it.
_NEXT_STATE = np.tile(np.arange(len(NO_PLAN_STATES)), (N_OUTCOMES, 1))
_NEXT_STATE[EXCLUSION] = R.AP_NO_PLAN
_NEXT_STATE[EHE] = R.EHE_NO_PLAN
_NEXT_STATE[ENHANCE] = R.SEN_SUPPORT_ENHANCED
_NEXT_STATE[[REINTEGRATE, RETURN]] = R.SEN_SUPPORT
_NEXT_STATE[DEADLINE, R.EARLY_INTERVENTION] = R.SEN_SUPPORT
PHASE_START_YEARS_ARRAY = np.array(PHASE_START_YEARS)
_EVENT_LIST, _LEAVES_LIST, _NEXT_STATE_LIST = _EVENT.tolist(), _LEAVES.tolist(), _NEXT_STATE.tolist()


@dataclass
class Entrants:
    """Children entering (or back in) a no-plan state: one element per child.

    ``starts`` is when the open spell began (earlier than ``days`` for a child back from an
    assessment, whose spell ran on meanwhile); ``counters`` is how many draws the child has used.
    """

    ids: np.ndarray
    keys: np.ndarray
    cohorts: np.ndarray
    births: np.ndarray
    needs: np.ndarray
    states: np.ndarray
    phases: np.ndarray
    starts: np.ndarray
    days: np.ndarray
    counters: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, mask: np.ndarray) -> "Entrants":
        """The children selected by a boolean mask or index array."""
        return Entrants(*(getattr(self, f.name)[mask] for f in fields(self)))

    @classmethod
    def concat(cls, parts: list["Entrants"]) -> "Entrants":
        """All children of several batches, in order."""
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    @classmethod
    def empty(cls) -> "Entrants":
        """A batch of no children."""
        ints, floats = np.zeros(0, dtype=np.int64), np.zeros(0)
        return cls(ints, np.zeros(0, dtype=np.uint64), ints, floats, ints, ints, ints, floats, floats, ints)

    @classmethod
    def of_child(cls, child: R.Child, day: float) -> "Entrants":
        """A batch of one: ``child`` from ``day``, continuing its open spell."""
        return cls(
            np.array([child.id]),
            np.array([child.draws.key], dtype=np.uint64),
            np.array([child.cohort]),
            np.array([child.birth_day]),
            np.array([child.need]),
            np.array([child.state]),
            np.array([child.phase]),
            np.array([child.spell_start]),
            np.array([day]),
            np.array([child.draws.n]),
        )


@dataclass
class Requests:
    """Children who request an assessment: where they are in ``Entrants`` and their open spell."""

    index: np.ndarray
    days: np.ndarray
    states: np.ndarray
    phases: np.ndarray
    starts: np.ndarray
    counters: np.ndarray


class NoPlanStage:
    """The no-plan stage of one replication, with its options tabulated by (state, phase, need)."""

    def __init__(self, world: World, rates: NoPlanRates):
        self.world = world
        self.rates = rates
        self.clock_request = world.clocks("sen_support.request")
        self.clock_exclusion = world.clocks("sen_support.exclusion")
        self.clock_ehe = world.clocks("sen_support.ehe")
        self.clock_enhance = world.clocks("sen_support.escalation")
        self.clock_step_down = world.clocks("sen_support.step_down")
        self.clock_reintegrate = world.clocks("ap.reintegration")
        rows = len(NO_PLAN_STATES) * len(PHASES) * len(NEEDS)
        # per row, the options with a positive rate in option order: the j-th takes the j-th draw
        self.option_outcome = np.zeros((rows, MAX_OPTIONS), dtype=np.int64)
        self.option_rate = np.ones((rows, MAX_OPTIONS))
        self.clock_index = np.full((rows, MAX_OPTIONS), -1, dtype=np.int64)  # into self.clocks; -1: none
        self.n_options = np.zeros(rows, dtype=np.int64)
        self.clocks: list[Clock] = []
        self.row_options: list[tuple[tuple[int, float, Clock], ...]] = []  # the same, for one child in plain Python
        for state in NO_PLAN_STATES:
            for phase in range(len(PHASES)):
                for need in range(len(NEEDS)):
                    options = [(o, r, c) for o, r, c in self.options(state, phase, need) if r > 0.0]
                    self._tabulate(self.row(state, phase, need), options)
                    self.row_options.append(tuple(options))
        # the clock of each column if it has only one (the usual case), else None
        self.column_clocks: list[Clock | None] = []
        for j in range(self.n_options.max()):
            used = set(self.clock_index[:, j][self.clock_index[:, j] >= 0].tolist())
            self.column_clocks.append(self.clocks[used.pop()] if len(used) == 1 else None)
        self._draw_numbers = np.arange(1, self.n_options.max() + 1)

    @staticmethod
    def row(state: int | np.ndarray, phase: int | np.ndarray, need: int | np.ndarray) -> int | np.ndarray:
        """Row of the option tables for (state, phase, need)."""
        return (state * len(PHASES) + phase) * len(NEEDS) + need

    def options(self, state: int, ph: int, need: int) -> list[tuple[int, float, Clock]]:
        """The competing options ``(outcome, rate per day, clock)`` of a no-plan state, in draw order."""
        r = self.rates
        request = r.request[ph] * r.request_need[need]
        if state == R.AP_NO_PLAN:
            return [(REINTEGRATE, r.reintegration[ph], self.clock_reintegrate[ph]), (REQUEST, request, self.clock_request[ph]), (MOVE_AWAY, r.move_away[ph], FLAT)]
        if state == R.EHE_NO_PLAN:
            return [(RETURN, r.ehe_return[ph], FLAT), (MOVE_AWAY, r.move_away[ph], FLAT)]
        if state == R.SEN_SUPPORT_ENHANCED:
            request *= r.enhanced_request_multiplier
        options = [
            (REQUEST, request, self.clock_request[ph]),
            (STEP_DOWN, r.step_down[ph], self.clock_step_down[ph]),
            (MOVE_AWAY, r.move_away[ph], FLAT),
            (EXCLUSION, r.exclusion[ph] * r.exclusion_need[need], self.clock_exclusion[ph]),
            (EHE, r.ehe[ph], self.clock_ehe[ph]),
        ]
        if state == R.SEN_SUPPORT:
            options.append((ENHANCE, r.enhance[ph], self.clock_enhance[ph]))
        return options

    def _tabulate(self, row: int, options: list[tuple[int, float, Clock]]) -> None:
        """One row of the tables (options with a positive rate), in draw order."""
        n = 0
        for outcome, rate, clock in options:
            if not any(clock is c for c in self.clocks):
                self.clocks.append(clock)
            self.clock_index[row, n] = next(i for i, c in enumerate(self.clocks) if c is clock)
            self.option_outcome[row, n] = outcome
            self.option_rate[row, n] = rate
            n += 1
        self.n_options[row] = n

    def _time_after(self, which: np.ndarray, now: np.ndarray, exposure: np.ndarray) -> np.ndarray:
        """Times for a clocked column whose clock differs between children (``which``; -1 for none)."""
        out = np.full(len(now), np.inf)
        for c in np.unique(which[which >= 0]):
            sel = which == c
            out[sel] = self.clocks[c].time_after_many(now[sel], exposure[sel])
        return out

    def draw(self, now: np.ndarray, row: np.ndarray, keys: np.ndarray, counters: np.ndarray, deadline: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Earliest competing event per child: (time, outcome, draws used); :meth:`fast_forward_one`'s draw vectorised.

        Every option takes the child's next draw, in option order, and runs on its own clock. Ties
        go to the deadline, then to the earlier option (the scalar strict "<").
        """
        u = uniforms(keys[:, None], counters[:, None] + self._draw_numbers)
        best_t, best = deadline, np.full(len(now), DEADLINE, dtype=np.int64)
        for j, clock in enumerate(self.column_clocks):
            which = self.clock_index[row, j]
            exposure = -np.log(1.0 - u[:, j]) / self.option_rate[row, j]
            t = clock.time_after_many(now, exposure) if clock is not None else self._time_after(which, now, exposure)
            win = (which >= 0) & (t < best_t)
            best_t, best = np.where(win, t, best_t), np.where(win, self.option_outcome[row, j], best)
        return best_t, best, self.n_options[row]

    def fast_forward(self, entrants: Entrants) -> Requests:
        """Run a batch through the no-plan stage until each leaves, requests or reaches the horizon.

        Every spell closed and every event on the way goes to the model's log (a child still there
        at the horizon has its spell closed there); the requests are returned, not logged. The
        children must be below post-16: a child without a plan leaves on reaching year 12.
        """
        world, log = self.world, self.world.log
        timeline = world.timeline
        horizon = world.horizon
        transfers = timeline.sept1_days(entrants.cohorts[:, None] + TRANSFER_YEARS)
        pos = np.arange(len(entrants))  # the children still in the stage, as positions in the batch
        state, phase = entrants.states.astype(np.int64), entrants.phases.astype(np.int64)
        start, now = entrants.starts.astype(float), entrants.days.astype(float)
        counters = entrants.counters.astype(np.int64)
        handed: list[tuple[np.ndarray, ...]] = []
        while pos.size:
            tr = transfers[pos]
            deadline = np.where(tr[:, 0] > now, tr[:, 0], np.where(tr[:, 1] > now, tr[:, 1], tr[:, 2]))
            row = self.row(state, phase, entrants.needs[pos])
            t, outcome, used = self.draw(now, row, entrants.keys[pos], counters, deadline)
            counters = counters + used
            over = t >= horizon
            request = ~over & (outcome == REQUEST)
            new_phase = phases_of(timeline, entrants.cohorts[pos], t)
            leaves = ~over & (_LEAVES[outcome] | ((outcome == DEADLINE) & (new_phase >= R.PHASE_POST16)))
            closed = ~request
            log.spells(entrants.ids[pos[closed]], state[closed], phase[closed], start[closed], np.where(over, horizon, t)[closed])
            code = np.where(leaves, R.EV_NO_PLAN_EXIT, _EVENT[outcome])
            logged = ~over & (code > 0)
            log.events(t[logged], code[logged], entrants.ids[pos[logged]])
            if request.any():
                handed.append((pos[request], t[request], state[request], phase[request], start[request], counters[request]))
            stay = ~(over | request | leaves)
            pos, now, counters = pos[stay], t[stay], counters[stay]
            state, phase, start = _NEXT_STATE[outcome[stay], state[stay]], new_phase[stay], now
        parts = [np.concatenate(c) for c in zip(*handed)] if handed else [np.zeros(0, dtype=np.int64)] * 6
        return Requests(*parts)

    def fast_forward_one(self, child: R.Child, day: float) -> float | None:
        """One child from ``day`` through the no-plan stage, in plain Python: the request day, or None.

        The same draws, in the same order, and the same logging as :meth:`fast_forward` for a batch
        holding only this child. ``child`` has its open no-plan spell and its draw counter; on a
        request they are left where the request finds them (spell still open); otherwise the child
        has left (or reached the horizon) and its spells are all logged.
        """
        world, log = self.world, self.world.log
        horizon, sept1 = world.horizon, world.timeline.sept1
        transfers = (sept1(child.cohort + TRANSFER_YEARS[0]), sept1(child.cohort + TRANSFER_YEARS[1]), sept1(child.cohort + TRANSFER_YEARS[2]))
        state, phase, start, now = child.state, child.phase, child.spell_start, day
        key, n = child.draws.key, child.draws.n
        need = child.need
        n_phases, n_needs = len(PHASES), len(NEEDS)
        while True:
            deadline = transfers[0] if transfers[0] > now else transfers[1] if transfers[1] > now else transfers[2]
            best_t, best = deadline, DEADLINE
            for outcome, rate, clock in self.row_options[(state * n_phases + phase) * n_needs + need]:
                n += 1
                t = clock.time_after(now, -math.log(1.0 - draw_uniform(key, n)) / rate)
                if t < best_t:
                    best_t, best = t, outcome
            t = best_t
            if t >= horizon:
                log.spell(child.id, state, phase, start, horizon)
                return None
            if best == REQUEST:
                child.state, child.phase, child.spell_start, child.draws.n = state, phase, start, n
                return t
            new_phase = world.phase_of(child, t)
            leaves = _LEAVES_LIST[best] or (best == DEADLINE and new_phase >= R.PHASE_POST16)
            log.spell(child.id, state, phase, start, t)
            code = R.EV_NO_PLAN_EXIT if leaves else _EVENT_LIST[best]
            if code > 0:
                log.event(t, code, child.id)
            if leaves:
                return None
            state, phase, start, now = _NEXT_STATE_LIST[best][state], new_phase, t, t


def phases_of(timeline, cohorts: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Phase numbers of children of ``cohorts`` on ``days`` (:meth:`World.phase_of` vectorised)."""
    return np.searchsorted(PHASE_START_YEARS_ARRAY, timeline.academic_years(days) - cohorts, side="right")
