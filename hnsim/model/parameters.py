"""Compile a validated config, once, into the plain numbers the simulation reads in its hot path.

:func:`compile_parameters` turns the pydantic config into frozen groups of per-day rates indexed by
phase and need numbers, cumulative shares for inverse-CDF choices, duration samplers and trend
clocks. The stages of the model receive these groups and never read the config.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np

from hnsim.config.schema import NEEDS, PHASES, SETTINGS, SPECIAL_POOLS, Config, Trend
from hnsim.config.trends import GrowthFrom, Trends
from hnsim.model.calendar import Calendar, Timeline
from hnsim.model.distributions import sampler
from hnsim.model.hazard import Clock, damped_trend_clock, damped_years, linear_clock, per_day, trend_clock

FLAT = Clock.flat()
POST16_OPTIONS = ("stay", "post16_fe", "post16_specialist", "cease")
#: Setting groups whose post-16 destinations the config gives.
POST16_GROUPS = ("school", "special", "independent")
#: Hazards with a trend clock from the config (the others are flat unless a lever acts).
TRENDED = ("identification", "sen_support.request", "sen_support.exclusion", "sen_support.ehe")
#: Settings a plan made on a request from further education may name (the young person is in FE).
FE_REQUEST_SETTINGS = ("post16_fe", "post16_specialist")

Shares = tuple[float, ...]  # cumulative shares, for :func:`choose`


def phase_rates(rates: Mapping[str, float]) -> tuple[float, ...]:
    """Per-day hazards indexed by phase number (a phase not given has rate 0)."""
    return tuple(per_day(rates.get(p, 0.0)) for p in PHASES)


def need_multipliers(mults: Mapping[str, float]) -> tuple[float, ...]:
    """Multipliers indexed by need number (a need not given has 1)."""
    return tuple(mults.get(n, 1.0) for n in NEEDS)


def cumulative(shares: Mapping[str, float], keys: tuple[str, ...]) -> Shares:
    """Cumulative shares in the order of ``keys`` (for inverse-CDF choice)."""
    out, total = [], 0.0
    for key in keys:
        total += shares.get(key, 0.0)
        out.append(total)
    return tuple(out)


def choose(cumulative_shares: Shares, u: float) -> int:
    """Index chosen by inverse CDF (robust to shares summing to slightly under 1)."""
    i = bisect.bisect_right(cumulative_shares, u * cumulative_shares[-1])
    return min(i, len(cumulative_shares) - 1)


def choose_many(cumulative_shares: Shares, u: np.ndarray) -> np.ndarray:
    """:func:`choose` for an array of uniforms."""
    i = np.searchsorted(cumulative_shares, u * cumulative_shares[-1], side="right")
    return np.minimum(i, len(cumulative_shares) - 1)


def scale_special_odds(shares: Mapping[str, float], odds_multiplier: float) -> dict[str, float]:
    """Scale the odds of a special setting by a need multiplier, keeping the others in proportion."""
    p = shares.get("special", 0.0)
    if odds_multiplier == 1.0 or p in (0.0, 1.0):
        return dict(shares)
    odds = p / (1 - p) * odds_multiplier
    new_p = odds / (1 + odds)
    rest = 1 - p
    return {k: (new_p if k == "special" else v * (1 - new_p) / rest) for k, v in shares.items()}


@dataclass(frozen=True)
class NoPlanRates:
    """Hazards per day of children without a plan, by phase; multipliers by need."""

    request: tuple[float, ...]
    request_need: tuple[float, ...]
    enhanced_request_multiplier: float
    enhance: tuple[float, ...]
    step_down: tuple[float, ...]
    move_away: tuple[float, ...]
    exclusion: tuple[float, ...]
    exclusion_need: tuple[float, ...]
    ehe: tuple[float, ...]
    reintegration: tuple[float, ...]
    ehe_return: tuple[float, ...]


@dataclass(frozen=True)
class PlanRates:
    """Hazards per day of plan holders, by phase; multipliers by need."""

    to_special: tuple[float, ...]
    to_special_need: tuple[float, ...]
    to_mainstream: tuple[float, ...]
    independent_to_special: tuple[float, ...]
    exclusion: tuple[float, ...]
    exclusion_need: tuple[float, ...]
    ap_return: tuple[float, ...]
    ehe: tuple[float, ...]
    cease: tuple[float, ...]
    move_away: tuple[float, ...]
    leave: tuple[float, ...]


@dataclass(frozen=True)
class AssessmentRules:
    """The EHC needs assessment: durations (samplers of one uniform), probabilities, the team."""

    decision_days: Callable[[float], float]
    tribunal_days: Callable[[float], float]
    assessment_days: Callable[[float], float]
    drafting_days: Callable[[float], float]
    refusal_by_fy: tuple[float, ...]  # by simulated financial year
    appeal: float
    tribunal_for_parents: float
    plan: float
    team_capacity: int
    deadline_days: float


@dataclass(frozen=True)
class PlacementRules:
    """Where plans are placed: settings at first plan, full special schools, phase transfers."""

    first_setting_by_fy: tuple[Mapping[tuple[int, int], Shares], ...]  # by simulated financial year: (phase, need) -> cumulative over SETTINGS
    independent_when_full: float
    max_wait_days: float  # inf: no limit
    transfer_to_special: tuple[float, ...]  # by phase entered
    post16_destinations_by_fy: tuple[Mapping[str, Shares], ...]  # by simulated financial year: setting group -> cumulative over POST16_OPTIONS
    post19_continue_by_fy: tuple[float, ...]  # by simulated financial year of the transfer
    post19_from_school_by_fy: tuple[float, ...]  # by financial year: continuation at 19 of a plan still in school, as above
    post16_cease_by_fy: tuple[float, ...]
    fe_request_specialist: tuple[float, ...]  # by phase: share of plans on a request from FE naming a specialist college


@dataclass(frozen=True)
class ArrivalRules:
    """Where children come from: the start-date population and the streams of new arrivals."""

    need_shares: Mapping[int, Shares]  # phase -> cumulative over NEEDS
    initial_settings: Mapping[int, Shares]  # phase -> cumulative over SETTINGS
    sen_support_by_age: tuple[tuple[int, int], ...]
    ehcp_by_age_band: tuple[tuple[str, int], ...]
    enhanced_share: float
    ap_without_plan: int
    ehe_without_plan: int
    identified_per_day: float
    identification_ages: tuple[int, ...]
    identification_age_shares: Shares
    ap_direct_per_day: float
    ap_direct_exclusion_share: float
    moves_in_per_day: float
    move_in_ages: tuple[int, ...]
    move_in_age_shares: Shares
    post16_conversions_by_fy: tuple[float, ...]
    post16_requests_per_day: float  # requests from further education at the start date, on the request clock


@dataclass(frozen=True)
class CommissioningRules:
    """New special places at the review: thresholds, step, lag, ceiling, capital cost (days since the start)."""

    from_day: float
    waiting_threshold: int
    independent_threshold: int
    places_per_step: int
    lag_days: float
    ceiling: int
    capital_gbp_per_place: float
    pools: tuple[str, ...]


@dataclass(frozen=True)
class StaffingRules:
    """The assessment team's ratchet at the review."""

    from_day: float
    elasticity: float
    share_of_gap: float
    lag_days: float


@dataclass(frozen=True)
class GatekeepingRules:
    """Refusals rising with the pressure of requests."""

    from_day: float
    refusal_per_pressure: float
    max_refusal: float


@dataclass(frozen=True)
class StatusQuoRules:
    """The council's annual reviews: their days, the reference year's days and the three policies."""

    review_days: tuple[float, ...]  # every review inside the horizon on or after the first policy's from_day
    reference_first_day: float  # the reference financial year as [first, last) days; both 0 with no reference
    reference_last_day: float
    commissioning: CommissioningRules | None
    staffing: StaffingRules | None
    gatekeeping: GatekeepingRules | None


@dataclass(frozen=True)
class Parameters:
    """Everything the model reads, compiled once from a config.

    ``clocks`` maps a hazard name to its trend clock by phase (levers multiply into these in each
    replication); ``pool_schedules`` the commissioned places by pool as (day, places) steps. The
    config itself is kept for the money and the levers, which are not on the hot path.
    """

    config: Config
    calendar: Calendar
    timeline: Timeline
    clocks: Mapping[str, tuple[Clock, ...]]
    pool_schedules: Mapping[str, tuple[tuple[float, int], ...]]
    no_plan: NoPlanRates
    plan: PlanRates
    assessment: AssessmentRules
    placement: PlacementRules
    arrivals: ArrivalRules
    status_quo: "StatusQuoRules | None" = None  # the council's own responses to pressure (None: capacity held where the config leaves it)

    def clock(self, hazard: str, phase: int) -> Clock:
        """The trend clock of a hazard in a phase (flat if the config gives none)."""
        clocks = self.clocks.get(hazard)
        return clocks[phase] if clocks else FLAT


def _trend(calendar: Calendar, trend: Trend | None) -> Clock:
    if trend is None:
        return FLAT
    until = calendar.day(trend.until_date) if trend.until_date else None
    return trend_clock(0.0, calendar.horizon, trend.growth_per_year.value, calendar.day(trend.from_date), until)


def _by_year_clock(calendar: Calendar, multipliers: Mapping[str, float]) -> Clock:
    """A step clock over financial years: each listed year's multiplier; a year after the last one
    listed keeps the last (so the fitted level carries into the projection), a year before the first
    takes the first."""
    listed = sorted(multipliers)
    knots, values = [], []
    for label, first, _ in calendar.fy_bounds():
        earlier = [y for y in listed if y <= label]
        knots.append(first)
        values.append(multipliers[earlier[-1]] if earlier else multipliers[listed[0]])
    return Clock(knots, values)


def _damped(calendar: Calendar, trends: Trends, growth: GrowthFrom | None) -> Clock:
    """The clock of a damped trend (``trends``), flat if none is given."""
    if growth is None:
        return FLAT
    return damped_trend_clock(0.0, calendar.horizon, growth.growth_per_year.value, calendar.day(growth.from_date),
                              calendar.day(trends.data_end), trends.damping.value)


def _times(a: Clock, b: Clock) -> Clock:
    return b if a is FLAT else a if b is FLAT else a.times(b)


def _clocks(config: Config, calendar: Calendar) -> dict[str, tuple[Clock, ...]]:
    s, trends = config.sen_support, config.trends
    steps = {"identification": config.identification.trend, "sen_support.request": s.request_trend,
             "sen_support.exclusion": s.exclusion_trend, "sen_support.ehe": s.ehe_trend}
    clocks = {name: _trend(calendar, steps[name]) for name in TRENDED}
    by_year = s.request_multiplier_by_year
    if by_year is not None and any(m != 1.0 for m in by_year.value.values()):
        clocks["sen_support.request"] = _times(clocks["sen_support.request"], _by_year_clock(calendar, by_year.value))
    if trends is not None:
        # the schema refuses trends.requests beside the sen_support request steps
        if trends.requests is not None:
            clocks["sen_support.request"] = _damped(calendar, trends, trends.requests)
        transition = trends.request_transition
        if transition is not None:
            ramp = linear_clock(0.0, calendar.day(transition.until_date), transition.start_multiplier.value)
            clocks["sen_support.request"] = _times(clocks["sen_support.request"], ramp)
        if trends.leave_education is not None:
            clocks["ehcp.leave_education"] = _damped(calendar, trends, trends.leave_education)
    return {name: (clock,) * len(PHASES) for name, clock in clocks.items()}


def odds_trend_by_fy(calendar: Calendar, trends: Trends | None, growth: GrowthFrom | None) -> tuple[float, ...]:
    """Multiplier on the odds of a probability in each simulated financial year: the damped trend
    (:func:`~hnsim.model.hazard.damped_years`) at the middle of the year; all 1 without a trend."""
    bounds = calendar.fy_bounds()
    if trends is None or growth is None or growth.growth_per_year.value == 0.0:
        return (1.0,) * len(bounds)
    log_growth = math.log1p(growth.growth_per_year.value)
    from_day, end_day, phi = calendar.day(growth.from_date), calendar.day(trends.data_end), trends.damping.value
    return tuple(math.exp(log_growth * damped_years((first + last) / 2, from_day, end_day, phi)) for _, first, last in bounds)


def scale_odds(p: float, odds_multiplier: float) -> float:
    """A probability with its odds multiplied (0 and 1 stay)."""
    if odds_multiplier == 1.0 or p in (0.0, 1.0):
        return p
    odds = p / (1 - p) * odds_multiplier
    return odds / (1 + odds)


def _pool_schedules(config: Config, calendar: Calendar) -> dict[str, tuple[tuple[float, int], ...]]:
    places = config.capacity.places.value
    out = {}
    for pool in SPECIAL_POOLS:
        running = places.get(pool, 0)
        schedule = [(0.0, running)]
        for expansion in sorted(config.capacity.expansions, key=lambda e: e.date):
            if expansion.pool == pool:
                running = max(running + expansion.places, 0)
                schedule.append((max(calendar.day(expansion.date), 0.0), running))
        out[pool] = tuple(schedule)
    return out


def _by_fy(calendar: Calendar, by_label: Mapping[str, float], default: float) -> tuple[float, ...]:
    return tuple(by_label.get(label, default) for label, _, _ in calendar.fy_bounds())


def _no_plan(config: Config) -> NoPlanRates:
    s, ap = config.sen_support, config.alternative_provision
    return NoPlanRates(
        request=phase_rates(s.request_rate.value), request_need=need_multipliers(s.request_need_multiplier.value),
        enhanced_request_multiplier=s.enhanced_request_multiplier.value, enhance=phase_rates(s.escalation_to_enhanced_rate.value),
        step_down=phase_rates(s.step_down_rate.value), move_away=phase_rates(s.move_away_rate.value),
        exclusion=phase_rates(s.exclusion_rate.value), exclusion_need=need_multipliers(s.exclusion_need_multiplier.value),
        ehe=phase_rates(s.ehe_rate.value), reintegration=phase_rates(ap.reintegration_rate.value), ehe_return=phase_rates(ap.ehe_return_rate.value),
    )


def _plan(config: Config) -> PlanRates:
    e = config.ehcp
    return PlanRates(
        to_special=phase_rates(e.mainstream_to_special_rate.value), to_special_need=need_multipliers(e.mainstream_to_special_need_multiplier.value),
        to_mainstream=phase_rates(e.special_to_mainstream_rate.value), independent_to_special=phase_rates(e.independent_to_special_rate.value),
        exclusion=phase_rates(e.exclusion_rate.value), exclusion_need=need_multipliers(e.exclusion_need_multiplier.value),
        ap_return=phase_rates(e.ap_return_rate.value), ehe=phase_rates(e.ehe_rate.value), cease=phase_rates(e.ceasing_needs_met_rate.value),
        move_away=phase_rates(e.move_away_rate.value), leave=phase_rates(e.leave_education_rate.value),
    )


def _assessment(config: Config, calendar: Calendar) -> AssessmentRules:
    a = config.assessment
    by_year = a.refusal_probability_by_year.value if a.refusal_probability_by_year else {}
    return AssessmentRules(
        decision_days=sampler(a.decision_days), tribunal_days=sampler(a.tribunal_days), assessment_days=sampler(a.assessment_days),
        drafting_days=sampler(a.drafting_days), refusal_by_fy=_by_fy(calendar, by_year, a.refusal_probability.value),
        appeal=a.appeal_probability.value, tribunal_for_parents=a.tribunal_finds_for_parents.value, plan=a.plan_probability.value,
        team_capacity=a.team_capacity.value, deadline_days=7.0 * a.deadline_weeks,
    )


def _placement(config: Config, calendar: Calendar) -> PlacementRules:
    pl, trends = config.placement, config.trends
    multipliers = need_multipliers(pl.special_need_multiplier.value)

    def first_settings(trend: float) -> Mapping[tuple[int, int], Shares]:
        return MappingProxyType({(PHASES.index(phase_name), need): cumulative(scale_special_odds(shares, m * trend), SETTINGS)
                                 for phase_name, shares in pl.first_setting_shares.value.items() for need, m in enumerate(multipliers)})

    special_trend = odds_trend_by_fy(calendar, trends, trends.special_first_setting if trends else None)
    tables = {m: first_settings(m) for m in dict.fromkeys(special_trend)}  # one table per distinct multiplier
    post19_trend = odds_trend_by_fy(calendar, trends, trends.post19_continue if trends else None)
    post19 = pl.transfer.post19_continue_probability.value
    max_wait = pl.when_special_full.max_wait_days
    cease = pl.transfer.post16_cease_probability_by_year
    converted = _by_fy(calendar, pl.transfer.leaving_school_ehcp_share_by_year.value if pl.transfer.leaving_school_ehcp_share_by_year else {}, 1.0)
    destinations = {share: post16_destinations(pl.transfer.post16_destinations.value, share) for share in dict.fromkeys(converted)}
    fe_shares = [pl.first_setting_shares.value.get(p, {}) for p in PHASES]
    return PlacementRules(
        first_setting_by_fy=tuple(tables[m] for m in special_trend), independent_when_full=pl.when_special_full.independent_probability.value,
        max_wait_days=max_wait.value if max_wait is not None else float("inf"),
        transfer_to_special=tuple(pl.transfer.mainstream_to_special_probability.value.get(p, 0.0) for p in PHASES),
        post16_destinations_by_fy=tuple(destinations[share] for share in converted),
        post19_continue_by_fy=tuple(scale_odds(post19, m) for m in post19_trend),
        # a plan held in FE or a specialist college was an EHC plan; one still in school may have been a statement
        post19_from_school_by_fy=tuple(scale_odds(post19, m) * share for m, share in zip(post19_trend, converted)),
        post16_cease_by_fy=_by_fy(calendar, cease.value if cease else {}, 0.0),
        fe_request_specialist=tuple(_share_of(shares, "post16_specialist", FE_REQUEST_SETTINGS) for shares in fe_shares),
    )


def post16_destinations(by_group: Mapping[str, Mapping[str, float]], ehcp_share: float = 1.0) -> Mapping[str, Shares]:
    """Cumulative year-12 destinations by setting group when only ``ehcp_share`` of the plans of
    those leaving school are EHC plans: the statements among them end (their share of FE and
    specialist colleges moves to ceasing); at 1, the destinations as given."""
    def shares(row: Mapping[str, float]) -> Mapping[str, float]:
        if ehcp_share == 1.0:
            return row
        leaving = row.get("post16_fe", 0.0) + row.get("post16_specialist", 0.0)
        return {**row, "post16_fe": row.get("post16_fe", 0.0) * ehcp_share, "post16_specialist": row.get("post16_specialist", 0.0) * ehcp_share,
                "cease": row.get("cease", 0.0) + leaving * (1.0 - ehcp_share)}
    return MappingProxyType({g: cumulative(shares(v), POST16_OPTIONS) for g, v in by_group.items()})


def _share_of(shares: Mapping[str, float], key: str, among: tuple[str, ...]) -> float:
    """The share of ``key`` among the settings ``among`` (0 if none of them has a share)."""
    total = sum(shares.get(k, 0.0) for k in among)
    return shares.get(key, 0.0) / total if total > 0 else 0.0


def _arrivals(config: Config, calendar: Calendar) -> ArrivalRules:
    init, ident, e, ap = config.initial_population, config.identification, config.ehcp, config.alternative_provision
    ages = tuple(sorted(ident.age_weights.value))
    move_ages = tuple(sorted(e.move_in_age_weights.value))
    return ArrivalRules(
        need_shares=MappingProxyType({PHASES.index(ph): cumulative(v, NEEDS) for ph, v in ident.need_shares.value.items()}),
        initial_settings=MappingProxyType({PHASES.index(ph): cumulative(v, SETTINGS) for ph, v in init.ehcp_setting_shares.value.items()}),
        sen_support_by_age=tuple(sorted(init.sen_support_by_age.value.items())), ehcp_by_age_band=tuple(init.ehcp_by_age_band.value.items()),
        enhanced_share=init.enhanced_share.value, ap_without_plan=init.ap_pupils_without_plan.value, ehe_without_plan=init.ehe_without_plan.value,
        identified_per_day=per_day(ident.new_per_year.value), identification_ages=ages,
        identification_age_shares=cumulative({str(a): w for a, w in ident.age_weights.value.items()}, tuple(str(a) for a in ages)),
        ap_direct_per_day=per_day(ap.direct_entries_per_year.value), ap_direct_exclusion_share=ap.direct_entry_exclusion_share.value,
        moves_in_per_day=per_day(e.move_in_per_year.value), move_in_ages=move_ages,
        move_in_age_shares=cumulative({str(a): w for a, w in e.move_in_age_weights.value.items()}, tuple(str(a) for a in move_ages)) if move_ages else (),
        post16_conversions_by_fy=_by_fy(calendar, e.post16_conversions_by_year.value, 0.0),
        post16_requests_per_day=per_day(config.assessment.post16_requests_per_year.value) if config.assessment.post16_requests_per_year else 0.0,
    )


def _status_quo(config: Config, calendar: Calendar) -> StatusQuoRules | None:
    sq = config.status_quo
    if sq is None or (sq.commissioning is None and sq.staffing is None and sq.gatekeeping is None):
        return None
    c, s, g = sq.commissioning, sq.staffing, sq.gatekeeping
    commissioning = None if c is None else CommissioningRules(
        calendar.day(c.from_date), c.waiting_threshold.value, c.independent_threshold.value, c.places_per_step.value, c.lag_days.value,
        c.ceiling.value, c.capital_gbp_per_place.value, tuple(c.pools))
    staffing = None if s is None else StaffingRules(calendar.day(s.from_date), s.elasticity.value, s.share_of_gap.value, s.lag_days.value)
    gatekeeping = None if g is None else GatekeepingRules(calendar.day(g.from_date), g.refusal_per_pressure.value, g.max_refusal_probability.value)
    first = min(rules.from_day for rules in (commissioning, staffing, gatekeeping) if rules is not None)
    start, end = config.simulation.start_date, config.simulation.end_date
    days = []
    for year in range(start.year, end.year + 1):
        day = calendar.day(dt.date(year, sq.review_month, sq.review_day))
        if first <= day < calendar.horizon and day >= 0:
            days.append(day)
    ref_first = ref_last = 0.0
    if sq.reference_year is not None:
        ref_year = int(sq.reference_year[:4])
        ref_first, ref_last = calendar.day(dt.date(ref_year, 4, 1)), calendar.day(dt.date(ref_year + 1, 4, 1))
    return StatusQuoRules(tuple(days), ref_first, ref_last, commissioning, staffing, gatekeeping)


def compile_parameters(config: Config) -> Parameters:
    """Turn a validated config into :class:`Parameters` (the only place the model reads the config)."""
    sim = config.simulation
    calendar = Calendar(sim.start_date, sim.end_date, sim.census_month, sim.census_day)
    return Parameters(
        config=config, calendar=calendar, timeline=Timeline(calendar), clocks=MappingProxyType(_clocks(config, calendar)),
        pool_schedules=MappingProxyType(_pool_schedules(config, calendar)), no_plan=_no_plan(config), plan=_plan(config),
        assessment=_assessment(config, calendar), placement=_placement(config, calendar), arrivals=_arrivals(config, calendar),
        status_quo=_status_quo(config, calendar),
    )


__all__ = ["FE_REQUEST_SETTINGS", "FLAT", "POST16_OPTIONS", "CommissioningRules", "GatekeepingRules", "Parameters", "StaffingRules", "StatusQuoRules", "odds_trend_by_fy", "scale_odds", "choose", "choose_many", "compile_parameters", "cumulative", "need_multipliers", "phase_rates"]
