"""Annual metrics from one replication's event log: census stocks, flows and High Needs money.

Stocks are counted at the January census inside each financial year, flows over the financial year
(April-March) and, with the suffix ``_calendar_year``, over the calendar year that the January
census opens (the SEN2 convention). Money is charged day by day from spell lengths, so unit costs can
change without re-simulating.
"""

from __future__ import annotations

import numpy as np

from hnsim.config.schema import NEEDS, PHASES, SPECIAL_POOLS, SPEND_LINES
from hnsim.model import records as R
from hnsim.model.calendar import DAYS_PER_YEAR, fy_start_year
from hnsim.model.levers import lever_costs_by_year
from hnsim.model.parameters import Parameters

#: Census stock metric -> state codes counted.
STOCKS: dict[str, tuple[int, ...]] = {
    "ehcp_total": tuple(c for c in R.STATE_NAMES if c >= 10),
    "ehcp_mainstream": (R.EHCP_MAINSTREAM, R.EHCP_MAINSTREAM_WAITING),
    "ehcp_resourced": (R.EHCP_RESOURCED,),
    "ehcp_special": (R.EHCP_SPECIAL, R.EHCP_SEMH_SPECIAL),
    "ehcp_semh_special": (R.EHCP_SEMH_SPECIAL,),
    "ehcp_independent": (R.EHCP_INDEPENDENT,),
    "ehcp_ap": (R.EHCP_AP,),
    "ehcp_post16": (R.EHCP_POST16_FE, R.EHCP_POST16_SPECIALIST),
    "ehcp_post16_specialist": (R.EHCP_POST16_SPECIALIST,),
    "ehcp_other": (R.EHCP_EHE, R.EHCP_EARLY_YEARS, R.EHCP_OTHER, R.EHCP_BESPOKE),
    "ehcp_bespoke": (R.EHCP_BESPOKE,),
    "ehcp_ehe": (R.EHCP_EHE,),
    "sen_support_total": (R.SEN_SUPPORT, R.SEN_SUPPORT_ENHANCED),
    "sen_support_enhanced": (R.SEN_SUPPORT_ENHANCED,),
    "early_intervention_total": (R.EARLY_INTERVENTION,),
    "ap_pupils": (R.AP_NO_PLAN, R.EHCP_AP),
    "ehe_without_plan": (R.EHE_NO_PLAN,),
    "waiting_for_special_place": (R.EHCP_MAINSTREAM_WAITING,),
}

#: Flow metric -> event codes counted.
FLOWS: dict[str, tuple[int, ...]] = {
    "children_identified": (R.EV_IDENTIFIED,),
    "assessment_requests": (R.EV_REQUEST,),
    "assessments_refused": (R.EV_REFUSED,),
    "tribunal_appeals": (R.EV_APPEAL,),
    "tribunal_found_for_parents": (R.EV_TRIBUNAL_FOR_PARENTS,),
    "assessed_no_plan": (R.EV_ASSESSED_NO_PLAN,),
    "new_ehcps": (R.EV_NEW_EHCP,),
    "ehcps_ceased": (R.EV_CEASED_NEEDS_MET, R.EV_CEASED_MOVED_AWAY, R.EV_CEASED_LEFT_EDUCATION, R.EV_CEASED_AGE_25),
    "ehcps_ceased_needs_met": (R.EV_CEASED_NEEDS_MET,),
    "ehcps_ceased_moved_away": (R.EV_CEASED_MOVED_AWAY,),
    "ehcps_ceased_left_education": (R.EV_CEASED_LEFT_EDUCATION,),
    "ehcps_ceased_age_25": (R.EV_CEASED_AGE_25,),
    "ehcps_moved_in": (R.EV_MOVED_IN,),
    "post16_conversions": (R.EV_POST16_CONVERSION,),
    "mainstream_to_special_moves": (R.EV_MAINSTREAM_TO_SPECIAL,),
    "special_to_mainstream_moves": (R.EV_SPECIAL_TO_MAINSTREAM,),
    "new_independent_placements": (R.EV_INDEPENDENT_PLACEMENT,),
    "permanent_exclusions": (R.EV_PERMANENT_EXCLUSION,),
    "ehe_deregistrations": (R.EV_EHE_DEREGISTRATION,),
}
CALENDAR_YEAR_FLOWS = (
    "assessment_requests",
    "assessments_refused",
    "assessed_no_plan",
    "new_ehcps",
    "ehcps_ceased",
    "mainstream_to_special_moves",
    "special_to_mainstream_moves",
    "tribunal_appeals",
)
AGE_BANDS = (("ehcp_age_under5", 0, 4), ("ehcp_age_5_10", 5, 10), ("ehcp_age_11_15", 11, 15), ("ehcp_age_16_19", 16, 19), ("ehcp_age_20_25", 20, 99))

#: Setting key used for unit costs, by state code.
COST_KEY = {
    R.SEN_SUPPORT: None,
    R.SEN_SUPPORT_ENHANCED: None,
    R.EARLY_INTERVENTION: None,
    R.EHE_NO_PLAN: None,
    R.AP_NO_PLAN: "ap_no_plan",
    R.EHCP_MAINSTREAM: "mainstream",
    R.EHCP_MAINSTREAM_WAITING: "mainstream_waiting",
    R.EHCP_RESOURCED: "resourced",
    R.EHCP_SPECIAL: "special",
    R.EHCP_SEMH_SPECIAL: "semh_special",
    R.EHCP_INDEPENDENT: "independent",
    R.EHCP_AP: "ap",
    R.EHCP_POST16_FE: "post16_fe",
    R.EHCP_POST16_SPECIALIST: "post16_specialist",
    R.EHCP_EHE: "ehe",
    R.EHCP_EARLY_YEARS: "early_years",
    R.EHCP_OTHER: "other",
    R.EHCP_BESPOKE: "bespoke",
}


def unit_cost_tables(params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Annual cost (state code x phase) at the price base, and spend line index by state code.

    A phase missing from a setting's costs takes the 'all' value, else the mean of the phases given.
    """
    costs = params.config.costs.settings
    n_states = max(R.STATE_NAMES) + 1
    annual = np.zeros((n_states, len(PHASES)))
    line = np.full(n_states, -1, dtype=int)
    for state, key in COST_KEY.items():
        if key is None or key not in costs:
            continue
        entry = costs[key]
        given = {k: v for k, v in entry.annual_gbp.items() if k != "all"}
        fallback = entry.annual_gbp.get("all", float(np.mean(list(given.values()))) if given else 0.0)
        for i, phase in enumerate(PHASES):
            annual[state, i] = given.get(phase, fallback)
        line[state] = SPEND_LINES.index(entry.line)
    return annual, line


def inflation_factors(params: Parameters) -> np.ndarray:
    """Price factor (spend line x financial year) relative to the price base year."""
    config = params.config
    base = fy_start_year(config.costs.price_base_year)
    years = np.array(params.calendar.financial_years)
    rates = config.costs.inflation.value
    return np.array([(1.0 + rates.get(line, 0.0)) ** (years - base) for line in SPEND_LINES])


def allocation_by_year(params: Parameters) -> np.ndarray:
    """High Needs Block allocation for each financial year, extended by the growth assumption."""
    finance = params.config.finance
    given = {fy_start_year(k): v for k, v in finance.hnb_allocation_gbp.value.items()}
    growth = finance.allocation_growth_after.value
    first, last = min(given), max(given)
    out = []
    for year in params.calendar.financial_years:
        if year in given:
            out.append(given[year])
        elif year > last:
            out.append(given[last] * (1 + growth) ** (year - last))
        else:
            out.append(given[first] / (1 + growth) ** (first - year))
    return np.array(out, dtype=float)


def _overlap(start: np.ndarray, end: np.ndarray, first: float, last: float) -> np.ndarray:
    return np.clip(np.minimum(end, last) - np.maximum(start, first), 0.0, None)


def annual_metrics(log: R.EventLog, params: Parameters) -> dict[str, np.ndarray]:
    """Every metric for every financial year of one replication (arrays in financial-year order)."""
    cal = params.calendar
    config = params.config
    fy = cal.fy_bounds()
    n_fy = len(fy)
    state = np.asarray(log.spell_state, dtype=np.int64)
    phase = np.asarray(log.spell_phase, dtype=np.int64)
    start = np.asarray(log.spell_start, dtype=float)
    end = np.asarray(log.spell_end, dtype=float)
    child = np.asarray(log.spell_child, dtype=np.int64)
    cohort = np.asarray(log.child_cohort, dtype=np.int64)
    need = np.asarray(log.child_need, dtype=np.int64)
    out: dict[str, np.ndarray] = {}

    # stocks at the January census
    n_states = max(R.STATE_NAMES) + 1
    counts = np.zeros((n_fy, n_states))
    band_counts = np.zeros((n_fy, len(AGE_BANDS)))
    need_counts = np.zeros((n_fy, len(NEEDS)))
    for i, (_, day) in enumerate(cal.census_days()):
        on_roll = (start <= day) & (end > day)
        counts[i] = np.bincount(state[on_roll], minlength=n_states)
        with_plan = on_roll & (state >= 10)
        age = (cal.academic_year_of(day) - cohort[child[with_plan]]) + 4
        for j, (_, low, high) in enumerate(AGE_BANDS):
            band_counts[i, j] = np.count_nonzero((age >= low) & (age <= high))
        need_counts[i] = np.bincount(need[child[with_plan]], minlength=len(NEEDS))
    for name, codes in STOCKS.items():
        out[name] = counts[:, list(codes)].sum(axis=1)
    for j, (name, _, _) in enumerate(AGE_BANDS):
        out[name] = band_counts[:, j]
    for j, need_name in enumerate(NEEDS):
        out[f"ehcp_need_{need_name.lower()}"] = need_counts[:, j]

    # flows
    ev_day = np.asarray(log.event_day, dtype=float)
    ev_code = np.asarray(log.event_code, dtype=np.int64)
    ev_value = np.asarray(log.event_value, dtype=float)
    fy_starts = np.array([first for _, first, _ in fy])
    fy_index = np.searchsorted(fy_starts, ev_day, side="right") - 1
    for name, codes in FLOWS.items():
        mask = np.isin(ev_code, codes)
        out[name] = np.bincount(fy_index[mask], minlength=n_fy)[:n_fy].astype(float)
    cy = cal.calendar_year_bounds()
    cy_starts = np.array([first for _, first, _ in cy])
    cy_index = np.searchsorted(cy_starts, ev_day, side="right") - 1
    for name in CALENDAR_YEAR_FLOWS:
        mask = np.isin(ev_code, FLOWS[name]) & (cy_index >= 0)
        counted = np.bincount(cy_index[mask], minlength=n_fy)[:n_fy].astype(float)
        complete = np.array([last - first >= 364 for _, first, last in cy])
        out[f"{name}_calendar_year"] = np.where(complete, counted, np.nan)

    deadline = config.assessment.deadline_weeks * 7
    plans = ev_code == R.EV_NEW_EHCP
    issued = np.bincount(fy_index[plans], minlength=n_fy)[:n_fy]
    on_time = np.bincount(fy_index[plans & (ev_value <= deadline)], minlength=n_fy)[:n_fy]
    weeks = np.bincount(fy_index[plans], weights=ev_value[plans] / 7, minlength=n_fy)[:n_fy]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pct_plans_within_20_weeks"] = np.where(issued > 0, 100.0 * on_time / np.maximum(issued, 1), np.nan)
        out["mean_weeks_request_to_plan"] = np.where(issued > 0, weeks / np.maximum(issued, 1), np.nan)
        for name, code in (("mean_weeks_waiting_for_assessment", R.EV_ASSESSMENT_START), ("mean_weeks_waiting_for_special_place", R.EV_SPECIAL_PLACE_WAIT_END)):
            mask = ev_code == code
            n = np.bincount(fy_index[mask], minlength=n_fy)[:n_fy]
            total = np.bincount(fy_index[mask], weights=ev_value[mask] / 7, minlength=n_fy)[:n_fy]
            out[name] = np.where(n > 0, total / np.maximum(n, 1), np.nan)

    out.update(_money(log, params, state, phase, start, end, out["ehcp_total"]))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pct_ehcp_in_mainstream"] = np.where(out["ehcp_total"] > 0, 100.0 * (out["ehcp_mainstream"] + out["ehcp_resourced"]) / np.maximum(out["ehcp_total"], 1), np.nan)
    return out


def _money(log: R.EventLog, params: Parameters, state: np.ndarray, phase: np.ndarray, start: np.ndarray, end: np.ndarray, ehcp_total: np.ndarray) -> dict[str, np.ndarray]:
    """Spend by line, by setting and by lever; allocation, balances and the cumulative deficit."""
    cal, config = params.calendar, params.config
    fy = cal.fy_bounds()
    n_fy = len(fy)
    out: dict[str, np.ndarray] = {}
    annual, line = unit_cost_tables(params)
    factors = inflation_factors(params)
    daily = annual[state, phase] / DAYS_PER_YEAR
    spell_line = line[state]
    spend = np.zeros((len(SPEND_LINES), n_fy))
    charged = spell_line >= 0
    keys = np.array([COST_KEY.get(code) or "" for code in range(max(R.STATE_NAMES) + 1)])
    setting_keys = sorted({k for k in COST_KEY.values() if k})
    setting_index = {k: i for i, k in enumerate(setting_keys)}
    spell_setting = np.array([setting_index.get(k, -1) for k in keys])[state]
    by_setting_spend = np.zeros((len(setting_keys), n_fy))
    by_setting_years = np.zeros((len(setting_keys), n_fy))
    placed = spell_setting >= 0
    for i, (_, first, last) in enumerate(fy):
        days = _overlap(start, end, first, last)
        spend[:, i] = np.bincount(spell_line[charged], weights=days[charged] * daily[charged], minlength=len(SPEND_LINES)) * factors[:, i]
        line_factor = np.where(spell_line >= 0, factors[np.maximum(spell_line, 0), i], 1.0)
        by_setting_spend[:, i] = np.bincount(spell_setting[placed], weights=(days * daily * line_factor)[placed], minlength=len(setting_keys))
        by_setting_years[:, i] = np.bincount(spell_setting[placed], weights=days[placed] / DAYS_PER_YEAR, minlength=len(setting_keys))
    for key, j in setting_index.items():
        out[f"placement_years_{key}"] = by_setting_years[j]
        out[f"spend_setting_{key}"] = by_setting_spend[j]
    special = SPEND_LINES.index("special")
    place_rate = config.costs.special_place_funding_gbp.value / DAYS_PER_YEAR
    schedules = log.pool_schedules or params.pool_schedules
    place_days = np.zeros(n_fy)
    for pool in SPECIAL_POOLS:
        schedule = schedules[pool] + [(cal.horizon, 0)]
        for (day, places), (next_day, _) in zip(schedule[:-1], schedule[1:]):
            for i, (_, first, last) in enumerate(fy):
                place_days[i] += places * max(min(next_day, last) - max(day, first), 0.0)
    spend[special] += place_days * place_rate * factors[special]
    out["spend_special_place_funding"] = place_days * place_rate * factors[special]
    other = SPEND_LINES.index("other")
    fy_days = np.array([last - first for _, first, last in fy])
    out["spend_central"] = config.costs.central_spend_gbp.value * fy_days / DAYS_PER_YEAR * factors[other]
    spend[other] += out["spend_central"]
    for j, name in enumerate(SPEND_LINES):
        out[f"spend_{name}"] = spend[j]
    # levers' own running costs: a separate line, inflated like central services
    levers_total = np.zeros(n_fy)
    for name, cost in lever_costs_by_year(config, cal).items():
        out[f"spend_lever_{name}"] = cost * factors[other]
        levers_total += out[f"spend_lever_{name}"]
    out["spend_levers"] = levers_total
    out["spend_total"] = spend.sum(axis=0) + levers_total
    transfers = np.asarray(log.allocation_transfers, dtype=float) if log.allocation_transfers else np.zeros(n_fy)
    out["allocation_transfers"] = transfers
    out["hnb_allocation"] = allocation_by_year(params) + transfers
    out["in_year_balance"] = out["hnb_allocation"] - out["spend_total"]
    out["cumulative_deficit"] = config.finance.opening_cumulative_deficit_gbp.value - np.cumsum(out["in_year_balance"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["cost_per_ehcp"] = np.where(ehcp_total > 0, out["spend_total"] / np.maximum(ehcp_total, 1), np.nan)
    out["special_places"] = np.array([sum(_capacity_on(schedules[p], day) for p in SPECIAL_POOLS) for _, day in cal.census_days()], dtype=float)
    return out


def _capacity_on(schedule: list[tuple[float, int]], day: float) -> int:
    places = schedule[0][1]
    for when, capacity in schedule:
        if when <= day:
            places = capacity
    return places
