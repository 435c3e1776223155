"""Where children come from: the population at the start date and arrivals over the horizon.

Children who enter without a plan (the start-date population on SEN support, in AP or home
educated; children newly identified; direct entries to AP) are drawn for the whole horizon at once,
in numpy, and returned as :class:`~hnsim.model.no_plan.Entrants` for the no-plan stage. Children who
arrive with a plan (the start-date caseload, moves in, post-16 conversions) are handed to the plan
stage one by one.
"""

from __future__ import annotations

from typing import Callable, Generator

import numpy as np

from hnsim.config.schema import SETTINGS
from hnsim.model import records as R
from hnsim.model.calendar import DAYS_PER_YEAR, RECEPTION_AFTER_BIRTH_YEARS, RECEPTION_AGE
from hnsim.model.hazard import Clock
from hnsim.model.no_plan import Entrants, phases_of
from hnsim.model.parameters import FLAT, ArrivalRules, Shares, choose, choose_many
from hnsim.model.placement import PlacementStage
from hnsim.model.streams import (
    ORIGIN_AP_DIRECT,
    ORIGIN_IDENTIFIED,
    ORIGIN_INITIAL,
    ORIGIN_MOVED_IN,
    ORIGIN_POST16_CONVERSION,
    ORIGIN_POST16_REQUEST,
    child_keys,
    stream,
    uniforms,
)
from hnsim.model.world import World

#: Ages (years, from-to) drawn uniformly for plans on roll at the start date, by SEN2 age band; the
#: under-5 band starts at 2, where plans begin in practice.
INITIAL_PLAN_AGES = {"under5": (2, 5), "5-10": (5, 11), "11-15": (11, 16), "16-19": (16, 20), "20-25": (20, 25)}
#: Ages of pupils in AP at the start date and of direct entries to AP (secondary school ages).
AP_AGES = (11, 16)
#: Ages of children home educated at the start date (compulsory school ages).
EHE_AGES = (5, 16)
#: Ages of young people in further education given plans as learning difficulty assessments converted.
POST16_CONVERSION_AGES = (16, 20)

#: Ages (on 31 August before the request) of young people in further education requesting an
#: assessment, and their weights. Assumption: most ask in their first years of FE, as the needs a
#: school met go unmet in a larger college; by 19 most who will ask have asked.
POST16_REQUEST_AGE_WEIGHTS = ((16, 0.4), (17, 0.3), (18, 0.2), (19, 0.1))

#: Setting of a plan on roll in a phase the config gives no setting shares for: young people past 19 are in FE.
SETTING_WITHOUT_SHARES = {R.PHASE_POST19: "post16_fe"}

Start = Callable[[R.Child], None]  # starts a plan holder's journey as a SimPy process


class Arrivals:
    """Children entering the model."""

    def __init__(self, world: World, rules: ArrivalRules, placement: PlacementStage):
        self.world = world
        self.rules = rules
        self.placement = placement

    # ---------------------------------------------------------------- helpers
    def random_need(self, phase: int, u: float) -> int:
        """Primary need by phase from one uniform (children in a phase without shares draw as primary)."""
        shares = self.rules.need_shares.get(phase) or self.rules.need_shares[R.PHASE_PRIMARY]
        return choose(shares, u)

    def random_needs(self, phases: np.ndarray, u: np.ndarray) -> np.ndarray:
        """:meth:`random_need` vectorised."""
        needs = np.zeros(len(phases), dtype=np.int64)
        for phase in np.unique(phases):
            at = phases == phase
            needs[at] = choose_many(self.rules.need_shares.get(int(phase)) or self.rules.need_shares[R.PHASE_PRIMARY], u[at])
        return needs

    def admit(self, admitted: np.ndarray, keys: np.ndarray, births: np.ndarray, needs: np.ndarray, states: np.ndarray, days: np.ndarray, draws_used: int) -> Entrants:
        """Give ids to the ``admitted`` children of a batch and make them :class:`Entrants` on ``days``."""
        keys, births, needs, states, days = keys[admitted], births[admitted], needs[admitted], states[admitted], days[admitted]
        cohorts = self.world.timeline.cohorts_of(births)
        ids = self.world.new_ids(cohorts, needs, births)
        phases = phases_of(self.world.timeline, cohorts, days)
        return Entrants(ids, keys, cohorts, births, needs, states, phases, days, days, np.full(len(ids), draws_used, dtype=np.int64))

    def _poisson_days(self, rng: np.random.Generator, rate: float, clock: Clock = FLAT) -> np.ndarray:
        """Event days before the horizon of a Poisson process with ``rate`` per day times ``clock``."""
        horizon = self.world.horizon
        chunk = int(rate * horizon * 1.2) + 64
        exposure, days = 0.0, []
        while not days or days[-1][-1] < horizon:
            cumulative_exposure = exposure + np.cumsum(rng.standard_exponential(chunk)) / rate
            exposure = cumulative_exposure[-1]
            days.append(clock.time_after_many(np.zeros(chunk), cumulative_exposure))
        all_days = np.concatenate(days)
        return all_days[all_days < horizon]

    # ---------------------------------------------------------------- the start date
    def initial_population(self, start: Start) -> Entrants:
        """Children known at the start date: SEN support by age, AP and EHE, plans by age band and setting.

        Plan holders are placed (special pupils on roll keep their place even beyond capacity) and
        handed to ``start``; the others are returned for the no-plan stage.
        """
        world, rules = self.world, self.rules
        rng = stream(world.seed, world.replication, "initial_population")
        ages = np.repeat(np.array([age for age, _ in rules.sen_support_by_age], dtype=float), [count for _, count in rules.sen_support_by_age])
        n_ap, n_ehe = rules.ap_without_plan, rules.ehe_without_plan
        births = np.concatenate([-(ages + rng.random(len(ages))) * DAYS_PER_YEAR, np.zeros(n_ap + n_ehe)])
        need_u = rng.random(len(births))
        enhanced = rng.random(len(ages)) < rules.enhanced_share
        births[len(ages):] = -np.concatenate([rng.uniform(*AP_AGES, n_ap), rng.uniform(*EHE_AGES, n_ehe)]) * DAYS_PER_YEAR
        cohorts = world.timeline.cohorts_of(births)
        phases = phases_of(world.timeline, cohorts, np.zeros(len(births)))
        states = np.concatenate([
            np.where(phases[: len(ages)] == R.PHASE_EARLY_YEARS, R.EARLY_INTERVENTION, np.where(enhanced, R.SEN_SUPPORT_ENHANCED, R.SEN_SUPPORT)),
            np.full(n_ap, R.AP_NO_PLAN),
            np.full(n_ehe, R.EHE_NO_PLAN),
        ])
        keys = child_keys(world.rep_key, ORIGIN_INITIAL, np.arange(len(births)))
        entrants = self.admit(phases < R.PHASE_POST16, keys, births, self.random_needs(phases, need_u), states, np.zeros(len(births)), 0)
        on_roll = len(entrants)
        index = len(births)
        for band, count in rules.ehcp_by_age_band:
            low, high = INITIAL_PLAN_AGES[band]
            for _ in range(count):
                child = world.new_child(ORIGIN_INITIAL, index, -float(rng.uniform(low, high)) * DAYS_PER_YEAR, 0)
                index += 1
                phase = world.phase_of(child, 0.0)
                world.set_need(child, self.random_need(phase, float(rng.random())))
                shares = rules.initial_settings.get(phase)
                setting = SETTINGS[choose(shares, float(rng.random()))] if shares else SETTING_WITHOUT_SHARES.get(phase, "mainstream")
                self.placement.place_on_roll(child, setting, phase)
                start(child)
        world.log.event(0.0, R.EV_INITIAL, -1, float(on_roll + index - len(births)))
        return entrants

    # ---------------------------------------------------------------- arrivals without a plan
    def identified(self) -> Entrants:
        """Children newly identified with an additional need: a Poisson process with a trend."""
        world, rules = self.world, self.rules
        rng = stream(world.seed, world.replication, "identification")
        if rules.identified_per_day <= 0:
            return Entrants.empty()
        days = self._poisson_days(rng, rules.identified_per_day, world.clocks("identification")[0])
        births = days - (np.array(rules.identification_ages, dtype=float)[choose_many(rules.identification_age_shares, rng.random(len(days)))] + rng.random(len(days))) * DAYS_PER_YEAR
        keys = child_keys(world.rep_key, ORIGIN_IDENTIFIED, np.arange(len(days)))
        phases = phases_of(world.timeline, world.timeline.cohorts_of(births), days)
        needs = self.random_needs(phases, uniforms(keys, 1))  # the child's own first draw
        states = np.where(phases == R.PHASE_EARLY_YEARS, R.EARLY_INTERVENTION, R.SEN_SUPPORT)
        entrants = self.admit(phases < R.PHASE_POST16, keys, births, needs, states, days, 1)
        world.log.events(entrants.days, R.EV_IDENTIFIED, entrants.ids)
        return entrants

    def ap_direct_entries(self) -> Entrants:
        """Secondary pupils not yet known to the SEN system placed in AP (excluded or medical)."""
        world, rules = self.world, self.rules
        rng = stream(world.seed, world.replication, "ap_direct_entry")
        if rules.ap_direct_per_day <= 0:
            return Entrants.empty()
        days = self._poisson_days(rng, rules.ap_direct_per_day)
        births = days - rng.uniform(*AP_AGES, len(days)) * DAYS_PER_YEAR
        excluded = rng.random(len(days)) < rules.ap_direct_exclusion_share
        keys = child_keys(world.rep_key, ORIGIN_AP_DIRECT, np.arange(len(days)))
        phases = phases_of(world.timeline, world.timeline.cohorts_of(births), days)
        needs = self.random_needs(phases, uniforms(keys, 1))
        admitted = phases == R.PHASE_SECONDARY
        entrants = self.admit(admitted, keys, births, needs, np.full(len(days), R.AP_NO_PLAN), days, 1)
        world.log.events(entrants.days, R.EV_IDENTIFIED, entrants.ids)
        excluded = excluded[admitted]
        world.log.events(entrants.days[excluded], R.EV_PERMANENT_EXCLUSION, entrants.ids[excluded])
        return entrants

    def post16_requests(self) -> list[R.Child]:
        """Young people aged 16-19 in further education without a plan who request an assessment:
        a Poisson stream on the request clock of the config (its trend and transition, not the
        levers, which act on schools' SEN support). Each is returned with its request day set and
        no spell (it has none until a plan is made), for the assessment stage."""
        world, rules = self.world, self.rules
        if rules.post16_requests_per_day <= 0:
            return []
        rng = stream(world.seed, world.replication, "post16_request")
        days = self._poisson_days(rng, rules.post16_requests_per_day, world.params.clock("sen_support.request", R.PHASE_POST16))
        ages = np.array([age for age, _ in POST16_REQUEST_AGE_WEIGHTS])
        chosen = ages[choose_many(cumulative_weights(POST16_REQUEST_AGE_WEIGHTS), rng.random(len(days)))]
        within = rng.random(len(days))
        timeline, out = world.timeline, []
        need_phase = R.PHASE_POST16 if R.PHASE_POST16 in self.rules.need_shares else R.PHASE_SECONDARY
        for index, (day, age, u) in enumerate(zip(days.tolist(), chosen.tolist(), within.tolist())):
            # national curriculum year age - 4, so born in the academic year starting cohort - 5
            cohort = timeline.academic_year(day) - (age - RECEPTION_AGE)
            first, last = timeline.sept1(cohort - RECEPTION_AFTER_BIRTH_YEARS), timeline.sept1(cohort - RECEPTION_AFTER_BIRTH_YEARS + 1)
            child = world.new_child(ORIGIN_POST16_REQUEST, index, first + u * (last - first), 0)
            world.set_need(child, self.random_need(need_phase, child.draws.uniform()))
            child.phase, child.spell_start, child.day, child.request_day = world.phase_of(child, day), day, day, day
            out.append(child)
        return out

    # ---------------------------------------------------------------- arrivals with a plan
    def moves_in(self, start: Start) -> Generator:
        """Families with plans moving into the area (a SimPy process)."""
        world, rules, env = self.world, self.rules, self.world.env
        rng = stream(world.seed, world.replication, "move_in")
        rate = rules.moves_in_per_day
        if rate <= 0 or not rules.move_in_ages:
            return
        index = 0
        while True:
            gap = float(rng.exponential()) / rate
            if env.now + gap >= world.horizon:
                return
            yield env.timeout(gap)
            age = rules.move_in_ages[choose(rules.move_in_age_shares, float(rng.random()))] + float(rng.random())
            child = world.new_child(ORIGIN_MOVED_IN, index, env.now - age * DAYS_PER_YEAR, 0)
            index += 1
            child.day = env.now
            world.set_need(child, self.random_need(world.phase_of(child, env.now), child.draws.uniform()))
            world.log.event(env.now, R.EV_MOVED_IN, child.id)
            self.placement.place_new_plan(child)
            start(child)

    def post16_conversions(self, start: Start) -> Generator:
        """Young people in further education given plans after the 2014 reforms, by financial year (a SimPy process)."""
        world, rules, env = self.world, self.rules, self.world.env
        rng = stream(world.seed, world.replication, "post16_conversion")
        index = 0
        for (_, first, last), expected in zip(world.params.calendar.fy_bounds(), rules.post16_conversions_by_fy):
            if expected <= 0:
                continue
            for day in np.sort(rng.uniform(first, last, size=rng.poisson(expected))).tolist():
                yield env.timeout(day - env.now)
                child = world.new_child(ORIGIN_POST16_CONVERSION, index, env.now - float(rng.uniform(*POST16_CONVERSION_AGES)) * DAYS_PER_YEAR, 0)
                index += 1
                child.day = env.now
                world.set_need(child, self.random_need(R.PHASE_SECONDARY, child.draws.uniform()))
                world.log.event(env.now, R.EV_POST16_CONVERSION, child.id)
                world.set_state(child, R.EHCP_POST16_FE, env.now)
                start(child)


def cumulative_weights(weights: tuple[tuple[int, float], ...]) -> Shares:
    """Cumulative weights in the order given (for :func:`choose_many`)."""
    return tuple(np.cumsum([w for _, w in weights]).tolist())


__all__ = ["Arrivals", "INITIAL_PLAN_AGES", "POST16_REQUEST_AGE_WEIGHTS", "Shares"]
