"""Column schemas of the tables in results directories (docs/metrics.md and results/README.md
describe them for readers)."""

from __future__ import annotations

# The labels of every ``financial_year`` column ('2018-19'), made in one place; re-exported here
# for the layers above (plots, report) that do not import the model.
from hnsim.model.calendar import fy_label, fy_start_year

__all__ = ["ANNUAL_COLUMNS", "DIFFERENCE_COLUMNS", "ENSEMBLE_COLUMNS", "EVENT_COLUMNS", "POINT_COLUMNS", "SPELL_COLUMNS", "SUMMARY_COLUMNS", "fy_label", "fy_start_year"]

#: ``annual.parquet``: one row per scenario, replication, financial year and metric.
ANNUAL_COLUMNS = ["scenario", "replication", "financial_year", "metric", "value"]
#: ``summary.csv``: statistics across replications per scenario, financial year and metric.
#: Columns of the annual table that name a row (a few names repeated on every row).
NAME_COLUMNS = ("scenario", "financial_year", "metric")
SUMMARY_COLUMNS = ["scenario", "financial_year", "metric", "mean", "sd", "p05", "p50", "p95", "ci95_low", "ci95_high", "n"]
#: ``points/point_NNNNN.parquet`` of a sweep: every metric of every replication of one point.
POINT_COLUMNS = ["point", "replication", "financial_year", "metric", "value"]
#: ``differences.csv`` of a comparison: scenario minus base, paired by replication.
DIFFERENCE_COLUMNS = ["scenario", "financial_year", "metric", "base_mean", "scenario_mean", "difference", "sd", "ci95_low", "ci95_high", "n"]
#: ``spells.parquet`` (``hnsim run --keep-log``): one row per spell of a child in one state.
SPELL_COLUMNS = ["scenario", "replication", "child", "state", "phase", "start_day", "end_day", "start_date", "end_date",
                 "need", "cohort", "birth_day"]
#: ``events.parquet`` (``hnsim run --keep-log``): one row per flow event.
EVENT_COLUMNS = ["scenario", "replication", "day", "date", "child", "event", "value"]
#: ``tasks/<key>.parquet`` of a forecast-skill directory: every forecaster's ensemble of one task
#: (``hnsim`` members are replications, a naive forecaster's are draws of its predictive distribution).
ENSEMBLE_COLUMNS = ["series", "year", "horizon", "forecaster", "member", "value"]
