"""Compile a validated config into the flat, per-day numbers the simulation uses in its hot path."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from hnsim.config.schema import NEEDS, PHASES, SPECIAL_POOLS, Config, Trend
from hnsim.model.calendar import Calendar
from hnsim.model.hazard import Clock, per_day, trend_clock

FLAT = Clock.flat()


def phase_rates(rates: dict[str, float]) -> list[float]:
    """Per-day hazards indexed by phase number."""
    return [per_day(rates.get(p, 0.0)) for p in PHASES]


def need_multipliers(mults: dict[str, float]) -> list[float]:
    """Multipliers indexed by need number."""
    return [mults.get(n, 1.0) for n in NEEDS]


def cumulative(shares: dict[str, float], keys: tuple[str, ...]) -> list[float]:
    """Cumulative shares in the order of ``keys`` (for inverse-CDF choice)."""
    out, total = [], 0.0
    for key in keys:
        total += shares.get(key, 0.0)
        out.append(total)
    return out


def choose(cumulative_shares: list[float], u: float) -> int:
    """Index chosen by inverse CDF (robust to shares summing to slightly under 1)."""
    i = bisect.bisect_right(cumulative_shares, u * cumulative_shares[-1])
    return min(i, len(cumulative_shares) - 1)


def choose_many(cumulative_shares: list[float], u: np.ndarray) -> np.ndarray:
    """:func:`choose` for an array of uniforms."""
    i = np.searchsorted(cumulative_shares, u * cumulative_shares[-1], side="right")
    return np.minimum(i, len(cumulative_shares) - 1)


@dataclass
class Parameters:
    """Everything the model reads, in per-day units, indexed by phase and need numbers.

    ``clocks`` maps a transition name to a list of clocks by phase; levers replace entries here.
    """

    config: Config
    calendar: Calendar
    clocks: dict[str, list[Clock]] = field(default_factory=dict)
    pool_schedules: dict[str, list[tuple[float, int]]] = field(default_factory=dict)

    def clock(self, name: str, phase: int) -> Clock:
        """The clock of a transition in a phase (flat if none was set)."""
        clocks = self.clocks.get(name)
        return clocks[phase] if clocks else FLAT


def _trend(calendar: Calendar, trend: Trend | None) -> Clock:
    if trend is None:
        return FLAT
    until = calendar.day(trend.until_date) if trend.until_date else None
    return trend_clock(0.0, calendar.horizon, trend.growth_per_year.value, calendar.day(trend.from_date), until)


def _by_year_clock(calendar: Calendar, multipliers: dict[str, float]) -> Clock:
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


def compile_parameters(config: Config) -> Parameters:
    """Turn a config into :class:`Parameters`."""
    sim = config.simulation
    calendar = Calendar(sim.start_date, sim.end_date, sim.census_month, sim.census_day)
    params = Parameters(config=config, calendar=calendar)
    for name, trend in (
        ("identification", config.identification.trend),
        ("sen_support.request", config.sen_support.request_trend),
        ("sen_support.exclusion", config.sen_support.exclusion_trend),
        ("sen_support.ehe", config.sen_support.ehe_trend),
    ):
        clock = _trend(calendar, trend)
        params.clocks[name] = [clock] * len(PHASES)
    by_year = config.sen_support.request_multiplier_by_year
    if by_year is not None and any(m != 1.0 for m in by_year.value.values()):
        steps = _by_year_clock(calendar, by_year.value)
        base = params.clocks["sen_support.request"][0]
        params.clocks["sen_support.request"] = [steps if base is FLAT else base.times(steps)] * len(PHASES)
    places = config.capacity.places.value
    for pool in SPECIAL_POOLS:
        schedule = [(0.0, places.get(pool, 0))]
        running = places.get(pool, 0)
        for expansion in sorted(config.capacity.expansions, key=lambda e: e.date):
            if expansion.pool == pool:
                running = max(running + expansion.places, 0)
                schedule.append((max(calendar.day(expansion.date), 0.0), running))
        params.pool_schedules[pool] = schedule
    return params


__all__ = ["FLAT", "Parameters", "choose", "choose_many", "compile_parameters", "cumulative", "need_multipliers", "phase_rates"]
