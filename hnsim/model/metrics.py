"""Annual metrics from one replication's event log: census stocks, flows and High Needs money.

Stocks are counted at the January census inside each financial year, flows over the financial year
(April-March) and, with the suffix ``_calendar_year``, over the calendar year that the January
census opens (the SEN2 convention). Money is charged from spell lengths: a whole financial year in a
setting costs its annual cost, a part year pro rata by days in that financial year; unit costs can
change without re-simulating.
"""

from __future__ import annotations

import numpy as np

from hnsim.config.load import ConfigError
from hnsim.config.schema import NEEDS, PHASES, SPECIAL_POOLS, SPEND_LINES
from hnsim.model import records as R
from hnsim.model.calendar import PLAN_END_AGE, RECEPTION_AGE, fy_start_year
from hnsim.model.council import council_metrics
from hnsim.model.levers import lever_costs_by_year
from hnsim.model.parameters import Parameters

#: Census stock metric -> state codes counted.
STOCKS: dict[str, tuple[int, ...]] = {
    "ehcp_total": R.PLAN_STATES,
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
    "post16_requests": (R.EV_POST16_REQUEST,),
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
    "post16_requests",
)
#: SEN2's age bands of the caseload: (metric, lowest age, highest age), age on 31 August before the census.
AGE_BANDS = (("ehcp_age_under5", 0, 4), ("ehcp_age_5_10", 5, 10), ("ehcp_age_11_15", 11, 15), ("ehcp_age_16_19", 16, 19), ("ehcp_age_20_25", 20, PLAN_END_AGE))
#: The statutory deadline for a final plan, which SEN2's timeliness figure counts against.
STATUTORY_WEEKS = 20
#: New plans by age band (age on 31 August before the plan), SEN2's new plans by age; the 16-19 and
#: 20-25 bands together, as the model's new plans past 16 are few and both come from FE requests.
NEW_PLAN_AGE_BANDS = (("new_ehcps_age_under5", 0, 4), ("new_ehcps_age_5_10", 5, 10), ("new_ehcps_age_11_15", 11, 15), ("new_ehcps_age_16_25", 16, PLAN_END_AGE))

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

    A phase missing from a setting's costs takes the setting's 'all' value; with no 'all' it has no
    cost (NaN), and a child found in that setting in that phase is an error (see :func:`annual_metrics`).
    """
    costs = params.config.costs.settings
    n_states = max(R.STATE_NAMES) + 1
    annual = np.zeros((n_states, len(PHASES)))
    line = np.full(n_states, -1, dtype=int)
    for state, key in COST_KEY.items():
        if key is None or key not in costs:
            continue
        entry = costs[key]
        fallback = entry.annual_gbp.get("all", np.nan)
        for i, phase in enumerate(PHASES):
            annual[state, i] = entry.annual_gbp.get(phase, fallback)
        line[state] = SPEND_LINES.index(entry.line)
    return annual, line


def inflation_factors(params: Parameters) -> np.ndarray:
    """Price factor (spend line x financial year) relative to the price base year."""
    config = params.config
    base = fy_start_year(config.costs.price_base_year)
    years = np.array(params.calendar.financial_years)
    rates = config.costs.inflation.value
    return np.array([(1.0 + rates.get(line, 0.0)) ** (years - base) for line in SPEND_LINES])


def line_multipliers(params: Parameters) -> np.ndarray:
    """Multiplier on each spend line's placement costs (``costs.line_multiplier``; 1 where not given)."""
    given = params.config.costs.line_multiplier
    values = given.value if given is not None else {}
    return np.array([values.get(line, 1.0) for line in SPEND_LINES], dtype=float)


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


def year_shares(start: np.ndarray, end: np.ndarray, bounds: list[tuple[str, float, float]]) -> np.ndarray:
    """Share of each financial year (columns) that each interval (rows) covers: days inside / days in the year.

    A whole financial year in a setting is charged exactly its annual cost; a part year pro rata by
    the days of that financial year.
    """
    first = np.array([b[1] for b in bounds])
    last = np.array([b[2] for b in bounds])
    days = np.clip(np.minimum(end[:, None], last) - np.maximum(start[:, None], first), 0.0, None)
    return days / (last - first)


def year_share_pairs(start: np.ndarray, end: np.ndarray, bounds: list[tuple[str, float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`year_shares` of the financial years each interval touches only: (interval, year, share)
    triples, interval by interval, years in order (the other years' shares are 0).

    A year is touched if the interval starts before it ends and ends after it starts; each share is
    the same arithmetic as in :func:`year_shares`.
    """
    first = np.array([b[1] for b in bounds])
    last = np.array([b[2] for b in bounds])
    low = np.searchsorted(last, start, side="right")  # the first year ending after the start
    n = np.maximum(np.searchsorted(first, end, side="left") - low, 0)  # ... to the last starting before the end
    interval = np.repeat(np.arange(len(start)), n)
    year = np.arange(len(interval)) - np.repeat(np.cumsum(n) - n - low, n)
    days = np.clip(np.minimum(end[interval], last[year]) - np.maximum(start[interval], first[year]), 0.0, None)
    return interval, year, days / (last - first)[year]


def census_pairs(start: np.ndarray, end: np.ndarray, census: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(spell, census) index pairs of the spells open on each census day (``start <= day < end``),
    spell by spell, census days in order: ``np.nonzero`` of the spell x census table, without the table.

    ``census`` is increasing: a spell is open on the census days from the first on or after its start
    to the last before its end.
    """
    first = np.searchsorted(census, start, side="left")
    n = np.maximum(np.searchsorted(census, end, side="left") - first, 0)
    spell_idx = np.repeat(np.arange(len(start)), n)
    # each spell's census days run on from its first: position within the spell's run, plus its first
    runs = np.cumsum(n) - n
    census_idx = np.arange(len(spell_idx)) - np.repeat(runs - first, n)
    return spell_idx, census_idx


def annual_metrics(log: R.EventLog, params: Parameters) -> dict[str, np.ndarray]:
    """Every metric for every financial year of one replication (arrays in financial-year order).

    ``log`` is a finished log (:meth:`~hnsim.model.records.EventLog.finish`).
    """
    cal = params.calendar
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

    # stocks at the January census: the spells open on each census day
    n_states = max(R.STATE_NAMES) + 1
    census = np.array([day for _, day in cal.census_days()])
    spell_idx, census_idx = census_pairs(start, end, census)
    counts = np.bincount(census_idx * n_states + state[spell_idx], minlength=n_fy * n_states).reshape(n_fy, n_states)
    for name, codes in STOCKS.items():
        out[name] = counts[:, list(codes)].sum(axis=1).astype(float)
    with_plan = state[spell_idx] >= R.FIRST_PLAN_STATE
    spell_idx, census_idx = spell_idx[with_plan], census_idx[with_plan]
    academic = np.array([cal.academic_year_of(day) for day in census])
    age = academic[census_idx] - cohort[child[spell_idx]] + RECEPTION_AGE  # age on 31 August before the census
    for name, low, high in AGE_BANDS:
        out[name] = np.bincount(census_idx[(age >= low) & (age <= high)], minlength=n_fy).astype(float)
    need_counts = np.bincount(census_idx * len(NEEDS) + need[child[spell_idx]], minlength=n_fy * len(NEEDS)).reshape(n_fy, len(NEEDS))
    for j, need_name in enumerate(NEEDS):
        out[f"ehcp_need_{need_name.lower()}"] = need_counts[:, j].astype(float)

    # flows: events by code and financial year, and by calendar year
    ev_day = np.asarray(log.event_day, dtype=float)
    ev_code = np.asarray(log.event_code, dtype=np.int64)
    ev_value = np.asarray(log.event_value, dtype=float)
    n_codes = max(R.EVENT_NAMES) + 1
    fy_starts = np.array([first for _, first, _ in fy])
    fy_index = np.searchsorted(fy_starts, ev_day, side="right") - 1
    by_fy = np.bincount(fy_index * n_codes + ev_code, minlength=n_fy * n_codes).reshape(n_fy, n_codes)
    for name, codes in FLOWS.items():
        out[name] = by_fy[:, list(codes)].sum(axis=1).astype(float)
    cy = cal.calendar_year_bounds()
    cy_starts = np.array([first for _, first, _ in cy])
    cy_index = np.searchsorted(cy_starts, ev_day, side="right") - 1
    inside = cy_index >= 0
    by_cy = np.bincount(cy_index[inside] * n_codes + ev_code[inside], minlength=n_fy * n_codes).reshape(n_fy, n_codes)
    complete = np.array([last - first >= 364 for _, first, last in cy])
    for name in CALENDAR_YEAR_FLOWS:
        out[f"{name}_calendar_year"] = np.where(complete, by_cy[:, list(FLOWS[name])].sum(axis=1), np.nan)

    plans = ev_code == R.EV_NEW_EHCP
    plan_age = params.timeline.academic_years(ev_day[plans]) - cohort[np.asarray(log.event_child, dtype=np.int64)[plans]] + RECEPTION_AGE
    for name, low, high in NEW_PLAN_AGE_BANDS:
        band = (plan_age >= low) & (plan_age <= high)
        out[name] = np.bincount(fy_index[plans][band], minlength=n_fy).astype(float)
        in_cy = band & inside[plans]
        out[f"{name}_calendar_year"] = np.where(complete, np.bincount(cy_index[plans][in_cy], minlength=n_fy), np.nan)
    weeks_to_plan = ev_value[plans] / 7.0
    plan_fy = fy_index[plans]
    issued = np.bincount(plan_fy, minlength=n_fy)
    with np.errstate(invalid="ignore", divide="ignore"):
        # the statutory 20 weeks SEN2 reports against, and the config's own deadline
        out["pct_plans_within_20_weeks"] = np.where(issued > 0, 100.0 * np.bincount(plan_fy[weeks_to_plan <= STATUTORY_WEEKS], minlength=n_fy) / np.maximum(issued, 1), np.nan)
        deadline_weeks = params.assessment.deadline_days / 7.0
        out["pct_plans_within_deadline"] = np.where(issued > 0, 100.0 * np.bincount(plan_fy[weeks_to_plan <= deadline_weeks], minlength=n_fy) / np.maximum(issued, 1), np.nan)
        out["mean_weeks_request_to_plan"] = np.where(issued > 0, np.bincount(plan_fy, weights=weeks_to_plan, minlength=n_fy) / np.maximum(issued, 1), np.nan)
        for name, code in (("mean_weeks_waiting_for_assessment", R.EV_ASSESSMENT_START), ("mean_weeks_waiting_for_special_place", R.EV_SPECIAL_PLACE_WAIT_END)):
            mask = ev_code == code
            n = np.bincount(fy_index[mask], minlength=n_fy)
            total = np.bincount(fy_index[mask], weights=ev_value[mask] / 7, minlength=n_fy)
            out[name] = np.where(n > 0, total / np.maximum(n, 1), np.nan)

    out.update(_money(log, params, state, phase, start, end, out["ehcp_total"]))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pct_ehcp_in_mainstream"] = np.where(out["ehcp_total"] > 0, 100.0 * (out["ehcp_mainstream"] + out["ehcp_resourced"]) / np.maximum(out["ehcp_total"], 1), np.nan)
    if params.status_quo is not None:  # only with the section, so configs without it keep their tables
        out.update(council_metrics(params, ev_day, ev_code, ev_value, fy_index))
    return out


def _money(log: R.EventLog, params: Parameters, state: np.ndarray, phase: np.ndarray, start: np.ndarray, end: np.ndarray, ehcp_total: np.ndarray) -> dict[str, np.ndarray]:
    """Spend by line, by setting and by lever; allocation, balances and the cumulative deficit."""
    cal, config = params.calendar, params.config
    fy = cal.fy_bounds()
    n_fy = len(fy)
    out: dict[str, np.ndarray] = {}
    annual, line = unit_cost_tables(params)
    # placement costs carry the fitted line multipliers; place funding and central spend do not
    factors = inflation_factors(params)
    placement_factors = factors * line_multipliers(params)[:, None]
    costed = line[state] >= 0
    cost = annual[state[costed], phase[costed]]
    if np.isnan(cost).any():
        missing = sorted({(COST_KEY[s], PHASES[p]) for s, p in zip(state[costed][np.isnan(cost)].tolist(), phase[costed][np.isnan(cost)].tolist())})
        raise ConfigError([f"costs.settings.{key}.annual_gbp: no cost for phase {ph}, where children were placed; give {ph} or 'all' (a default for every phase)" for key, ph in missing])
    # (costed spell, financial year) pairs of the years each spell touches, spell by spell
    spell, year, shares = year_share_pairs(start[costed], end[costed], fy)
    spell_line = line[state[costed]][spell]
    # spend at the price base by (line, year), then inflated by line; every sum below adds its
    # spells in order, as the sums over a spell x year table did (the years a spell does not touch
    # added nothing there)
    costs = shares * cost[spell]
    n_lines = len(SPEND_LINES)
    base_spend = np.bincount(spell_line * n_fy + year, weights=costs, minlength=n_lines * n_fy).reshape(n_lines, n_fy)
    spend = base_spend * placement_factors
    setting_keys = sorted({k for k in COST_KEY.values() if k})
    setting_index = {k: i for i, k in enumerate(setting_keys)}
    state_setting = np.array([setting_index.get(COST_KEY.get(code) or "", -1) for code in range(max(R.STATE_NAMES) + 1)])
    spell_setting = state_setting[state[costed]][spell]
    inflated = costs * placement_factors[spell_line, year]
    topups = SPEND_LINES.index("mainstream_topups")
    primary = (spell_line == topups) & (phase[costed][spell] == PHASES.index("primary"))
    out["spend_mainstream_topups_primary"] = np.bincount(year[primary], weights=inflated[primary], minlength=n_fy)
    settled = spell_setting >= 0
    cell = spell_setting[settled] * n_fy + year[settled]
    n_cells = len(setting_keys) * n_fy
    years_by_setting = np.bincount(cell, weights=shares[settled], minlength=n_cells).reshape(len(setting_keys), n_fy)
    spend_by_setting = np.bincount(cell, weights=inflated[settled], minlength=n_cells).reshape(len(setting_keys), n_fy)
    for key, j in setting_index.items():
        out[f"placement_years_{key}"] = years_by_setting[j]
        out[f"spend_setting_{key}"] = spend_by_setting[j]
    special = SPEND_LINES.index("special")
    schedules = log.pool_schedules or params.pool_schedules
    place_years = np.zeros(n_fy)  # commissioned places x share of the year
    for pool in SPECIAL_POOLS:
        schedule = list(schedules[pool]) + [(cal.horizon, 0)]
        for (day, places), (next_day, _) in zip(schedule[:-1], schedule[1:]):
            place_years += places * year_shares(np.array([day]), np.array([next_day]), fy)[0]
    out["spend_special_place_funding"] = place_years * config.costs.special_place_funding_gbp.value * factors[special]
    spend[special] += out["spend_special_place_funding"]
    other = SPEND_LINES.index("other")
    out["spend_central"] = config.costs.central_spend_gbp.value * factors[other]
    spend[other] += out["spend_central"]
    for j, name in enumerate(SPEND_LINES):
        out[f"spend_{name}"] = spend[j]
    # levers' own running costs: a separate line, inflated like central services
    levers_total = np.zeros(n_fy)
    for name, cost_by_year in lever_costs_by_year(config, cal).items():
        out[f"spend_lever_{name}"] = cost_by_year * factors[other]
        levers_total += out[f"spend_lever_{name}"]
    out["spend_levers"] = levers_total
    out["spend_total"] = spend.sum(axis=0) + levers_total
    transfers = np.asarray(log.allocation_transfers, dtype=float) if len(log.allocation_transfers) else np.zeros(n_fy)
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
