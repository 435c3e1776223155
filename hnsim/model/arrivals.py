"""Where children come from: the population at the start date and arrivals over the horizon.

Children who enter without a plan (the start-date population on SEN support, in AP or home
educated; children newly identified; direct entries to AP) are drawn for the whole horizon at once,
in numpy, and returned as :class:`~hnsim.model.no_plan.Entrants` for the no-plan stage. Children who
arrive with a plan (moves in, post-16 conversions) arrive one by one as SimPy processes. A mixin of
:class:`~hnsim.model.pathway.PathwayModel`.
"""

from __future__ import annotations

from typing import Generator

import numpy as np

from hnsim.config.schema import SETTINGS
from hnsim.model import records as R
from hnsim.model.calendar import DAYS_PER_YEAR
from hnsim.model.hazard import Clock
from hnsim.model.no_plan import Entrants
from hnsim.model.parameters import FLAT, choose, choose_many, cumulative
from hnsim.model.streams import (
    ORIGIN_AP_DIRECT,
    ORIGIN_IDENTIFIED,
    ORIGIN_INITIAL,
    ORIGIN_MOVED_IN,
    ORIGIN_POST16_CONVERSION,
    child_keys,
    stream,
    uniforms,
)

AGE_BAND_RANGES = {"under5": (2, 5), "5-10": (5, 11), "11-15": (11, 16), "16-19": (16, 20), "20-25": (20, 25)}


class Arrivals:
    """Children entering the model (mixin of ``PathwayModel``)."""

    def _random_need(self, phase: int, u: float) -> int:
        shares = self.need_shares.get(phase) or self.need_shares.get(R.PHASE_PRIMARY)
        return choose(shares, u)

    def random_needs(self, phases: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Primary need by phase from one uniform each (:meth:`_random_need` vectorised)."""
        needs = np.zeros(len(phases), dtype=np.int64)
        for phase in np.unique(phases):
            at = phases == phase
            needs[at] = choose_many(self.need_shares.get(int(phase)) or self.need_shares.get(R.PHASE_PRIMARY), u[at])
        return needs

    def seed_initial_population(self) -> Entrants:
        """Children known at the start date: SEN support by age, AP and EHE, plans by age band and setting.

        Children with plans start their processes here; those without are returned for the no-plan stage.
        """
        c = self.config.initial_population
        rng = stream(self.seed, self.replication, "initial_population")
        by_age = sorted(c.sen_support_by_age.value.items())
        ages = np.repeat(np.array([age for age, _ in by_age], dtype=float), [count for _, count in by_age])
        n_ap, n_ehe = c.ap_pupils_without_plan.value, c.ehe_without_plan.value
        births = np.concatenate([-(ages + rng.random(len(ages))) * DAYS_PER_YEAR, np.zeros(n_ap + n_ehe)])
        need_u = rng.random(len(births))
        enhanced = rng.random(len(ages)) < c.enhanced_share.value
        births[len(ages) :] = -np.concatenate([rng.uniform(11, 16, n_ap), rng.uniform(5, 16, n_ehe)]) * DAYS_PER_YEAR
        cohorts = self.academic_years(births) + 5
        phases = self.phases_of(cohorts, np.zeros(len(births)))
        states = np.concatenate(
            [
                np.where(phases[: len(ages)] == R.PHASE_EARLY_YEARS, R.EARLY_INTERVENTION, np.where(enhanced, R.SEN_SUPPORT_ENHANCED, R.SEN_SUPPORT)),
                np.full(n_ap, R.AP_NO_PLAN),
                np.full(n_ehe, R.EHE_NO_PLAN),
            ]
        )
        keys = child_keys(self.rep_key, ORIGIN_INITIAL, np.arange(len(births)))
        entrants = self.admit(phases < R.PHASE_POST16, keys, births, self.random_needs(phases, need_u), states, np.zeros(len(births)), 0)
        on_roll = len(entrants)
        next_index = len(births)
        for band, count in c.ehcp_by_age_band.value.items():
            low, high = AGE_BAND_RANGES[band]
            for _ in range(count):
                birth = -rng.uniform(low, high) * DAYS_PER_YEAR
                child = self.new_child(ORIGIN_INITIAL, next_index, birth, 0)
                self.set_need(child, self._random_need(self.phase_of(child, 0.0), rng.random()))
                next_index += 1
                on_roll += 1
                phase = self.phase_of(child, 0.0)
                shares = self.initial_settings.get(phase)
                setting = SETTINGS[choose(shares, rng.random())] if shares else "mainstream"
                if setting == "special":
                    self.seek_special(child, phase, from_mainstream=False, may_wait=False)
                else:
                    self.set_state(child, R.SETTING_STATE[setting], phase)
                self.env.process(self.journey(child))
        self.log.event(0.0, R.EV_INITIAL, -1, float(on_roll))
        return entrants

    def admit(self, admitted: np.ndarray, keys: np.ndarray, births: np.ndarray, needs: np.ndarray, states: np.ndarray, days: np.ndarray, draws_used: int) -> Entrants:
        """Give ids to the ``admitted`` children of a batch and make them :class:`Entrants` on ``days``."""
        keys, births, needs, states, days = keys[admitted], births[admitted], needs[admitted], states[admitted], days[admitted]
        cohorts = self.academic_years(births) + 5
        ids = self.new_ids(cohorts, needs, births)
        phases = self.phases_of(cohorts, days)
        return Entrants(ids, keys, cohorts, births, needs, states, phases, days, days, np.full(len(ids), draws_used, dtype=np.int64))

    def _poisson_days(self, rng: np.random.Generator, rate: float, clock: Clock = FLAT) -> np.ndarray:
        """Event days before the horizon of a Poisson process with ``rate`` per day times ``clock``."""
        chunk = int(rate * self.cal.horizon * 1.2) + 64
        exposure, days = 0.0, []
        while not days or days[-1][-1] < self.cal.horizon:
            cumulative_exposure = exposure + np.cumsum(rng.standard_exponential(chunk)) / rate
            exposure = cumulative_exposure[-1]
            days.append(clock.time_after_many(np.zeros(chunk), cumulative_exposure))
        all_days = np.concatenate(days)
        return all_days[all_days < self.cal.horizon]

    def identified(self) -> Entrants:
        """Children newly identified with an additional need: a Poisson process with a trend."""
        ident = self.config.identification
        rng = stream(self.seed, self.replication, "identification")
        rate = ident.new_per_year.value / DAYS_PER_YEAR
        if rate <= 0:
            return Entrants.empty()
        days = self._poisson_days(rng, rate, self.clocks("identification")[0])
        ages = sorted(ident.age_weights.value)
        cum = cumulative({str(a): w for a, w in ident.age_weights.value.items()}, tuple(str(a) for a in ages))
        births = days - (np.array(ages, dtype=float)[choose_many(cum, rng.random(len(days)))] + rng.random(len(days))) * DAYS_PER_YEAR
        keys = child_keys(self.rep_key, ORIGIN_IDENTIFIED, np.arange(len(days)))
        phases = self.phases_of(self.academic_years(births) + 5, days)
        needs = self.random_needs(phases, uniforms(keys, 1))  # the child's own first draw
        states = np.where(phases == R.PHASE_EARLY_YEARS, R.EARLY_INTERVENTION, R.SEN_SUPPORT)
        entrants = self.admit(phases < R.PHASE_POST16, keys, births, needs, states, days, 1)
        self.log.events(entrants.days, R.EV_IDENTIFIED, entrants.ids)
        return entrants

    def ap_direct_entries(self) -> Entrants:
        """Secondary pupils not yet known to the SEN system placed in AP (excluded or medical)."""
        ap = self.config.alternative_provision
        rng = stream(self.seed, self.replication, "ap_direct_entry")
        rate = ap.direct_entries_per_year.value / DAYS_PER_YEAR
        if rate <= 0:
            return Entrants.empty()
        days = self._poisson_days(rng, rate)
        births = days - rng.uniform(11, 16, len(days)) * DAYS_PER_YEAR
        excluded = rng.random(len(days)) < ap.direct_entry_exclusion_share.value
        keys = child_keys(self.rep_key, ORIGIN_AP_DIRECT, np.arange(len(days)))
        phases = self.phases_of(self.academic_years(births) + 5, days)
        needs = self.random_needs(phases, uniforms(keys, 1))
        admitted = phases == R.PHASE_SECONDARY
        entrants = self.admit(admitted, keys, births, needs, np.full(len(days), R.AP_NO_PLAN), days, 1)
        self.log.events(entrants.days, R.EV_IDENTIFIED, entrants.ids)
        excluded = excluded[admitted]
        self.log.events(entrants.days[excluded], R.EV_PERMANENT_EXCLUSION, entrants.ids[excluded])
        return entrants

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
            age = ages[choose(cum, rng.random())] + rng.random()
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

