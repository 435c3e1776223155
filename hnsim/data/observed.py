"""Observed series for calibration: tidy CSV files with a schema, so any council can drop in its own.

A directory of ``*.csv`` files, each with the columns :data:`COLUMNS`:

- ``financial_year``: ``2018-19`` (April to March);
- ``metric``: an hnsim metric name (docs/metrics.md), or one of :data:`OBSERVED_ONLY`;
- ``value``: a number (counts, pounds, percentages as the metric defines);
- ``source``: where the figure comes from (file and column, or publication);
- ``year``: the year as published: the January census year, the calendar year, or the financial year;
- ``kind``: ``census`` (January census year Y -> financial year ``(Y-1)-YY``), ``calendar_year``
  (calendar year Y -> ``(Y-1)-YY``, metric ending ``_calendar_year``) or ``financial_year``
  (``year`` equals ``financial_year``).

:func:`load_observed` checks every row and raises :class:`DataError` naming the file, the line
(1-based, as in the file, the header being line 1), the column and what is allowed.
"""

from __future__ import annotations

import csv
import math
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from hnsim.data.errors import DataError
from hnsim.model.calendar import fy_label

COLUMNS = ("financial_year", "metric", "value", "source", "year", "kind")
KINDS = ("census", "calendar_year", "financial_year")
#: Figures a council publishes that the model does not (yet) report as a metric of its own.
OBSERVED_ONLY: dict[str, str] = {}
MONEY_PREFIXES = ("spend_", "hnb_allocation", "in_year_balance", "cumulative_deficit", "cost_per_ehcp")
_FY = re.compile(r"^(\d{4})-(\d{2})$")
MAX_PROBLEMS = 20


@lru_cache(maxsize=1)
def allowed_metrics() -> tuple[str, ...]:
    """Every metric name an observed file may use: the model's metrics (docs/metrics.md) and :data:`OBSERVED_ONLY`."""
    from hnsim.config.schema import NEEDS, SPEND_LINES
    from hnsim.model.metrics import AGE_BANDS, CALENDAR_YEAR_FLOWS, FLOWS, NEW_PLAN_AGE_BANDS, STOCKS

    names = set(STOCKS) | set(FLOWS) | {name for name, _, _ in AGE_BANDS}
    names |= {f"{name}{suffix}" for name, _, _ in NEW_PLAN_AGE_BANDS for suffix in ("", "_calendar_year")}
    names |= {f"ehcp_need_{n.lower()}" for n in NEEDS}
    names |= {f"{n}_calendar_year" for n in CALENDAR_YEAR_FLOWS}
    names |= {f"spend_{line}" for line in SPEND_LINES}
    names |= {"spend_total", "spend_mainstream_topups_primary", "hnb_allocation", "in_year_balance", "cumulative_deficit", "cost_per_ehcp", "special_places"}
    names |= {"pct_plans_within_20_weeks", "mean_weeks_request_to_plan", "mean_weeks_waiting_for_assessment", "mean_weeks_waiting_for_special_place"}
    names |= set(OBSERVED_ONLY)
    return tuple(sorted(names))


def financial_year_of(year: int, kind: str) -> str:
    """The financial year a census or calendar year is reported against: 2019 -> '2018-19'."""
    if kind not in ("census", "calendar_year"):
        raise ValueError(f"kind must be census or calendar_year, got {kind!r}")
    return fy_label(year - 1)


def _check_row(row: dict[str, str], where: str, allowed: set[str]) -> list[str]:
    problems = []
    fy, metric, kind, year, value = (row[c].strip() for c in ("financial_year", "metric", "kind", "year", "value"))
    match = _FY.match(fy)
    if not match or fy != fy_label(int(match.group(1))):
        problems.append(f"{where}, column financial_year: '{fy}' is not a financial year; write it like '2018-19'")
    if metric not in allowed:
        problems.append(f"{where}, column metric: unknown metric '{metric}'; allowed: {', '.join(sorted(allowed))} (see docs/metrics.md)")
    try:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError
    except ValueError:
        problems.append(f"{where}, column value: '{value}' is not a number (write counts and pounds as plain numbers, e.g. 58900000; leave the row out if the figure is missing)")
    if len(row["source"].strip()) < 3:
        problems.append(f"{where}, column source: say where the figure comes from (file and column, or publication)")
    if kind not in KINDS:
        problems.append(f"{where}, column kind: '{kind}' is not allowed; allowed: {', '.join(KINDS)}")
        return problems
    if kind == "financial_year":
        if year != fy:
            problems.append(f"{where}, column year: for kind financial_year, year must equal financial_year ('{fy}'), got '{year}'")
    elif not re.fullmatch(r"\d{4}", year):
        problems.append(f"{where}, column year: for kind {kind}, year is the {'January census' if kind == 'census' else 'calendar'} year like 2019, got '{year}'")
    elif match and fy != financial_year_of(int(year), kind):
        problems.append(f"{where}, column financial_year: {kind} year {year} is reported against '{financial_year_of(int(year), kind)}', got '{fy}'")
    if metric in allowed:
        if kind == "calendar_year" and not metric.endswith("_calendar_year"):
            problems.append(f"{where}, column metric: a calendar_year row needs a metric ending '_calendar_year', got '{metric}'")
        if kind != "calendar_year" and metric.endswith("_calendar_year"):
            problems.append(f"{where}, column kind: metric '{metric}' counts a calendar year; kind must be calendar_year")
        if metric.startswith(MONEY_PREFIXES) and kind != "financial_year":
            problems.append(f"{where}, column kind: money metric '{metric}' is counted by financial year; kind must be financial_year")
    return problems


def read_observed_file(path: str | Path) -> pd.DataFrame:
    """One observed CSV, checked row by row; raises :class:`DataError` listing every problem."""
    path = Path(path)
    allowed = set(allowed_metrics())
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise DataError([f"{path}: line 1: missing column(s) {', '.join(missing)}; expected columns {', '.join(COLUMNS)}"])
            reader.fieldnames = header
            problems, rows = [], []
            for row in reader:
                where = f"{path}: line {reader.line_num}"
                if None in row or any(row.get(c) is None for c in COLUMNS):
                    problems.append(f"{where}: expected {len(header)} fields ({', '.join(header)}), got a different number")
                    continue
                problems += _check_row(row, where, allowed)
                rows.append({c: row[c].strip() for c in COLUMNS} | {"line": reader.line_num})
    except UnicodeDecodeError as exc:
        raise DataError([f"{path}: not UTF-8 text ({exc.reason}); save the file as UTF-8 CSV"]) from None
    if problems:
        raise DataError(problems[:MAX_PROBLEMS] + ([f"{path}: ... and {len(problems) - MAX_PROBLEMS} more problems"] if len(problems) > MAX_PROBLEMS else []))
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "line"])
    frame["value"] = frame["value"].astype(float)
    frame["file"] = path.name
    return frame


def load_observed(directory: str | Path) -> pd.DataFrame:
    """Every ``*.csv`` in a directory of observed series, checked, as one table with the columns
    ``financial_year, metric, value, source, year, kind`` (sorted by metric and financial year).

    Raises :class:`DataError` when the directory is missing or empty, when a row is malformed
    (file, line, column and what is allowed), or when two rows give the same metric and year.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError([f"{directory}: directory of observed series not found"])
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise DataError([f"{directory}: no .csv files; expected files with columns {', '.join(COLUMNS)} (see docs/data.md)"])
    problems, frames = [], []
    for path in files:
        try:
            frames.append(read_observed_file(path))
        except DataError as exc:
            problems += exc.problems
    if problems:
        raise DataError(problems)
    data = pd.concat(frames, ignore_index=True)
    dup = data[data.duplicated(["metric", "financial_year", "kind"], keep=False)]
    for (metric, fy, _), group in dup.groupby(["metric", "financial_year", "kind"]):
        places = "; ".join(f"{directory / f}: line {n}" for f, n in zip(group["file"], group["line"]))
        problems.append(f"metric {metric} for {fy} is given more than once ({places}); keep one row")
    if problems:
        raise DataError(problems)
    return data[list(COLUMNS)].sort_values(["metric", "financial_year"], kind="stable").reset_index(drop=True)
