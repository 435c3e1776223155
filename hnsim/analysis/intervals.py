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


def stratified_half_width(values: np.ndarray, points: np.ndarray | None, confidence: float = 0.95) -> tuple[float, int]:
    """Half-width of the Student-t interval for the mean of ``values`` when each replication's
    inputs include uncertain effects drawn at stratified ``points`` (replications x effects, each
    column uniform on [0, 1) and stratified over the replications, as lever effects are), and how
    many effects it accounted for.

    For Latin hypercube sampling the variance of the mean is ``Var(e) / n`` plus smaller terms, where
    ``e`` is what is left of the outcome once each input's own (additive) effect is removed (Stein
    1987, Technometrics 29(2); Owen 1992, JRSS B 54(2)). Here ``e`` is estimated by the residuals of
    a least-squares fit of the values on the points: a straight line in each effect removes no more
    than the additive part, so the estimate is conservative (larger where an effect acts
    non-linearly); with ``p`` effects the residual variance has ``n - 1 - p`` degrees of freedom.
    Points that do not vary are ignored. Without points, or with too few replications for the fit
    (fewer than ``p + 3``), it is the ordinary half-width (:func:`half_width`) and the count is 0.
    Replications with a missing value are left out.
    """
    values = np.asarray(values, dtype=float)
    keep = ~np.isnan(values)
    if points is None:
        return half_width(values, confidence), 0
    x = np.asarray(points, dtype=float).reshape(len(values), -1)[keep]
    y = values[keep]
    x = x[:, x.std(axis=0) > 0] if len(y) > 1 else x[:, :0]
    n, p = x.shape
    if p == 0 or n - 1 - p < 2:
        return half_width(y, confidence), 0
    design = np.column_stack([np.ones(n), x - 0.5])
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coefficients
    sd = float(np.sqrt(residual @ residual / (n - 1 - p)))
    level = 0.5 + confidence / 2
    return float(stats.t.ppf(level, n - 1 - p) * sd / np.sqrt(n)), p
