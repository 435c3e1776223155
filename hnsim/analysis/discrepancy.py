"""Model discrepancy: from simulated values to a forecast of the figures DfE will publish.

No member of the model reproduces a published series exactly, and none can know what will move an
authority's figures next year that moves no mechanism of the model (a new special school, a
change in how a council records plans, a tribunal ruling). A forecast of a published value
therefore adds to each simulated path a *discrepancy*: a random walk on the log scale,

    log y(T + h) = log s_m(T + h) + d_m(T + h),
    d_m(T) = log y(T) - log s_m(T),                      the member's miss on the last published value,
    d_m(T + h) = d_m(T) + e_1 + ... + e_h,               yearly steps e drawn from ``steps``,

where ``T`` is the last year published at the forecast origin and ``s_m`` member m's simulated
series. The start ``d_m(T)`` anchors every member on the last published value (a random walk's
best forecast of its own next value is where it is now); the steps widen the band year by year.

The steps are empirical, not fitted to the model: for each series, every authority's yearly change
in the log of its published value minus the median change of all authorities that year, as
published up to the origin (:func:`yearly_steps`). A change from fewer than :data:`MIN_BASE` plans
is left out: a count starting up (the FE group and the 20-25 band after the 2014 reforms, from a
handful to hundreds) is not a year's fluctuation. The model's members carry the growth common to
an authority's own history and to the nation; the steps carry how far authorities' years stray
from it. They are resampled (so their heavy tails come through), independently by member, draw
and year, after winsorising at the 1st and 99th percentiles and shifting them so that ``exp(e)``
has mean one: the discrepancy then widens a member's band without moving its mean. A series with
too few published changes borrows the steps of :data:`BORROWED`. A published value below
:data:`MIN_BASE` anchors by the member's miss in plans rather than by a ratio, for the same reason.

The steps say how far an authority strays from the nation; they cannot say how far the model's
own growth strays from the authority's. That is measured where it can be, in the years the model
was fitted to: each member's in-sample miss ``d_m(t) = log y(t) - log s_m(t)`` changes by
``slope_m`` a year on average over the fitted years (:func:`insample_growth_error`). Its sign does
not carry forward (carrying the drift itself forward was tried and scored worse, docs/validation.md),
but its size does: the forecast adds a *growth error*, a slope drawn for every member and draw,

    d_m(T + h) = d_m(T) + e_1 + ... + e_h + sigma * c_h * z - (sigma * c_h)^2 / 2,    z ~ N(0, 1),

where ``sigma`` is the root mean square of the members' in-sample slopes of that series (their
spread and their common bias alike) and ``c_h = 1 + phi + ... + phi^(h-1)`` damps it at
:data:`GROWTH_DAMPING` a year, as the model's trends are damped after the data; the last term
keeps ``exp`` of the growth error's mean at one. Only January caseloads get one
(:func:`has_growth_error`); a series with no two consecutive fitted years (both published from
:data:`MIN_BASE` and simulated) borrows its :data:`BORROWED` lender's, as for the steps
(:func:`growth_errors`), and has none without one.

Pure functions of tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hnsim.results.schemas import ENSEMBLE_COLUMNS

#: The fewest changes a series' steps are estimated from; below this it borrows another's.
MIN_STEPS = 100
#: The fewest plans (or requests) a change may start from to count as a step.
MIN_BASE = 20
#: Steps are winsorised at these quantiles of their pool.
WINSOR = (0.01, 0.99)
#: A series with too few published changes at an origin borrows the steps of the closest series
#: that has enough: requests for assessment (published from 2016) those of new plans, the closest
#: activity series; the 20-25 band and the FE group (a handful of plans each before the 2014 reforms
#: reached them, so no changes from 20 plans until 2016-17) those of the 16-19 band, the age group
#: next to the one and most of the other. Without a lender such a series would be forecast with no
#: discrepancy at all: a band as narrow as the members', for the series whose years are least known.
BORROWED = {"assessment_requests_calendar_year": "new_ehcps_calendar_year",
            "ehcp_age_20_25": "ehcp_age_16_19",
            "ehcp_post16": "ehcp_age_16_19"}
#: Steps are taken from published changes from this census or calendar year on.
FIRST_YEAR = 2011
#: Draws of the discrepancy per member: each member's path is forecast this many times.
DRAWS_PER_MEMBER = 50
#: The growth error's damping per year (assumption: the central damping of the model's own trends
#: after the data, so the growth error bends as the growth it widens does).
GROWTH_DAMPING = 0.85
STEP_COLUMNS = ["series", "year", "authority", "step"]


def settings() -> dict[str, object]:
    """What fixes the discrepancy given the data (for a run's design hash)."""
    return {"min_steps": MIN_STEPS, "min_base": MIN_BASE, "winsor": WINSOR, "borrowed": BORROWED, "first_year": FIRST_YEAR,
            "draws_per_member": DRAWS_PER_MEMBER, "growth_damping": GROWTH_DAMPING, "growth_error": "January caseloads", "version": 4}


@dataclass(frozen=True)
class Discrepancy:
    """The yearly steps of each series' discrepancy (``series -> array``) and where each came from."""

    steps: dict[str, np.ndarray]
    sources: dict[str, str]

    def describe(self) -> pd.DataFrame:
        """``series, steps, sd, p05, p95, source``: one row per series."""
        rows = [{"series": s, "steps": len(v), "sd": float(np.std(v, ddof=1)) if len(v) > 1 else np.nan,
                 "p05": float(np.quantile(v, 0.05)) if len(v) else np.nan, "p95": float(np.quantile(v, 0.95)) if len(v) else np.nan,
                 "source": self.sources[s]} for s, v in sorted(self.steps.items())]
        return pd.DataFrame(rows, columns=["series", "steps", "sd", "p05", "p95", "source"])

    def to_records(self) -> dict[str, dict[str, object]]:
        """Plain data (crosses processes; stored with a task)."""
        return {s: {"steps": [float(x) for x in v], "source": self.sources[s]} for s, v in self.steps.items()}

    @classmethod
    def from_records(cls, records: dict[str, dict[str, object]]) -> "Discrepancy":
        """The inverse of :meth:`to_records`."""
        return cls({s: np.asarray(r["steps"], dtype=float) for s, r in records.items()}, {s: str(r["source"]) for s, r in records.items()})


def yearly_steps(table: pd.DataFrame, last_known: dict[str, int], first_year: int = FIRST_YEAR, min_base: float = MIN_BASE) -> pd.DataFrame:
    """Every authority's yearly change in log published value, less that year's median change over
    authorities: :data:`STEP_COLUMNS`, one row per (series, authority, year) with both years published,
    the earlier at least ``min_base`` and the later positive, from ``first_year`` to
    ``last_known[series]`` (the latest year known at the origin).

    ``table``: ``authority, series, year, value`` for every authority (published values only).
    """
    rows = table[(table["value"] > 0) & table["series"].isin(list(last_known))].sort_values(["series", "authority", "year"], kind="stable")
    rows = rows[rows["year"].astype(int) <= rows["series"].map(last_known)]
    previous = rows.groupby(["series", "authority"], sort=False)["year"].shift(1)
    before = rows.groupby(["series", "authority"], sort=False)["value"].shift(1)
    change = np.log(rows["value"]) - np.log(before)
    steps = rows.assign(change=change.where((previous == rows["year"] - 1) & (before >= min_base))).dropna(subset=["change"])
    steps = steps[steps["year"] >= first_year]
    steps = steps.assign(step=steps["change"] - steps.groupby(["series", "year"])["change"].transform("median"))
    return steps[STEP_COLUMNS].reset_index(drop=True)


def _centred(steps: np.ndarray) -> np.ndarray:
    """Steps winsorised at :data:`WINSOR` and shifted so that ``exp(step)`` has mean one."""
    if not len(steps):
        return steps
    low, high = np.quantile(steps, WINSOR)
    clipped = np.clip(steps, low, high)
    return clipped - np.log(np.mean(np.exp(clipped)))


def discrepancy_at(table: pd.DataFrame, last_known: dict[str, int], series: list[str], first_year: int = FIRST_YEAR,
                   min_steps: int = MIN_STEPS) -> Discrepancy:
    """The discrepancy's steps of each of ``series`` known at an origin (``last_known``: the latest
    year of each series published then), borrowing :data:`BORROWED` where a series has fewer than
    ``min_steps``. A series with none to borrow either gets no steps (its forecast is anchored only)."""
    steps = yearly_steps(table, last_known, first_year)
    own = {s: g["step"].to_numpy(dtype=float) for s, g in steps.groupby("series", sort=True)}
    own = {s: _centred(v) for s, v in own.items()}
    chosen, sources = {}, {}
    for s in series:
        values = own.get(s, np.empty(0))
        years = steps.loc[steps["series"] == s, "year"]
        if len(values) >= min_steps:
            chosen[s], sources[s] = values, f"{len(values)} yearly changes of {s}, {int(years.min())}-{int(years.max())}, every authority"
            continue
        lender = BORROWED.get(s)
        lent = own.get(lender, np.empty(0)) if lender else np.empty(0)
        if len(lent) >= min_steps:
            lent_years = steps.loc[steps["series"] == lender, "year"]
            chosen[s] = lent
            sources[s] = f"borrowed: {len(lent)} yearly changes of {lender}, {int(lent_years.min())}-{int(lent_years.max())} ({len(values)} of its own)"
        else:
            chosen[s], sources[s] = np.empty(0), f"none: {len(values)} yearly changes published, fewer than {min_steps}"
    return Discrepancy(chosen, sources)


def insample_growth_error(wide: pd.DataFrame, published: dict[int, float], last_year: int, min_base: float = MIN_BASE) -> np.ndarray:
    """Each member's mean yearly change of its in-sample miss ``log(published / simulated)`` over
    consecutive years up to ``last_year`` with the published value at least ``min_base`` and the
    simulated one positive (NaN for a member with no such pair).

    ``wide``: members x years of one series' simulated values; ``published``: year -> published value.
    """
    years = [int(y) for y in wide.columns if int(y) <= last_year and published.get(int(y), 0.0) >= min_base]
    pairs = [(a, b) for a, b in zip(years, years[1:]) if b == a + 1]
    if not pairs:
        return np.full(len(wide), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        miss = {y: np.log(published[y]) - np.log(np.where(wide[y].to_numpy(dtype=float) > 0, wide[y].to_numpy(dtype=float), np.nan))
                for y in {y for pair in pairs for y in pair}}
        changes = np.column_stack([miss[b] - miss[a] for a, b in pairs])
        counted = np.isfinite(changes).sum(axis=1)
        return np.where(counted > 0, np.nansum(changes, axis=1) / np.maximum(counted, 1), np.nan)


def growth_error_sd(slopes: np.ndarray) -> float:
    """The growth error's ``sigma``: the root mean square of the members' in-sample slopes (0 with none)."""
    finite = slopes[np.isfinite(slopes)]
    return float(np.sqrt(np.mean(finite**2))) if len(finite) else 0.0


def has_growth_error(series: str) -> bool:
    """Whether ``series`` gets a growth error: January caseloads do; a calendar year's activity does
    not (requests, new plans), whose slope over a year or two of fitted changes is mostly the
    yearly noise its steps already carry (new plans' steps have an sd of about 0.3 a year, the
    January total's 0.05)."""
    return not series.endswith("_calendar_year")


def growth_errors(simulated: pd.DataFrame, published: dict[tuple[str, int], float], last_known: dict[str, int]) -> dict[str, float]:
    """The growth error's ``sigma`` of every series that gets one (:func:`has_growth_error`), from
    the members' slopes over the fitted years; a series with no slope to read (no two consecutive
    fitted years published from :data:`MIN_BASE`: the 20-25 band and the FE group at origin 2016)
    borrows its :data:`BORROWED` lender's, as for the steps."""
    own: dict[str, float] = {}
    readable: set[str] = set()
    for series, rows in simulated.groupby("series", sort=True):
        if series not in last_known or not has_growth_error(series):
            continue
        wide = rows.pivot_table(index="member", columns="year", values="value", aggfunc="first").sort_index(axis=1)
        slopes = insample_growth_error(wide, {y: v for (s, y), v in published.items() if s == series}, last_known[series])
        own[series] = growth_error_sd(slopes)
        if np.isfinite(slopes).any():
            readable.add(series)
    return {s: own[BORROWED[s]] if s not in readable and BORROWED.get(s) in readable else v for s, v in own.items()}


def with_discrepancy(simulated: pd.DataFrame, training: pd.DataFrame, last_known: dict[str, int], discrepancy: Discrepancy, seed: list[int] | int,
                     draws: int = DRAWS_PER_MEMBER, forecaster: str = "hnsim", growth_error: bool = True) -> pd.DataFrame:
    """The forecast ensembles (:data:`ENSEMBLE_COLUMNS`) of published values from the simulated ones.

    ``simulated``: ensembles of the simulated series (:data:`ENSEMBLE_COLUMNS`), including horizon 0
    (the year ``last_known[series]``) where the model simulated it, and the fitted years before it
    (negative horizons) for the growth error; without them a series reads no slope of its own and
    has none unless it borrows its lender's (:func:`growth_errors`); with ``growth_error`` false,
    none at all (the steps alone, for taking the forecast apart). ``training``: ``series, year,
    value`` published at the origin. Each member becomes ``draws`` members (``member x draws + j``).
    Where the member's value at horizon 0 is zero or missing, or the published value is below
    :data:`MIN_BASE` (a count starting up), the anchor is additive (the member's miss in plans),
    floored at zero: a year the anchored path falls below zero is zero in every draw, and every
    other year keeps the anchored path's mean (the steps and the growth error multiply it by a
    factor of mean one); with no published value at horizon 0 it is not anchored. Series ``i`` (in
    sorted order) draws from ``seed + [i]``.
    """
    base = [seed] if isinstance(seed, int) else list(seed)
    frames = []
    published = {(s, int(y)): float(v) for s, y, v in training[["series", "year", "value"]].itertuples(index=False)}
    sigmas = growth_errors(simulated, published, last_known) if growth_error else {}
    for i, (series, rows) in enumerate(simulated.groupby("series", sort=True)):
        wide = rows.pivot_table(index="member", columns="year", values="value", aggfunc="first").sort_index(axis=1)
        anchor_year = last_known.get(series)
        future = [y for y in wide.columns if anchor_year is None or y > anchor_year]
        if not future:
            continue
        values = wide[future].to_numpy(dtype=float)  # members x years
        observed = published.get((series, anchor_year)) if anchor_year is not None else None
        ratio = np.ones(len(wide))
        shift = np.zeros(len(wide))
        if observed is not None and anchor_year in wide.columns:
            start = wide[anchor_year].to_numpy(dtype=float)
            # a count starting up (fewer than MIN_BASE, as for the steps) is no level to scale a path
            # by: four plans published against twelve simulated would cut every later year to a third
            multiplicative = (start > 0) & (observed >= MIN_BASE)
            ratio = np.where(multiplicative, observed / np.where(start > 0, start, 1.0), 1.0)
            shift = np.where(multiplicative, 0.0, observed - start)
        rng = np.random.default_rng([*base, i])
        pool = discrepancy.steps.get(series, np.empty(0))
        years_ahead = np.asarray(future, dtype=int) - (anchor_year if anchor_year is not None else min(future) - 1)
        horizons = int(years_ahead.max())
        n = len(wide)
        if len(pool):
            walk = np.cumsum(rng.choice(pool, size=(n, draws, horizons)), axis=2)[:, :, years_ahead - 1]
        else:
            walk = np.zeros((n, draws, len(future)))
        if growth_error and series in sigmas:
            sigma = sigmas[series]
            if sigma > 0:
                # a stream of its own, so the steps' draws are those of a forecast without it
                z = np.random.default_rng([*base, i, 1]).standard_normal((n, draws, 1))
                reach = sigma * np.cumsum(GROWTH_DAMPING ** np.arange(horizons))[years_ahead - 1]  # sigma * c_h
                walk = walk + z * reach - reach**2 / 2
        forecast = np.maximum((values * ratio[:, None] + shift[:, None])[:, None, :] * np.exp(walk), 0.0)  # members x draws x years
        members = (wide.index.to_numpy(dtype=int)[:, None] * draws + np.arange(draws)[None, :]).ravel()
        horizon_of = rows.drop_duplicates("year").set_index("year")["horizon"]
        for k, year in enumerate(future):
            frames.append(pd.DataFrame({"series": series, "year": int(year), "horizon": int(horizon_of[year]), "forecaster": forecaster,
                                        "member": members, "value": forecast[:, :, k].ravel()}))
    return pd.concat(frames, ignore_index=True)[ENSEMBLE_COLUMNS] if frames else pd.DataFrame(columns=ENSEMBLE_COLUMNS)


FORECAST_COLUMNS = ["series", "year", "horizon", "members", "mean", "p05", "p25", "p50", "p75", "p95"]


def forecast_quantiles(ensembles: pd.DataFrame) -> pd.DataFrame:
    """:data:`FORECAST_COLUMNS`: the mean and the 5th to 95th percentiles (Weibull positions, as the
    skill scores use) of each series and year of forecast ensembles (:data:`ENSEMBLE_COLUMNS`)."""
    from hnsim.analysis.scores import QUANTILES, ensemble_quantiles

    rows = []
    for (series, year, horizon), part in ensembles.groupby(["series", "year", "horizon"], sort=True):
        values = part["value"].to_numpy(dtype=float)
        q = ensemble_quantiles(values[None, :])[0]
        rows.append({"series": series, "year": int(year), "horizon": int(horizon), "members": len(values), "mean": float(values.mean()),
                     **{name: float(v) for name, v in zip(QUANTILES, q)}})
    return pd.DataFrame(rows, columns=FORECAST_COLUMNS)
