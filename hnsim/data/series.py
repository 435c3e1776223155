"""Observed series for calibration, made from the SEN2 files for any local authority.

Two tidy tables with the columns of :mod:`hnsim.data.observed` (``financial_year, metric, value,
source, year, kind``):

- the January caseload (``kind`` census): ``ehcp_total`` and the age bands from
  ``sen2_age_caseload.csv``, the settings from ``sen2_estab_caseload.csv``;
- assessment activity by calendar year (``kind`` calendar_year, metrics ending ``_calendar_year``)
  from ``sen2_mi.csv`` and ``sen2_age_new_plans.csv`` (new plans in all and by age band).

Counts are statements and EHC plans together, as the model does not tell them apart: caseloads use
``Total_all`` and activity adds DfE's statement column to its EHC column where both are published.
A January census year Y, and a calendar year Y, are both reported against financial year
``(Y-1)-YY`` (docs/metrics.md). Values DfE marks missing (``z`` and the like) give no row.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hnsim.data import sen2
from hnsim.data.observed import COLUMNS, financial_year_of

AGE_METRICS = {
    "Total": "ehcp_total",
    "Under 5": "ehcp_age_under5",
    "Age 5 to 10": "ehcp_age_5_10",
    "Age 11 to 15": "ehcp_age_11_15",
    "Age 16 to 19": "ehcp_age_16_19",
    "Age 20 to 25": "ehcp_age_20_25",
}

#: hnsim calendar-year metric of new plans by age band -> sen2_age_new_plans.csv characteristic_age values added.
NEW_PLAN_AGE_METRICS: dict[str, tuple[str, ...]] = {
    "new_ehcps_age_under5_calendar_year": ("Under 5",),
    "new_ehcps_age_5_10_calendar_year": ("Age 5 to 10",),
    "new_ehcps_age_11_15_calendar_year": ("Age 11 to 15",),
    "new_ehcps_age_16_25_calendar_year": ("Age 16 to 19", "Age 20 to 25"),
}

#: hnsim setting metric -> (establishment_group, establishment types or "*" for the whole group), and a note.
SETTING_METRICS: dict[str, tuple[tuple[tuple[str, tuple[str, ...]], ...], str]] = {
    "ehcp_mainstream": ((("Mainstream school", ("*",)),), "group 'Mainstream school': LA maintained, academy, free and independent mainstream, including SEN units and resourced provision"),
    "ehcp_special": ((("Special school", ("Special - LA maintained", "Special - Academy/free", "Special - Academy", "Special - Free school")),), "Special - LA maintained + Special - Academy/free (Academy, Free school before 2018)"),
    "ehcp_independent": ((("Special school", ("Special - Independent", "Special - Non-maintained")),), "Special - Independent + Special - Non-maintained"),
    "ehcp_ap": ((("Alternative provision/Pupil referral unit", ("*",)),), "group 'Alternative provision/Pupil referral unit'"),
    "ehcp_post16": ((("Further education", ("*",)),), "group 'Further education': FE and sixth form colleges, specialist post-16 institutions"),
    "ehcp_post16_specialist": ((("Further education", ("Specialist post-16 institutions", "Independent specialist providers")),), "Specialist post-16 institutions (Independent specialist providers before 2016)"),
    "ehcp_other": ((("Educated elsewhere", ("*",)), ("Non-maintained early years", ("*",)), ("NEET", ("*",)), ("Other", ("*",)), ("Unknown", ("*",)), ("Special school", ("Hospital School",))),
                   "groups 'Educated elsewhere', 'Non-maintained early years', 'NEET', 'Other', 'Unknown' + Hospital School"),
}

#: hnsim calendar-year metric -> sen2_mi.csv columns added together (EHC column first).
ACTIVITY_METRICS: dict[str, tuple[str, ...]] = {
    "assessment_requests_calendar_year": ("InreqEHC",),
    "assessments_refused_calendar_year": ("AssRefusedEHC", "AssRefused"),
    "assessed_no_plan_calendar_year": ("AssnoneEHC", "Assnone"),
    "ehcps_ceased_calendar_year": ("DisleaEHC", "DismetEHC", "DisothEHC", "DisleftEHC", "Dislea", "Dismet", "Disoth", "Disleft"),
    "mainstream_to_special_moves_calendar_year": ("MtosiEHC", "Mtosi"),
    "special_to_mainstream_moves_calendar_year": ("SitomEHC", "Sitom"),
}


def _row(year: int, metric: str, value: float, source: str, kind: str) -> dict:
    return {"financial_year": financial_year_of(year, kind), "metric": metric, "value": float(value), "source": source, "year": str(year), "kind": kind}


def setting_counts(by_setting: pd.DataFrame) -> pd.DataFrame:
    """Plans by hnsim setting metric and year (rows: year; columns: metrics) from :func:`sen2.caseload_by_setting` rows."""
    rows = by_setting[by_setting["establishment_group"] != "Total"]
    types = rows[rows["establishment_type"] != "Total"]
    groups = rows[rows["establishment_type"] == "Total"]
    out = {}
    for metric, (parts, _) in SETTING_METRICS.items():
        total = None
        for group, wanted in parts:
            if wanted == ("*",):
                chosen = groups[groups["establishment_group"] == group]
            else:
                chosen = types[(types["establishment_group"] == group) & types["establishment_type"].isin(wanted)]
            part = chosen.groupby("year")["plans"].sum(min_count=1)
            total = part if total is None else total.add(part, fill_value=0)
        out[metric] = total
    return pd.DataFrame(out).sort_index()


def caseload_series(directory: str | Path, la: sen2.Authority | str) -> pd.DataFrame:
    """January caseload series (kind census) for an authority, with sources."""
    auth = la if isinstance(la, sen2.Authority) else sen2.find_authority(directory, la)
    rows = []
    ages = sen2.caseload_by_age(directory, auth)
    for r in ages.itertuples():
        metric = AGE_METRICS.get(r.characteristic_age)
        if metric is not None and pd.notna(r.plans):
            rows.append(_row(r.year, metric, r.plans, f"SEN2 sen2_age_caseload.csv Total_all, characteristic_age '{r.characteristic_age}', {r.source_la}", "census"))
    settings = sen2.caseload_by_setting(directory, auth)
    where = settings.groupby("year")["source_la"].first()
    for metric, series in setting_counts(settings).items():
        note = SETTING_METRICS[metric][1]
        for year, value in series.dropna().items():
            rows.append(_row(int(year), metric, value, f"SEN2 sen2_estab_caseload.csv Total_all, {note}, {where[year]}", "census"))
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    return out.sort_values(["year", "metric"], kind="stable").reset_index(drop=True)


def activity_series(directory: str | Path, la: sen2.Authority | str) -> pd.DataFrame:
    """Assessment activity series by calendar year (kind calendar_year) for an authority, with sources.

    A metric's value is missing (no row) when its EHC column is missing for the year; statement
    columns that are missing count as none.
    """
    auth = la if isinstance(la, sen2.Authority) else sen2.find_authority(directory, la)
    rows = []
    activity = sen2.assessment_activity(directory, auth)
    for r in activity.to_dict("records"):
        for metric, columns in ACTIVITY_METRICS.items():
            present = [c for c in columns if c in r and pd.notna(r[c])]
            ehc = [c for c in columns if c.endswith("EHC")]
            if not all(c in present for c in ehc):
                continue
            rows.append(_row(r["year"], metric, sum(r[c] for c in present), f"SEN2 sen2_mi.csv {' + '.join(present)}, {r['source_la']}", "calendar_year"))
    new = sen2.new_plans_by_age(directory, auth)
    for r in new[new["characteristic_age"] == "Total"].itertuples():
        if pd.notna(r.plans):
            rows.append(_row(r.year, "new_ehcps_calendar_year", r.plans, f"SEN2 sen2_age_new_plans.csv Total_new_all, characteristic_age 'Total', {r.source_la}", "calendar_year"))
    for metric, bands in NEW_PLAN_AGE_METRICS.items():
        for year, group in new[new["characteristic_age"].isin(bands)].groupby("year"):
            # a band DfE suppressed or did not publish leaves the year out, not a zero
            if len(group) == len(bands) and group["plans"].notna().all():
                rows.append(_row(int(year), metric, float(group["plans"].sum()),
                                 f"SEN2 sen2_age_new_plans.csv Total_new_all, characteristic_age {' + '.join(repr(b) for b in bands)}, {group['source_la'].iloc[0]}", "calendar_year"))
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    return out.sort_values(["year", "metric"], kind="stable").reset_index(drop=True)


def every_authority(directory: str | Path, authorities: list[sen2.Authority]) -> pd.DataFrame:
    """``authority, metric, year, value``: the caseload and activity series of every authority in
    ``authorities`` (``authority`` its old_la_code; ``year`` the census or calendar year), for
    statistics pooled over authorities."""
    frames = []
    for auth in authorities:
        rows = pd.concat([caseload_series(directory, auth), activity_series(directory, auth)], ignore_index=True)
        frames.append(pd.DataFrame({"authority": auth.old_la_code, "metric": rows["metric"].to_numpy(), "year": rows["year"].astype(int).to_numpy(),
                                    "value": rows["value"].astype(float).to_numpy()}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["authority", "metric", "year", "value"])
