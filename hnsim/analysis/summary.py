"""Summaries across replications: mean, spread, percentiles and a 95% confidence interval of the mean."""

from __future__ import annotations

import pandas as pd

from hnsim.analysis.intervals import t_half_width
from hnsim.results.schemas import SUMMARY_COLUMNS

__all__ = ["SUMMARY_COLUMNS", "summarise", "wide"]


def summarise(annual: pd.DataFrame) -> pd.DataFrame:
    """Summary per scenario, financial year and metric.

    ``sd`` is the sample standard deviation across replications; ``p05``/``p50``/``p95`` are
    percentiles of the replications (the spread of outcomes); ``ci95_low``/``ci95_high`` is the
    Student-t 95% interval for the mean (Monte Carlo error). Missing values (a metric undefined in a
    year) are left out, and ``n`` counts the replications used.
    """
    data = annual.dropna(subset=["value"])
    keys = ["scenario", "financial_year", "metric"]
    grouped = data.groupby(keys, sort=False)["value"]
    out = grouped.agg(
        mean="mean",
        sd=lambda v: v.std(ddof=1) if len(v) > 1 else 0.0,
        p05=lambda v: v.quantile(0.05),
        p50="median",
        p95=lambda v: v.quantile(0.95),
        n="count",
    ).reset_index()
    half = t_half_width(out["sd"].to_numpy(), out["n"].to_numpy())
    out["ci95_low"] = out["mean"] - half
    out["ci95_high"] = out["mean"] + half
    out["n"] = out["n"].astype(int)
    return out[SUMMARY_COLUMNS].sort_values(["scenario", "metric", "financial_year"], kind="stable").reset_index(drop=True)


def wide(summary: pd.DataFrame, statistic: str = "mean", scenario: str | None = None) -> pd.DataFrame:
    """Metrics as rows and financial years as columns, for one statistic (and one scenario)."""
    data = summary if scenario is None else summary[summary["scenario"] == scenario]
    return data.pivot_table(index="metric", columns="financial_year", values=statistic, sort=False)
