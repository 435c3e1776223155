"""The graduated pathway as SimPy processes: one process per child, plus arrival processes.

A child's journey is a loop over stage generators: no plan (early intervention, SEN support, AP,
EHE), EHC needs assessment, placement, life with a plan. In each stage the child faces competing
hazards (drawn from its own random numbers) and deterministic dates (phase transfer on 1 September
of reception, year 7, year 12 and at 19; the 25th birthday). Nothing ticks: a child's process wakes
only when something changes for it. The model writes spells and flow events to an
:class:`~hnsim.model.records.EventLog`; stocks, flows and money are derived from the log afterwards.
"""

from __future__ import annotations

import bisect
from typing import Generator

import numpy as np
import simpy

from hnsim.config.schema import NEEDS, PHASES, SETTINGS, SPECIAL_POOLS, Config
from hnsim.model import records as R
from hnsim.model.calendar import DAYS_PER_YEAR
from hnsim.model.distributions import sampler
from hnsim.model.parameters import FLAT, Parameters, compile_parameters, cumulative, need_multipliers, phase_rates
from hnsim.model.places import PlacePool
from hnsim.model.streams import (
    ORIGIN_AP_DIRECT,
    ORIGIN_IDENTIFIED,
    ORIGIN_INITIAL,
    ORIGIN_MOVED_IN,
    ORIGIN_POST16_CONVERSION,
    child_key,
    replication_key,
    stream,
)

NO_PLAN_STATES = (R.EARLY_INTERVENTION, R.SEN_SUPPORT, R.SEN_SUPPORT_ENHANCED, R.AP_NO_PLAN, R.EHE_NO_PLAN)
SPECIAL_STATES = (R.EHCP_SPECIAL, R.EHCP_SEMH_SPECIAL)
SCHOOL_GROUP = {R.EHCP_SPECIAL: "special", R.EHCP_SEMH_SPECIAL: "special", R.EHCP_INDEPENDENT: "independent"}
POST16_OPTIONS = ("stay", "post16_fe", "post16_specialist", "cease")
AGE_BAND_RANGES = {"under5": (2, 5), "5-10": (5, 11), "11-15": (11, 16), "16-19": (16, 20), "20-25": (20, 25)}
SEMH = NEEDS.index("SEMH")


def _choose(cumulative_shares: list[float], u: float) -> int:
    """Index chosen by inverse CDF (robust to shares summing to slightly under 1)."""
    i = bisect.bisect_right(cumulative_shares, u * cumulative_shares[-1])
    return min(i, len(cumulative_shares) - 1)


class PathwayModel:
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
        self.pools = {name: PlacePool(self.env, name, self.p.pool_schedules[name]) for name in SPECIAL_POOLS}
        self.team = simpy.Resource(self.env, capacity=config.assessment.team_capacity.value)
        first_year = config.simulation.start_date.year - 40
        self._sept1_first_year = first_year
        self._sept1 = [self.cal.sept1(y) for y in range(first_year, config.simulation.end_date.year + 40)]
        self._prepare()

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
        ident = c.identification
        self.need_shares = {PHASES.index(ph): cumulative(v, NEEDS) for ph, v in ident.need_shares.value.items()}
        self.initial_settings = {PHASES.index(ph): cumulative(v, SETTINGS) for ph, v in c.initial_population.ehcp_setting_shares.value.items()}
        self.clock_request = [self.p.clock("sen_support.request", ph) for ph in range(len(PHASES))]
        self.clock_exclusion = [self.p.clock("sen_support.exclusion", ph) for ph in range(len(PHASES))]
        self.clock_ehe = [self.p.clock("sen_support.ehe", ph) for ph in range(len(PHASES))]

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

    # ---------------------------------------------------------------- competing hazards
    def draw(self, child: R.Child, options: list, deadline: float) -> tuple[float, str | None]:
        """Earliest of competing events ``(tag, rate_per_day, clock)``, or ``(deadline, None)``."""
        now = self.env.now
        best_t, best_tag = deadline, None
        flat_total = 0.0
        draws = child.draws
        for tag, rate, clock in options:
            if rate <= 0.0:
                continue
            if clock is FLAT:
                flat_total += rate
                continue
            t = clock.time_after(now, draws.exponential() / rate)
            if t < best_t:
                best_t, best_tag = t, tag
        if flat_total > 0.0:
            t = now + draws.exponential() / flat_total
            if t < best_t:
                best_t = t
                target = draws.uniform() * flat_total
                acc = 0.0
                for tag, rate, clock in options:
                    if clock is FLAT and rate > 0.0:
                        acc += rate
                        best_tag = tag
                        if target < acc:
                            break
        return best_t, best_tag

    # ---------------------------------------------------------------- the journey
    def journey(self, child: R.Child, action: str = "continue") -> Generator:
        """A child's whole path through the system, until it leaves."""
        while action != "exit":
            if action == "assess":
                action = yield from self.assess(child)
            elif action == "place":
                action = self.place_new_plan(child)
            elif child.state < 10:
                action = yield from self.without_plan(child)
            elif child.state == R.EHCP_MAINSTREAM_WAITING:
                action = yield from self.waiting(child)
            else:
                action = yield from self.with_plan(child)

    def without_plan(self, child: R.Child) -> Generator:
        """Early intervention, SEN support, AP or EHE without a plan."""
        env, state, ph, need = self.env, child.state, child.phase, child.need
        now = env.now
        deadline = self.next_transfer(child, now)
        if state == R.AP_NO_PLAN:
            options = [
                ("reintegrate", self.r_reintegrate[ph], FLAT),
                ("request", self.r_request[ph] * self.m_request[need], self.clock_request[ph]),
                ("move_away", self.r_move_away[ph], FLAT),
            ]
        elif state == R.EHE_NO_PLAN:
            options = [("return", self.r_ehe_return[ph], FLAT), ("move_away", self.r_move_away[ph], FLAT)]
        else:
            request = self.r_request[ph] * self.m_request[need]
            if state == R.SEN_SUPPORT_ENHANCED:
                request *= self.m_enhanced
            options = [
                ("request", request, self.clock_request[ph]),
                ("step_down", self.r_step_down[ph], FLAT),
                ("move_away", self.r_move_away[ph], FLAT),
                ("exclusion", self.r_exclusion[ph] * self.m_exclusion[need], self.clock_exclusion[ph]),
                ("ehe", self.r_ehe[ph], self.clock_ehe[ph]),
            ]
            if state == R.SEN_SUPPORT:
                options.append(("enhance", self.r_enhance[ph], FLAT))
        when, tag = self.draw(child, options, deadline)
        yield env.timeout(when - now)
        if tag is None:
            phase = self.phase_of(child, env.now)
            if phase >= R.PHASE_POST16:
                self.leave(child, R.EV_NO_PLAN_EXIT)
                return "exit"
            self.set_state(child, R.SEN_SUPPORT if state == R.EARLY_INTERVENTION else state, phase)
            return "continue"
        if tag == "request":
            return "assess"
        if tag in ("step_down", "move_away"):
            self.leave(child, R.EV_NO_PLAN_EXIT)
            return "exit"
        if tag == "exclusion":
            self.log.event(env.now, R.EV_PERMANENT_EXCLUSION, child.id)
            self.set_state(child, R.AP_NO_PLAN)
        elif tag == "ehe":
            self.log.event(env.now, R.EV_EHE_DEREGISTRATION, child.id)
            self.set_state(child, R.EHE_NO_PLAN)
        elif tag == "enhance":
            self.set_state(child, R.SEN_SUPPORT_ENHANCED)
        else:  # reintegrate, return
            self.set_state(child, R.SEN_SUPPORT)
        return "continue"

    def assess(self, child: R.Child) -> Generator:
        """Request, decision, possible refusal and appeal, assessment by a finite team, plan or not."""
        env, a, draws, log = self.env, self.config.assessment, child.draws, self.log
        child.request_day = env.now
        log.event(env.now, R.EV_REQUEST, child.id)
        yield env.timeout(self.decision_days(draws.uniform()))
        fy = min(max(bisect.bisect_right(self._fy_starts, env.now) - 1, 0), len(self._refusal) - 1)
        if draws.uniform() < self._refusal[fy]:
            log.event(env.now, R.EV_REFUSED, child.id)
            if draws.uniform() >= a.appeal_probability.value:
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
        if draws.uniform() >= a.plan_probability.value:
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

    # ---------------------------------------------------------------- placement
    def place_new_plan(self, child: R.Child) -> str:
        """Name a setting in a new plan."""
        phase = self.phase_of(child, self.env.now)
        shares = self.first_setting.get((phase, child.need))
        setting = SETTINGS[_choose(shares, child.draws.uniform())] if shares else "mainstream"
        self.enter_setting(child, setting, phase, from_mainstream=False)
        return "continue"

    def enter_setting(self, child: R.Child, setting: str, phase: int, from_mainstream: bool) -> None:
        if setting == "special":
            self.seek_special(child, phase, from_mainstream, may_wait=True)
        elif setting == "independent":
            self.log.event(self.env.now, R.EV_INDEPENDENT_PLACEMENT, child.id)
            if from_mainstream:
                self.log.event(self.env.now, R.EV_MAINSTREAM_TO_SPECIAL, child.id)
            self.set_state(child, R.EHCP_INDEPENDENT, phase)
        else:
            self.set_state(child, R.SETTING_STATE[setting], phase)

    def pools_for(self, child: R.Child, phase: int) -> tuple[str, ...]:
        if phase <= R.PHASE_PRIMARY:
            return ("special_primary",)
        if phase == R.PHASE_SECONDARY:
            return ("semh_secondary", "special_secondary") if child.need == SEMH else ("special_secondary",)
        return ("special_post16",)

    def seek_special(self, child: R.Child, phase: int, from_mainstream: bool, may_wait: bool, fallback: int = R.EHCP_INDEPENDENT) -> bool:
        """Take a special place if free; otherwise ``fallback`` (independent) or a wait in mainstream.

        A child already holding a place of the right kind keeps it. True if placed in special.
        """
        now = self.env.now
        names = self.pools_for(child, phase)
        if child.pool in names:
            self.set_state(child, child.state, phase)
            return True
        for name in names:
            if self.pools[name].take():
                self.release_place(child)
                child.pool = name
                if from_mainstream:
                    self.log.event(now, R.EV_MAINSTREAM_TO_SPECIAL, child.id)
                self.set_state(child, R.EHCP_SEMH_SPECIAL if name == "semh_secondary" else R.EHCP_SPECIAL, phase)
                return True
        self.release_place(child)
        if not may_wait or child.draws.uniform() < self.independent_when_full:
            if fallback == R.EHCP_INDEPENDENT:
                self.log.event(now, R.EV_INDEPENDENT_PLACEMENT, child.id)
                if from_mainstream:
                    self.log.event(now, R.EV_MAINSTREAM_TO_SPECIAL, child.id)
            self.set_state(child, fallback, phase)
            return False
        child.wait_start = now
        self.set_state(child, R.EHCP_MAINSTREAM_WAITING, phase)
        return False

    def waiting(self, child: R.Child) -> Generator:
        """In mainstream with a top-up, queued for a special place."""
        env, ph = self.env, child.phase
        now = env.now
        pool = self.pools[self.pools_for(child, ph)[-1]]
        grant = pool.wait(child)
        deadline = self.next_transfer(child, now)
        max_wait_end = child.wait_start + self.max_wait_days if self.max_wait_days is not None else float("inf")
        options = [("cease", self.e_cease[ph], FLAT), ("move_away", self.e_move_away[ph], FLAT)]
        when, tag = self.draw(child, options, min(deadline, max_wait_end))
        yield grant | env.timeout(when - now)
        waited = env.now - child.wait_start
        if grant.triggered:
            child.pool = pool.name
            self.log.event(env.now, R.EV_SPECIAL_PLACE_WAIT_END, child.id, waited)
            self.log.event(env.now, R.EV_MAINSTREAM_TO_SPECIAL, child.id)
            self.set_state(child, R.EHCP_SEMH_SPECIAL if pool.name == "semh_secondary" else R.EHCP_SPECIAL)
            return "continue"
        pool.cancel(grant)
        if tag is not None:
            self.log.event(env.now, R.EV_SPECIAL_PLACE_WAIT_END, child.id, waited)
            self.leave(child, R.EV_CEASED_NEEDS_MET if tag == "cease" else R.EV_CEASED_MOVED_AWAY)
            return "exit"
        if env.now >= max_wait_end and env.now < deadline:
            self.log.event(env.now, R.EV_SPECIAL_PLACE_WAIT_END, child.id, waited)
            self.log.event(env.now, R.EV_INDEPENDENT_PLACEMENT, child.id)
            self.log.event(env.now, R.EV_MAINSTREAM_TO_SPECIAL, child.id)
            self.set_state(child, R.EHCP_INDEPENDENT)
            return "continue"
        return self.transfer(child)

    def with_plan(self, child: R.Child) -> Generator:
        """Life with a plan in one setting until a move, a cessation or a phase transfer."""
        env, state, ph, need = self.env, child.state, child.phase, child.need
        now = env.now
        deadline = self.next_transfer(child, now)
        options = [("cease", self.e_cease[ph], FLAT), ("move_away", self.e_move_away[ph], FLAT), ("leave", self.e_leave[ph], FLAT)]
        if state in (R.EHCP_MAINSTREAM, R.EHCP_RESOURCED):
            options += [
                ("to_special", self.e_to_special[ph] * self.m_to_special[need], FLAT),
                ("exclusion", self.e_exclusion[ph] * self.m_e_exclusion[need], FLAT),
                ("ehe", self.e_ehe[ph], FLAT),
            ]
        elif state in SPECIAL_STATES:
            options.append(("to_mainstream", self.e_to_mainstream[ph], FLAT))
        elif state == R.EHCP_INDEPENDENT:
            options.append(("independent_to_special", self.e_independent_to_special[ph], FLAT))
        elif state == R.EHCP_AP:
            options += [("ap_return", self.e_ap_return[ph], FLAT), ("ehe", self.e_ehe[ph], FLAT)]
        when, tag = self.draw(child, options, deadline)
        yield env.timeout(when - now)
        now = env.now
        if tag is None:
            return self.transfer(child)
        if tag in ("cease", "move_away", "leave"):
            code = {"cease": R.EV_CEASED_NEEDS_MET, "move_away": R.EV_CEASED_MOVED_AWAY, "leave": R.EV_CEASED_LEFT_EDUCATION}[tag]
            self.leave(child, code)
            return "exit"
        if tag == "to_special":
            self.seek_special(child, ph, from_mainstream=True, may_wait=True)
        elif tag == "exclusion":
            self.log.event(now, R.EV_PERMANENT_EXCLUSION, child.id)
            self.set_state(child, R.EHCP_AP)
        elif tag == "ehe":
            self.log.event(now, R.EV_EHE_DEREGISTRATION, child.id)
            self.set_state(child, R.EHCP_EHE)
        elif tag == "to_mainstream":
            self.release_place(child)
            self.log.event(now, R.EV_SPECIAL_TO_MAINSTREAM, child.id)
            self.set_state(child, R.EHCP_MAINSTREAM)
        elif tag == "independent_to_special":
            for name in self.pools_for(child, ph):
                if self.pools[name].take():
                    child.pool = name
                    self.set_state(child, R.EHCP_SEMH_SPECIAL if name == "semh_secondary" else R.EHCP_SPECIAL)
                    break
        elif tag == "ap_return":
            self.set_state(child, R.EHCP_MAINSTREAM)
        return "continue"

    def transfer(self, child: R.Child) -> str:
        """Phase transfer on 1 September (or the 25th birthday): the placement is reconsidered."""
        now, draws, state = self.env.now, child.draws, child.state
        if now >= child.birth_day + 25 * DAYS_PER_YEAR - 1e-9:
            self.leave(child, R.EV_CEASED_AGE_25)
            return "exit"
        phase = self.phase_of(child, now)
        mainstream_like = state in (R.EHCP_MAINSTREAM, R.EHCP_RESOURCED, R.EHCP_MAINSTREAM_WAITING)
        if phase in (R.PHASE_PRIMARY, R.PHASE_SECONDARY):
            if state == R.EHCP_EARLY_YEARS:
                shares = self.first_setting.get((phase, child.need))
                setting = SETTINGS[_choose(shares, draws.uniform())] if shares else "mainstream"
                self.enter_setting(child, setting, phase, from_mainstream=False)
            elif state in SPECIAL_STATES or state == R.EHCP_MAINSTREAM_WAITING:
                waiting = state == R.EHCP_MAINSTREAM_WAITING
                self.seek_special(child, phase, from_mainstream=waiting, may_wait=waiting)
            elif mainstream_like and draws.uniform() < self.transfer_to_special.get(PHASES[phase], 0.0):
                self.seek_special(child, phase, from_mainstream=True, may_wait=True)
            else:
                self.set_state(child, state, phase)
            return "continue"
        if phase == R.PHASE_POST16:
            group = SCHOOL_GROUP.get(state, "school")
            shares = self.post16_destinations.get(group)
            choice = POST16_OPTIONS[_choose(shares, draws.uniform())] if shares else "stay"
            if choice == "cease":
                self.leave(child, R.EV_CEASED_LEFT_EDUCATION)
                return "exit"
            if choice == "stay":
                if state in SPECIAL_STATES:
                    self.seek_special(child, phase, from_mainstream=False, may_wait=False, fallback=R.EHCP_POST16_SPECIALIST)
                elif state in (R.EHCP_AP, R.EHCP_EHE, R.EHCP_EARLY_YEARS):
                    self.set_state(child, R.EHCP_POST16_FE if state == R.EHCP_AP else R.EHCP_OTHER, phase)
                elif state == R.EHCP_MAINSTREAM_WAITING:
                    self.set_state(child, R.EHCP_MAINSTREAM, phase)
                else:
                    self.set_state(child, state, phase)
            else:
                self.release_place(child)
                self.set_state(child, R.SETTING_STATE[choice], phase)
            return "continue"
        # age 19: adult phase
        if draws.uniform() >= self.post19_continue:
            self.leave(child, R.EV_CEASED_LEFT_EDUCATION)
            return "exit"
        self.release_place(child)
        specialist = state in SPECIAL_STATES or state in (R.EHCP_INDEPENDENT, R.EHCP_POST16_SPECIALIST)
        self.set_state(child, R.EHCP_POST16_SPECIALIST if specialist else R.EHCP_POST16_FE, phase)
        return "continue"

    # ---------------------------------------------------------------- arrivals
    def _random_need(self, phase: int, u: float) -> int:
        shares = self.need_shares.get(phase) or self.need_shares.get(R.PHASE_PRIMARY)
        return _choose(shares, u)

    def seed_initial_population(self) -> None:
        """Children known at the start date: SEN support by age, plans by age band and setting."""
        c, env = self.config.initial_population, self.env
        rng = stream(self.seed, self.replication, "initial_population")
        index = 0
        enhanced_share = c.enhanced_share.value
        for age, count in sorted(c.sen_support_by_age.value.items()):
            for _ in range(count):
                birth = -(age + rng.random()) * DAYS_PER_YEAR
                child = self._initial_child(index, birth, rng)
                index += 1
                phase = self.phase_of(child, 0.0)
                if phase == R.PHASE_EARLY_YEARS:
                    state = R.EARLY_INTERVENTION
                elif phase >= R.PHASE_POST16:
                    del self.alive[child.id]
                    continue
                else:
                    state = R.SEN_SUPPORT_ENHANCED if rng.random() < enhanced_share else R.SEN_SUPPORT
                self.set_state(child, state, phase)
                env.process(self.journey(child))
        for state, count, ages in ((R.AP_NO_PLAN, c.ap_pupils_without_plan.value, (11, 16)), (R.EHE_NO_PLAN, c.ehe_without_plan.value, (5, 16))):
            for _ in range(count):
                birth = -rng.uniform(*ages) * DAYS_PER_YEAR
                child = self._initial_child(index, birth, rng)
                index += 1
                self.set_state(child, state)
                env.process(self.journey(child))
        for band, count in c.ehcp_by_age_band.value.items():
            low, high = AGE_BAND_RANGES[band]
            for _ in range(count):
                birth = -rng.uniform(low, high) * DAYS_PER_YEAR
                child = self._initial_child(index, birth, rng)
                index += 1
                phase = self.phase_of(child, 0.0)
                shares = self.initial_settings.get(phase)
                setting = SETTINGS[_choose(shares, rng.random())] if shares else "mainstream"
                if setting == "special":
                    self.seek_special(child, phase, from_mainstream=False, may_wait=False)
                else:
                    self.set_state(child, R.SETTING_STATE[setting], phase)
                env.process(self.journey(child))
        self.log.event(0.0, R.EV_INITIAL, -1, float(len(self.alive)))

    def _initial_child(self, index: int, birth: float, rng: np.random.Generator) -> R.Child:
        child = self.new_child(ORIGIN_INITIAL, index, birth, 0)
        self.set_need(child, self._random_need(self.phase_of(child, 0.0), rng.random()))
        return child

    def identification(self) -> Generator:
        """Children newly identified with an additional need: a Poisson process with a trend."""
        ident, env = self.config.identification, self.env
        rng = stream(self.seed, self.replication, "identification")
        rate = ident.new_per_year.value / DAYS_PER_YEAR
        if rate <= 0:
            return
        clock = self.p.clock("identification", 0)
        ages = sorted(ident.age_weights.value)
        cum = cumulative({str(a): w for a, w in ident.age_weights.value.items()}, tuple(str(a) for a in ages))
        index = 0
        while True:
            when = clock.time_after(env.now, rng.exponential() / rate)
            if when >= self.cal.horizon:
                return
            yield env.timeout(when - env.now)
            age = ages[_choose(cum, rng.random())] + rng.random()
            child = self.new_child(ORIGIN_IDENTIFIED, index, env.now - age * DAYS_PER_YEAR, 0)
            index += 1
            phase = self.phase_of(child, env.now)
            self.set_need(child, self._random_need(phase, child.draws.uniform()))
            if phase >= R.PHASE_POST16:
                del self.alive[child.id]
                continue
            self.log.event(env.now, R.EV_IDENTIFIED, child.id)
            self.set_state(child, R.EARLY_INTERVENTION if phase == R.PHASE_EARLY_YEARS else R.SEN_SUPPORT, phase)
            env.process(self.journey(child))

    def ap_direct_entries(self) -> Generator:
        """Secondary pupils not yet known to the SEN system placed in AP (excluded or medical)."""
        ap, env = self.config.alternative_provision, self.env
        rng = stream(self.seed, self.replication, "ap_direct_entry")
        rate = ap.direct_entries_per_year.value / DAYS_PER_YEAR
        if rate <= 0:
            return
        share = ap.direct_entry_exclusion_share.value
        index = 0
        while True:
            gap = rng.exponential() / rate
            if env.now + gap >= self.cal.horizon:
                return
            yield env.timeout(gap)
            child = self.new_child(ORIGIN_AP_DIRECT, index, env.now - rng.uniform(11, 16) * DAYS_PER_YEAR, 0)
            index += 1
            phase = self.phase_of(child, env.now)
            if phase != R.PHASE_SECONDARY:
                del self.alive[child.id]
                continue
            self.set_need(child, self._random_need(phase, child.draws.uniform()))
            self.log.event(env.now, R.EV_IDENTIFIED, child.id)
            if rng.random() < share:
                self.log.event(env.now, R.EV_PERMANENT_EXCLUSION, child.id)
            self.set_state(child, R.AP_NO_PLAN, phase)
            env.process(self.journey(child))

    def moves_in(self) -> Generator:
        """Families with plans moving into the area."""
        e, env = self.config.ehcp, self.env
        rng = stream(self.seed, self.replication, "move_in")
        rate = e.move_in_per_year.value / DAYS_PER_YEAR
        ages = sorted(e.move_in_age_weights.value)
        if rate <= 0 or not ages:
            return
        cum = cumulative({str(a): w for a, w in e.move_in_age_weights.value.items()}, tuple(str(a) for a in ages))
        index = 0
        while True:
            gap = rng.exponential() / rate
            if env.now + gap >= self.cal.horizon:
                return
            yield env.timeout(gap)
            age = ages[_choose(cum, rng.random())] + rng.random()
            child = self.new_child(ORIGIN_MOVED_IN, index, env.now - age * DAYS_PER_YEAR, 0)
            index += 1
            phase = self.phase_of(child, env.now)
            self.set_need(child, self._random_need(phase, child.draws.uniform()))
            self.log.event(env.now, R.EV_MOVED_IN, child.id)
            self.place_new_plan(child)
            env.process(self.journey(child))

    def post16_conversions(self) -> Generator:
        """Young people in further education given plans after the 2014 reforms, by financial year."""
        e, env = self.config.ehcp, self.env
        rng = stream(self.seed, self.replication, "post16_conversion")
        index = 0
        for label, first, last in self.cal.fy_bounds():
            expected = e.post16_conversions_by_year.value.get(label, 0.0)
            if expected <= 0:
                continue
            days = np.sort(rng.uniform(first, last, size=rng.poisson(expected)))
            for day in days:
                yield env.timeout(day - env.now)
                child = self.new_child(ORIGIN_POST16_CONVERSION, index, env.now - rng.uniform(16, 20) * DAYS_PER_YEAR, 0)
                index += 1
                phase = self.phase_of(child, env.now)
                self.set_need(child, self._random_need(R.PHASE_SECONDARY, child.draws.uniform()))
                self.log.event(env.now, R.EV_POST16_CONVERSION, child.id)
                self.set_state(child, R.EHCP_POST16_FE, phase)
                env.process(self.journey(child))

    # ---------------------------------------------------------------- run
    def run(self) -> R.EventLog:
        """Simulate from the start date to the horizon; return the log with every spell closed."""
        self.seed_initial_population()
        self.env.process(self.identification())
        self.env.process(self.moves_in())
        self.env.process(self.post16_conversions())
        self.env.process(self.ap_direct_entries())
        horizon = self.cal.horizon
        self.env.run(until=horizon)
        for child in self.alive.values():
            self.log.spell(child.id, child.state, child.phase, child.spell_start, horizon)
        self.log.sim_events = next(self.env._eid)  # events scheduled (SimPy numbers every event it schedules)
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
