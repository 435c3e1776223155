"""How fast plans past 19 end, from the SEN2 age bands of every authority known at an origin.

The 20-25 band of one January is what stayed of the last January's band plus what joined from the
16-19 band (plans continued past 19, and the few new plans and conversions at those ages)::

    band_20_25[i, t + 1] = stay * band_20_25[i, t] + inflow * band_16_19[i, t] + e[i, t]

fitted by least squares through the origin across every authority ``i`` and every pair of
consecutive Januaries from :data:`FIRST_YEAR` to the last known (``statsmodels`` OLS). ``stay`` is
the share of a January's band still holding a plan a year later; the yearly leaving rate of the
model's ``ehcp.leave_education_rate.post19`` (a hazard per year) is ``-log(stay)``, with its
standard error by the delta method, ``se(stay) / stay``. Plans ending at 25 count as leaving here, so
the rate is an upper bound on leaving education alone.

Before the 2014 reforms reached them the band held a handful of plans (England: 10 in January
2015, 1,064 in 2016), so no pair starts before 2016 and an origin before 2017 has none: the prior
stands. Otherwise the estimate is combined with the prior (normal on the rate) by precision, so a
single noisy pair moves it little and several years of 150 authorities move it most of the way.

Pure: tables in, an estimate out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The first January a pair may start from: the band had 10 plans in England in January 2015.
FIRST_YEAR = 2016
#: The rate is kept inside these bounds (a year's leaving of 2% to 78% of the band).
BOUNDS = (0.02, 1.5)


@dataclass(frozen=True)
class LeavingEstimate:
    """The yearly leaving rate past 19: the prior combined with the pooled estimate, and its parts."""

    rate: float
    sd: float
    pairs: int  # authority-years in the fit (0: the prior alone)
    own_rate: float  # the pooled estimate alone (nan without pairs)
    own_sd: float
    source: str


def leaving_past_19(table: pd.DataFrame, last_year: int, prior: tuple[float, float], first_year: int = FIRST_YEAR) -> LeavingEstimate:
    """The leaving rate past 19 from ``table`` (``authority, series, year, value`` with the series
    ``ehcp_age_16_19`` and ``ehcp_age_20_25``; nothing after ``last_year`` is read), combined with
    ``prior`` (mean, sd) of the rate."""
    import statsmodels.api as sm

    prior_mean, prior_sd = prior
    rows = table[table["series"].isin(["ehcp_age_16_19", "ehcp_age_20_25"]) & (table["year"] <= last_year)]
    wide = rows.pivot_table(index=["authority", "year"], columns="series", values="value", aggfunc="first").reset_index()
    pairs = pd.DataFrame()
    if {"ehcp_age_16_19", "ehcp_age_20_25"} <= set(wide.columns):
        nxt = wide[["authority", "year", "ehcp_age_20_25"]].assign(year=lambda d: d["year"] - 1).rename(columns={"ehcp_age_20_25": "next"})
        pairs = wide.merge(nxt, on=["authority", "year"]).dropna(subset=["ehcp_age_16_19", "ehcp_age_20_25", "next"])
        pairs = pairs[pairs["year"] >= first_year]
    if len(pairs) < 10:
        return LeavingEstimate(prior_mean, prior_sd, 0, math.nan, math.nan,
                               f"prior alone: no pair of Januaries from {first_year} known by {last_year} (the band held a handful of plans before)")
    fit = sm.OLS(pairs["next"].to_numpy(float), pairs[["ehcp_age_20_25", "ehcp_age_16_19"]].to_numpy(float)).fit()
    stay, se = float(fit.params[0]), float(fit.bse[0])
    if not (math.isfinite(stay) and math.isfinite(se)) or stay <= 0:
        return LeavingEstimate(prior_mean, prior_sd, len(pairs), math.nan, math.nan, f"prior alone: the fit gave a share staying of {stay:.3f}")
    own, own_sd = -math.log(stay), max(se / stay, 1e-6)
    weight = (1 / own_sd**2) / (1 / own_sd**2 + 1 / prior_sd**2)
    rate = float(np.clip(weight * own + (1 - weight) * prior_mean, *BOUNDS))
    sd = math.sqrt(1 / (1 / own_sd**2 + 1 / prior_sd**2))
    years = sorted(pairs["year"].unique())
    source = (f"SEN2 age bands of {pairs['authority'].nunique()} authorities, Januaries {years[0]}-{years[-1] + 1}: "
              f"{100 * stay:.0f}% of a 20-25 band still there a year on, a rate of {own:.2f} (sd {own_sd:.2f}), "
              f"combined with the prior {prior_mean:.2f} (sd {prior_sd:.2f}) with weight {weight:.2f}")
    return LeavingEstimate(rate, sd, len(pairs), own, own_sd, source)
