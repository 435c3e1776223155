"""Summaries across replications: mean, spread, percentiles and a 95% confidence interval of the mean."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hnsim.analysis.intervals import t_half_width
from hnsim.results.schemas import NAME_COLUMNS, SUMMARY_COLUMNS

__all__ = ["SUMMARY_COLUMNS", "summarise", "wide"]


def summarise(annual: pd.DataFrame) -> pd.DataFrame:
    """Summary per scenario, financial year and metric.

    ``sd`` is the sample standard deviation across replications; ``p05``/``p50``/``p95`` are
    percentiles of the replications (the spread of outcomes); ``ci95_low``/``ci95_high`` is the
    Student-t 95% interval for the mean (Monte Carlo error). Missing values (a metric undefined in a
    year) are left out, and ``n`` counts the replications used.

    The groups are integer codes and each group's values one slice of a sorted array: a run of a
    thousand replications (2.4 million rows) is summarised without copying the table or grouping on
    its text columns, each statistic computed as pandas computes it for that group alone.
    """
    values = annual["value"].to_numpy(dtype=float)
    keep = ~np.isnan(values)
    factors = [pd.factorize(annual[key]) for key in NAME_COLUMNS]  # on the column itself: no array of Python strings
    sizes = [max(len(uniques), 1) for _, uniques in factors]
    group = np.ravel_multi_index([codes[keep] for codes, _ in factors], sizes)
    # means as pandas' grouped mean makes them (compensated sums in row order), to the last bit
    means = pd.Series(values[keep]).groupby(group, sort=True).mean().to_numpy()
    order = np.argsort(group, kind="stable")
    group, ordered = group[order], values[keep][order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], len(group)].astype(np.int64)
    stats = np.empty((len(starts), 5))
    for i, (first, last) in enumerate(zip(starts.tolist(), ends.tolist())):
        v = ordered[first:last]
        n = last - first
        sd = np.sqrt(((v.sum() / n - v) ** 2).sum() / (n - 1)) if n > 1 else 0.0  # as Series.std
        p05, p95 = np.percentile(v, [5.0, 95.0])
        stats[i] = sd, p05, np.median(v), p95, n
    where = np.unravel_index(group[starts], sizes)
    out = pd.DataFrame({key: uniques.take(i) for key, (_, uniques), i in zip(NAME_COLUMNS, factors, where)})
    out["mean"] = means
    for j, column in enumerate(["sd", "p05", "p50", "p95", "n"]):
        out[column] = stats[:, j]
    half = t_half_width(out["sd"].to_numpy(), out["n"].to_numpy())
    out["ci95_low"] = out["mean"] - half
    out["ci95_high"] = out["mean"] + half
    out["n"] = out["n"].astype(int)
    return out[SUMMARY_COLUMNS].sort_values(["scenario", "metric", "financial_year"], kind="stable").reset_index(drop=True)


def wide(summary: pd.DataFrame, statistic: str = "mean", scenario: str | None = None) -> pd.DataFrame:
    """Metrics as rows and financial years as columns, for one statistic (and one scenario)."""
    data = summary if scenario is None else summary[summary["scenario"] == scenario]
    return data.pivot_table(index="metric", columns="financial_year", values=statistic, sort=False)
