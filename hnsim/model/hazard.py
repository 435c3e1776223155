"""Time-varying hazards without a periodic tick.

A :class:`Clock` holds a piecewise-constant multiplier m(t) on a monthly grid (trends, lever
ramps, shocks). A child facing base hazard ``r`` (per day) and a unit exponential draw ``E`` has its
event at the time ``t`` where ``r * integral(m, now, t) = E``; the clock inverts its cumulative
multiplier exactly. Competing events that share a clock are drawn together (one draw for the sum of
their rates, then a choice in proportion to each rate), which is exact for proportional hazards.
"""

from __future__ import annotations

import bisect
import math
from typing import Sequence

import numpy as np

from hnsim.model.calendar import DAYS_PER_YEAR

INF = math.inf


class Clock:
    """Piecewise-constant hazard multiplier with an exact inverse of its integral."""

    __slots__ = ("knots", "multipliers", "cumulative", "constant", "_arrays")

    def __init__(self, knots: Sequence[float], multipliers: Sequence[float]):
        """``multipliers[i]`` applies from ``knots[i]`` to ``knots[i+1]``; the last one applies for ever.

        Before ``knots[0]`` the first multiplier applies.
        """
        if len(knots) != len(multipliers) or not knots:
            raise ValueError("a clock needs one multiplier per knot")
        if any(m < 0 for m in multipliers):
            raise ValueError("hazard multipliers must be >= 0")
        self.knots = [float(k) for k in knots]
        self.multipliers = [float(m) for m in multipliers]
        cumulative = [0.0]
        for i in range(1, len(self.knots)):
            cumulative.append(cumulative[-1] + self.multipliers[i - 1] * (self.knots[i] - self.knots[i - 1]))
        self.cumulative = cumulative
        self.constant = all(m == self.multipliers[0] for m in self.multipliers)
        self._arrays = (np.array(self.knots), np.array(self.multipliers), np.array(self.cumulative))

    @classmethod
    def flat(cls, multiplier: float = 1.0) -> "Clock":
        """A clock whose multiplier never changes."""
        return cls([0.0], [multiplier])

    def multiplier(self, t: float) -> float:
        """m(t)."""
        i = bisect.bisect_right(self.knots, t) - 1
        return self.multipliers[max(i, 0)]

    def integral_to(self, t: float) -> float:
        """Integral of m from knots[0] to t (negative before knots[0])."""
        i = bisect.bisect_right(self.knots, t) - 1
        if i < 0:
            return self.multipliers[0] * (t - self.knots[0])
        return self.cumulative[i] + self.multipliers[i] * (t - self.knots[i])

    def time_after(self, now: float, exposure: float) -> float:
        """The time t >= now with integral(m, now, t) == exposure (inf if never)."""
        if self.constant:
            m = self.multipliers[0]
            return now + exposure / m if m > 0 else INF
        target = self.integral_to(now) + exposure
        cumulative = self.cumulative
        i = bisect.bisect_right(cumulative, target) - 1
        # flat stretches (m == 0) leave equal cumulative values; move past them
        i = max(i, bisect.bisect_right(self.knots, now) - 1, 0)
        while i + 1 < len(cumulative) and cumulative[i + 1] <= target:
            i += 1
        m = self.multipliers[i]
        if m <= 0:
            return INF
        return max(now, self.knots[i] + (target - cumulative[i]) / m)

    def time_after_many(self, now: np.ndarray, exposure: np.ndarray) -> np.ndarray:
        """:meth:`time_after` for arrays of ``now`` and ``exposure``: the same arithmetic, element by element."""
        now = np.asarray(now, dtype=float)
        exposure = np.asarray(exposure, dtype=float)
        if self.constant:
            m = self.multipliers[0]
            return now + exposure / m if m > 0 else np.full(np.broadcast(now, exposure).shape, INF)
        knots, multipliers, cumulative = self._arrays
        # integral_to(now); before knots[0], cumulative[0] == 0 makes this the first-multiplier line
        j = np.maximum(np.searchsorted(knots, now, side="right") - 1, 0)
        target = cumulative[j] + multipliers[j] * (now - knots[j]) + exposure
        # target >= cumulative[j], so the scalar version's max(..., j) and its loop over flat
        # stretches change nothing: bisect_right already lands past equal cumulative values
        i = np.maximum(np.searchsorted(cumulative, target, side="right") - 1, 0)
        m = multipliers[i]
        positive = m > 0
        t = np.maximum(now, knots[i] + (target - cumulative[i]) / np.where(positive, m, 1.0))
        return np.where(positive, t, INF)

    def times(self, other: "Clock") -> "Clock":
        """The product of two clocks' multipliers."""
        knots = sorted(set(self.knots) | set(other.knots))
        return Clock(knots, [self.multiplier(k) * other.multiplier(k) for k in knots])


def trend_clock(start_day: float, horizon: float, growth_per_year: float, from_day: float, until_day: float | None) -> Clock:
    """Multiplier (1 + g)^(years since ``from_day``) between ``from_day`` and ``until_day``, on a monthly grid.

    Each month uses the multiplier at its midpoint, so the step approximation is unbiased to first order.
    """
    if growth_per_year == 0:
        return Clock.flat()
    until = horizon if until_day is None else min(until_day, horizon)
    step = DAYS_PER_YEAR / 12
    knots = [min(start_day, from_day)]
    multipliers = [1.0]
    t = from_day
    log_growth = math.log1p(growth_per_year)
    while t < until:
        mid = min(t + step / 2, until)
        knots.append(t)
        multipliers.append(math.exp(log_growth * (mid - from_day) / DAYS_PER_YEAR))
        t += step
    knots.append(until)
    multipliers.append(math.exp(log_growth * (until - from_day) / DAYS_PER_YEAR))
    return Clock(knots, multipliers)


def damped_years(t: float, from_day: float, data_end_day: float, damping: float) -> float:
    """Years of growth at full rate equivalent to a trend from ``from_day`` at day ``t``, damped after ``data_end_day``.

    The growth rate holds until ``data_end_day`` (T) and decays by ``damping`` (phi) a year after
    it; the log multiplier of growth g is ``log(1+g)`` times this. With t0 = ``from_day`` <= T, after T
    it is ``(T - t0) + (1 - phi^(t-T)) / (-ln phi)`` (in years): phi = 1 gives ``t - t0``, phi = 0
    gives ``T - t0`` (flat after T). Before t0 it is 0.
    """
    if t <= from_day:
        return 0.0
    if t <= data_end_day or damping == 1.0:
        return (t - from_day) / DAYS_PER_YEAR
    full = max(data_end_day - from_day, 0.0) / DAYS_PER_YEAR  # years at full rate (none if the trend starts after T)
    if damping == 0.0:
        return full
    a, b = max(from_day, data_end_day), t  # the damped stretch
    years_a, years_b = (a - data_end_day) / DAYS_PER_YEAR, (b - data_end_day) / DAYS_PER_YEAR
    return full + (damping**years_a - damping**years_b) / -math.log(damping)


def damped_trend_clock(start_day: float, horizon: float, growth_per_year: float, from_day: float, data_end_day: float, damping: float) -> Clock:
    """Multiplier ``(1 + g)^damped_years(t)`` (see :func:`damped_years`) on a monthly grid to the horizon.

    Each month uses the multiplier at its midpoint, as :func:`trend_clock` does.
    """
    if growth_per_year == 0:
        return Clock.flat()
    step = DAYS_PER_YEAR / 12
    knots = [min(start_day, from_day)]
    multipliers = [1.0]
    log_growth = math.log1p(growth_per_year)
    t = from_day
    while t < horizon:
        mid = min(t + step / 2, horizon)
        knots.append(t)
        multipliers.append(math.exp(log_growth * damped_years(mid, from_day, data_end_day, damping)))
        t += step
    return Clock(knots, multipliers)


def linear_clock(start_day: float, until_day: float, start_multiplier: float) -> Clock:
    """Multiplier moving linearly from ``start_multiplier`` at ``start_day`` to 1 at ``until_day`` (1 after), monthly midpoints."""
    if start_multiplier == 1.0 or until_day <= start_day:
        return Clock.flat()
    step = DAYS_PER_YEAR / 12
    knots, multipliers = [], []
    t = start_day
    while t < until_day:
        mid = min(t + step / 2, until_day)
        knots.append(t)
        multipliers.append(start_multiplier + (1.0 - start_multiplier) * (mid - start_day) / (until_day - start_day))
        t += step
    knots.append(until_day)
    multipliers.append(1.0)
    return Clock(knots, multipliers)


def step_clock(knots: Sequence[float], multipliers: Sequence[float]) -> Clock:
    """A clock from explicit steps (used for levers and shocks)."""
    order = np.argsort(knots, kind="stable")
    return Clock([knots[i] for i in order], [multipliers[i] for i in order])


def per_day(rate_per_year: float) -> float:
    """Convert a hazard per year to a hazard per day."""
    return rate_per_year / DAYS_PER_YEAR
