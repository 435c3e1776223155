"""The graduated pathway: SimPy processes for children with a plan or in assessment.

A child's journey is a loop over stages: no plan (early intervention, SEN support, AP, EHE), EHC
needs assessment, placement, life with a plan. In each stage the child faces competing hazards
(drawn from its own random numbers) and deterministic dates (phase transfer on 1 September of
reception, year 7, year 12 and at 19; the 25th birthday). Nothing ticks: a child's process wakes
only when something changes for it. The no-plan stage uses no shared resource, so it is
fast-forwarded in numpy for whole batches (:mod:`hnsim.model.no_plan`); a child gets a SimPy
process only once it requests an assessment. The model writes spells and flow events to an
:class:`~hnsim.model.records.EventLog`; stocks, flows and money are derived from the log afterwards.
"""

from __future__ import annotations

import bisect
from typing import Generator

import numpy as np
import simpy

from hnsim.config.schema import NEEDS, PHASES, SETTINGS, SPECIAL_POOLS, Config
from hnsim.model import records as R
from hnsim.model.arrivals import Arrivals
from hnsim.model.calendar import DAYS_PER_YEAR
from hnsim.model.distributions import sampler
from hnsim.model.hazard import Clock
from hnsim.model.levers import allocation_transfers_by_year, compile_levers
from hnsim.model.no_plan import Entrants, NoPlanStage, Requests
from hnsim.model.parameters import FLAT, Parameters, compile_parameters, cumulative, need_multipliers, phase_rates
from hnsim.model.places import PlacePool
from hnsim.model.plans import POST16_OPTIONS, WithPlan
from hnsim.model.streams import child_key, replication_key

#: Years of schooling (0 = reception) at which the phase changes: primary, secondary, post16, post19.
PHASE_START_YEARS = np.array([0, 7, 12, 15])


class PathwayModel(Arrivals, WithPlan):
    """One replication of the pathway for one config."""

    def __init__(self, config: Config, replication: int = 0, seed: int | None = None, params: Parameters | None = None):
        self.config = config
        self.replication = replication
        self.seed = config.simulation.seed if seed is None else seed
        self.p = params if params is not None else compile_parameters(config)
        self.cal = self.p.calendar
        self.env = simpy.Environment()
        self.log = R.EventLog()
        self.rep_key = replication_key(self.seed, replication)
        self.alive: dict[int, R.Child] = {}
        self._next_id = 0
        self.levers = compile_levers(config, self.cal, self.seed, replication)
        self.log.pool_schedules = self._pool_schedules()
        self.log.allocation_transfers = list(allocation_transfers_by_year(self.levers, self.cal))
        self.pools = {name: PlacePool(self.env, name, self.log.pool_schedules[name]) for name in SPECIAL_POOLS}
        self.team = simpy.Resource(self.env, capacity=config.assessment.team_capacity.value)
        first_year = config.simulation.start_date.year - 40
        self._sept1_first_year = first_year
        self._sept1 = [self.cal.sept1(y) for y in range(first_year, config.simulation.end_date.year + 40)]
        self._sept1_array = np.array(self._sept1)
        self._prepare()
        self.no_plan = NoPlanStage(self)

    # ---------------------------------------------------------------- parameters in the hot path
    def _prepare(self) -> None:
        c = self.config
        s, e = c.sen_support, c.ehcp
        self.r_request = phase_rates(s.request_rate.value)
        self.m_request = need_multipliers(s.request_need_multiplier.value)
        self.m_enhanced = s.enhanced_request_multiplier.value
        self.r_enhance = phase_rates(s.escalation_to_enhanced_rate.value)
        self.r_step_down = phase_rates(s.step_down_rate.value)
        self.r_move_away = phase_rates(s.move_away_rate.value)
        self.r_exclusion = phase_rates(s.exclusion_rate.value)
        self.m_exclusion = need_multipliers(s.exclusion_need_multiplier.value)
        self.r_ehe = phase_rates(s.ehe_rate.value)
        self.r_reintegrate = phase_rates(c.alternative_provision.reintegration_rate.value)
        self.r_ehe_return = phase_rates(c.alternative_provision.ehe_return_rate.value)
        self.e_to_special = phase_rates(e.mainstream_to_special_rate.value)
        self.m_to_special = need_multipliers(e.mainstream_to_special_need_multiplier.value)
        self.e_to_mainstream = phase_rates(e.special_to_mainstream_rate.value)
        self.e_independent_to_special = phase_rates(e.independent_to_special_rate.value)
        self.e_exclusion = phase_rates(e.exclusion_rate.value)
        self.m_e_exclusion = need_multipliers(e.exclusion_need_multiplier.value)
        self.e_ap_return = phase_rates(e.ap_return_rate.value)
        self.e_ehe = phase_rates(e.ehe_rate.value)
        self.e_cease = phase_rates(e.ceasing_needs_met_rate.value)
        self.e_move_away = phase_rates(e.move_away_rate.value)
        self.e_leave = phase_rates(e.leave_education_rate.value)
        a = c.assessment
        self.decision_days = sampler(a.decision_days)
        self.tribunal_days = sampler(a.tribunal_days)
        self.assessment_days = sampler(a.assessment_days)
        self.drafting_days = sampler(a.drafting_days)
        by_year = a.refusal_probability_by_year.value if a.refusal_probability_by_year else {}
        bounds = self.cal.fy_bounds()
        self._fy_starts = [first for _, first, _ in bounds]
        self._refusal = [by_year.get(label, a.refusal_probability.value) for label, _, _ in bounds]
        pl = c.placement
        multipliers = need_multipliers(pl.special_need_multiplier.value)
        self.first_setting = {}
        for phase_name, shares in pl.first_setting_shares.value.items():
            for need, m in enumerate(multipliers):
                self.first_setting[(PHASES.index(phase_name), need)] = cumulative(_scale_special(shares, m), SETTINGS)
        self.independent_when_full = pl.when_special_full.independent_probability.value
        max_wait = pl.when_special_full.max_wait_days
        self.max_wait_days = max_wait.value if max_wait is not None else None
        self.transfer_to_special = pl.transfer.mainstream_to_special_probability.value
        self.post16_destinations = {g: cumulative(v, POST16_OPTIONS) for g, v in pl.transfer.post16_destinations.value.items()}
        self.post19_continue = pl.transfer.post19_continue_probability.value
        cease_by_year = pl.transfer.post16_cease_probability_by_year
        self.post16_cease_by_fy = [cease_by_year.value.get(label, 0.0) if cease_by_year else 0.0 for label, _, _ in bounds]
        ident = c.identification
        self.need_shares = {PHASES.index(ph): cumulative(v, NEEDS) for ph, v in ident.need_shares.value.items()}
        self.initial_settings = {PHASES.index(ph): cumulative(v, SETTINGS) for ph, v in c.initial_population.ehcp_setting_shares.value.items()}
        self.clock_request = self.clocks("sen_support.request")
        self.clock_exclusion = self.clocks("sen_support.exclusion")
        self.clock_ehe = self.clocks("sen_support.ehe")
        self.clock_enhance = self.clocks("sen_support.escalation")
        self.clock_step_down = self.clocks("sen_support.step_down")
        self.clock_reintegrate = self.clocks("ap.reintegration")
        self.clock_to_special = self.clocks("ehcp.mainstream_to_special")
        self.clock_e_exclusion = self.clocks("ehcp.exclusion")
        self.clock_ap_return = self.clocks("ehcp.ap_return")
        self.clock_cease = self.clocks("ehcp.ceasing_needs_met")
        self.clock_leave = self.clocks("ehcp.leave_education")

    def clocks(self, hazard: str) -> list[Clock]:
        """A hazard's clock in each phase: its trend (config) times the levers acting on it.

        Stays the config's own clock (often the shared ``FLAT``) when no lever acts on it.
        """
        out = []
        for ph in range(len(PHASES)):
            base, lever = self.p.clock(hazard, ph), self.levers.hazard_clock(hazard, ph)
            if lever is None or (lever.constant and lever.multipliers[0] == 1.0):
                out.append(base)
            else:
                out.append(lever if base is FLAT else base.times(lever))
        return out

    def _pool_schedules(self) -> dict[str, list[tuple[float, int]]]:
        """Commissioned places by pool: the config's schedule plus places opened by levers."""
        schedules = {}
        for pool in SPECIAL_POOLS:
            base = self.p.pool_schedules[pool]
            changes = [base[0]] + [(day, places - before) for (day, places), (_, before) in zip(base[1:], base[:-1])]
            changes += [(day, places) for name, day, places in self.levers.extra_places if name == pool]
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
    # ---------------------------------------------------------------- calendar helpers
    def academic_year(self, day: float) -> int:
        """Calendar year of the 1 September that began the academic year containing ``day``."""
        return self._sept1_first_year + bisect.bisect_right(self._sept1, day) - 1

    def sept1(self, year: int) -> float:
        return self._sept1[year - self._sept1_first_year]

    def phase_of(self, child: R.Child, day: float) -> int:
        """Phase from national curriculum year: reception is year 0, age 19+ is post19."""
        ncy = self.academic_year(day) - child.cohort
        if ncy < 0:
            return R.PHASE_EARLY_YEARS
        if ncy < 7:
            return R.PHASE_PRIMARY
        if ncy < 12:
            return R.PHASE_SECONDARY
        if ncy < 15:
            return R.PHASE_POST16
        return R.PHASE_POST19

    def next_transfer(self, child: R.Child, now: float) -> float:
        """Next phase transfer day (reception, year 7, year 12, 19) or the 25th birthday."""
        for offset in (0, 7, 12, 15):
            day = self.sept1(child.cohort + offset)
            if day > now:
                return min(day, child.birth_day + 25 * DAYS_PER_YEAR)
        return child.birth_day + 25 * DAYS_PER_YEAR

    def academic_years(self, days: np.ndarray) -> np.ndarray:
        """:meth:`academic_year` for an array of days."""
        return self._sept1_first_year + np.searchsorted(self._sept1_array, days, side="right") - 1

    def sept1_days(self, years: np.ndarray) -> np.ndarray:
        """:meth:`sept1` for an array of years."""
        return self._sept1_array[years - self._sept1_first_year]

    def phases_of(self, cohorts: np.ndarray, days: np.ndarray) -> np.ndarray:
        """:meth:`phase_of` for arrays of cohorts and days."""
        return np.searchsorted(PHASE_START_YEARS, self.academic_years(days) - cohorts, side="right")

    # ---------------------------------------------------------------- bookkeeping
    def new_child(self, origin: int, index: int, birth_day: float, need: int) -> R.Child:
        cohort = self.academic_year(birth_day) + 5
        child = R.Child(self._next_id, child_key(self.rep_key, origin, index), cohort, birth_day, need)
        self._next_id += 1
        self.alive[child.id] = child
        self.log.child_cohort.append(cohort)
        self.log.child_need.append(need)
        self.log.child_birth_day.append(birth_day)
        return child

    def set_need(self, child: R.Child, need: int) -> None:
        child.need = need
        self.log.child_need[child.id] = need

    def set_state(self, child: R.Child, state: int, phase: int | None = None) -> None:
        """Close the current spell and open a new one."""
        now = self.env.now
        if child.state >= 0:
            self.log.spell(child.id, child.state, child.phase, child.spell_start, now)
        child.state = state
        child.phase = self.phase_of(child, now) if phase is None else phase
        child.spell_start = now

    def leave(self, child: R.Child, code: int) -> None:
        """The child leaves the model (plan ceased or no-plan exit)."""
        now = self.env.now
        self.release_place(child)
        self.log.spell(child.id, child.state, child.phase, child.spell_start, now)
        self.log.event(now, code, child.id)
        del self.alive[child.id]

    def release_place(self, child: R.Child) -> None:
        if child.pool is not None:
            self.pools[child.pool].release()
            child.pool = None

    def new_ids(self, cohorts: np.ndarray, needs: np.ndarray, births: np.ndarray) -> np.ndarray:
        """Ids for a batch of children (who get a :class:`~hnsim.model.records.Child` only if they need a process)."""
        ids = np.arange(self._next_id, self._next_id + len(cohorts))
        self._next_id += len(cohorts)
        self.log.child_cohort.extend(cohorts.tolist())
        self.log.child_need.extend(needs.tolist())
        self.log.child_birth_day.extend(births.tolist())
        return ids

    # ---------------------------------------------------------------- competing hazards
    def draw(self, child: R.Child, options: list, deadline: float) -> tuple[float, str | None]:
        """Earliest of competing events ``(tag, rate_per_day, clock)``, or ``(deadline, None)``.

        Every option with a positive rate takes the child's next draw, in option order, whatever
        its clock: a lever that changes a clock then moves only that event's time, and the child's
        other draws stay the same across scenarios (common random numbers).
        :meth:`hnsim.model.no_plan.NoPlanStage.draw` makes the same draw for whole batches; keep the
        two in step (``tests/test_no_plan.py`` compares them).
        """
        now = self.env.now
        best_t, best_tag = deadline, None
        draws = child.draws
        for tag, rate, clock in options:
            if rate <= 0.0:
                continue
            t = clock.time_after(now, draws.exponential() / rate)
            if t < best_t:
                best_t, best_tag = t, tag
        return best_t, best_tag

    # ---------------------------------------------------------------- the journey
    def journey(self, child: R.Child, action: str = "continue") -> Generator:
        """A child's path through the system from a request or a plan, until it leaves."""
        while action != "exit":
            if action == "request":
                yield self.env.timeout(child.request_day - self.env.now)
                action = "assess"
            elif action == "assess":
                action = yield from self.assess(child)
            elif action == "place":
                action = self.place_new_plan(child)
            elif child.state < 10:
                action = self.without_plan(child)
            elif child.state == R.EHCP_MAINSTREAM_WAITING:
                action = yield from self.waiting(child)
            else:
                action = yield from self.with_plan(child)

    def enter_without_plan(self, entrants: Entrants) -> None:
        """Fast-forward a batch through the no-plan stage; start a process for each request."""
        requests = self.no_plan.fast_forward(entrants)
        who = entrants.subset(requests.index)
        for j, record in enumerate(zip(who.ids.tolist(), who.keys.tolist(), who.cohorts.tolist(), who.births.tolist(), who.needs.tolist())):
            child = R.Child(*record)
            self._hand_over(child, requests, j)
            self.alive[child.id] = child
            self.env.process(self.journey(child, "request"))

    def without_plan(self, child: R.Child) -> str:
        """Back without a plan after an assessment: fast-forward to the next request, if any."""
        requests = self.no_plan.fast_forward(Entrants.of_child(child, self.env.now))
        if not len(requests.index):
            del self.alive[child.id]  # left, or still without a plan at the horizon: spells all logged
            return "exit"
        self._hand_over(child, requests, 0)
        return "request"

    @staticmethod
    def _hand_over(child: R.Child, requests: Requests, j: int) -> None:
        """Where a child stands at request ``j``: its open no-plan spell, the day, the draws used so far."""
        child.state, child.phase = int(requests.states[j]), int(requests.phases[j])
        child.spell_start, child.request_day = float(requests.starts[j]), float(requests.days[j])
        child.draws.n = int(requests.counters[j])

    def assess(self, child: R.Child) -> Generator:
        """Request, decision, possible refusal and appeal, assessment by a finite team, plan or not."""
        env, a, draws, log = self.env, self.config.assessment, child.draws, self.log
        child.request_day = env.now
        log.event(env.now, R.EV_REQUEST, child.id)
        yield env.timeout(self.decision_days(draws.uniform()))
        fy = min(max(bisect.bisect_right(self._fy_starts, env.now) - 1, 0), len(self._refusal) - 1)
        levers = self.levers
        if draws.uniform() < self._refusal[fy] + (levers.refusal(env.now) if levers.refusal else 0.0):
            log.event(env.now, R.EV_REFUSED, child.id)
            if draws.uniform() >= a.appeal_probability.value + (levers.appeal(env.now) if levers.appeal else 0.0):
                return self.after_no_plan(child)
            log.event(env.now, R.EV_APPEAL, child.id)
            yield env.timeout(self.tribunal_days(draws.uniform()))
            if draws.uniform() >= a.tribunal_finds_for_parents.value:
                return self.after_no_plan(child)
            log.event(env.now, R.EV_TRIBUNAL_FOR_PARENTS, child.id)
        queued = env.now
        with self.team.request() as caseworker:
            yield caseworker
            log.event(env.now, R.EV_ASSESSMENT_START, child.id, env.now - queued)
            yield env.timeout(self.assessment_days(draws.uniform()))
        yield env.timeout(self.drafting_days(draws.uniform()))
        if draws.uniform() >= a.plan_probability.value + (levers.plan_probability(env.now) if levers.plan_probability else 0.0):
            log.event(env.now, R.EV_ASSESSED_NO_PLAN, child.id)
            return self.after_no_plan(child)
        log.event(env.now, R.EV_NEW_EHCP, child.id, env.now - child.request_day)
        return "place"

    def after_no_plan(self, child: R.Child) -> str:
        """Back to the no-plan state, noting any phase change that happened meanwhile."""
        phase = self.phase_of(child, self.env.now)
        if phase >= R.PHASE_POST16:
            self.leave(child, R.EV_NO_PLAN_EXIT)
            return "exit"
        if phase != child.phase:
            state = R.SEN_SUPPORT if child.state == R.EARLY_INTERVENTION and phase > 0 else child.state
            self.set_state(child, state, phase)
        return "continue"

    # ---------------------------------------------------------------- run
    def run(self) -> R.EventLog:
        """Simulate from the start date to the horizon; return the log with every spell closed."""
        without_plan = [self.seed_initial_population(), self.identified(), self.ap_direct_entries()]
        self.enter_without_plan(Entrants.concat(without_plan))
        self.env.process(self.moves_in())
        self.env.process(self.post16_conversions())
        horizon = self.cal.horizon
        self.env.run(until=horizon)
        for child in self.alive.values():
            self.log.spell(child.id, child.state, child.phase, child.spell_start, horizon)
        self.log.sort_events()
        self.log.sim_events = next(self.env._eid)  # events scheduled
        return self.log


def _scale_special(shares: dict[str, float], odds_multiplier: float) -> dict[str, float]:
    """Scale the odds of a special setting by a need multiplier, keeping the others in proportion."""
    p = shares.get("special", 0.0)
    if odds_multiplier == 1.0 or p in (0.0, 1.0):
        return shares
    odds = p / (1 - p) * odds_multiplier
    new_p = odds / (1 + odds)
    rest = 1 - p
    return {k: (new_p if k == "special" else v * (1 - new_p) / rest) for k, v in shares.items()}


def simulate(config: Config, replication: int = 0, seed: int | None = None, params: Parameters | None = None) -> R.EventLog:
    """Run one replication and return its event log."""
    return PathwayModel(config, replication, seed, params).run()
