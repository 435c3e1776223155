"""Student-t intervals for the mean of an outcome across replications, in one place: half-widths
(vectorised, for summaries), two-sided intervals, half-widths for choosing the number of
replications, and one-sided bounds for goal-seeking.

They measure Monte Carlo error (how well the replications pin down the mean), not the uncertainty
in the inputs.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def t_half_width(sd, n, confidence: float = 0.95, two_sided: bool = True) -> np.ndarray:
    """Half-width ``t * sd / sqrt(n)`` of the Student-t interval for a mean, with ``t`` the
    quantile of ``n - 1`` degrees of freedom (``0.5 + confidence / 2`` two-sided, ``confidence``
    one-sided); 0 where ``n`` is 1 or less. ``sd`` and ``n`` may be arrays (elementwise) or scalars."""
    sd = np.asarray(sd, dtype=float)
    n = np.asarray(n)
    level = 0.5 + confidence / 2 if two_sided else confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(n > 1, stats.t.ppf(level, np.maximum(n - 1, 1)), np.nan)
        return np.where(n > 1, t * sd / np.sqrt(n), 0.0)


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, sample sd and the two-sided Student-t interval for the mean, ignoring missing values."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return np.nan, np.nan, np.nan, np.nan
    mean = float(values.mean())
    if n == 1:
        return mean, 0.0, mean, mean
    sd = float(values.std(ddof=1))
    half = float(t_half_width(sd, n, confidence))
    return mean, sd, mean - half, mean + half


def half_width(values: np.ndarray, confidence: float = 0.95) -> float:
    """Half-width of the two-sided Student-t interval for the mean (infinite with fewer than 2 values)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return float("inf")
    _, _, low, high = mean_interval(values, confidence)
    return float(high - low) / 2


def one_sided_bound(values: np.ndarray, confidence: float, side: str) -> float:
    """One-sided Student-t confidence bound for the mean: ``lower`` or ``upper``."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n < 2:
        raise ValueError("a confidence bound needs at least 2 replications with a value")
    mean = values.mean()
    margin = float(t_half_width(values.std(ddof=1), n, confidence, two_sided=False))
    return float(mean - margin if side == "lower" else mean + margin)
