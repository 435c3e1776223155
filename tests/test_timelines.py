"""Exact event timelines: one child, probabilities 0 or 1, fixed durations.

Every expected day is derived from the child's logged birth day and the calendar (1 September
transfers of reception + 7, + 12 and + 15 years), not from the model's own helpers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from hnsim.config import validate
from hnsim.model import annual_metrics, compile_parameters, simulate
from hnsim.model import records as R

from tiny_configs import quiet_data, sourced

START = dt.date(2014, 4, 1)
DECISION, ASSESSMENT, DRAFTING = 42, 70, 28  # the fixed durations of quiet_data


def day(date: dt.date) -> float:
    return float((date - START).days)


def reception_year(birth_day: float) -> int:
    """Calendar year of the September a child starts reception: the academic year of birth + 5."""
    born = START + dt.timedelta(days=int(np.floor(birth_day)))
    return (born.year if born.month >= 9 else born.year - 1) + 5


def one_child_data(**changes) -> dict:
    """One five-year-old on SEN support who requests at once; a plan, mainstream, special at year 7."""
    data = quiet_data(end_date="2029-03-31")
    data["initial_population"]["sen_support_by_age"] = sourced({5: 1})
    data["sen_support"]["request_rate"] = sourced({"primary": 1e6})  # a request within a minute or so
    data["assessment"]["team_capacity"] = sourced(1)
    data["placement"]["transfer"]["mainstream_to_special_probability"] = sourced({"secondary": 1.0})
    data["placement"]["transfer"]["post19_continue_probability"] = sourced(0.0)
    data["capacity"]["places"]["value"].update(special_secondary=1, special_post16=1)
    for key, value in changes.items():
        section, name = key.split("__")
        data[section][name] = value
    return data


def child_log(data: dict, replication: int):
    config = validate(data, "one-child test config")
    params = compile_parameters(config)
    log = simulate(config, replication, 7, params)
    assert len(log.child_birth_day) == 1
    spells = sorted((s, st, ph, e) for c, st, ph, s, e in zip(log.spell_child, log.spell_state, log.spell_phase, log.spell_start, log.spell_end) if c == 0)
    events = [(d, code, v) for d, code, v, c in zip(log.event_day, log.event_code, log.event_value, log.event_child) if c == 0]
    return config, params, log, spells, events


@pytest.mark.parametrize("replication", [0, 1, 2, 3])
def test_one_child_from_request_to_ceasing_at_19(replication):
    _, params, log, spells, events = child_log(one_child_data(), replication)
    cohort = reception_year(log.child_birth_day[0])
    year7, year12, age19 = (day(dt.date(cohort + k, 9, 1)) for k in (7, 12, 15))
    request = events[0][0]
    assert events[0][1] == R.EV_REQUEST and 0 < request < 0.05
    plan = request + DECISION + ASSESSMENT + DRAFTING
    assert events == [
        (request, R.EV_REQUEST, 0.0),
        (pytest.approx(request + DECISION), R.EV_ASSESSMENT_START, 0.0),  # the team of one is free
        (pytest.approx(plan), R.EV_NEW_EHCP, pytest.approx(plan - request)),
        (year7, R.EV_MAINSTREAM_TO_SPECIAL, 0.0),
        (age19, R.EV_CEASED_LEFT_EDUCATION, 0.0),
    ]
    assert spells == [
        (0.0, R.SEN_SUPPORT, R.PHASE_PRIMARY, pytest.approx(plan)),
        (pytest.approx(plan), R.EHCP_MAINSTREAM, R.PHASE_PRIMARY, year7),
        (year7, R.EHCP_SPECIAL, R.PHASE_SECONDARY, year12),
        (year12, R.EHCP_SPECIAL, R.PHASE_POST16, age19),
    ]
    # the metrics read the same story: stocks at each census, flows in each financial year
    metrics = annual_metrics(log, params)
    census = np.array([d for _, d in params.calendar.census_days()])
    assert np.array_equal(metrics["ehcp_mainstream"], ((census >= plan) & (census < year7)).astype(float))
    assert np.array_equal(metrics["ehcp_special"], ((census >= year7) & (census < age19)).astype(float))
    assert np.array_equal(metrics["sen_support_total"], (census < plan).astype(float))
    fy_first = np.array([first for _, first, _ in params.calendar.fy_bounds()])
    in_year = lambda d: (fy_first <= d) & (np.append(fy_first[1:], np.inf) > d)  # noqa: E731
    assert np.array_equal(metrics["new_ehcps"], in_year(plan).astype(float))
    assert np.array_equal(metrics["mainstream_to_special_moves"], in_year(year7).astype(float))
    assert np.array_equal(metrics["ehcps_ceased_left_education"], in_year(age19).astype(float))
    # age at the January census from the birth date (age on the previous 31 August, as SEN2 counts it)
    born = START + dt.timedelta(days=int(np.floor(log.child_birth_day[0])))
    for i, (_, census_day) in enumerate(params.calendar.census_days()):
        if not plan <= census_day < age19:
            continue
        august = dt.date(START.year + i, 8, 31)
        age = august.year - born.year - ((august.month, august.day) < (born.month, born.day))
        band = next(name for name, low, high in (("under5", 0, 4), ("5_10", 5, 10), ("11_15", 11, 15), ("16_19", 16, 19), ("20_25", 20, 99)) if low <= age <= high)
        assert metrics[f"ehcp_age_{band}"][i] == 1.0, (i, age)


def test_a_busy_team_delays_the_second_child_by_the_first_ones_assessment():
    data = one_child_data()
    data["initial_population"]["sen_support_by_age"] = sourced({5: 2})
    config = validate(data)
    log = simulate(config, 0, 7)
    starts = sorted((d, v) for d, code, v in zip(log.event_day, log.event_code, log.event_value) if code == R.EV_ASSESSMENT_START)
    requests = sorted(d for d, code in zip(log.event_day, log.event_code) if code == R.EV_REQUEST)
    assert starts[0] == (pytest.approx(requests[0] + DECISION), 0.0)
    # the second waits until the first one's 70 days of assessment are done
    assert starts[1][0] == pytest.approx(requests[0] + DECISION + ASSESSMENT)
    assert starts[1][1] == pytest.approx(requests[0] + ASSESSMENT - requests[1])


def test_a_child_who_cannot_get_a_special_place_goes_independent():
    data = one_child_data()
    data["capacity"]["places"]["value"]["special_secondary"] = 0
    _, _, log, spells, events = child_log(data, 0)
    cohort = reception_year(log.child_birth_day[0])
    year7 = day(dt.date(cohort + 7, 9, 1))
    assert (year7, R.EV_INDEPENDENT_PLACEMENT, 0.0) in events and (year7, R.EV_MAINSTREAM_TO_SPECIAL, 0.0) in events
    assert [(s, st) for s, st, _, _ in spells if s >= year7][0] == (year7, R.EHCP_INDEPENDENT)


def test_a_wait_that_ends_at_the_next_transfer_is_logged():
    data = one_child_data()
    data["capacity"]["places"]["value"]["special_secondary"] = 0
    data["placement"]["when_special_full"] = {"independent_probability": sourced(0.0)}  # wait in mainstream
    _, _, log, spells, events = child_log(data, 0)
    cohort = reception_year(log.child_birth_day[0])
    year7, year12 = (day(dt.date(cohort + k, 9, 1)) for k in (7, 12))
    assert (year7, R.EHCP_MAINSTREAM_WAITING, R.PHASE_SECONDARY, year12) in spells
    assert (year12, R.EV_SPECIAL_PLACE_WAIT_END, year12 - year7) in events


def test_the_caseload_at_the_start_is_not_a_flow_of_new_placements():
    data = quiet_data(end_date="2015-03-31")
    data["initial_population"]["ehcp_by_age_band"] = sourced({"5-10": 40})
    data["initial_population"]["ehcp_setting_shares"] = sourced({"primary": {"special": 1.0}})
    data["capacity"]["places"]["value"].update(special_primary=10, special_secondary=1000)  # year 6 moves up in September
    config = validate(data)
    params = compile_parameters(config)
    metrics = annual_metrics(simulate(config, 0, 3, params), params)
    assert metrics["new_independent_placements"][0] == 0


@pytest.mark.parametrize("replication", [0, 1])
def test_a_phase_change_during_an_assessment_falls_on_1_september(replication):
    data = quiet_data(end_date="2021-03-31")
    data["initial_population"]["sen_support_by_age"] = sourced({10: 1})  # year 5 or 6
    data["sen_support"]["request_rate"] = sourced({"primary": 1e6})
    data["assessment"]["decision_days"] = {"dist": "fixed", "value": 600, "source": "test"}  # past the next 1 September
    data["assessment"]["refusal_probability"] = sourced(1.0)
    _, _, log, spells, _ = child_log(data, replication)
    cohort = reception_year(log.child_birth_day[0])
    year7, year12 = (day(dt.date(cohort + k, 9, 1)) for k in (7, 12))
    assert spells == [(0.0, R.SEN_SUPPORT, R.PHASE_PRIMARY, year7), (year7, R.SEN_SUPPORT, R.PHASE_SECONDARY, year12)]


def test_an_semh_child_waiting_takes_an_semh_place_when_one_opens():
    data = one_child_data()
    data["identification"]["need_shares"] = sourced({phase: {"SEMH": 1.0} for phase in ("early_years", "primary", "secondary", "post16", "post19")})
    data["capacity"]["places"]["value"].update(special_secondary=0, semh_secondary=0)
    data["placement"]["when_special_full"] = {"independent_probability": sourced(0.0)}
    _, _, log, _, _ = child_log(data, 0)
    cohort = reception_year(log.child_birth_day[0])
    opening = dt.date(cohort + 8, 1, 4)
    data["capacity"]["expansions"] = [{"date": opening.isoformat(), "pool": "semh_secondary", "places": 1, "source": "test"}]
    _, _, _, spells, events = child_log(data, 0)
    assert (day(opening), R.EHCP_SEMH_SPECIAL) in [(s, st) for s, st, _, _ in spells]


def test_one_child_is_charged_by_hand():
    """£6,000 a year in a primary mainstream school, £22,000 in a secondary special school, £30,000
    in a post-16 special one: a full financial year costs exactly that, a part year its share of
    the days of that financial year."""
    data = one_child_data()
    by_phase = lambda *costs: dict(zip(("early_years", "primary", "secondary", "post16", "post19"), costs))  # noqa: E731
    data["costs"].update(
        price_base_year="2014-15",
        settings={
            "mainstream": {"line": "mainstream_topups", "annual_gbp": by_phase(0, 6000, 0, 0, 0), "source": "test"},
            "special": {"line": "special", "annual_gbp": by_phase(0, 0, 22000, 30000, 0), "source": "test"},
        },
        special_place_funding_gbp=sourced(0),
        central_spend_gbp=sourced(0),
        inflation=sourced({}),
    )
    config, params, log, spells, events = child_log(data, 0)
    cohort = reception_year(log.child_birth_day[0])
    plan = events[2][0]
    segments = [(plan, day(dt.date(cohort + 7, 9, 1)), 6000), (day(dt.date(cohort + 7, 9, 1)), day(dt.date(cohort + 12, 9, 1)), 22000),
                (day(dt.date(cohort + 12, 9, 1)), day(dt.date(cohort + 15, 9, 1)), 30000)]
    metrics = annual_metrics(log, params)
    for i, year in enumerate(range(2014, 2029)):
        first, last = day(dt.date(year, 4, 1)), day(dt.date(year + 1, 4, 1))
        expected = sum(cost * max(min(end, last) - max(begin, first), 0) / (last - first) for begin, end, cost in segments)
        assert metrics["spend_total"][i] == pytest.approx(expected, rel=1e-12, abs=1e-6), year
    full_years = [i for i, year in enumerate(range(2014, 2029)) if day(dt.date(year, 4, 1)) >= plan and day(dt.date(year + 1, 4, 1)) <= segments[0][1]]
    assert full_years and all(metrics["spend_mainstream_topups"][i] == 6000 for i in full_years)
