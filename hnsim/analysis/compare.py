"""Scenario comparison under common random numbers: paired differences, savings, payback and a
decomposition of the change in spend into volume, mix and unit cost.

A *saving* is the base's ``spend_total`` minus the scenario's, replication by replication (the
scenarios share random numbers), summed over financial years: :func:`savings` gives it cumulated
year by year (``savings.csv`` of a comparison), :func:`window_savings` over one window of years (the
report's tables and figure). Both are net of any lever cost charged to the High Needs Block. A
saving counts spend only; a lever that brings money in (a block transfer) saves nothing, so both
also give the *net effect on the in-year balance* (saving plus money in) and on the *cumulative
deficit*, beside the saving.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from hnsim.analysis.intervals import stratified_half_width, t_half_width
from hnsim.results.schemas import DIFFERENCE_COLUMNS

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
WINDOW_SAVING_COLUMNS = ["scenario", "years", "n"] + [f"{effect}_{stat}" for effect in ("saving", "balance_effect", "deficit_reduction")
                                                       for stat in ("mean", "ci95_low", "ci95_high", "p05", "p95")] + ["money_in_mean", "own_cost_mean"]


def _t_interval(mean: np.ndarray, sd: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    half = t_half_width(sd, n)
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


def _spend_by_replication(annual: pd.DataFrame, metric: str = "spend_total") -> pd.DataFrame:
    """``metric`` with one column per scenario, indexed by replication and financial year."""
    return annual[annual["metric"] == metric].pivot_table(index=["replication", "financial_year"], columns="scenario", values="value")


def _yearly_saving(spend: pd.DataFrame, base: str, scenario: str, years: list[str]) -> pd.DataFrame:
    """Base minus scenario spend in each of ``years``: replications as rows, years as columns (cumulate
    along the rows with ``cumsum(axis=1)``)."""
    return (spend[base] - spend[scenario]).unstack("financial_year")[years]


def _interval(values: np.ndarray) -> tuple[float, float, float, int]:
    """Mean and Student-t 95% interval of the mean of paired differences: (mean, low, high, n)."""
    values = values[~np.isnan(values)]
    n = len(values)
    mean = float(values.mean()) if n else np.nan
    sd = values.std(ddof=1) if n > 1 else 0.0
    low, high = _t_interval(np.array([mean]), np.array([sd]), np.array([n]))
    return mean, float(low[0]), float(high[0]), n


def key_years(years_all: list[str], start: str, length: int = 5) -> list[str]:
    """The financial years of a medium-term financial plan: ``length`` years from ``start`` (fewer
    when the run ends sooner). Raises ValueError when ``start`` is not a year of the run."""
    if start not in years_all:
        raise ValueError(f"financial year {start} is not in the run ({years_all[0]} to {years_all[-1]})")
    i = years_all.index(start)
    return years_all[i : i + length]


def financial_year_of(date: str, years_all: list[str]) -> str:
    """The financial year holding an ISO date (``2026-12-01`` -> 2026-27) if the run simulates it,
    else the run's last year (a date outside the run, or none)."""
    if len(date) >= 7 and date[:4].isdigit():
        y, m = int(date[:4]), int(date[5:7])
        start = y if m >= 4 else y - 1
        label = f"{start}-{(start + 1) % 100:02d}"
        if label in years_all:
            return label
    return years_all[-1]


def savings(annual: pd.DataFrame, base: str, from_year: str | None = None) -> pd.DataFrame:
    """Cumulative saving (base spend minus scenario spend, summed from ``from_year``) by year, with
    paired intervals, the net effect on the balance and the deficit, and the year each scenario's
    in-year balance turns positive.

    Returns columns: scenario, financial_year, saving, cumulative_saving, ci95_low, ci95_high, n
    (the spend saving); ``cumulative_balance_effect`` with ``balance_ci95_low/high`` (scenario minus
    base in-year balance summed from ``from_year``: the saving plus any money moved into the block,
    such as a block transfer); ``deficit_reduction`` with ``deficit_ci95_low/high`` (base minus
    scenario cumulative deficit at 31 March of the year); plus per scenario ``balance_positive_from``
    (first year the mean in-year balance is >= 0 and stays so; empty if never) and
    ``share_of_replications_positive`` in that year.
    """
    spend = _spend_by_replication(annual)
    balance = _spend_by_replication(annual, "in_year_balance")
    deficit = _spend_by_replication(annual, "cumulative_deficit")
    years = sorted(spend.index.get_level_values("financial_year").unique())
    if from_year is not None:
        years = [y for y in years if y >= from_year]
    rows = []
    for scenario in [s for s in spend.columns if s != base]:
        saving = _yearly_saving(spend, base, scenario, years)
        cumulative = saving.cumsum(axis=1)
        bal = balance[scenario].dropna().unstack("financial_year")[years]  # the scenario's own replications
        balance_effect = (bal - balance[base].unstack("financial_year")[years]).cumsum(axis=1)
        lower_deficit = (deficit[base] - deficit[scenario]).unstack("financial_year")[years]
        positive_from = _first_year_staying_positive(bal.mean(axis=0))
        for year in years:
            mean, low, high, n = _interval(cumulative[year].to_numpy(dtype=float))
            b_mean, b_low, b_high, _ = _interval(balance_effect[year].to_numpy(dtype=float))
            d_mean, d_low, d_high, _ = _interval(lower_deficit[year].to_numpy(dtype=float))
            rows.append(
                {
                    "scenario": scenario,
                    "financial_year": year,
                    "saving": saving[year].mean(),
                    "cumulative_saving": mean,
                    "ci95_low": low,
                    "ci95_high": high,
                    "n": n,
                    "cumulative_balance_effect": b_mean,
                    "balance_ci95_low": b_low,
                    "balance_ci95_high": b_high,
                    "deficit_reduction": d_mean,
                    "deficit_ci95_low": d_low,
                    "deficit_ci95_high": d_high,
                    "balance_positive_from": positive_from or "",
                    "share_of_replications_positive": float((bal[year] >= 0).mean()),
                }
            )
    return pd.DataFrame(rows)


#: The three measures of a scenario's effect on the budget, by column prefix.
EFFECTS = ("saving", "balance_effect", "deficit_reduction")


def window_savings(annual: pd.DataFrame, base: str, years_in: list[str], cost_metric: str = "spend_levers") -> pd.DataFrame:
    """Each scenario's effect on the budget against the base over the financial years ``years_in``,
    paired replication by replication, with the spread of the replications and the lever's own cost.

    Three effects, each with ``_mean, _ci95_low, _ci95_high`` (Student-t interval of the mean) and
    ``_p05, _p95`` (percentiles of the replications):

    - ``saving``: base spend minus scenario spend, summed over the years (net of any lever cost
      charged to the block);
    - ``balance_effect``: scenario minus base in-year balance, summed over the years: the saving plus
      money moved into the block (``money_in_mean``: the difference in allocation, e.g. a block transfer);
    - ``deficit_reduction``: base minus scenario cumulative deficit at 31 March of the last year
      (what the scenario has done to the deficit by then, including years before the window).

    Columns :data:`WINDOW_SAVING_COLUMNS`; ``own_cost_mean`` is ``cost_metric`` summed over the years
    (NaN when the run has no such metric). Raises ValueError when the base has no spend in those years.
    """
    data = annual[annual["financial_year"].isin(years_in)]
    spend = _spend_by_replication(data)
    if base not in spend.columns:
        raise ValueError(f"base scenario '{base}' has no spend_total in {years_in[0]} to {years_in[-1]}")
    years = sorted(spend.index.get_level_values("financial_year").unique())
    balance = _spend_by_replication(data, "in_year_balance")
    allocation = _spend_by_replication(data, "hnb_allocation")
    deficit = _spend_by_replication(data, "cumulative_deficit")
    cost = data[data["metric"] == cost_metric].pivot_table(index="replication", columns="scenario", values="value", aggfunc="sum")
    rows = []
    for name in [s for s in dict.fromkeys(annual["scenario"]) if s != base and s in spend.columns]:
        measures = {
            "saving": _yearly_saving(spend, base, name, years).sum(axis=1, min_count=1),
            "balance_effect": (balance[name] - balance[base]).unstack("financial_year")[years].sum(axis=1, min_count=1),
            "deficit_reduction": (deficit[base] - deficit[name]).unstack("financial_year")[years[-1]],
        }
        row: dict[str, object] = {"scenario": name, "years": f"{years_in[0]} to {years_in[-1]}", "n": int(measures["saving"].notna().sum())}
        for key, values in measures.items():
            mean, low, high, _ = _interval(values.to_numpy(dtype=float))
            row.update({f"{key}_mean": mean, f"{key}_ci95_low": low, f"{key}_ci95_high": high,
                        f"{key}_p05": float(values.quantile(0.05)), f"{key}_p95": float(values.quantile(0.95))})
        money_in = (allocation[name] - allocation[base]).unstack("financial_year")[years].sum(axis=1) if name in allocation.columns else pd.Series(dtype=float)
        row["money_in_mean"] = float(money_in.mean()) if len(money_in) else 0.0
        row["own_cost_mean"] = float(cost[name].mean()) if name in cost.columns else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=WINDOW_SAVING_COLUMNS)


WINDOW_DIFFERENCE_COLUMNS = ["scenario", "metric", "years", "n", "difference_mean", "half_width", "ci95_low", "ci95_high",
                             "half_width_independent", "stratified_effects"]


def window_differences(annual: pd.DataFrame, base: str, metric: str, years_in: list[str],
                       points: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Each scenario's difference from the base in ``metric`` summed over the financial years
    ``years_in`` (scenario minus base, replication by replication under common random numbers):
    the mean, the half-width of its Student-t 95% interval and the interval.

    ``points``, by scenario, are where each replication's stratified lever effects fell (rows:
    replication, columns: effect, values in [0, 1)); given them, the half-width is that of the
    stratified mean (:func:`~hnsim.analysis.intervals.stratified_half_width`), otherwise it treats
    the replications as independent draws. Columns :data:`WINDOW_DIFFERENCE_COLUMNS`, one row per
    scenario in the table's order: ``half_width_independent`` is always the independent-draws
    half-width, ``stratified_effects`` how many effects the half-width accounted for (0: none).
    Raises ValueError when the base has no ``metric`` in those years.
    """
    data = annual[annual["financial_year"].isin(years_in)]
    values = _spend_by_replication(data, metric)
    if base not in values.columns:
        raise ValueError(f"base scenario '{base}' has no {metric} in {years_in[0]} to {years_in[-1]}")
    years = sorted(values.index.get_level_values("financial_year").unique())
    rows = []
    for name in [s for s in dict.fromkeys(annual["scenario"]) if s != base and s in values.columns]:
        total = (values[name] - values[base]).unstack("financial_year")[years].sum(axis=1, min_count=1)
        mean, low, high, n = _interval(total.to_numpy(dtype=float))
        independent = (high - low) / 2  # the Student-t interval is symmetric about the mean
        half, used = independent, 0
        chosen = points.get(name) if points is not None else None
        if chosen is not None and chosen.shape[1] and n > 1:
            half, used = stratified_half_width(total.to_numpy(dtype=float), chosen.reindex(total.index).to_numpy(dtype=float))
        rows.append({"scenario": name, "metric": metric, "years": f"{years_in[0]} to {years_in[-1]}", "n": n, "difference_mean": mean,
                     "half_width": half, "ci95_low": mean - half, "ci95_high": mean + half,
                     "half_width_independent": independent, "stratified_effects": used})
    return pd.DataFrame(rows, columns=WINDOW_DIFFERENCE_COLUMNS)


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
    spend (place funding of commissioned places, central services, levers) is ``other``. Means are
    over the scenario's replications, the base's over the same ones.
    """
    settings = sorted({m[len("placement_years_"):] for m in annual["metric"].unique() if m.startswith("placement_years_")})
    rows = []
    scenarios = [s for s in annual["scenario"].unique() if s != base]
    years = sorted(annual["financial_year"].unique())
    base_rows = annual[annual["scenario"] == base]
    for scenario in scenarios:
        own = annual[annual["scenario"] == scenario]
        # the base over the scenario's own replications: paired, however many each ran
        pair = base_rows[base_rows["replication"].isin(own["replication"].unique())]
        means = pd.concat([pair, own]).groupby(["scenario", "financial_year", "metric"])["value"].mean()
        for year in years:
            def get(s: str, metric: str, year: str = year, means: pd.Series = means) -> float:
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
