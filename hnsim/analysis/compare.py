"""Scenario comparison under common random numbers: paired differences, savings, payback and a
decomposition of the change in spend into volume, mix and unit cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

#: Outcome measures reported beside money, per scenario.
OUTCOMES = (
    "pct_ehcp_in_mainstream",
    "ehcp_total",
    "ap_pupils",
    "permanent_exclusions",
    "mean_weeks_waiting_for_assessment",
    "mean_weeks_waiting_for_special_place",
    "waiting_for_special_place",
    "ehcp_independent",
    "new_independent_placements",
    "spend_total",
    "cumulative_deficit",
)
DIFFERENCE_COLUMNS = ["scenario", "financial_year", "metric", "base_mean", "scenario_mean", "difference", "sd", "ci95_low", "ci95_high", "n"]


def _t_interval(mean: np.ndarray, sd: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(n > 1, stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n), 0.0)
    return mean - half, mean + half


def paired_differences(annual: pd.DataFrame, base: str) -> pd.DataFrame:
    """Scenario minus base for every metric and year, paired by replication (common random numbers).

    The interval is the Student-t 95% interval of the mean paired difference; pairing removes the
    randomness the scenarios share, so it is much narrower than comparing two separate intervals.
    """
    keys = ["replication", "financial_year", "metric"]
    base_values = annual[annual["scenario"] == base].set_index(keys)["value"]
    frames = []
    for scenario, group in annual[annual["scenario"] != base].groupby("scenario", sort=False):
        joined = group.set_index(keys)["value"].to_frame("scenario_value").join(base_values.rename("base_value"), how="inner")
        joined["difference"] = joined["scenario_value"] - joined["base_value"]
        joined = joined.dropna()
        summary = joined.groupby(["financial_year", "metric"]).agg(
            base_mean=("base_value", "mean"),
            scenario_mean=("scenario_value", "mean"),
            difference=("difference", "mean"),
            sd=("difference", lambda v: v.std(ddof=1) if len(v) > 1 else 0.0),
            n=("difference", "count"),
        ).reset_index()
        summary.insert(0, "scenario", scenario)
        frames.append(summary)
    if not frames:
        return pd.DataFrame(columns=DIFFERENCE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["ci95_low"], out["ci95_high"] = _t_interval(out["difference"].to_numpy(), out["sd"].to_numpy(), out["n"].to_numpy())
    return out[DIFFERENCE_COLUMNS]


def savings(annual: pd.DataFrame, base: str, from_year: str | None = None) -> pd.DataFrame:
    """Cumulative saving (base spend minus scenario spend, summed from ``from_year``) by year, with
    paired intervals, and the year each scenario's in-year balance turns positive.

    Returns columns: scenario, financial_year, saving, cumulative_saving, ci95_low, ci95_high, n,
    plus per scenario ``balance_positive_from`` (first year the mean in-year balance is >= 0 and
    stays so; empty if never) and ``share_of_replications_positive`` in that year.
    """
    spend = annual[annual["metric"] == "spend_total"].pivot_table(index=["replication", "financial_year"], columns="scenario", values="value")
    balance = annual[annual["metric"] == "in_year_balance"].pivot_table(index=["replication", "financial_year"], columns="scenario", values="value")
    years = sorted(spend.index.get_level_values("financial_year").unique())
    if from_year is not None:
        years = [y for y in years if y >= from_year]
    rows = []
    for scenario in [s for s in spend.columns if s != base]:
        saving = (spend[base] - spend[scenario]).unstack("financial_year")[years]
        cumulative = saving.cumsum(axis=1)
        bal = balance[scenario].unstack("financial_year")[years]
        positive_from = _first_year_staying_positive(bal.mean(axis=0))
        for year in years:
            values = cumulative[year].dropna().to_numpy()
            n = len(values)
            mean, sd = values.mean(), values.std(ddof=1) if n > 1 else 0.0
            low, high = _t_interval(np.array([mean]), np.array([sd]), np.array([n]))
            rows.append(
                {
                    "scenario": scenario,
                    "financial_year": year,
                    "saving": saving[year].mean(),
                    "cumulative_saving": mean,
                    "ci95_low": low[0],
                    "ci95_high": high[0],
                    "n": n,
                    "balance_positive_from": positive_from or "",
                    "share_of_replications_positive": float((bal[year] >= 0).mean()),
                }
            )
    return pd.DataFrame(rows)


def _first_year_staying_positive(mean_balance: pd.Series) -> str | None:
    positive = mean_balance >= 0
    for i, year in enumerate(mean_balance.index):
        if positive.iloc[i:].all():
            return year
    return None


def decompose_spend(annual: pd.DataFrame, base: str) -> pd.DataFrame:
    """Split each scenario's change in placement spend into volume, mix and unit cost, by year.

    With N_k placement-years and S_k spend in setting k, N = sum N_k, w_k = N_k / N, c_k = S_k / N_k:
    volume = (N' - N) sum_k w_k c_k; mix = N' sum_k (w'_k - w_k) c_k; unit cost = sum_k N'_k (c'_k - c_k).
    The three add up exactly to the change in placement spend; the rest of the change in total
    spend (place funding of commissioned places, central services, levers) is ``other``.
    """
    means = annual.groupby(["scenario", "financial_year", "metric"])["value"].mean()
    settings = sorted({m[len("placement_years_"):] for m in annual["metric"].unique() if m.startswith("placement_years_")})
    rows = []
    scenarios = [s for s in annual["scenario"].unique() if s != base]
    years = sorted(annual["financial_year"].unique())
    for scenario in scenarios:
        for year in years:
            def get(s: str, metric: str) -> float:
                return float(means.get((s, year, metric), 0.0))

            n0 = np.array([get(base, f"placement_years_{k}") for k in settings])
            n1 = np.array([get(scenario, f"placement_years_{k}") for k in settings])
            s0 = np.array([get(base, f"spend_setting_{k}") for k in settings])
            s1 = np.array([get(scenario, f"spend_setting_{k}") for k in settings])
            with np.errstate(invalid="ignore", divide="ignore"):
                c0 = np.where(n0 > 0, s0 / np.where(n0 > 0, n0, 1), 0.0)
                c1 = np.where(n1 > 0, s1 / np.where(n1 > 0, n1, 1), c0)
                c0 = np.where(n0 > 0, c0, c1)
            total0, total1 = n0.sum(), n1.sum()
            w0 = n0 / total0 if total0 > 0 else np.zeros_like(n0)
            w1 = n1 / total1 if total1 > 0 else np.zeros_like(n1)
            volume = (total1 - total0) * float(w0 @ c0)
            mix = total1 * float((w1 - w0) @ c0)
            unit = float(n1 @ (c1 - c0))
            change_total = get(scenario, "spend_total") - get(base, "spend_total")
            rows.append(
                {
                    "scenario": scenario,
                    "financial_year": year,
                    "change_in_spend": change_total,
                    "volume": volume,
                    "mix": mix,
                    "unit_cost": unit,
                    "other": change_total - (volume + mix + unit),
                }
            )
    return pd.DataFrame(rows)


def outcome_table(summary: pd.DataFrame, years: list[str]) -> pd.DataFrame:
    """Outcome measures beside money: one row per scenario and measure, one column per chosen year."""
    data = summary[summary["metric"].isin(OUTCOMES) & summary["financial_year"].isin(years)]
    table = data.pivot_table(index=["scenario", "metric"], columns="financial_year", values="mean", sort=False)
    return table.reset_index()
