"""Outcomes of interest (a metric in a financial year): checking them against a config and picking
them out of result tables."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd

from hnsim.experiment.runner import run_replication
from hnsim.model.calendar import fy_label


@dataclass(frozen=True)
class Outcome:
    """One metric in one financial year, e.g. ``cumulative_deficit`` in ``2025-26``."""

    metric: str
    financial_year: str

    def label(self) -> str:
        """``metric@year``, as used in column names and messages."""
        return f"{self.metric}@{self.financial_year}"


def financial_years(config_data: dict[str, Any]) -> list[str]:
    """Financial year labels (``2018-19``) simulated by a config (plain data)."""
    start = dt.date.fromisoformat(str(config_data["simulation"]["start_date"]))
    end = dt.date.fromisoformat(str(config_data["simulation"]["end_date"]))
    return [fy_label(y) for y in range(start.year, end.year)]


def known_metrics(config_data: dict[str, Any]) -> set[str]:
    """Names of the metrics the model reports, found by simulating the first financial year once.

    The model owns its list of metrics; asking it keeps this check right as metrics are added.
    """
    probe = copy.deepcopy(config_data)
    start = dt.date.fromisoformat(str(probe["simulation"]["start_date"]))
    probe["simulation"]["end_date"] = dt.date(start.year + 1, 3, 31).isoformat()
    table = run_replication(probe, 0, 0, "probe").table
    return set(table["metric"].unique())


def check_outcomes(config_data: dict[str, Any], outcomes: Iterable[tuple[str, str, str]], source: str) -> list[str]:
    """Problems with (where, metric, financial_year) outcomes for a config; empty if all are known.

    ``where`` names the key in the user's input (``outcomes.metrics[1]``) for the message.
    """
    outcomes = list(outcomes)
    years = financial_years(config_data)
    problems = [
        f"{source}: {where}: financial year '{year}' is outside the simulation ({years[0]} to {years[-1]})"
        for where, _, year in outcomes
        if year is not None and year not in years
    ]
    wanted = {(where, metric) for where, metric, _ in outcomes if metric is not None}
    if wanted:
        metrics = known_metrics(config_data)
        for where, metric in sorted(wanted):
            if metric not in metrics:
                problems.append(f"{source}: {where}: unknown metric '{metric}' (see docs/metrics.md)")
    return problems


def outcome_rows(table: pd.DataFrame, outcomes: list[Outcome]) -> pd.DataFrame:
    """The rows of a long table (``replication, financial_year, metric, value``) for the outcomes."""
    keys = pd.MultiIndex.from_tuples([(o.metric, o.financial_year) for o in outcomes])
    index = pd.MultiIndex.from_frame(table[["metric", "financial_year"]])
    return table[index.isin(keys)]
