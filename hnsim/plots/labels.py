"""The label table: what a reader sees instead of an identifier, for every scenario, lever, metric,
budget line, provision category and swept parameter that a figure or table shows.

Figures and tables take every label from here (or from a ``label:`` the config gives a lever), so
``linc_funding`` reads "LINC funding" in every chart, legend and table of a report. An identifier
missing from the table is tidied (``new_thing`` reads "New thing") rather than shown raw.
"""

from __future__ import annotations

from typing import Any

SCENARIO_LABELS: dict[str, str] = {
    "baseline": "Status quo",
    "linc_funding": "LINC funding",
    "restorative_practice": "Restorative practice",
    "secondary_exclusion_reduction": "Fewer secondary exclusions",
    "special_school_expansion": "Special school expansion",
    "special_school_outreach": "Special school outreach",
    "semh_provision": "New SEMH provision",
    "bespoke_packages": "Bespoke packages",
    "post16_strategy": "Post-16 strategy",
    "ehcp_rigour": "Rigour in the EHCP process",
    "block_transfer": "Schools block transfer",
    "early_years_transition": "Early years transition",
    "whole_strategy": "Whole strategy",
    "stress_delayed_special_opening": "Stress: special places open late",
    "stress_independent_fees": "Stress: independent fees rise",
    "stress_request_spike": "Stress: spike in requests",
    "request_spike": "Spike in requests",
}
#: Levers share their scenario's label where the scenario switches on that one lever.
LEVER_LABELS: dict[str, str] = {k: v for k, v in SCENARIO_LABELS.items() if k not in ("baseline", "whole_strategy") and not k.startswith("stress_")}

METRIC_LABELS: dict[str, str] = {
    "ehcp_total": "EHCPs (January census)",
    "cumulative_deficit": "Cumulative High Needs deficit",
    "spend_total": "High Needs spend",
    "hnb_allocation": "High Needs Block allocation",
    "in_year_balance": "In-year balance",
    "allocation_transfers": "Transfers into the High Needs Block",
    "spend_levers": "The strategy's own running costs",
    "pct_plans_within_20_weeks": "Plans issued within 20 weeks (%)",
    "mean_weeks_request_to_plan": "Request to final plan",
    "mean_weeks_waiting_for_assessment": "Waiting for a caseworker",
    "mean_weeks_waiting_for_special_place": "Mean wait for a special place",
    "waiting_for_special_place": "Children waiting for a special place",
    "assessment_requests": "Assessment requests",
    "new_ehcps": "New plans",
    "pct_ehcp_in_mainstream": "Plans in mainstream (%)",
    "ap_pupils": "Pupils in alternative provision",
    "permanent_exclusions": "Permanent exclusions",
    "new_independent_placements": "New independent placements",
    "cost_per_ehcp": "Spend per EHCP",
}

SPEND_LINE_LABELS: dict[str, str] = {
    "spend_mainstream_topups": "Mainstream top-ups",
    "spend_special": "Special schools",
    "spend_independent": "Independent special",
    "spend_ap": "Alternative provision",
    "spend_post16": "Post-16",
    "spend_other": "Central and other",
}

SETTING_LABELS: dict[str, str] = {
    "ehcp_mainstream": "Mainstream",
    "ehcp_resourced": "Resourced provision",
    "ehcp_special": "Special school",
    "ehcp_independent": "Independent special",
    "ehcp_ap": "Alternative provision",
    "ehcp_post16": "FE and post-16",
    "ehcp_other": "Early years, EHE and other",
}

#: The seven provision categories of the DSG management plan template (hnsim.analysis.dsg).
CATEGORY_LABELS: dict[str, str] = {
    "mainstream": "Mainstream schools",
    "resourced": "Resourced provision and SEN units",
    "special": "Maintained special schools and special academies",
    "independent": "Non-maintained and independent special schools",
    "hospital_ap": "Hospital education and alternative provision",
    "post16": "Post-16 further education",
    "other": "Other (early years, EOTAS, central services, strategy costs)",
}
#: Short forms of the categories, for legends.
CATEGORY_SHORT: dict[str, str] = {
    "mainstream": "Mainstream",
    "resourced": "Resourced provision, SEN units",
    "special": "Maintained special, special academies",
    "independent": "Non-maintained, independent special",
    "hospital_ap": "Hospital and AP",
    "post16": "Post-16 FE",
    "other": "Other",
}

DSG_ROW_LABELS: dict[str, str] = {
    "allocation": "High Needs Block allocation",
    "allocation_transfers": "of which transfers into the block (e.g. from the schools block)",
    **{f"spend_{k}": f"Spend: {v}" for k, v in CATEGORY_LABELS.items()},
    "total_spend": "Total High Needs spend",
    "in_year_balance": "In-year balance (allocation less spend)",
    "cumulative_balance": "Cumulative balance at 31 March (negative is a deficit)",
    **{f"ehcp_{k}": f"EHCPs: {v}" for k, v in CATEGORY_LABELS.items()},
    "ehcp_total": "EHCPs: total (January census)",
}

#: Swept or sought parameters by config path: (label, unit) with unit one of count, gbp, share, growth.
PARAMETER_LABELS: dict[str, tuple[str, str]] = {
    "finance.allocation_growth_after.value": ("Allocation growth a year after the years given", "growth"),
    "assessment.team_capacity.value": ("Assessments the team carries at once", "count"),
    "identification.new_per_year.value": ("Children newly identified a year", "count"),
    "placement.when_special_full.independent_probability.value": ("Share going independent when special is full", "share"),
    "capacity.places.value.special_secondary": ("Secondary special places (from 2014)", "count"),
    "capacity.places.value.special_primary": ("Primary special places (from 2014)", "count"),
    "levers.linc_funding.annual_cost_gbp.value": ("LINC funding a year", "gbp"),
    "levers.special_school_expansion.extra_places.0.places": ("New secondary special places", "count"),
    "levers.special_school_expansion.extra_places.1.places": ("New primary special places", "count"),
    "levers.semh_provision.extra_places.0.places": ("New SEMH secondary places", "count"),
}

#: What the legends say of the marks that are not a scenario, a category or a metric; ``{scenario}``
#: is filled with a scenario's label.
LEGEND_LABELS: dict[str, str] = {
    "mean": "Mean of replications",
    "middle_50": "Middle 50% of replications",
    "middle_90": "Middle 90% of replications",
    "forecast_mean": "Mean of the forecast",
    "forecast_50": "Middle 50% of the forecast",
    "forecast_90": "Middle 90% of the forecast",
    "base_reference": "{scenario} (mean), for reference",
    "base_total": "{scenario}: total spend",
    "observed": "Published figure",
    "data_end": "Last year of data fitted",
    "allocation": "High Needs Block allocation",
    "net_change": "Net change in spend",
    "mean_interval": "Mean and 95% interval of the mean",
    "replication_range": "5-95% of replications",
    "own_cost": "The levers' own cost (in the saving)",
    "weeks_marker": "{metric} (weeks panel)",
    "low_value": "Parameter at its low value",
    "high_value": "Parameter at its high value",
}

_TABLES = (SCENARIO_LABELS, METRIC_LABELS, SPEND_LINE_LABELS, SETTING_LABELS, DSG_ROW_LABELS)


def tidy(identifier: str) -> str:
    """An identifier made readable when the table has no label for it: ``new_thing`` -> 'New thing'."""
    text = str(identifier).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def label(key: str) -> str:
    """The display label of a metric, budget line, setting, scenario or DSG row."""
    for table in _TABLES:
        if key in table:
            return table[key]
    return tidy(key)


def category(key: str, short: bool = False) -> str:
    """The label of a DSG provision category."""
    return (CATEGORY_SHORT if short else CATEGORY_LABELS).get(key, tidy(key))


def lever_label(name: str, lever: dict[str, Any] | None = None) -> str:
    """A lever's label: the config's own ``label``, else the table's, else its name tidied."""
    if lever and lever.get("label"):
        return str(lever["label"])
    return LEVER_LABELS.get(name) or SCENARIO_LABELS.get(name) or tidy(name)


def scenario_label(name: str, config: dict[str, Any] | None = None, base_config: dict[str, Any] | None = None) -> str:
    """A scenario's label: the table's; else the lever's label when the scenario switches on a single
    lever; else its name tidied. ``config`` and ``base_config`` are plain config data."""
    if name in SCENARIO_LABELS:
        return SCENARIO_LABELS[name]
    if config and base_config is not None:
        before = base_config.get("levers") or {}
        on = [k for k, v in (config.get("levers") or {}).items() if v.get("enabled") and not (before.get(k) or {}).get("enabled")]
        if len(on) == 1:
            return lever_label(on[0], config["levers"][on[0]])
    return tidy(name)


def parameter_label(name: str, path: str | None = None) -> tuple[str, str]:
    """(label, unit) of a swept or sought parameter, by its config path (dotted), else its name tidied."""
    if path is not None:
        key = path.replace("[", ".").replace("]", "")
        if key in PARAMETER_LABELS:
            return PARAMETER_LABELS[key]
        if key.endswith("_gbp.value") or "_gbp." in key:
            return tidy(name), "gbp"
    return tidy(name), "count"


def legend(key: str, **fill: str) -> str:
    """A legend entry from :data:`LEGEND_LABELS`, with ``{scenario}`` or ``{metric}`` filled in."""
    return LEGEND_LABELS[key].format(**fill)


def all_labels(scenarios: list[str] | tuple[str, ...] = ()) -> set[str]:
    """Every label the table holds, with the legend templates filled for the given scenario labels
    and every metric (for checking that figures show labels, not identifiers)."""
    found = set()
    for table in (*_TABLES, LEVER_LABELS, CATEGORY_LABELS, CATEGORY_SHORT):
        found |= set(table.values())
    found |= {lab for lab, _ in PARAMETER_LABELS.values()}
    for template in LEGEND_LABELS.values():
        if "{scenario}" in template:
            found |= {template.format(scenario=s) for s in scenarios}
        elif "{metric}" in template:
            found |= {template.format(metric=m) for m in METRIC_LABELS.values()}
        else:
            found.add(template)
    return found | set(scenarios)
