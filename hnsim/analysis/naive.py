"""Naive forecasters: the trend lines a strategist would draw, as probabilistic forecasts.

Each forecaster is fitted to the published values of one series up to the forecast origin (the
same values the model was calibrated on) and returns draws from its predictive distribution for
the years asked for, so that it is scored exactly as the model's replications are
(:mod:`hnsim.analysis.scores`). Series are short (January censuses from 2010; requests for
assessment from calendar year 2016), so each forecaster has a documented fallback:

=================  =======================================================  ============================================
forecaster         method                                                   fallback
=================  =======================================================  ============================================
``last_value``     random walk: the last value; one-step shocks normal with  one value only: the shock's sd is
                   sd the root mean square of the one-step changes           :data:`FALLBACK_RELATIVE_SD` of the value
``linear_trend``   least squares line (statsmodels OLS); normal predictive   fewer than 3 values: ``last_value``
                   with the OLS standard error of a new observation
``compound_growth`` least squares line on the logarithm (log-linear); the   fewer than 3 values: ``last_value``; a zero
                   same, back-transformed (lognormal)                        or negative value: ``linear_trend``
``damped_trend``   additive damped-trend exponential smoothing, statsmodels  fewer than :data:`MIN_ETS_VALUES` values, or a
                   ``ETSModel(error="add", trend="add", damped_trend=True)``, failed fit: ``last_value``
                   simulated sample paths
=================  =======================================================  ============================================

Normal, not Student t, predictives: with 1 to 7 degrees of freedom a t distribution on the log
scale has no mean. Every predictive spread is at least :data:`MIN_STEP_SD` (one plan) a step, so
that a series that happens to be a straight line still gets an interval; counts are never
negative, so draws below zero are set to zero. Only consecutive years count as one-step changes.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

NAIVE_FORECASTERS = ("last_value", "linear_trend", "compound_growth", "damped_trend")
NAIVE_DRAWS = 200  # draws per forecast year: with the fair CRPS, enough for a stable score
MIN_STEP_SD = 1.0  # one plan a step: the least spread of any naive predictive
FALLBACK_RELATIVE_SD = 0.10  # assumption: a series known for one year only moves about 10% a year
MIN_OLS_VALUES = 3  # a line through 2 points has no residual to size its interval
MIN_ETS_VALUES = 5  # damped ETS has 5 parameters (alpha, beta, phi, initial level and trend)


@dataclass(frozen=True)
class NaiveForecast:
    """Draws for each year asked for (years x draws) and the method actually used."""

    forecaster: str
    method: str
    years: tuple[int, ...]
    draws: np.ndarray


def _clean(years, values) -> tuple[np.ndarray, np.ndarray]:
    years, values = np.asarray(years, dtype=int), np.asarray(values, dtype=float)
    keep = np.isfinite(values)
    order = np.argsort(years[keep], kind="stable")
    years, values = years[keep][order], values[keep][order]
    if len(values) == 0:
        raise ValueError("a naive forecaster needs at least one observed value")
    return years, values


def _steps(years: np.ndarray, targets) -> np.ndarray:
    steps = np.asarray(targets, dtype=int) - years[-1]
    if (steps < 1).any():
        raise ValueError(f"forecast years {list(targets)} must come after the last observed year {years[-1]}")
    return steps


def _result(name: str, method: str, targets, draws: np.ndarray) -> NaiveForecast:
    return NaiveForecast(name, method, tuple(int(t) for t in targets), np.maximum(draws, 0.0))


def one_step_sd(years, values) -> float:
    """Root mean square of the one-step changes between consecutive years (NaN with none)."""
    years, values = _clean(years, values)
    changes = np.diff(values)[np.diff(years) == 1]
    return float(np.sqrt(np.mean(changes**2))) if len(changes) else math.nan


def last_value(years, values, targets, draws: int = NAIVE_DRAWS, rng: np.random.Generator | None = None) -> NaiveForecast:
    """Random walk without drift: the last value, spread by the accumulated one-step shocks."""
    rng = rng or np.random.default_rng(0)
    years, values = _clean(years, values)
    steps = _steps(years, targets)
    sd, method = one_step_sd(years, values), "last value"
    if not math.isfinite(sd):
        sd, method = FALLBACK_RELATIVE_SD * abs(values[-1]), f"last value (one value: shocks {FALLBACK_RELATIVE_SD:.0%} of it a year)"
    sd = max(sd, MIN_STEP_SD)
    paths = values[-1] + np.cumsum(rng.normal(0.0, sd, size=(int(steps.max()), draws)), axis=0)
    return _result("last_value", method, targets, paths[steps - 1])


def _ols(years: np.ndarray, values: np.ndarray, targets) -> tuple[np.ndarray, np.ndarray]:
    import statsmodels.api as sm

    x0 = years.min()
    fitted = sm.OLS(values, sm.add_constant(years - x0, has_constant="add")).fit()
    new = sm.add_constant(np.asarray(targets, dtype=float) - x0, has_constant="add")
    prediction = fitted.get_prediction(new)
    return np.asarray(prediction.predicted_mean, dtype=float), np.asarray(prediction.se_obs, dtype=float)


def linear_trend(years, values, targets, draws: int = NAIVE_DRAWS, rng: np.random.Generator | None = None) -> NaiveForecast:
    """Least squares line through the observed values; normal predictive (OLS standard error of a new value)."""
    rng = rng or np.random.default_rng(0)
    years, values = _clean(years, values)
    _steps(years, targets)
    if len(values) < MIN_OLS_VALUES:
        fallback = last_value(years, values, targets, draws, rng)
        return NaiveForecast("linear_trend", f"{fallback.method} (fewer than {MIN_OLS_VALUES} values)", fallback.years, fallback.draws)
    mean, se = _ols(years, values, targets)
    se = np.maximum(np.nan_to_num(se, nan=0.0), MIN_STEP_SD)
    return _result("linear_trend", "linear trend", targets, mean[:, None] + se[:, None] * rng.normal(size=(len(mean), draws)))


def compound_growth(years, values, targets, draws: int = NAIVE_DRAWS, rng: np.random.Generator | None = None) -> NaiveForecast:
    """Least squares line on the logarithm (constant growth rate); lognormal predictive."""
    rng = rng or np.random.default_rng(0)
    years, values = _clean(years, values)
    _steps(years, targets)
    if len(values) < MIN_OLS_VALUES:
        fallback = last_value(years, values, targets, draws, rng)
        return NaiveForecast("compound_growth", f"{fallback.method} (fewer than {MIN_OLS_VALUES} values)", fallback.years, fallback.draws)
    if (values <= 0).any():
        fallback = linear_trend(years, values, targets, draws, rng)
        return NaiveForecast("compound_growth", f"{fallback.method} (a zero in the series)", fallback.years, fallback.draws)
    mean, se = _ols(years, np.log(values), targets)
    se = np.maximum(np.nan_to_num(se, nan=0.0), MIN_STEP_SD / values[-1])  # at least about one plan at the last level
    return _result("compound_growth", "compound growth", targets, np.exp(mean[:, None] + se[:, None] * rng.normal(size=(len(mean), draws))))


def damped_trend(years, values, targets, draws: int = NAIVE_DRAWS, rng: np.random.Generator | None = None) -> NaiveForecast:
    """Additive damped-trend exponential smoothing (statsmodels ETSModel), simulated sample paths
    with normal errors of the fit's residual sd (at least :data:`MIN_STEP_SD`)."""
    from scipy import stats
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = rng or np.random.default_rng(0)
    years, values = _clean(years, values)
    steps = _steps(years, targets)
    gaps = np.diff(years) != 1
    if len(values) < MIN_ETS_VALUES or gaps.any():
        why = f"fewer than {MIN_ETS_VALUES} values" if len(values) < MIN_ETS_VALUES else "a year missing"
        fallback = last_value(years, values, targets, draws, rng)
        return NaiveForecast("damped_trend", f"{fallback.method} ({why})", fallback.years, fallback.draws)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings on short series: the fit is checked below
            fitted = ETSModel(values, error="add", trend="add", damped_trend=True).fit(disp=False)
            sd = max(float(np.sqrt(fitted.mse)), MIN_STEP_SD)
            paths = np.asarray(fitted.simulate(int(steps.max()), anchor="end", repetitions=draws, random_errors=stats.norm(scale=sd), rng=rng), dtype=float)
        paths = paths.reshape(int(steps.max()), draws)
        if not np.isfinite(paths).all():
            raise ValueError("non-finite simulation")
    except (ValueError, np.linalg.LinAlgError) as exc:
        fallback = last_value(years, values, targets, draws, rng)
        return NaiveForecast("damped_trend", f"{fallback.method} (damped trend fit failed: {exc})", fallback.years, fallback.draws)
    return _result("damped_trend", "damped trend", targets, paths[steps - 1])


FORECASTERS: dict[str, Callable[..., NaiveForecast]] = {
    "last_value": last_value, "linear_trend": linear_trend, "compound_growth": compound_growth, "damped_trend": damped_trend,
}


def naive_forecasts(years, values, targets, draws: int = NAIVE_DRAWS, seed: int | list[int] = 0) -> list[NaiveForecast]:
    """Every naive forecaster fitted to one series (``years``, ``values``) for the ``targets``
    years; forecaster ``i`` draws from ``SeedSequence([*seed, i])``, so a forecast depends only on
    the series, the years asked for and the seed."""
    base = list(np.atleast_1d(seed))
    return [FORECASTERS[name](years, values, targets, draws, np.random.default_rng([*base, i])) for i, name in enumerate(NAIVE_FORECASTERS)]
