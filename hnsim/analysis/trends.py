"""A council's demand trend, estimated with partial pooling towards its region's and England's trends.

Tables in (:func:`hnsim.data.trend_tables.trend_table`: ``authority, la_name, region_name, year,
value``), a :class:`GrowthPrior` out: the growth per year of one series for one authority, as a
mean and a standard deviation, to serve as the prior of a growth parameter when that council is
calibrated. A council with two flat years is pulled towards its region by as much as its own data
justify: a long steady series keeps its own slope, a short noisy one takes most of its region's.

The model (:func:`fit_pooled`), on ``log(value)`` for the years ``first_year..last_year`` (nothing
later is read, so ``last_year`` is the forecast origin's last year of data)::

    log y[i, t] = a[r(i)] + b[r(i)] * t + u0[i] + u1[i] * t + e[i, t]
    (u0, u1)[i] ~ N(0, G),   e ~ N(0, s2)

with ``t`` the year less the window's midpoint, a fixed intercept and slope ``b[r]`` for each
region, and a random intercept and slope by authority (``statsmodels`` ``MixedLM``, REML). An
authority's slope is ``b[r(i)] + u1[i]``, its BLUP (``random_effects``) added to its region's
slope; growth per year is ``exp(slope) - 1``.

Approximations, stated once:

- **The sd** of an authority's slope is ``sqrt(se(b[r])**2 + Var(u1[i] | data))``: the fixed slope's
  standard error and the BLUP's conditional variance (``random_effects_cov``, given the variance
  parameters) added as if independent; it ignores the uncertainty of ``G`` and ``s2`` and the
  covariance between the two terms. Growth's sd is the delta method, ``exp(slope) * sd(slope)``.
- **The weight on own data** (``shrinkage``) is ``1 - Var(u1[i] | data) / G[1, 1]``: the share of
  the between-authority slope variance the authority's own years explain; 0 for an authority with
  fewer than two years, near 1 for a long steady series. It equals the normal-normal weight
  ``G11 / (G11 + se_own**2)`` when the intercept is known.
- **England's** slope is the average of the regions' slopes weighted by their authorities: the trend
  of a typical authority, not the growth of England's total (large authorities weigh no more).
- **Small counts.** Authorities with a count below ``min_count`` (20) in a year of the window are left
  out of the fit, as one residual variance ``s2`` for all would otherwise be set by the counting
  noise of the smallest (City of London's 1 to 8 requests a year). They still get a prior: their
  own slope (residual variance ``s2`` plus the counting noise ``mean(1 / y)``) shrunk towards
  their region's slope with the fitted between-authority variance, by the normal-normal formula.
- **Fallback** (``method`` "empirical Bayes"): when MixedLM fails (raises, does not converge with
  Powell's method nor L-BFGS, or gives a non-finite result), or fewer than :data:`MIN_AUTHORITIES`
  authorities have two years, each authority's own least-squares slope is shrunk towards its region's
  mean slope (England's where its region has fewer than :data:`MIN_REGION` authorities) with weight
  ``tau2 / (tau2 + se**2)``, ``tau2`` the between-authority slope variance by the method of moments
  (the spread of the slopes about their region means less the mean sampling variance, at least 0).
- **Two years each.** When no authority has three years in the window, the slope variance and the
  residual variance cannot be told apart (two points fit any line). The fallback is used with the
  residual variance taken as counting noise only (``1 / y``), so the between-authority variance is
  at its largest and the shrinkage at its smallest; the source says so.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hnsim.data.trend_tables import SERIES

#: Fewer authorities with two or more years than this and MixedLM is not tried.
MIN_AUTHORITIES = 10
#: A region with fewer authorities with own slopes than this is pooled with England's mean (fallback).
MIN_REGION = 3
#: Counts below this in a year of the window keep an authority out of the MixedLM fit (counting noise).
MIN_COUNT = 20.0
METHODS = ("auto", "mixedlm", "empirical_bayes")


@dataclass(frozen=True)
class Growth:
    """A growth per year: ``mean`` and ``sd`` as fractions (0.11 is 11% a year), from a log-linear slope."""

    mean: float
    sd: float
    log_slope: float
    log_se: float

    @classmethod
    def of_slope(cls, slope: float, se: float) -> "Growth":
        """``exp(slope) - 1`` and, by the delta method, ``exp(slope) * se``."""
        return cls(float(math.expm1(slope)), float(math.exp(slope) * se), float(slope), float(se))

    def text(self) -> str:
        """'+9.8%' (the mean, in percent a year)."""
        return f"{100 * self.mean:+.1f}%"


@dataclass(frozen=True)
class GrowthPrior:
    """One authority's pooled growth per year of one series (fractions a year), and what it stands on.

    ``mean`` and ``sd`` are the posterior growth per year; ``own`` its own log-linear slope (None with
    fewer than two years in the window), ``regional`` and ``england`` the pooled slopes; ``n_years``
    the authority's years in the window; ``shrinkage`` the weight on its own data (0 to 1);
    ``source`` a sentence for a config's ``source:`` field.
    """

    series: str
    authority: str
    la_name: str
    region: str
    first_year: int
    last_year: int
    mean: float
    sd: float
    own: Growth | None
    regional: Growth
    england: Growth
    n_years: int
    shrinkage: float
    method: str
    n_authorities: int
    source: str


@dataclass(frozen=True)
class _Estimate:
    slope: float
    var: float
    shrinkage: float


@dataclass(frozen=True)
class PooledFit:
    """A pooled fit of one series over every authority at one window: fit once, read each authority."""

    series: str
    first_year: int
    last_year: int
    method: str
    note: str
    n_authorities: int
    england: tuple[float, float]
    regions: dict[str, tuple[float, float]]
    slope_variance: float
    residual_variance: float
    names: dict[str, tuple[str, str]]  # authority -> (la_name, region_name)
    own: dict[str, tuple[float, float, int]]  # authority -> (slope, se, years); years < 2: nan slope
    estimates: dict[str, _Estimate] = field(repr=False)

    def prior(self, authority: str) -> GrowthPrior:
        """The :class:`GrowthPrior` of ``authority`` (its old_la_code). Raises ValueError, naming the
        codes known, for an authority not in the table."""
        code = str(authority)
        if code not in self.names:
            raise ValueError(f"authority '{code}' is not in the {self.series} table (old_la_code; {len(self.names)} authorities, e.g. {', '.join(sorted(self.names)[:5])})")
        name, region = self.names[code]
        est = self.estimates[code]
        region_slope = self.regions.get(region, self.england)
        own_slope, own_se, years = self.own.get(code, (math.nan, math.nan, 0))
        own = Growth.of_slope(own_slope, own_se) if years >= 2 else None
        regional, england = Growth.of_slope(*region_slope), Growth.of_slope(*self.england)
        posterior = Growth.of_slope(est.slope, math.sqrt(est.var))
        what = SERIES[self.series].label if self.series in SERIES else self.series
        own_text = f"own {own.text()}/yr ({years} yrs)" if own is not None else f"own: {years} yr, no slope"
        region_text = f"{region} {regional.text()}" if region in self.regions else f"{region} (pooled with England)"
        source = (f"SEN2 {what} {self.first_year}-{self.last_year}, {self.note}: {own_text}, {region_text}, England {england.text()}; "
                  f"posterior mean {posterior.text()} ± {100 * posterior.sd:.1f}% a year (weight on own data {est.shrinkage:.2f})")
        return GrowthPrior(series=self.series, authority=code, la_name=name, region=region, first_year=self.first_year, last_year=self.last_year,
                           mean=posterior.mean, sd=posterior.sd, own=own, regional=regional, england=england, n_years=years,
                           shrinkage=est.shrinkage, method=self.method, n_authorities=self.n_authorities, source=source)


def pooled_growth(table: pd.DataFrame, series: str, authority: str, first_year: int | None, last_year: int, *, method: str = "auto",
                  min_count: float | None = None) -> GrowthPrior:
    """The pooled growth prior of one authority: :func:`fit_pooled` then :meth:`PooledFit.prior`.

    A national run asks for every authority at one origin: fit once with :func:`fit_pooled` and read
    each authority from the fit instead.
    """
    return fit_pooled(table, series, first_year, last_year, method=method, min_count=min_count).prior(authority)


def fit_pooled(table: pd.DataFrame, series: str, first_year: int | None, last_year: int, *, method: str = "auto",
               min_count: float | None = None) -> PooledFit:
    """Fit the pooled trend of ``series`` over every authority of ``table`` (the module docstring
    says how), using the years ``first_year`` (None: the table's first) to ``last_year`` only.

    ``method``: "auto" (MixedLM, the empirical-Bayes fallback if it fails), "mixedlm" (raise if it
    fails) or "empirical_bayes". ``min_count`` (default :data:`MIN_COUNT` for counts, 0 for shares)
    keeps authorities with smaller counts out of the MixedLM fit. Raises ValueError when the window
    holds fewer than two years, or no authority has two.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got '{method}'")
    missing = [c for c in ("authority", "la_name", "region_name", "year", "value") if c not in table.columns]
    if missing:
        raise ValueError(f"trend table lacks column(s) {', '.join(missing)}")
    if min_count is None:
        min_count = 0.0 if series in SERIES and SERIES[series].share_of else MIN_COUNT
    all_rows = table.assign(authority=table["authority"].astype(str))
    first = int(all_rows["year"].min()) if first_year is None else int(first_year)
    rows = all_rows[(all_rows["year"] >= first) & (all_rows["year"] <= last_year) & (all_rows["value"] > 0)]
    rows = rows.sort_values(["authority", "year"], kind="stable").reset_index(drop=True)
    years = sorted(rows["year"].unique())
    if len(years) < 2:
        raise ValueError(f"{series}: {len(years)} year(s) with positive values in {first}-{last_year} ({', '.join(map(str, years)) or 'none'}); a trend needs two")
    # names and regions: from the window's rows, else (an authority with no rows there) its latest row
    latest = pd.concat([all_rows, rows]).drop_duplicates("authority", keep="last")
    names = {str(r.authority): (str(r.la_name), str(r.region_name)) for r in latest.itertuples()}
    centre = (first + last_year) / 2
    rows = rows.assign(t=rows["year"] - centre, y=np.log(rows["value"].astype(float)))
    own = _own_slopes(rows)
    with_slope = [a for a, (_, _, n) in own.items() if n >= 2]
    if not with_slope:
        raise ValueError(f"{series}: no authority has two years with positive values in {first}-{last_year}")
    small = rows.groupby("authority")["value"].min() < min_count
    in_fit = rows[~rows["authority"].map(small)]
    identified = bool((in_fit.groupby("authority")["year"].nunique() >= 3).any())
    n_fit = int((in_fit.groupby("authority")["year"].nunique() >= 2).sum())
    fit = None
    if method != "empirical_bayes" and identified and n_fit >= MIN_AUTHORITIES:
        fit = _mixedlm(in_fit, series, first, last_year, names, own, small, rows)
    if fit is None and method == "mixedlm":
        why = "no authority has three years" if not identified else f"{n_fit} authorities with two years (at least {MIN_AUTHORITIES})" if n_fit < MIN_AUTHORITIES else "the fit failed"
        raise ValueError(f"{series} {first}-{last_year}: MixedLM not usable: {why}")
    if fit is None:
        fit = _empirical_bayes(rows, series, first, last_year, names, own, small, identified)
    return fit


def _own_slopes(rows: pd.DataFrame) -> dict[str, tuple[float, float, int]]:
    """Each authority's least-squares slope of log value on year, with Sxx in place of the se
    (the se needs the residual variance, pooled later), and its number of years."""
    out = {}
    for code, g in rows.groupby("authority", sort=True):
        t, y = g["t"].to_numpy(float), g["y"].to_numpy(float)
        sxx = float(((t - t.mean()) ** 2).sum())
        slope = float(((t - t.mean()) * (y - y.mean())).sum() / sxx) if len(t) >= 2 else math.nan
        out[str(code)] = (slope, sxx, len(t))
    return out


def _counting_noise(rows: pd.DataFrame) -> dict[str, float]:
    """The mean Poisson variance of each authority's log counts, ``mean(1 / y)``."""
    return (1.0 / rows["value"].astype(float)).groupby(rows["authority"]).mean().to_dict()


def _with_se(own: dict[str, tuple[float, float, int]], variance: dict[str, float]) -> dict[str, tuple[float, float, int]]:
    return {a: (s, math.sqrt(variance[a] / sxx) if n >= 2 else math.nan, n) for a, (s, sxx, n) in own.items()}


def _normal_normal(own_slope: float, own_var: float, prior_mean: float, prior_mean_var: float, tau2: float, years: int) -> _Estimate:
    """Posterior of a slope: own estimate (variance ``own_var``) and prior ``N(prior_mean, tau2)``,
    whose mean is itself known to variance ``prior_mean_var``."""
    if years < 2 or not math.isfinite(own_slope):
        return _Estimate(prior_mean, tau2 + prior_mean_var, 0.0)
    w = tau2 / (tau2 + own_var) if tau2 + own_var > 0 else 0.0
    return _Estimate(w * own_slope + (1 - w) * prior_mean, w * own_var + (1 - w) ** 2 * prior_mean_var, w)


def _mixedlm(in_fit: pd.DataFrame, series: str, first: int, last: int, names: dict, own_sxx: dict, small: pd.Series,
             rows: pd.DataFrame) -> PooledFit | None:
    """The MixedLM fit, or None if it fails (raises, does not converge, or gives non-finite values)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    regions = sorted(in_fit["region_name"].unique())
    exog = pd.DataFrame({f"level {r}": (in_fit["region_name"] == r).astype(float) for r in regions})
    for r in regions:
        exog[f"slope {r}"] = exog[f"level {r}"] * in_fit["t"]
    exog_re = pd.DataFrame({"intercept": 1.0, "t": in_fit["t"]})
    model = sm.MixedLM(in_fit["y"], exog, groups=in_fit["authority"], exog_re=exog_re)
    result = None
    for optimiser in ("powell", "lbfgs"):  # Powell converges where L-BFGS stalls on these short panels
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                candidate = model.fit(reml=True, method=[optimiser])
        except (np.linalg.LinAlgError, ValueError):
            continue
        if candidate.converged and np.all(np.isfinite(candidate.bse_fe)) and np.isfinite(candidate.scale):
            result = candidate
            break
    if result is None:
        return None
    fe, cov = result.fe_params, result.cov_params()
    tau2, s2 = float(result.cov_re.loc["t", "t"]), float(result.scale)
    region_slopes = {r: (float(fe[f"slope {r}"]), float(math.sqrt(cov.loc[f"slope {r}", f"slope {r}"]))) for r in regions}
    counts = in_fit.drop_duplicates("authority")["region_name"].value_counts()
    weights = pd.Series({f"slope {r}": counts[r] / counts.sum() for r in regions})
    england = (float((fe[weights.index] * weights).sum()), float(math.sqrt(weights @ cov.loc[weights.index, weights.index] @ weights)))
    noise = _counting_noise(rows)
    own = _with_se(own_sxx, {a: s2 + (noise.get(a, 0.0) if bool(small.get(a, False)) else 0.0) for a in own_sxx})
    estimates = {}
    fitted = set(in_fit["authority"])
    for code, (_, region) in names.items():
        slope, se = region_slopes.get(region, england)
        if code in fitted:
            blup = float(result.random_effects[code]["t"])
            cond = float(result.random_effects_cov[code].loc["t", "t"])
            share = 1 - cond / tau2 if tau2 > 0 else 0.0
            estimates[code] = _Estimate(slope + blup, se ** 2 + cond, min(1.0, max(0.0, share)))
        else:
            o_slope, o_se, n = own.get(code, (math.nan, math.nan, 0))
            estimates[code] = _normal_normal(o_slope, o_se ** 2, slope, se ** 2, tau2, n)
    if not all(math.isfinite(e.slope) and math.isfinite(e.var) for e in estimates.values()):
        return None
    left_out = len(set(rows["authority"])) - len(fitted)
    note = (f"partial pooling (statsmodels MixedLM on log values, REML: random intercept and slope by authority, a fixed slope per region; "
            f"{len(fitted)} authorities" + (f", {left_out} with counts under {MIN_COUNT:.0f} shrunk by the normal-normal formula" if left_out else "") + ")")
    return PooledFit(series, first, last, "MixedLM", note, len(fitted), england, region_slopes, tau2, s2, names, own, estimates)


def _empirical_bayes(rows: pd.DataFrame, series: str, first: int, last: int, names: dict, own_sxx: dict, small: pd.Series,
                     identified: bool) -> PooledFit:
    """Normal-normal shrinkage of own slopes towards region means, tau2 by the method of moments."""
    noise = _counting_noise(rows)
    if identified:
        big = rows[~rows["authority"].map(small)]
        big = big if big["authority"].nunique() >= 2 else rows
        resid = big.groupby("authority", group_keys=False)[["t", "y"]].apply(_residuals)
        df = int((big.groupby("authority").size() - 2).clip(lower=0).sum())
        s2 = float((resid ** 2).sum() / df) if df > 0 else 0.0
        variance = {a: s2 + (noise.get(a, 0.0) if bool(small.get(a, False)) else 0.0) for a in own_sxx}
        how = "residual variance pooled from the authorities' own fits"
    else:
        s2 = math.nan
        variance = {a: noise.get(a, 0.0) for a in own_sxx}
        how = "two years each, so residual variance taken as counting noise 1/count only (least shrinkage)"
    own = _with_se(own_sxx, variance)
    slopes = {a: (s, se) for a, (s, se, n) in own.items() if n >= 2 and math.isfinite(se)}
    regions = {a: names[a][1] for a in slopes}
    by_region: dict[str, list[str]] = {}
    for a, r in regions.items():
        by_region.setdefault(r, []).append(a)
    b = np.array([slopes[a][0] for a in slopes])
    se2 = np.array([slopes[a][1] ** 2 for a in slopes])
    pooled = {r: members for r, members in by_region.items() if len(members) >= MIN_REGION}
    centre = {a: np.mean([slopes[m][0] for m in pooled[regions[a]]]) if regions[a] in pooled else float(b.mean()) for a in slopes}
    k = len(pooled) + (1 if any(regions[a] not in pooled for a in slopes) else 0)
    dev = np.array([slopes[a][0] - centre[a] for a in slopes])
    tau2 = max(0.0, float((dev ** 2).sum() / max(1, len(b) - k) - se2.mean())) if len(b) > 1 else 0.0
    england = (float(b.mean()), float(math.sqrt((tau2 + se2).sum()) / len(b)))
    region_slopes = {}
    for r, members in pooled.items():
        v = np.array([slopes[m][1] ** 2 for m in members])
        region_slopes[r] = (float(np.mean([slopes[m][0] for m in members])), float(math.sqrt((tau2 + v).sum()) / len(members)))
    estimates = {}
    for code, (_, region) in names.items():
        mean, se = region_slopes.get(region, england)
        o_slope, o_se, n = own.get(code, (math.nan, math.nan, 0))
        estimates[code] = _normal_normal(o_slope, o_se ** 2 if n >= 2 else math.nan, mean, se ** 2, tau2, n)
    note = (f"partial pooling (empirical Bayes: own log-linear slopes shrunk towards the region's mean slope, between-authority variance "
            f"by the method of moments; {how}; {len(b)} authorities)")
    return PooledFit(series, first, last, "empirical Bayes", note, len(b), england, region_slopes, tau2, s2, names, own, estimates)


def _residuals(g: pd.DataFrame) -> pd.Series:
    t, y = g["t"].to_numpy(float), g["y"].to_numpy(float)
    if len(t) < 2:
        return pd.Series(np.zeros(len(t)), index=g.index)
    slope, intercept = np.polyfit(t, y, 1)
    return pd.Series(y - (intercept + slope * t), index=g.index)
