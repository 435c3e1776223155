"""Tables of a national run: every authority's projection, England's total, how well each authority's
calibration fits, and the January caseload check against England's published total.

Each authority's outcome carries ``annual`` (replication, financial_year, metric, value), its fit
table (``calibration_targets.target_table``) and ``info`` (codes, name, fit record).
"""

from __future__ import annotations

from typing import Any, Iterable, Protocol

import numpy as np
import pandas as pd

from hnsim.results.schemas import fy_label

ASSUMPTIONS_NOTE = (
    "Money inputs the SEN2 files do not hold are ASSUMPTIONS in every authority's config, marked "
    "'assumption: NOT GIVEN' in its sources: the High Needs Block allocation (finance.hnb_allocation_gbp), the "
    "opening DSG balance (finance.opening_cumulative_deficit_gbp) and central High Needs spend "
    "(costs.central_spend_gbp), each Gloucestershire's figure scaled by the authority's January caseload; unit "
    "costs are national defaults. Spend, allocation, in-year balance and cumulative deficit are therefore "
    "illustrative, not any council's budget, until each council's own figures replace them."
)
STAT_COLUMNS = ["mean", "p05", "p95", "n"]
AUTHORITY_COLUMNS = ["la_code", "old_la_code", "la_name", "region_name"]
HEADLINE = ("ehcp_total", "assessment_requests_calendar_year", "new_ehcps_calendar_year")


class Outcome(Protocol):
    annual: pd.DataFrame
    fit_table: pd.DataFrame
    info: dict[str, Any]


def _stats(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and 90% interval (5th and 95th percentiles of the replications) by ``keys``."""
    grouped = frame.groupby(keys, sort=True)["value"]
    out = grouped.agg(mean="mean", n="count")
    out["p05"] = grouped.quantile(0.05)
    out["p95"] = grouped.quantile(0.95)
    out[["mean", "p05", "p95"]] = out[["mean", "p05", "p95"]].round(2)
    return out.reset_index()[keys + STAT_COLUMNS]


def projection_table(outcomes: Iterable[Outcome]) -> pd.DataFrame:
    """``projections.csv``: one row per authority, financial year and metric: mean, p05, p95, n."""
    frames = []
    for o in outcomes:
        stats = _stats(o.annual, ["metric", "financial_year"])
        for column in reversed(AUTHORITY_COLUMNS):
            stats.insert(0, column, o.info[column])
        frames.append(stats)
    columns = AUTHORITY_COLUMNS + ["financial_year", "metric"] + STAT_COLUMNS
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)[columns]
    return table.sort_values(["la_name", "old_la_code", "metric", "financial_year"], kind="stable").reset_index(drop=True)


def england_total(outcomes: list[Outcome]) -> pd.DataFrame:
    """England's total per replication: the authorities' values summed replication by replication
    (every authority ran replications 0..R-1 from the same seed). Raises ValueError if their
    replications differ, since unpaired sums would mix replications."""
    if not outcomes:
        return pd.DataFrame(columns=["replication", "financial_year", "metric", "value", "authorities"])
    reps = {o.info["la_name"]: tuple(sorted(o.annual["replication"].unique())) for o in outcomes}
    if len(set(reps.values())) > 1:
        raise ValueError("authorities ran different replications; England's total needs them paired: " + "; ".join(f"{k}: {v}" for k, v in reps.items()))
    both = pd.concat([o.annual for o in outcomes], ignore_index=True)
    total = both.groupby(["replication", "financial_year", "metric"], sort=True)["value"].agg(["sum", "count"]).reset_index()
    return total.rename(columns={"sum": "value", "count": "authorities"})


def england_table(outcomes: list[Outcome]) -> pd.DataFrame:
    """``england.csv``: per financial year and metric, the mean and 90% interval of England's total
    over replications, and how many authorities it sums."""
    total = england_total(outcomes)
    columns = ["financial_year", "metric"] + STAT_COLUMNS + ["authorities"]
    if total.empty:
        return pd.DataFrame(columns=columns)
    stats = _stats(total, ["metric", "financial_year"])
    stats["authorities"] = total.groupby(["metric", "financial_year"], sort=True)["authorities"].max().to_numpy()
    return stats[columns]


def fit_summary(o: Outcome, census_year: int) -> dict[str, Any]:
    """One authority's fit in a row: MAPE on the fitted counts and on the headline series, the share
    of observed values inside the simulated 90% interval, the worst target, January caseloads."""
    t = o.fit_table
    fitted = t[t["weight"] > 0]
    counts = fitted[~fitted["target"].str.startswith("share_") & np.isfinite(fitted["error_pct"].astype(float))]
    headline = counts[counts["target"].isin(HEADLINE)]
    worst = fitted.loc[fitted["error_in_tolerances"].abs().idxmax()] if len(fitted) else None
    january = t[(t["target"] == "ehcp_total") & (t["year"] == census_year)]
    info = o.info
    return {**{c: info[c] for c in AUTHORITY_COLUMNS},
            "targets": len(fitted),
            "mape_pct": round(float(counts["error_pct"].abs().mean()), 2) if len(counts) else np.nan,
            "headline_mape_pct": round(float(headline["error_pct"].abs().mean()), 2) if len(headline) else np.nan,
            "inside_90_pct": round(100 * float(fitted["inside_90"].mean()), 1) if len(fitted) else np.nan,
            "within_tolerance_pct": round(100 * float(fitted["within_tolerance"].mean()), 1) if len(fitted) else np.nan,
            "worst_target": f"{worst['target']} {int(worst['year'])}" if worst is not None else "",
            "worst_error_in_tolerances": round(float(worst["error_in_tolerances"]), 2) if worst is not None else np.nan,
            f"ehcp_total_jan{census_year}_observed": float(january["observed"].iloc[0]) if len(january) else np.nan,
            f"ehcp_total_jan{census_year}_simulated": round(float(january["simulated_mean"].iloc[0]), 1) if len(january) else np.nan,
            "objective": round(float(info["objective"]), 4), "evaluations": int(info["evaluations"]), "seconds": info["seconds"]}


def fit_by_authority(outcomes: Iterable[Outcome], census_year: int) -> pd.DataFrame:
    """``fit_by_authority.csv``: :func:`fit_summary` of every authority, by name."""
    rows = [fit_summary(o, census_year) for o in outcomes]
    if not rows:
        return pd.DataFrame(columns=AUTHORITY_COLUMNS)
    return pd.DataFrame(rows).sort_values(["la_name", "old_la_code"], kind="stable").reset_index(drop=True)


def caseload_check(outcomes: list[Outcome], observed: dict[str, float | None], published: float, year: int) -> pd.DataFrame:
    """``caseload_check.csv``: January ``year`` caseloads. England's published total; the sum of
    the authorities' own published totals (all run, then those with results), each against
    England's; the simulated total of those with results (mean and 90% interval over paired
    replications) against the published sum of the same authorities."""
    done = {o.info["old_la_code"] for o in outcomes}
    all_observed = float(sum(v for v in observed.values() if v is not None))
    done_observed = float(sum(v for k, v in observed.items() if v is not None and k in done))
    england = f"England, published (SEN2 national row, January {year})"
    same = "the same authorities' published sum"
    rows = [
        {"measure": england, "authorities": None, "value": published, "compared_with": "", "reference": np.nan},
        {"measure": f"sum of the authorities' published January {year} caseloads, all run", "authorities": len(observed), "value": all_observed,
         "compared_with": "England, published", "reference": published},
        {"measure": f"sum of the authorities' published January {year} caseloads, those with results", "authorities": len(done), "value": done_observed,
         "compared_with": "England, published", "reference": published},
    ]
    total = england_total(outcomes)
    census_fy = fy_label(year - 1)  # the financial year holding January ``year``'s census
    sim = total[(total["metric"] == "ehcp_total") & (total["financial_year"] == census_fy)]["value"]
    if len(sim):
        rows.append({"measure": f"simulated January {year} caseload, those with results (mean of replications)", "authorities": len(done),
                     "value": float(sim.mean()), "p05": float(sim.quantile(0.05)), "p95": float(sim.quantile(0.95)), "compared_with": same, "reference": done_observed})
    table = pd.DataFrame(rows, columns=["measure", "authorities", "value", "p05", "p95", "compared_with", "reference"])
    table["difference"] = (table["value"] - table["reference"]).round(1)
    table["difference_pct"] = (100 * table["difference"] / table["reference"]).round(3)
    table[["value", "p05", "p95"]] = table[["value", "p05", "p95"]].round(1)
    return table


def notes(manifest: dict[str, Any], check: pd.DataFrame, fits: pd.DataFrame, done: int, total: int, failed: pd.DataFrame) -> str:
    """``notes.md``: what the national tables are, what is assumed, the caseload check, the fit."""
    m = manifest
    lines = [
        "# National run: every local authority built, calibrated and projected", "",
        f"{done} of {total} authorities with results; SEN2 files in `{m['sen2_dir']}`; projection to {m['horizon']}, "
        f"{m['replications']} replications each from seed {m['seed']} (the same for every authority, so England's total is summed "
        f"replication by replication); calibrated to January {m['fit_until']} and earlier with at most {m['max_evaluations']} evaluations of "
        f"{m['fit_replications']} replications. Design hash `{m['design_hash'][:12]}`.", "",
        "## Assumptions", "", f"**{ASSUMPTIONS_NOTE}**", "",
        "Behaviour SEN2 does not show (identification, SEN support, costs of settings, capacities as today's placements) keeps the "
        "Gloucestershire template's values, marked `template default` or `national default`. Only "
        + ", ".join(f"`{p['path']}`" for p in m["free_parameters"]) + " are calibrated, within the ranges in `manifest.json`.", "",
        "Every authority uses the same random numbers (same seed and streams), so its replications are paired with every other "
        "authority's: England's 90% interval is that of the summed replications, wider than if authorities' chance were independent.", "",
        f"## January {m['fit_until']} caseload check", "", _markdown(check), "",
        "## Calibration fit", "",
    ]
    if len(fits) and "mape_pct" in fits:
        lines += [f"Median MAPE on the fitted counts {fits['mape_pct'].median():.1f}% (headline series: January totals, requests, new plans "
                  f"{fits['headline_mape_pct'].median():.1f}%); median share of observed values inside the simulated 90% interval "
                  f"{fits['inside_90_pct'].median():.0f}%. Per authority: `fit_by_authority.csv`; every target in each authority's file.", ""]
    if len(failed):
        lines += ["## Failed authorities", "", *[f"- {r.la_name} ({r.old_la_code}, {r.la_code}), {r.stage}: {r.error}" for r in failed.itertuples()], ""]
    lines += ["## Files", "",
              "- `projections.csv`: la_code, old_la_code, la_name, region_name, financial_year, metric, mean, p05, p95, n (replications).",
              "- `england.csv`: England's total (sum over authorities per replication): financial_year, metric, mean, p05, p95, n, authorities.",
              "- `fit_by_authority.csv`: MAPE on the fitted counts and headline series, % of observed values inside the 90% interval, worst target.",
              "- `caseload_check.csv`: the January caseload check above.",
              "- `authorities/<old code>-<name>.parquet`: replication, financial_year, metric, value; the fit table, fit record, fitted values "
              "and calibrated config in its metadata (`hnsim.experiment.national.read_authority`).",
              "- `failures.csv`: authorities whose preparation or run raised, with the error (only when there are some).", ""]
    return "\n".join(lines)


def _markdown(table: pd.DataFrame) -> str:
    lines = ["| measure | authorities | value | 90% interval | against | difference |", "|---|---|---|---|---|---|"]
    for r in table.itertuples(index=False):
        interval = f"{r.p05:,.0f} to {r.p95:,.0f}" if pd.notna(r.p05) else ""
        n = "" if pd.isna(r.authorities) else f"{int(r.authorities)}"
        diff = f"{r.difference:+,.0f} ({r.difference_pct:+.2f}%)" if pd.notna(r.difference) else ""
        lines.append(f"| {r.measure} | {n} | {r.value:,.0f} | {interval} | {r.compared_with} | {diff} |")
    return "\n".join(lines)
