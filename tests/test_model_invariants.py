"""Invariants of the simulation: children conserved, capacities respected, money non-negative."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from hnsim.config.schema import PHASES
from hnsim.model import annual_metrics, compile_parameters, simulate
from hnsim.model import records as R

from conftest import small_config

ENTRIES = (R.EV_NEW_EHCP, R.EV_MOVED_IN, R.EV_POST16_CONVERSION)
EXITS = (R.EV_CEASED_NEEDS_MET, R.EV_CEASED_MOVED_AWAY, R.EV_CEASED_LEFT_EDUCATION, R.EV_CEASED_AGE_25)


@pytest.fixture(scope="module")
def run():
    config = small_config(scale=0.15, end_date="2020-03-31")
    params = compile_parameters(config)
    log = simulate(config, replication=0, seed=11, params=params)
    spells = pd.DataFrame(
        {"child": log.spell_child, "state": log.spell_state, "phase": log.spell_phase, "start": log.spell_start, "end": log.spell_end}
    )
    events = pd.DataFrame({"day": log.event_day, "code": log.event_code, "child": log.event_child, "value": log.event_value})
    return config, params, log, spells, events


def stock(spells: pd.DataFrame, day: float, with_plan: bool) -> int:
    on = (spells.start <= day) & (spells.end > day)
    return int((on & ((spells.state >= 10) == with_plan)).sum())


def test_spells_are_well_formed_and_chain_without_gaps(run):
    _, params, _, spells, _ = run
    assert (spells.end >= spells.start).all()
    assert spells.start.min() >= 0 and spells.end.max() <= params.calendar.horizon
    ordered = spells.sort_values(["child", "start", "end"], kind="stable")
    same_child = ordered.child.to_numpy()[1:] == ordered.child.to_numpy()[:-1]
    gaps = ordered.start.to_numpy()[1:] - ordered.end.to_numpy()[:-1]
    assert np.allclose(gaps[same_child], 0.0)


def test_children_with_plans_are_conserved_between_censuses(run):
    _, params, _, spells, events = run
    days = [day for _, day in params.calendar.census_days()]
    for before, after in zip(days[:-1], days[1:]):
        window = events[(events.day > before) & (events.day <= after)]
        entries = window.code.isin(ENTRIES).sum()
        exits = window.code.isin(EXITS).sum()
        assert stock(spells, after, True) - stock(spells, before, True) == entries - exits


def test_every_child_leaves_once_or_is_present_at_the_end(run):
    _, params, _, spells, events = run
    exit_codes = EXITS + (R.EV_NO_PLAN_EXIT,)
    exits = events[events.code.isin(exit_codes)]
    assert not exits.child.duplicated().any()
    last_end = spells.groupby("child").end.max()
    # a young person in FE who asks for an assessment and is refused leaves without ever holding a spell
    asked_only = set(events[events.code == R.EV_POST16_REQUEST].child) - set(spells.child)
    left = set(exits.child) - asked_only
    still_there = set(last_end[last_end == params.calendar.horizon].index)
    assert left.isdisjoint(still_there)
    assert left | still_there == set(spells.child)


def test_special_places_never_exceed_capacity(run):
    _, params, _, spells, _ = run
    pools = {
        "special_primary": (spells.state == R.EHCP_SPECIAL) & (spells.phase <= PHASES.index("primary")),
        "special_secondary": (spells.state == R.EHCP_SPECIAL) & (spells.phase == PHASES.index("secondary")),
        "special_post16": (spells.state == R.EHCP_SPECIAL) & (spells.phase >= PHASES.index("post16")),
        "semh_secondary": spells.state == R.EHCP_SEMH_SPECIAL,
    }
    for day in np.arange(0.0, params.calendar.horizon, 7.0):
        on = (spells.start <= day) & (spells.end > day)
        for pool, members in pools.items():
            schedule = params.pool_schedules[pool]
            capacity = [c for d, c in schedule if d <= day][-1]
            assert int((on & members).sum()) <= capacity, (pool, day)


def test_money_is_never_negative(run):
    _, params, log, _, _ = run
    metrics = annual_metrics(log, params)
    for name in [k for k in metrics if k.startswith(("spend_", "placement_years_"))] + ["hnb_allocation"]:
        assert (metrics[name] >= 0).all(), name


def test_census_stocks_and_age_bands_recounted_from_the_spells(run):
    """Each stock counted again at 17 January from the spells, and each child's age band from its
    birth date (age on the 31 August before the census, as SEN2 counts it)."""
    config, params, log, spells, _ = run
    metrics = annual_metrics(log, params)
    start = config.simulation.start_date
    groups = {
        "ehcp_mainstream": ("mainstream", "mainstream_waiting"),
        "ehcp_special": ("special", "semh_special"),
        "ehcp_independent": ("independent",),
        "ehcp_post16": ("post16_fe", "post16_specialist"),
        "ehcp_other": ("ehe", "early_years", "other", "bespoke"),
        "sen_support_total": ("sen_support", "sen_support_enhanced"),
        "ap_pupils": ("ap_no_plan", "ap"),
        "waiting_for_special_place": ("mainstream_waiting",),
    }
    no_plan = {"early_intervention", "sen_support", "sen_support_enhanced", "ap_no_plan", "ehe_no_plan"}
    names = spells.state.map(R.STATE_NAMES)
    births = [start + dt.timedelta(days=int(np.floor(b))) for b in log.child_birth_day]
    bands = (("under5", 0, 4), ("5_10", 5, 10), ("11_15", 11, 15), ("16_19", 16, 19), ("20_25", 20, 99))
    for i, year in enumerate(range(start.year, config.simulation.end_date.year)):
        census = float((dt.date(year + 1, 1, 17) - start).days)
        on = (spells.start <= census) & (spells.end > census)
        for metric, states in groups.items():
            assert metrics[metric][i] == (on & names.isin(states)).sum(), (metric, year)
        with_plan = spells[on & ~names.isin(no_plan)]
        assert metrics["ehcp_total"][i] == len(with_plan) > 100
        august = dt.date(year, 8, 31)
        ages = [august.year - births[c].year - ((8, 31) < (births[c].month, births[c].day)) for c in with_plan.child]
        for band, low, high in bands:
            assert metrics[f"ehcp_age_{band}"][i] == sum(low <= a <= high for a in ages), (band, year)


def test_new_plans_by_age_band_recounted_from_each_childs_birth_date(run):
    """New plans by age band (age on the 31 August before the plan, as SEN2's new plans by age)
    counted again from the events and birth dates, and the bands adding up to every new plan."""
    config, params, log, _, events = run
    metrics = annual_metrics(log, params)
    start = config.simulation.start_date
    births = [start + dt.timedelta(days=int(np.floor(b))) for b in log.child_birth_day]
    plans = events[events.code == R.EV_NEW_EHCP]
    bands = (("under5", 0, 4), ("5_10", 5, 10), ("11_15", 11, 15), ("16_25", 16, 99))
    for year in range(start.year + 1, config.simulation.end_date.year):
        first, last = (dt.date(year, 1, 1) - start).days, (dt.date(year + 1, 1, 1) - start).days
        in_year = plans[(plans.day >= first) & (plans.day < last)]
        ages = []
        for day, c in zip(in_year.day, in_year.child):
            on = start + dt.timedelta(days=int(np.floor(day)))
            august = dt.date(on.year if (on.month, on.day) > (8, 31) else on.year - 1, 8, 31)
            ages.append(august.year - births[c].year - ((8, 31) < (births[c].month, births[c].day)))
        i = year - 1 - start.year  # calendar year Y is reported against financial year (Y-1)-YY
        assert sum(metrics[f"new_ehcps_age_{band}_calendar_year"][i] for band, _, _ in bands) == metrics["new_ehcps_calendar_year"][i] == len(in_year) > 0
        for band, low, high in bands:
            assert metrics[f"new_ehcps_age_{band}_calendar_year"][i] == sum(low <= a <= high for a in ages), (band, year)


def test_plans_within_20_weeks_recomputed_from_each_childs_request(run):
    _, params, log, _, events = run
    metrics = annual_metrics(log, params)
    events = events.sort_values("day", kind="stable")
    last_request: dict[int, float] = {}
    plans = []  # (plan day, days since the request that led to it)
    for day, code, child, value in zip(events.day, events.code, events.child, events.value):
        if code == R.EV_REQUEST:
            last_request[child] = day
        elif code == R.EV_NEW_EHCP:
            assert value == pytest.approx(day - last_request[child])
            plans.append((day, day - last_request[child]))
    plans = np.array(plans)
    assert len(plans) > 100 and 0 < (plans[:, 1] <= 140).mean() < 1
    for i, (_, first, last) in enumerate(params.calendar.fy_bounds()):
        in_year = plans[(plans[:, 0] >= first) & (plans[:, 0] < last)]
        assert metrics["new_ehcps"][i] == len(in_year)
        if len(in_year):
            assert metrics["pct_plans_within_20_weeks"][i] == pytest.approx(100 * (in_year[:, 1] <= 20 * 7).mean())
            assert metrics["mean_weeks_request_to_plan"][i] == pytest.approx(in_year[:, 1].mean() / 7)


def test_a_tiny_assessment_team_makes_children_wait():
    quick = small_config(scale=0.15)
    data = quick.model_dump(mode="json")
    data["assessment"]["team_capacity"]["value"] = 1
    from hnsim.config import validate

    slow = validate(data)
    metrics = {}
    for name, config in (("quick", quick), ("slow", slow)):
        params = compile_parameters(config)
        metrics[name] = annual_metrics(simulate(config, 0, 5, params), params)
    assert np.nanmean(metrics["slow"]["pct_plans_within_20_weeks"]) < np.nanmean(metrics["quick"]["pct_plans_within_20_weeks"]) - 20
    assert np.nanmean(metrics["slow"]["mean_weeks_waiting_for_assessment"]) > 4
