"""The numbers a figure draws, computed from result tables (pure; no drawing, no model).

Each function returns a tidy frame that is both what the plot function draws and what is written
to the figure's CSV, so the CSV holds exactly the numbers drawn. Fan bands are percentiles of the
replications in ``annual`` (the long table ``scenario, replication, financial_year, metric, value``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hnsim.analysis import dsg
from hnsim.config.base import SPEND_LINES as BUDGET_LINES

FAN_PERCENTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95}
#: Spend metrics, one per High Needs budget line of the config, in the config's order.
SPEND_LINES = [f"spend_{line}" for line in BUDGET_LINES]
SETTINGS = ["ehcp_mainstream", "ehcp_resourced", "ehcp_special", "ehcp_independent", "ehcp_ap", "ehcp_post16", "ehcp_other"]


def scenarios(annual: pd.DataFrame) -> list[str]:
    """Scenario names in the order they first appear."""
    return list(dict.fromkeys(annual["scenario"]))


def years(annual: pd.DataFrame) -> list[str]:
    """Financial years in order."""
    return sorted(set(annual["financial_year"]))


def fan(annual: pd.DataFrame, metric: str, scenario: str | None = None) -> pd.DataFrame:
    """Percentiles (5, 25, 50, 75, 95) of the replications by scenario and financial year.

    Columns: ``scenario, financial_year, metric, n, mean, p05, p25, p50, p75, p95``. Percentiles are
    pandas' linear-interpolation quantiles, the same as ``summary.csv``'s ``p05/p50/p95``; the mean
    is the line drawn (the same figure the tables and the command line quote).
    """
    data = annual[(annual["metric"] == metric)].dropna(subset=["value"])
    if scenario is not None:
        data = data[data["scenario"] == scenario]
    if data.empty:
        raise ValueError(f"no values of metric '{metric}'" + (f" for scenario '{scenario}'" if scenario else ""))
    grouped = data.groupby(["scenario", "financial_year"], sort=False)["value"]
    out = grouped.agg(n="count", mean="mean").reset_index()
    for name, q in FAN_PERCENTILES.items():
        out[name] = grouped.quantile(q).to_numpy()
    out.insert(2, "metric", metric)
    order = {s: i for i, s in enumerate(scenarios(data))}
    out = out.sort_values(["scenario", "financial_year"], key=lambda c: c.map(order) if c.name == "scenario" else c)
    return out.reset_index(drop=True)


def with_observed(fan_frame: pd.DataFrame, observed: pd.DataFrame | None, metric: str) -> pd.DataFrame:
    """Add an ``observed`` column (published values of ``metric``, the same for every scenario) to a fan frame.

    Years observed but outside the simulated horizon are left out: the figure's x axis is the
    simulated years.
    """
    out = fan_frame.copy()
    out["observed"] = np.nan
    if observed is not None and not observed.empty:
        obs = observed[observed["metric"] == metric].groupby("financial_year")["value"].last()
        out["observed"] = out["financial_year"].map(obs).astype(float)
    return out


def means(annual: pd.DataFrame, metrics: list[str], scenario: str) -> pd.DataFrame:
    """Mean over replications: financial years as rows, the given metrics as columns (in order)."""
    data = annual[(annual["scenario"] == scenario) & annual["metric"].isin(metrics)]
    table = data.pivot_table(index="financial_year", columns="metric", values="value", aggfunc="mean")
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        raise ValueError(f"scenario '{scenario}' has no values of {', '.join(missing)}")
    return table[metrics].sort_index().reset_index().rename_axis(columns=None)


def spend_by_line(annual: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """Mean spend per budget line, the total and the allocation by financial year (pounds)."""
    return means(annual, SPEND_LINES + ["spend_total", "hnb_allocation"], scenario)


def placement_mix(annual: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """Mean EHCPs by setting and each setting's share (%) of all plans, by financial year.

    Long: ``financial_year, setting, plans, share_pct``; shares are of the settings' sum, which
    equals ``ehcp_total``.
    """
    table = means(annual, SETTINGS, scenario).set_index("financial_year")
    total = table.sum(axis=1)
    long = table.stack().rename("plans").reset_index().rename(columns={"level_1": "setting", "metric": "setting"})
    long["share_pct"] = 100 * long["plans"] / long["financial_year"].map(total)
    return long[["financial_year", "setting", "plans", "share_pct"]]


TIMELINESS_PANELS = {
    "timeliness": ["pct_plans_within_20_weeks"],
    "weeks": ["mean_weeks_request_to_plan", "mean_weeks_waiting_for_assessment"],
    "special_wait": ["waiting_for_special_place"],
}


def timeliness(annual: pd.DataFrame, scenario: str | None = None) -> pd.DataFrame:
    """Fan percentiles of the assessment timeliness and special-place waiting metrics, with a panel
    column, for one scenario (or every scenario when None)."""
    frames = []
    for panel, metrics in TIMELINESS_PANELS.items():
        for metric in metrics:
            part = fan(annual, metric, scenario)
            part.insert(0, "panel", panel)
            frames.append(part)
    return pd.concat(frames, ignore_index=True)


def spend_by_category(annual: pd.DataFrame, scenarios_: list[str], years_: list[str] | None = None) -> pd.DataFrame:
    """Mean spend in each of the DSG plan's seven provision categories, the total and the allocation,
    by scenario and financial year (pounds): long ``scenario, financial_year, category, spend_gbp``
    plus rows ``category`` = ``total`` and ``allocation``."""
    plans = dsg.dsg_plans(annual, scenarios_, years_)
    year_cols = [c for c in plans.columns if c not in dsg.PLAN_COLUMNS]
    wanted = {f"spend_{k}": k for k in dsg.CATEGORY_KEYS} | {"total_spend": "total", "allocation": "allocation"}
    rows = plans[plans["row"].isin(wanted)].melt(id_vars=dsg.PLAN_COLUMNS, value_vars=year_cols, var_name="financial_year", value_name="spend_gbp")
    rows["category"] = rows["row"].map(wanted)
    order = {k: i for i, k in enumerate([*dsg.CATEGORY_KEYS, "total", "allocation"])}
    rows = rows.sort_values(["scenario", "financial_year", "category"], key=lambda c: c.map(order) if c.name == "category" else c.map({s: i for i, s in enumerate(scenarios_)}) if c.name == "scenario" else c, kind="stable")
    return rows[["scenario", "financial_year", "category", "spend_gbp"]].reset_index(drop=True)


def placement_by_scenario(annual: pd.DataFrame, scenarios_: list[str], year: str) -> pd.DataFrame:
    """Each scenario's mean EHCPs by setting at one January census, and each setting's share (%):
    long ``scenario, financial_year, setting, plans, share_pct``."""
    frames = []
    for name in scenarios_:
        part = placement_mix(annual, name)
        frames.append(part[part["financial_year"] == year].assign(scenario=name))
    out = pd.concat(frames, ignore_index=True)
    return out[["scenario", "financial_year", "setting", "plans", "share_pct"]]


def window(years_all: list[str], start: str | None, length: int = 5) -> list[str]:
    """``length`` consecutive financial years from ``start`` (default: the last ``length`` years)."""
    if start is None:
        return years_all[-length:]
    if start not in years_all:
        raise ValueError(f"financial year {start} is not in the run ({years_all[0]} to {years_all[-1]})")
    i = years_all.index(start)
    return years_all[i : i + length]


def first_divergent_year(annual: pd.DataFrame, base: str, metric: str = "spend_total") -> str | None:
    """The first financial year in which any scenario's mean ``metric`` differs from the base's."""
    table = annual[annual["metric"] == metric].pivot_table(index="financial_year", columns="scenario", values="value", aggfunc="mean")
    if base not in table.columns or table.shape[1] < 2:
        return None
    diff = table.drop(columns=base).sub(table[base], axis=0).abs().max(axis=1)
    changed = diff[diff > 1e-6 * max(1.0, float(table[base].abs().max()))]
    return None if changed.empty else str(changed.index[0])


#: Pathway flow diagram: stocks (boxes) and flows (arrows between stage keys).
FLOW_STOCKS = {
    "sen_support": ["sen_support_total"],
    "early_years": ["early_intervention_total"],
    "ehcp_mainstream": ["ehcp_mainstream", "ehcp_resourced"],
    "ehcp_special": ["ehcp_special"],
    "ehcp_independent": ["ehcp_independent"],
    "ehcp_ap": ["ehcp_ap"],
    "ehcp_post16": ["ehcp_post16"],
    "ehcp_other": ["ehcp_other"],
    "ap_pupils": ["ap_pupils"],
}
FLOW_ARROWS = [
    ("children_identified", "new", "sen_support"),
    ("assessment_requests", "sen_support", "assessment"),
    ("new_ehcps", "assessment", "ehcp"),
    ("assessments_refused", "assessment", "sen_support"),
    ("assessed_no_plan", "assessment", "sen_support"),
    ("mainstream_to_special_moves", "ehcp_mainstream", "ehcp_special"),
    ("special_to_mainstream_moves", "ehcp_special", "ehcp_mainstream"),
    ("new_independent_placements", "ehcp", "ehcp_independent"),
    ("permanent_exclusions", "school", "ap_pupils"),
    ("ehcps_moved_in", "elsewhere", "ehcp"),
    ("ehcps_ceased", "ehcp", "ceased"),
]


def pathway_flows(annual: pd.DataFrame, scenario: str, year: str) -> pd.DataFrame:
    """Mean stocks (January census) and flows (in the financial year) for the flow diagram.

    Columns: ``kind`` (stock or flow), ``key`` (stage for stocks, metric for flows), ``source``,
    ``target``, ``metrics`` (the metric names summed, joined with '+'), ``value``.
    """
    data = annual[(annual["scenario"] == scenario) & (annual["financial_year"] == year)]
    if data.empty:
        raise ValueError(f"no results for scenario '{scenario}' in financial year {year}")
    mean = data.groupby("metric")["value"].mean()
    rows = []
    for stage, metrics in FLOW_STOCKS.items():
        rows.append({"kind": "stock", "key": stage, "source": "", "target": "", "metrics": "+".join(metrics), "value": float(sum(mean.get(m, np.nan) for m in metrics))})
    for metric, source, target in FLOW_ARROWS:
        rows.append({"kind": "flow", "key": metric, "source": source, "target": target, "metrics": metric, "value": float(mean.get(metric, np.nan))})
    return pd.DataFrame(rows)


def tornado_from_sweep(table: pd.DataFrame, metric: str, year: str) -> pd.DataFrame:
    """The tornado frame (``parameter, low_value, high_value, outcome_low, outcome_high, base``)
    of one outcome from a sweep's ``tornado.csv`` (``low_level``, ``low_mean``, ``base_mean``, ...)."""
    rows = table[(table["metric"] == metric) & (table["financial_year"].astype(str) == year)]
    return pd.DataFrame(
        {
            "parameter": rows["parameter"],
            "low_value": rows["low_level"],
            "high_value": rows["high_level"],
            "outcome_low": rows["low_mean"],
            "outcome_high": rows["high_mean"],
            "base": rows["base_mean"],
        }
    ).reset_index(drop=True)


def heatmap_from_sweep(outcomes: pd.DataFrame, x: str, y: str, metric: str, year: str) -> pd.DataFrame:
    """The heat-map frame (``x``, ``y``, ``mean``) of one outcome from a sweep's ``outcomes.csv``."""
    rows = outcomes[(outcomes["metric"] == metric) & (outcomes["financial_year"].astype(str) == year)]
    return rows[[x, y, "mean"]].reset_index(drop=True)
