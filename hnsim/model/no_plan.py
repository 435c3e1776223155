"""The no-plan stage, fast-forwarded in numpy for whole batches of children.

Without a plan (early intervention, SEN support, AP or EHE) a child uses no shared resource: its
competing hazards run on clocks and its phase changes on fixed dates. Its path until it leaves or
requests an assessment therefore depends only on its own random numbers, and can be computed ahead
for a whole batch: each pass of the loop makes one competing-risk draw for every child still in the
stage, exactly as :meth:`~hnsim.model.pathway.PathwayModel.draw` would (same options, same order of
draws from the child's counter-based stream). Spells and events go straight to the event log; the
children who request an assessment are handed back, with their open spell and their draw counter,
to continue as SimPy processes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from hnsim.config.schema import NEEDS, PHASES
from hnsim.model import records as R
from hnsim.model.hazard import Clock
from hnsim.model.parameters import FLAT
from hnsim.model.streams import uniforms

if TYPE_CHECKING:
    from hnsim.model.pathway import PathwayModel

# Outcomes of one competing-risk draw: the options of a no-plan state, then the phase-transfer date.
REQUEST, STEP_DOWN, MOVE_AWAY, EXCLUSION, EHE, ENHANCE, REINTEGRATE, RETURN, DEADLINE = range(9)
N_OUTCOMES = 9
MAX_OPTIONS = 6
NO_PLAN_STATES = (R.EARLY_INTERVENTION, R.SEN_SUPPORT, R.SEN_SUPPORT_ENHANCED, R.AP_NO_PLAN, R.EHE_NO_PLAN)
assert NO_PLAN_STATES == tuple(range(len(NO_PLAN_STATES)))  # state codes index the tables directly
#: Phase transfers a child without a plan meets: reception, year 7, year 12 (where it leaves).
TRANSFER_YEARS = np.array([0, 7, 12])

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
    """The no-plan stage of one model, with its options tabulated by (state, phase, need)."""

    def __init__(self, model: PathwayModel):
        self.model = model
        rows = len(NO_PLAN_STATES) * len(PHASES) * len(NEEDS)
        # per row, the options with a positive rate in option order: the j-th takes the j-th draw
        self.option_outcome = np.zeros((rows, MAX_OPTIONS), dtype=np.int64)
        self.option_rate = np.ones((rows, MAX_OPTIONS))
        self.clock_index = np.full((rows, MAX_OPTIONS), -1, dtype=np.int64)  # into self.clocks; -1: none
        self.n_options = np.zeros(rows, dtype=np.int64)
        self.clocks: list[Clock] = []
        for state in NO_PLAN_STATES:
            for phase in range(len(PHASES)):
                for need in range(len(NEEDS)):
                    self._tabulate(self.row(state, phase, need), self.options(state, phase, need))
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
        m = self.model
        request = m.r_request[ph] * m.m_request[need]
        if state == R.AP_NO_PLAN:
            return [(REINTEGRATE, m.r_reintegrate[ph], m.clock_reintegrate[ph]), (REQUEST, request, m.clock_request[ph]), (MOVE_AWAY, m.r_move_away[ph], FLAT)]
        if state == R.EHE_NO_PLAN:
            return [(RETURN, m.r_ehe_return[ph], FLAT), (MOVE_AWAY, m.r_move_away[ph], FLAT)]
        if state == R.SEN_SUPPORT_ENHANCED:
            request *= m.m_enhanced
        options = [
            (REQUEST, request, m.clock_request[ph]),
            (STEP_DOWN, m.r_step_down[ph], m.clock_step_down[ph]),
            (MOVE_AWAY, m.r_move_away[ph], FLAT),
            (EXCLUSION, m.r_exclusion[ph] * m.m_exclusion[need], m.clock_exclusion[ph]),
            (EHE, m.r_ehe[ph], m.clock_ehe[ph]),
        ]
        if state == R.SEN_SUPPORT:
            options.append((ENHANCE, m.r_enhance[ph], m.clock_enhance[ph]))
        return options

    def _tabulate(self, row: int, options: list[tuple[int, float, Clock]]) -> None:
        """One row of the tables, in the option order of ``PathwayModel.draw``."""
        n = 0
        for outcome, rate, clock in options:
            if rate <= 0.0:
                continue
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
        """Earliest competing event per child: (time, outcome, draws used); ``PathwayModel.draw`` vectorised.

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
        model, log = self.model, self.model.log
        horizon = model.cal.horizon
        transfers = model.sept1_days(entrants.cohorts[:, None] + TRANSFER_YEARS)
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
            new_phase = model.phases_of(entrants.cohorts[pos], t)
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
