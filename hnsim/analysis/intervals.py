"""Intervals for the mean of an outcome across replications (Student-t): two-sided, half-widths for
choosing the number of replications, one-sided bounds for goal-seeking."""

from __future__ import annotations

import numpy as np
from scipy import stats


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
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n))
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
    margin = float(stats.t.ppf(confidence, n - 1)) * values.std(ddof=1) / np.sqrt(n)
    return float(mean - margin if side == "lower" else mean + margin)
