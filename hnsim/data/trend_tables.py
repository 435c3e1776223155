"""Every local authority's yearly series of one SEN2 count, in one long table, for pooled trends.

:func:`trend_table` reads one of :data:`SERIES` from a directory of DfE's SEN2 files and gives
``authority, la_name, region_name, year, value``: one row per local authority and year, the
authority named by its ``old_la_code`` (followed across code changes, as in :mod:`hnsim.data.sen2`).
National and regional rows are left out: regional and England trends are pooled from the
authorities (:mod:`hnsim.analysis.trends`).

Each authority has its own rows only. A reorganised authority (Bournemouth, Christchurch and Poole;
Dorset Council) is not given its predecessors' sums here, since those predecessors are in the table
as themselves and would be counted twice. Values DfE marks missing give no row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hnsim.data import sen2

COLUMNS = ("authority", "la_name", "region_name", "year", "value")


@dataclass(frozen=True)
class TrendSeries:
    """One series: the SEN2 file it comes from, the count column, the age band, what its year means."""

    file: str
    column: str
    age_band: str | None
    year_means: str
    label: str
    share_of: str | None = None  # a share: this series divided by another of SERIES, year by year


#: The series a pooled trend can be estimated for. Caseloads and new plans are statements and EHC
#: plans together (``Total_all``, ``Total_new_all``), as the observed series are (:mod:`hnsim.data.series`).
SERIES: dict[str, TrendSeries] = {
    "requests": TrendSeries("mi", "InreqEHC", None, "calendar year", "requests for EHC needs assessment (sen2_mi.csv InreqEHC)"),
    "new_plans": TrendSeries("age_new_plans", "Total_new_all", "Total", "calendar year", "new plans (sen2_age_new_plans.csv Total_new_all, all ages)"),
    "ehcp_total": TrendSeries("age_caseload", "Total_all", "Total", "January census", "statements and EHC plans in January (sen2_age_caseload.csv Total_all, all ages)"),
    "ehcp_20_25": TrendSeries("age_caseload", "Total_all", "Age 20 to 25", "January census", "plans held by 20-25 year olds in January (sen2_age_caseload.csv Total_all, 'Age 20 to 25')"),
    "ehcp_20_25_share": TrendSeries("age_caseload", "Total_all", "Age 20 to 25", "January census", "the 20-25 age band's share of January plans (sen2_age_caseload.csv Total_all, 'Age 20 to 25' / 'Total')", share_of="ehcp_total"),
}


def _counts(directory: str | Path, spec: TrendSeries) -> pd.DataFrame:
    rows = sen2.read_file(directory, spec.file)
    rows = rows[rows["geographic_level"] == sen2.LEVEL_LA]
    if spec.age_band is not None:
        rows = rows[rows["characteristic_age"] == spec.age_band]
    out = rows[["old_la_code", "la_name", "region_name", "year", spec.column]].rename(columns={"old_la_code": "authority", spec.column: "value"})
    return out.dropna(subset=["value"])


def trend_table(directory: str | Path, series: str) -> pd.DataFrame:
    """Every local authority's yearly ``series`` (a key of :data:`SERIES`): ``authority`` (old_la_code),
    ``la_name``, ``region_name``, ``year`` (as the file counts it: calendar or census year), ``value``.

    Raises ``KeyError`` naming the series allowed for an unknown ``series``, and
    :class:`hnsim.data.DataError` for a missing or unreadable file.
    """
    if series not in SERIES:
        raise KeyError(f"unknown trend series '{series}'; allowed: {', '.join(SERIES)}")
    spec = SERIES[series]
    out = _counts(directory, spec)
    if spec.share_of is not None:
        total = _counts(directory, SERIES[spec.share_of])[["authority", "year", "value"]].rename(columns={"value": "total"})
        out = out.merge(total, on=["authority", "year"], how="inner")
        out = out[out["total"] > 0]
        out["value"] = out["value"] / out["total"]
        out = out.drop(columns="total")
    out = out.astype({"authority": str, "la_name": str, "region_name": str, "year": int, "value": float})
    return out.sort_values(["authority", "year"], kind="stable").reset_index(drop=True)[list(COLUMNS)]
