"""The DSG deficit management plan: the forecast in the template's own rows, one table per scenario
(the unmitigated forecast is the base, a mitigated one each scenario) and the differences between them.

Spend and plans use the seven provision categories of the DfE DSG management plan template, so
rows paste straight into it:

==========================  ====================================================================
category                    what hnsim counts in it
==========================  ====================================================================
mainstream                  top-ups for plans in mainstream schools (and interim top-ups while
                            waiting for a special place)
resourced                   resourced provision and SEN units attached to mainstream schools
special                     maintained special schools and special academies: top-ups and the
                            place funding of commissioned places (SEMH provision included)
independent                 non-maintained and independent special schools
hospital_ap                 hospital education and alternative provision (with or without a plan)
post16                      post-16 further education and specialist post-16 institutions
other                       early years, education otherwise than at school, bespoke packages,
                            central services and the strategy's own running costs
==========================  ====================================================================

Money is in pounds (means over replications) and each scenario's rows add up: the seven
categories sum to total spend; allocation less spend is the in-year balance; the cumulative
balance is minus the cumulative deficit.
"""

from __future__ import annotations

import pandas as pd

#: The seven categories: (key, the spend metrics summed, the EHCP stock metrics summed).
CATEGORIES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("mainstream", ("spend_setting_mainstream", "spend_setting_mainstream_waiting"), ("ehcp_mainstream",)),
    ("resourced", ("spend_setting_resourced",), ("ehcp_resourced",)),
    ("special", ("spend_setting_special", "spend_setting_semh_special", "spend_special_place_funding"), ("ehcp_special",)),
    ("independent", ("spend_setting_independent",), ("ehcp_independent",)),
    ("hospital_ap", ("spend_setting_ap", "spend_setting_ap_no_plan"), ("ehcp_ap",)),
    ("post16", ("spend_setting_post16_fe", "spend_setting_post16_specialist"), ("ehcp_post16",)),
    ("other", ("spend_setting_early_years", "spend_setting_ehe", "spend_setting_other", "spend_setting_bespoke", "spend_central", "spend_levers"), ("ehcp_other",)),
]
CATEGORY_KEYS = [key for key, _, _ in CATEGORIES]

#: DSG plan rows in order: (row id, metric or None for a category sum, unit).
ROWS: list[tuple[str, str, str]] = [
    ("allocation", "hnb_allocation", "gbp"),
    ("allocation_transfers", "allocation_transfers", "gbp"),
    *[(f"spend_{key}", "", "gbp") for key in CATEGORY_KEYS],
    ("total_spend", "spend_total", "gbp"),
    ("in_year_balance", "in_year_balance", "gbp"),
    ("cumulative_balance", "cumulative_deficit", "gbp"),
    *[(f"ehcp_{key}", "", "plans") for key in CATEGORY_KEYS],
    ("ehcp_total", "ehcp_total", "plans"),
]
PLAN_COLUMNS = ["scenario", "row", "unit"]


def _means(annual: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """Mean over replications of every metric: metrics as rows, financial years as columns."""
    data = annual[annual["scenario"] == scenario]
    if data.empty:
        raise ValueError(f"no results for scenario '{scenario}'")
    return data.pivot_table(index="metric", columns="financial_year", values="value", aggfunc="mean").sort_index(axis=1)


def dsg_plan(annual: pd.DataFrame, scenario: str, years: list[str] | None = None) -> pd.DataFrame:
    """One scenario's DSG plan: columns ``scenario, row, unit`` and one per financial year (``years``,
    default all), rows :data:`ROWS`; money in pounds, plans at the January census, means of replications.

    A metric the run lacks counts as zero in a category sum (a run without levers has no
    ``spend_levers``); a missing headline metric raises ValueError.
    """
    means = _means(annual, scenario)
    years = years or list(means.columns)
    zero = pd.Series(0.0, index=years)

    def metric(name: str, required: bool = True) -> pd.Series:
        if name in means.index:
            return means.loc[name, years].astype(float)
        if required:
            raise ValueError(f"scenario '{scenario}' has no values of {name}")
        return zero

    spend = {key: sum((metric(m, False) for m in metrics), zero) for key, metrics, _ in CATEGORIES}
    plans = {key: sum((metric(m, False) for m in stocks), zero) for key, _, stocks in CATEGORIES}
    rows = []
    for row, name, unit in ROWS:
        if row.startswith("spend_"):
            values = spend[row[len("spend_"):]]
        elif row.startswith("ehcp_") and row != "ehcp_total":
            values = plans[row[len("ehcp_"):]]
        elif row == "cumulative_balance":
            values = -metric(name)
        else:
            values = metric(name, required=row != "allocation_transfers")
        rows.append({"scenario": scenario, "row": row, "unit": unit, **values.to_dict()})
    return pd.DataFrame(rows, columns=PLAN_COLUMNS + years)


def dsg_plans(annual: pd.DataFrame, scenarios: list[str], years: list[str] | None = None) -> pd.DataFrame:
    """:func:`dsg_plan` of every scenario, stacked (the base first, as given)."""
    return pd.concat([dsg_plan(annual, s, years) for s in scenarios], ignore_index=True)


def dsg_differences(plans: pd.DataFrame, base: str) -> pd.DataFrame:
    """Each scenario's DSG plan less the base's, row by row (a mitigated forecast against the
    unmitigated one): the same columns as :func:`dsg_plans`, without the base. A negative spend
    difference is a saving; a positive balance difference is an improvement."""
    years = [c for c in plans.columns if c not in PLAN_COLUMNS]
    reference = plans[plans["scenario"] == base].set_index("row")[years]
    frames = []
    for name, table in plans[plans["scenario"] != base].groupby("scenario", sort=False):
        diff = table.set_index("row")[years] - reference
        frames.append(diff.reset_index().assign(scenario=name, unit=table["unit"].to_numpy()))
    if not frames:
        return pd.DataFrame(columns=plans.columns)
    return pd.concat(frames, ignore_index=True)[list(plans.columns)]
