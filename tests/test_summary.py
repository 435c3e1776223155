"""Summaries across replications."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hnsim.analysis.summary import SUMMARY_COLUMNS, summarise


def test_summary_statistics_and_interval():
    values = np.array([1.0, 2.0, 4.0, 7.0])
    annual = pd.DataFrame(
        {"scenario": "s", "replication": range(4), "financial_year": "2018-19", "metric": "m", "value": values}
    )
    out = summarise(annual)
    assert list(out.columns) == SUMMARY_COLUMNS
    row = out.iloc[0]
    assert row["mean"] == pytest.approx(3.5)
    assert row["sd"] == pytest.approx(values.std(ddof=1))
    half = stats.t.ppf(0.975, 3) * values.std(ddof=1) / 2
    assert row["ci95_low"] == pytest.approx(3.5 - half) and row["ci95_high"] == pytest.approx(3.5 + half)
    assert row["p50"] == pytest.approx(3.0) and row["n"] == 4


def test_missing_values_are_left_out():
    annual = pd.DataFrame(
        {"scenario": "s", "replication": [0, 1], "financial_year": "2018-19", "metric": "m", "value": [np.nan, 5.0]}
    )
    row = summarise(annual).iloc[0]
    assert row["n"] == 1 and row["mean"] == 5.0 and row["sd"] == 0.0


def _grouped_reference(annual: pd.DataFrame) -> pd.DataFrame:
    """The summary as a plain pandas groupby makes it (one function per group)."""
    grouped = annual.dropna(subset=["value"]).groupby(["scenario", "financial_year", "metric"], sort=False)["value"]
    out = grouped.agg(mean="mean", sd=lambda v: v.std(ddof=1) if len(v) > 1 else 0.0, p05=lambda v: v.quantile(0.05),
                      p50="median", p95=lambda v: v.quantile(0.95), n="count").reset_index()
    return out


def test_summary_equals_a_grouped_pandas_summary_to_the_last_bit():
    rng = np.random.default_rng(7)
    rows = [(s, r, y, m) for s in ("baseline", "lever") for r in range(37) for y in ("2019-20", "2018-19", "2020-21") for m in ("spend_total", "ehcp_total")]
    annual = pd.DataFrame(rows, columns=["scenario", "replication", "financial_year", "metric"])
    annual["value"] = rng.lognormal(10.0, 1.0, len(annual))
    annual.loc[rng.random(len(annual)) < 0.1, "value"] = np.nan
    annual.loc[(annual["metric"] == "ehcp_total") & (annual["financial_year"] == "2020-21") & (annual["replication"] > 0), "value"] = np.nan  # a group of one
    annual = annual.sample(frac=1.0, random_state=3).reset_index(drop=True)  # rows in no particular order
    out = summarise(annual)
    expected = _grouped_reference(annual).sort_values(["scenario", "metric", "financial_year"], kind="stable").reset_index(drop=True)
    for column in ("scenario", "financial_year", "metric", "mean", "sd", "p05", "p50", "p95"):
        np.testing.assert_array_equal(out[column].to_numpy(), expected[column].to_numpy(), err_msg=column)
    assert out["n"].tolist() == expected["n"].tolist()
    assert out.loc[(out["metric"] == "ehcp_total") & (out["financial_year"] == "2020-21"), "sd"].tolist() == [0.0, 0.0]


def test_summary_of_no_rows_is_an_empty_table():
    annual = pd.DataFrame({"scenario": [], "replication": [], "financial_year": [], "metric": [], "value": []})
    out = summarise(annual)
    assert list(out.columns) == SUMMARY_COLUMNS and len(out) == 0
