"""Plan holders' journeys for whole batches in numpy, up to the first time each touches a place.

A plan holder outside a special school meets nothing shared until it seeks a special place: its
competing hazards, phase transfers, post-16 and post-19 destinations depend only on its own random
numbers and on deterministic dates. :class:`PlanBatch` runs a batch of such children through
:class:`~hnsim.model.plans.PlanStage`'s logic in numpy, making the same draws in the same order.
Each child ends in one of three ways: it leaves (its spells and events all recorded), it is still
there at the horizon (its last spell closed there), or it *stops* just before the step that would
take a special place (or when it is in a special school or waiting for a place). A stopped child is
handed back as it stood before that step; :class:`~hnsim.model.plans.PlanStage` then makes the
same step on the simulation clock.

``tests/test_plan_batch.py`` runs both on the same children and compares the paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hnsim.config.schema import NEEDS, PHASES, SETTINGS
from hnsim.model import records as R
from hnsim.model.calendar import DAYS_PER_YEAR, PHASE_START_YEARS, PLAN_END_AGE
from hnsim.model.hazard import Clock
from hnsim.model.no_plan import phases_of
from hnsim.model.parameters import FLAT, POST16_OPTIONS, PlacementRules
from hnsim.model.plans import CEASING, IN_COLLEGE, TAKES_A_PLACE, PlanStage
from hnsim.model.streams import uniforms

# Outcomes of a competing-risk draw, as in PlanStage.options, then the phase transfer.
TAGS = ("cease", "move_away", "leave", "to_special", "exclusion", "ehe", "to_mainstream", "independent_to_special", "ap_return")
DEADLINE = len(TAGS)
_TAG = {tag: i for i, tag in enumerate(TAGS)}
MAX_OPTIONS = 6
N_STATES = max(R.STATE_NAMES) + 1
#: States a batch cannot move: every change there takes or gives up a place.
HOLDS_OR_SEEKS = (R.EHCP_SPECIAL, R.EHCP_SEMH_SPECIAL, R.EHCP_MAINSTREAM_WAITING)
#: Competing outcomes a batch stops before: they take or give up a place.
TAKES_A_PLACE_TAGS = np.array([_TAG[t] for t in TAKES_A_PLACE + ("to_mainstream",)])
_CEASE_CODE = np.zeros(DEADLINE + 1, dtype=np.int64)
for _tag, _code in CEASING.items():
    _CEASE_CODE[_TAG[_tag]] = _code
_SETTING_CODE = np.array([R.SETTING_STATE[s] for s in SETTINGS])
_POST16_CODE = np.array([-1, R.EHCP_POST16_FE, R.EHCP_POST16_SPECIALIST, -1])  # stay and cease handled apart
STAY, FE, SPECIALIST, CEASE = (POST16_OPTIONS.index(o) for o in ("stay", "post16_fe", "post16_specialist", "cease"))


@dataclass
class PlanHolders:
    """Children with a plan in a setting, one element each: where they stand and their draws used.

    ``day`` is the day their next change is looked for from (``spell_start`` or later).
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


@dataclass
class Rows:
    """Spells and events a batch produced, each tagged with the child's position in the batch."""

    spell_who: list[np.ndarray]
    spells: list[tuple[np.ndarray, ...]]  # child id, state, phase, start, end
    event_who: list[np.ndarray]
    events: list[tuple[np.ndarray, ...]]  # day, code, child id

    @classmethod
    def empty(cls) -> "Rows":
        return cls([], [], [], [])

    def spell(self, who: np.ndarray, ids: np.ndarray, state: np.ndarray, phase: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        if len(who):
            self.spell_who.append(who)
            self.spells.append((ids, state, phase, start, end))

    def event(self, who: np.ndarray, day: np.ndarray, code: np.ndarray | int, ids: np.ndarray) -> None:
        if len(who):
            self.event_who.append(who)
            self.events.append((day, np.broadcast_to(code, len(who)), ids))

    def commit(self, log: R.EventLog, keep: np.ndarray | None = None) -> None:
        """Write the rows of the children ``keep`` selects (a boolean array by batch position; all if None) to ``log``."""
        if self.spells:
            who = np.concatenate(self.spell_who)
            parts = [np.concatenate(c) for c in zip(*self.spells)]
            chosen = keep[who] if keep is not None else slice(None)
            log.spells(*(p[chosen] for p in parts))
        if self.events:
            who = np.concatenate(self.event_who)
            day, code, ids = (np.concatenate(c) for c in zip(*self.events))
            chosen = keep[who] if keep is not None else slice(None)
            log.events(day[chosen], code[chosen], ids[chosen])


@dataclass
class Outcome:
    """Where each child of a batch ended: ``stopped`` (handed back, with its state before the step),
    or not (left, or at the horizon), by batch position."""

    stopped: np.ndarray
    stop_day: np.ndarray  # the day the stopped step happens (its place is taken then), inf if not stopped
    states: np.ndarray
    phases: np.ndarray
    starts: np.ndarray
    days: np.ndarray
    counters: np.ndarray


class PlanBatch:
    """:class:`~hnsim.model.plans.PlanStage`'s journey, vectorised over children outside special schools."""

    def __init__(self, stage: PlanStage, rules: PlacementRules):
        self.stage = stage
        self.world = stage.world
        self.rules = rules
        levers = self.world.levers
        self.transfer_shift, self.bespoke_share, self.to_fe_share = levers.transfer_to_special, levers.bespoke_share, levers.post16_to_fe_share
        rows = N_STATES * len(PHASES) * len(NEEDS)
        self.option_tag = np.zeros((rows, MAX_OPTIONS), dtype=np.int64)
        self.option_rate = np.ones((rows, MAX_OPTIONS))
        self.clock_index = np.full((rows, MAX_OPTIONS), -1, dtype=np.int64)
        self.n_options = np.zeros(rows, dtype=np.int64)
        self.clocks: list[Clock] = []
        for state in R.PLAN_STATES:
            for phase in range(len(PHASES)):
                for need in range(len(NEEDS)):
                    row = self.row(state, phase, need)
                    for j, (tag, rate, clock) in enumerate(stage.options(state, phase, need)):
                        if not any(clock is c for c in self.clocks):
                            self.clocks.append(clock)
                        self.clock_index[row, j] = next(i for i, c in enumerate(self.clocks) if c is clock)
                        self.option_tag[row, j], self.option_rate[row, j] = _TAG[tag], rate
                        self.n_options[row] = j + 1
        # by financial year, phase and need (a phase without shares is the same in every year)
        self.first_setting = np.zeros((len(rules.first_setting_by_fy), len(PHASES), len(NEEDS), len(SETTINGS)))
        self.has_first_setting = np.zeros((len(PHASES), len(NEEDS)), dtype=bool)
        for fy, table in enumerate(rules.first_setting_by_fy):
            for (phase, need), shares in table.items():
                self.first_setting[fy, phase, need] = shares
                self.has_first_setting[phase, need] = True
        groups = ("school", "independent")
        self.destinations = np.zeros((len(rules.post16_destinations_by_fy), len(groups), len(POST16_OPTIONS)))  # by financial year
        self.has_destinations = np.zeros(len(groups), dtype=bool)
        for fy, destinations in enumerate(rules.post16_destinations_by_fy):
            for g, group in enumerate(groups):
                if group in destinations:
                    self.destinations[fy, g] = destinations[group]
                    self.has_destinations[g] = True
        self.post16_cease = np.array(rules.post16_cease_by_fy)
        self.post19_continue = np.array(rules.post19_continue_by_fy)
        self.post19_from_school = np.array(rules.post19_from_school_by_fy)
        self.transfer_to_special = np.array(rules.transfer_to_special)
        self.fy_starts = np.array(self.world.timeline.fy_starts)

    @staticmethod
    def row(state, phase, need):
        """Row of the option tables for (state, phase, need)."""
        return (state * len(PHASES) + phase) * len(NEEDS) + need

    # ---------------------------------------------------------------- vectorised pieces
    def _times(self, row: np.ndarray, now: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Event times of every option column (inf where a row has fewer options)."""
        out = np.full((len(now), MAX_OPTIONS), np.inf)
        for j in range(MAX_OPTIONS):
            which = self.clock_index[row, j]
            used = which >= 0
            if not used.any():
                break
            exposure = -np.log(1.0 - u[:, j]) / self.option_rate[row, j]
            for c in np.unique(which[used]):
                sel = which == c
                clock = self.clocks[c]
                out[sel, j] = now[sel] + exposure[sel] if clock is FLAT else clock.time_after_many(now[sel], exposure[sel])
        return out

    def _fy_index(self, days: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.fy_starts, days, side="right") - 1, 0, len(self.fy_starts) - 1)

    def first_settings(self, days: np.ndarray, phases: np.ndarray, needs: np.ndarray) -> np.ndarray:
        """Cumulative first-setting shares of a new plan on ``days``, one row per child."""
        return self.first_setting[self._fy_index(days), phases, needs]

    @staticmethod
    def _choose(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
        """:func:`~hnsim.model.parameters.choose` row by row (cumulative shares one row per child)."""
        target = u * cumulative[:, -1]
        return np.minimum((cumulative <= target[:, None]).sum(axis=1), cumulative.shape[1] - 1)

    # ---------------------------------------------------------------- the journey
    def run(self, holders: PlanHolders, rows: Rows) -> Outcome:
        """Run ``holders`` until each leaves, reaches the horizon or stops; spells and events go to ``rows``."""
        world = self.world
        timeline, horizon = world.timeline, world.horizon
        n = len(holders)
        plan_end = holders.births + PLAN_END_AGE * DAYS_PER_YEAR
        sept1 = timeline.sept1_days(holders.cohorts[:, None] + np.array(PHASE_START_YEARS))
        transfers = np.concatenate([np.minimum(sept1, plan_end[:, None]), plan_end[:, None]], axis=1)
        out = Outcome(np.zeros(n, dtype=bool), np.full(n, np.inf), holders.states.copy(), holders.phases.copy(),
                      holders.starts.copy(), holders.days.copy(), holders.counters.copy())
        pos = np.arange(n)
        state, phase = holders.states.astype(np.int64), holders.phases.astype(np.int64)
        start, now, counters = holders.starts.astype(float), holders.days.astype(float), holders.counters.astype(np.int64)
        keys, needs, ids = holders.keys, holders.needs, holders.ids
        while pos.size:
            # children in special schools or waiting: every step touches a place
            held = np.isin(state, HOLDS_OR_SEEKS)
            if held.any():
                self._stop(out, pos[held], state[held], phase[held], start[held], now[held], counters[held], now[held])
                keep = ~held
                pos, state, phase, start, now, counters = pos[keep], state[keep], phase[keep], start[keep], now[keep], counters[keep]
                if not pos.size:
                    break
            row = self.row(state, phase, needs[pos])
            before = counters
            u = uniforms(keys[pos][:, None], counters[:, None] + np.arange(1, MAX_OPTIONS + 1))
            times = self._times(row, now, u)
            tr = transfers[pos]
            deadline = tr[:, -1].copy()
            for j in range(tr.shape[1] - 2, -1, -1):  # the first transfer day after now
                deadline = np.where(tr[:, j] > now, tr[:, j], deadline)
            t, outcome = deadline, np.full(len(pos), DEADLINE)
            for j in range(MAX_OPTIONS):  # the scalar strict "<": ties go to the deadline, then to the earlier option
                win = times[:, j] < t
                t, outcome = np.where(win, times[:, j], t), np.where(win, self.option_tag[row, j], outcome)
            counters = counters + self.n_options[row]
            over = t >= horizon
            rows.spell(pos[over], ids[pos[over]], state[over], phase[over], start[over], np.full(over.sum(), horizon))
            new_state, new_phase = state.copy(), phase.copy()
            exit_code = np.where(over, 0, _CEASE_CODE[outcome])
            stop = ~over & np.isin(outcome, TAKES_A_PLACE_TAGS)
            for tag, target, code in (("exclusion", R.EHCP_AP, R.EV_PERMANENT_EXCLUSION), ("ehe", R.EHCP_EHE, R.EV_EHE_DEREGISTRATION), ("ap_return", R.EHCP_MAINSTREAM, 0)):
                sel = ~over & (outcome == _TAG[tag])
                if code:
                    rows.event(pos[sel], t[sel], code, ids[pos[sel]])
                new_state[sel] = target
            moving = np.flatnonzero(~over & (outcome == DEADLINE))
            if len(moving):
                self._transfer(moving, pos, holders, state, t, plan_end, counters, new_state, new_phase, stop, exit_code, rows)
            leaving = exit_code > 0
            closed = leaving | (~over & ~stop)
            rows.spell(pos[closed], ids[pos[closed]], state[closed], phase[closed], start[closed], t[closed])
            rows.event(pos[leaving], t[leaving], exit_code[leaving], ids[pos[leaving]])
            self._stop(out, pos[stop], state[stop], phase[stop], start[stop], now[stop], before[stop], t[stop])
            keep = ~over & ~stop & ~leaving
            pos, state, phase, start, now, counters = pos[keep], new_state[keep], new_phase[keep], t[keep], t[keep], counters[keep]
        return out

    @staticmethod
    def _stop(out: Outcome, where, state, phase, start, now, counters, stop_day) -> None:
        out.stopped[where] = True
        out.stop_day[where] = stop_day
        out.states[where], out.phases[where], out.starts[where], out.days[where], out.counters[where] = state, phase, start, now, counters

    def _transfer(self, idx, pos, holders, state, t, plan_end, counters, new_state, new_phase, stop, exit_code, rows) -> None:
        """Phase transfers of the children at ``idx`` (positions in the current arrays), as PlanStage.transfer."""
        day = t[idx]
        aged = day >= plan_end[pos[idx]] - 1e-9
        exit_code[idx[aged]] = R.EV_CEASED_AGE_25
        idx, day = idx[~aged], day[~aged]
        if not len(idx):
            return
        st = state[idx]
        who = pos[idx]
        ph = phases_of(self.world.timeline, holders.cohorts[who], day)
        new_phase[idx] = ph
        need = holders.needs[who]
        u = uniforms(holders.keys[who][:, None], counters[idx][:, None] + np.arange(1, 4))  # at most three draws in a transfer
        used = np.zeros(len(idx), dtype=np.int64)
        school = (ph == R.PHASE_PRIMARY) | (ph == R.PHASE_SECONDARY)
        # reception and year 7
        e = np.flatnonzero(school & (st == R.EHCP_EARLY_YEARS))
        if len(e):
            known = self.has_first_setting[ph[e], need[e]]
            setting = np.where(known, self._choose(self.first_settings(day[e], ph[e], need[e]), u[e, 0]), SETTINGS.index("mainstream"))
            used[e] += known
            stop[idx[e[setting == SETTINGS.index("special")]]] = True
            new_state[idx[e]] = _SETTING_CODE[setting]
            ind = e[setting == SETTINGS.index("independent")]
            if len(ind):
                share = self.bespoke_share.many(day[ind]) if self.bespoke_share else np.zeros(len(ind))
                drawn = share > 0.0
                bespoke = drawn & (u[ind, 1] < share)
                used[ind] += drawn
                new_state[idx[ind[bespoke]]] = R.EHCP_BESPOKE
                placed = ind[~bespoke]
                rows.event(pos[idx[placed]], day[placed], R.EV_INDEPENDENT_PLACEMENT, holders.ids[pos[idx[placed]]])
        m = np.flatnonzero(school & np.isin(st, (R.EHCP_MAINSTREAM, R.EHCP_RESOURCED)))
        if len(m):
            shift = self.transfer_shift.many(day[m]) if self.transfer_shift else np.zeros(len(m))
            used[m] += 1
            stop[idx[m[u[m, 0] < self.transfer_to_special[ph[m]] * (1.0 + shift)]]] = True
        # year 12
        p = np.flatnonzero(ph == R.PHASE_POST16)
        if len(p):
            fy = self._fy_index(day[p])
            extra = self.post16_cease[fy]
            drawn = extra > 0.0
            leaves = drawn & (u[p, 0] < extra)
            k = drawn.astype(np.int64)  # the destination draw comes after any extra-cease draw
            group = (st[p] == R.EHCP_INDEPENDENT).astype(np.int64)
            has = self.has_destinations[group] & ~leaves
            u_dest = np.where(k == 0, u[p, 0], u[p, 1])
            choice = np.where(has, self._choose(self.destinations[fy, group], u_dest), STAY)
            share = self.to_fe_share.many(day[p]) if self.to_fe_share else np.zeros(len(p))
            fe_drawn = has & (choice == SPECIALIST) & (share > 0.0)
            u_fe = np.where(k + has == 1, u[p, 1], u[p, 2])
            choice = np.where(fe_drawn & (u_fe < share), FE, choice)
            used[p] += k + has + fe_drawn
            ceasing = leaves | (has & (choice == CEASE))
            exit_code[idx[p[ceasing]]] = R.EV_CEASED_LEFT_EDUCATION
            stay_state = st[p]
            stay = np.where(stay_state == R.EHCP_AP, R.EHCP_POST16_FE, np.where(np.isin(stay_state, (R.EHCP_EHE, R.EHCP_EARLY_YEARS)), R.EHCP_OTHER, stay_state))
            new_state[idx[p]] = np.where(choice == STAY, stay, _POST16_CODE[choice])
        # the year of turning 19
        q = np.flatnonzero(ph == R.PHASE_POST19)
        if len(q):
            fy = self._fy_index(day[q])
            in_college = np.isin(st[q], IN_COLLEGE)
            continues = u[q, 0] < np.where(in_college, self.post19_continue[fy], self.post19_from_school[fy])
            specialist = continues & np.isin(st[q], (R.EHCP_INDEPENDENT, R.EHCP_POST16_SPECIALIST))
            share = self.to_fe_share.many(day[q]) if self.to_fe_share else np.zeros(len(q))
            drawn = specialist & (share > 0.0)
            to_fe = drawn & (u[q, 1] < share)
            used[q] += 1 + drawn
            exit_code[idx[q[~continues]]] = R.EV_CEASED_LEFT_EDUCATION
            new_state[idx[q]] = np.where(specialist & ~to_fe, R.EHCP_POST16_SPECIALIST, R.EHCP_POST16_FE)
        counters[idx] += used
