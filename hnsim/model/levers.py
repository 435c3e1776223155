"""Compile enabled strategy levers into what the model reads: hazard clocks, ramps on probabilities,
extra places on dates, money moved into the block, and each lever's running cost.

Effect sizes are drawn once per replication, stratified over the replication index: each effect
of each lever has its own nested-stratified sequence (:func:`~hnsim.model.streams.stratified_uniform`,
keyed by the root seed, the lever's name and the effect's), and replication ``r`` takes point ``r``.
Any first ``2**m`` replications therefore hold one draw in each ``1/2**m`` of every effect's range
(a Latin hypercube over the replications, whatever their number and the number of workers), and a
lever's effect is the same in every scenario that enables it: comparisons of "one lever" and "the
whole strategy" stay paired (docs/levers.md, Uncertain effects).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hnsim.config.base import PHASES
from hnsim.config.levers import EffectRange, Lever
from hnsim.config.schema import Config
from hnsim.model.calendar import DAYS_PER_YEAR, Calendar
from hnsim.model.hazard import Clock
from hnsim.model.streams import strata_key, stratified_uniform


@dataclass(frozen=True)
class Ramp:
    """Fraction of full effect on a day: 0 before the start, rising linearly to 1 over the ramp."""

    start_day: float
    ramp_days: float
    end_day: float = float("inf")

    def __call__(self, day: float) -> float:
        if day < self.start_day or day >= self.end_day:
            return 0.0
        if self.ramp_days <= 0 or day >= self.start_day + self.ramp_days:
            return 1.0
        return (day - self.start_day) / self.ramp_days

    def many(self, days: np.ndarray) -> np.ndarray:
        """:meth:`__call__` for an array of days (the same arithmetic)."""
        days = np.asarray(days, dtype=float)
        if self.ramp_days <= 0:
            rising = np.ones_like(days)
        else:
            rising = np.where(days >= self.start_day + self.ramp_days, 1.0, (days - self.start_day) / self.ramp_days)
        return np.where((days < self.start_day) | (days >= self.end_day), 0.0, rising)

    def clock(self, change: float, step_days: float = DAYS_PER_YEAR / 12) -> Clock:
        """Hazard multiplier 1 + change x ramp(t) on a monthly grid (midpoint of each month)."""
        knots, mults = [min(self.start_day, 0.0)], [1.0]
        if self.ramp_days <= 0:
            knots.append(self.start_day)
            mults.append(1.0 + change)
        else:
            t = self.start_day
            end = self.start_day + self.ramp_days
            while t < end:
                knots.append(t)
                mults.append(1.0 + change * self(min(t + step_days / 2, end)))
                t += step_days
            knots.append(end)
            mults.append(1.0 + change)
        if self.end_day < float("inf"):
            knots.append(self.end_day)
            mults.append(1.0)
        return Clock(knots, [max(m, 0.0) for m in mults])


@dataclass
class ProbabilityShift:
    """Sum over levers of (size x ramp(t)): an additive change to a probability, or a share."""

    parts: list[tuple[float, Ramp]] = field(default_factory=list)

    def __call__(self, day: float) -> float:
        return sum(size * ramp(day) for size, ramp in self.parts)

    def many(self, days: np.ndarray) -> np.ndarray:
        """:meth:`__call__` for an array of days."""
        total = np.zeros(len(days))
        for size, ramp in self.parts:
            total = total + size * ramp.many(days)
        return total

    def __bool__(self) -> bool:
        return any(size != 0.0 for size, _ in self.parts)


@dataclass
class LeverPlan:
    """Everything the enabled levers do in one replication."""

    hazard_clocks: dict[tuple[str, int], Clock] = field(default_factory=dict)
    refusal: ProbabilityShift = field(default_factory=ProbabilityShift)
    plan_probability: ProbabilityShift = field(default_factory=ProbabilityShift)
    appeal: ProbabilityShift = field(default_factory=ProbabilityShift)
    transfer_to_special: ProbabilityShift = field(default_factory=ProbabilityShift)
    bespoke_share: ProbabilityShift = field(default_factory=ProbabilityShift)
    post16_to_fe_share: ProbabilityShift = field(default_factory=ProbabilityShift)
    extra_places: list[tuple[str, float, int]] = field(default_factory=list)  # pool, day, places
    allocation_transfer: dict[str, list[tuple[float, Ramp]]] = field(default_factory=dict)  # by lever
    sampled: dict[str, float] = field(default_factory=dict)  # 'lever.mechanism' -> effect drawn

    def hazard_clock(self, hazard: str, phase: int) -> Clock | None:
        return self.hazard_clocks.get((hazard, phase))


@dataclass(frozen=True)
class EffectDraws:
    """Where one lever's effects are drawn in one replication: point ``replication`` of each
    effect's stratified sequence (keyed by root seed, lever and effect; independent of the other
    levers and of the scenario)."""

    seed: int
    replication: int
    lever: str

    def uniform(self, effect_key: str) -> float:
        """The replication's point in [0, 1) for the effect named ``effect_key``."""
        return stratified_uniform(strata_key(self.seed, self.lever, effect_key), self.replication)

    def draw(self, effect_key: str, effect: EffectRange) -> float:
        """The effect's size: ``low + (high - low) * u``."""
        return effect.low + (effect.high - effect.low) * self.uniform(effect_key)


#: A lever's effects that shift a probability or a share, in the order of :class:`LeverPlan`'s shifts.
SHIFT_EFFECTS = ("refusal_change", "plan_probability_change", "appeal_change", "transfer_to_special_change", "bespoke_share",
                 "post16_specialist_to_fe_share")


def compile_levers(config: Config, calendar: Calendar, seed: int, replication: int) -> LeverPlan:
    """Sample every enabled lever's effects for one replication and turn them into mechanisms."""
    plan = LeverPlan()
    for name, lever in config.levers.items():
        if lever.enabled:
            _compile_one(plan, name, lever, calendar, EffectDraws(seed, replication, name))
    return plan


def _compile_one(plan: LeverPlan, name: str, lever: Lever, calendar: Calendar, draws: EffectDraws) -> None:
    end = calendar.day(lever.end_date) if lever.end_date is not None else float("inf")
    ramp = Ramp(calendar.day(lever.start_date), lever.ramp_up_years.value * DAYS_PER_YEAR, end)
    dose = 1.0
    if lever.dose_response is not None:
        dose = (lever.annual_cost_gbp.value / lever.dose_response.reference_annual_cost_gbp) ** lever.dose_response.exponent
    for i, effect in enumerate(lever.hazard_effects):
        key = f"{effect.hazard}.{i}"
        change = max(draws.draw(key, effect.change) * dose, -1.0)
        plan.sampled[f"{name}.{key}"] = change
        if change == 0.0:
            continue
        clock = ramp.clock(change)
        # arrivals have no phase: an identification effect applies to every arrival
        for phase_name in PHASES if effect.hazard == "identification" else effect.phases:
            key = (effect.hazard, PHASES.index(phase_name))
            existing = plan.hazard_clocks.get(key)
            plan.hazard_clocks[key] = clock if existing is None else existing.times(clock)
    shifts = (plan.refusal, plan.plan_probability, plan.appeal, plan.transfer_to_special, plan.bespoke_share, plan.post16_to_fe_share)
    for attribute, shift in zip(SHIFT_EFFECTS, shifts):
        effect = getattr(lever, attribute)
        if effect is not None:
            size = draws.draw(attribute, effect) * dose
            plan.sampled[f"{name}.{attribute}"] = size
            shift.parts.append((size, ramp))
    for i, extra in enumerate(lever.extra_places):
        key = f"extra_places.{i}.delay_months"
        delay = draws.draw(key, extra.delay_months) if extra.delay_months is not None else 0.0
        plan.sampled[f"{name}.{key}"] = delay
        opening = calendar.day(extra.opening_date) + delay * DAYS_PER_YEAR / 12
        plan.extra_places.append((extra.pool, max(opening, 0.0), extra.places))
    if lever.allocation_transfer_gbp is not None:
        amount = draws.draw("allocation_transfer_gbp", lever.allocation_transfer_gbp)
        plan.sampled[f"{name}.allocation_transfer_gbp"] = amount
        plan.allocation_transfer[name] = [(amount, Ramp(ramp.start_day, 0.0, end))]


def effect_ranges(name: str, lever: Lever) -> list[tuple[str, EffectRange]]:
    """Every uncertain effect of one lever, keyed as :func:`compile_levers` draws it
    (``'<lever>.<effect>'``), in the order it draws them."""
    found = [(f"{effect.hazard}.{i}", effect.change) for i, effect in enumerate(lever.hazard_effects)]
    found += [(attribute, getattr(lever, attribute)) for attribute in SHIFT_EFFECTS if getattr(lever, attribute) is not None]
    found += [(f"extra_places.{i}.delay_months", extra.delay_months) for i, extra in enumerate(lever.extra_places)
              if extra.delay_months is not None]
    if lever.allocation_transfer_gbp is not None:
        found.append(("allocation_transfer_gbp", lever.allocation_transfer_gbp))
    return [(f"{name}.{key}", effect) for key, effect in found]


def effect_points(config: Config, seed: int, replication: int) -> dict[str, float]:
    """Where each enabled lever's uncertain effects fall in their ranges in one replication: its
    point in [0, 1) of each effect's stratified sequence, by ``'<lever>.<effect>'``, for effects
    whose range is not a single value. Uniform with mean 1/2 by construction, so these are control
    variates of known mean for the Monte Carlo error of a mean over replications
    (:func:`hnsim.analysis.intervals.stratified_half_width`)."""
    points = {}
    for name, lever in config.levers.items():
        if not lever.enabled:
            continue
        draws = EffectDraws(seed, replication, name)
        for key, effect in effect_ranges(name, lever):
            if effect.high > effect.low:
                points[key] = draws.uniform(key[len(name) + 1:])
    return points


def lever_costs_by_year(config: Config, calendar: Calendar) -> dict[str, np.ndarray]:
    """Running cost of each enabled lever per financial year at the price base (before inflation).

    A financial year in which the lever runs throughout is charged its annual cost exactly; a part
    year pro rata by the days it runs in that financial year.
    """
    out = {}
    for name, lever in config.levers.items():
        if not lever.enabled:
            continue
        start = calendar.day(lever.start_date)
        end = calendar.day(lever.end_date) if lever.end_date is not None else float("inf")
        out[name] = lever.annual_cost_gbp.value * _share_of_years(calendar, start, end)
    return out


def allocation_transfers_by_year(plan: LeverPlan, calendar: Calendar) -> np.ndarray:
    """Money moved into the block by levers, per financial year (pro rata by days from each start)."""
    total = np.zeros(len(calendar.fy_bounds()))
    for parts in plan.allocation_transfer.values():
        for amount, ramp in parts:
            total += amount * _share_of_years(calendar, ramp.start_day, ramp.end_day)
    return total


def _share_of_years(calendar: Calendar, start: float, end: float) -> np.ndarray:
    """Share of each financial year's days that fall between ``start`` and ``end``."""
    return np.array([max(min(last, end) - max(first, start), 0.0) / (last - first) for _, first, last in calendar.fy_bounds()])
