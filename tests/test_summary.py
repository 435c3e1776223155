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
