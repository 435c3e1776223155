"""Trends: damped growth clocks, the request transition, odds trends by financial year, their config
errors, requests from further education, and a config without ``trends`` unchanged."""

from __future__ import annotations

import copy
import datetime as dt
import math

import numpy as np
import pytest

from hnsim.config import validate
from hnsim.config.load import ConfigError
from hnsim.model import compile_parameters
from hnsim.model import records as R
from hnsim.model.calendar import DAYS_PER_YEAR
from hnsim.model.hazard import damped_trend_clock, damped_years, linear_clock
from hnsim.model.metrics import annual_metrics
from hnsim.model.pathway import PathwayModel

from conftest import scaled_data

Y = DAYS_PER_YEAR
A = "assumption: test"


def sourced(value):
    return {"value": value, "source": A}


def trends_data(data: dict, **sections) -> dict:
    """``data`` with a ``trends`` section (data end 2019-12-31, damping 0.8) and the sen_support request steps removed."""
    data = copy.deepcopy(data)
    data["sen_support"].pop("request_trend", None)
    data["sen_support"].pop("request_multiplier_by_year", None)
    data["trends"] = {"data_end": "2019-12-31", "damping": sourced(0.8), **sections}
    return data


def growth(g: float, from_date: str = "2015-04-01") -> dict:
    return {"growth_per_year": sourced(g), "from_date": from_date}


# ---------------------------------------------------------------- the formula
def test_damped_years_by_hand():
    t0, end = 0.0, 2 * Y
    assert damped_years(-10.0, t0, end, 0.5) == 0.0
    assert damped_years(Y, t0, end, 0.5) == pytest.approx(1.0)
    assert damped_years(2 * Y, t0, end, 0.5) == pytest.approx(2.0)
    # a year after the data end: 2 + (1 - 0.5^1) / ln 2
    assert damped_years(3 * Y, t0, end, 0.5) == pytest.approx(2 + 0.5 / math.log(2))
    assert damped_years(50 * Y, t0, end, 0.5) == pytest.approx(2 + 1 / math.log(2), rel=1e-9)  # the plateau
    assert damped_years(3 * Y, t0, end, 1.0) == pytest.approx(3.0)  # undamped
    assert damped_years(3 * Y, t0, end, 0.0) == pytest.approx(2.0)  # flat after the data end
    # a trend starting a year after the data end starts damped: (0.5^1 - 0.5^2) / ln 2 a year later
    assert damped_years(4 * Y, 3 * Y, end, 0.5) == pytest.approx(0.25 / math.log(2))


def test_damped_clock_follows_the_formula_month_by_month():
    clock = damped_trend_clock(0.0, 12 * Y, 0.1, 0.0, 2 * Y, 0.5)
    for t in (0.5 * Y, 1.7 * Y, 3.2 * Y, 6.0 * Y):
        assert clock.multiplier(t) == pytest.approx(1.1 ** damped_years(t, 0.0, 2 * Y, 0.5), rel=0.005)  # monthly steps
    assert clock.multiplier(11.9 * Y) == pytest.approx(1.1 ** (2 + 1 / math.log(2)), rel=1e-3)
    undamped = damped_trend_clock(0.0, 12 * Y, 0.1, 0.0, 2 * Y, 1.0)
    assert undamped.multiplier(9.0 * Y) == pytest.approx(1.1**9, rel=0.005)
    flat = damped_trend_clock(0.0, 12 * Y, 0.1, 0.0, 2 * Y, 0.0)
    assert flat.multiplier(3.0 * Y) == flat.multiplier(11.0 * Y) == pytest.approx(1.1**2, rel=1e-9)


def test_transition_moves_linearly_to_one():
    clock = linear_clock(0.0, 2 * Y, 0.4)
    assert clock.multiplier(0.0) == pytest.approx(0.4 + 0.6 / 48)  # the first month takes its midpoint
    assert clock.multiplier(Y + 1) == pytest.approx(0.7 + 0.6 / 48)
    assert clock.multiplier(2 * Y) == clock.multiplier(5 * Y) == 1.0


def test_compiled_request_clock_is_trend_times_transition():
    data = trends_data(scaled_data(0.1, "2030-03-31", legacy=True), requests=growth(0.1, "2014-04-01"),
                       request_transition={"start_multiplier": sourced(0.5), "until_date": "2016-04-01"})
    params = compile_parameters(validate(data, "trends"))
    cal = params.calendar
    clock = params.clock("sen_support.request", R.PHASE_SECONDARY)
    t = cal.day(dt.date(2015, 4, 1)) + 15
    expected = 1.1 ** damped_years(t, 0.0, cal.day(dt.date(2019, 12, 31)), 0.8) * (0.5 + 0.5 * t / cal.day(dt.date(2016, 4, 1)))
    assert clock.multiplier(t) == pytest.approx(expected, rel=0.01)
    assert params.clock("sen_support.request", R.PHASE_PRIMARY) is clock  # all phases


def test_odds_trend_by_financial_year():
    data = trends_data(scaled_data(0.1, "2030-03-31", legacy=True), post19_continue=growth(0.5), special_first_setting=growth(0.2))
    params = compile_parameters(validate(data, "trends"))
    p0 = data["placement"]["transfer"]["post19_continue_probability"]["value"]
    by_fy = params.placement.post19_continue_by_fy
    assert by_fy[0] == p0  # 2014-15: before the trend starts
    # 2016-17: the middle of the year is day (731 + 1096) / 2, 548.5 days after 1 April 2015 (day 365)
    odds = p0 / (1 - p0) * 1.5 ** ((913.5 - 365) / Y)
    assert by_fy[2] == pytest.approx(odds / (1 + odds), rel=1e-12)
    # 2025-26: damped after 31 December 2019 (day 2100)
    mid = (params.calendar.day(dt.date(2025, 4, 1)) + params.calendar.day(dt.date(2026, 4, 1))) / 2
    years = (2100 - 365) / Y + (1 - 0.8 ** ((mid - 2100) / Y)) / -math.log(0.8)
    odds = p0 / (1 - p0) * 1.5**years
    assert by_fy[11] == pytest.approx(odds / (1 + odds), rel=1e-12)
    # special schools' odds in new plans rise year by year; the other settings keep their proportions
    special = [(t[(R.PHASE_PRIMARY, 4)][2] - t[(R.PHASE_PRIMARY, 4)][1]) for t in params.placement.first_setting_by_fy]
    base = data["placement"]["first_setting_shares"]["value"]["primary"]["special"]  # need 'other': odds multiplier 1
    assert special[0] == pytest.approx(base, rel=1e-12)  # 2014-15: before the trend starts
    assert special[0] < special[1] < special[2] < special[5] < special[15]
    odds = base / (1 - base) * 1.2 ** ((913.5 - 365) / Y)
    assert special[2] == pytest.approx(odds / (1 + odds), rel=1e-9)


# ---------------------------------------------------------------- config errors
@pytest.mark.parametrize("old", ["request_trend", "request_multiplier_by_year"])
def test_old_and_new_request_keys_refused_together(old):
    data = trends_data(scaled_data(legacy=True), requests=growth(0.1))
    data["sen_support"][old] = copy.deepcopy(scaled_data(legacy=True)["sen_support"][old])
    with pytest.raises(ConfigError) as caught:
        validate(data, "both")
    assert "trends.requests" in str(caught.value) and f"sen_support.{old}" in str(caught.value)


@pytest.mark.parametrize("damping", [-0.1, 1.5])
def test_damping_out_of_range(damping):
    data = trends_data(scaled_data(legacy=True))
    data["trends"]["damping"]["value"] = damping
    with pytest.raises(ConfigError, match=r"trends\.damping\.value"):
        validate(data, "damping")


def test_data_end_before_start():
    data = trends_data(scaled_data(legacy=True))
    data["trends"]["data_end"] = "2013-12-31"
    with pytest.raises(ConfigError, match=r"trends\.data_end .* before simulation\.start_date"):
        validate(data, "data end")


# ---------------------------------------------------------------- requests from further education
def fe_run(per_year: float | None):
    data = scaled_data(0.1, "2019-03-31", legacy=True)
    if per_year is not None:
        data["assessment"]["post16_requests_per_year"] = sourced(per_year)
    config = validate(data, "fe requests")
    params = compile_parameters(config)
    log = PathwayModel(config, 0, 5, params).run()
    return log, annual_metrics(log, params)


def test_requests_from_further_education_lead_to_post16_plans():
    log, m = fe_run(60.0)
    _, without = fe_run(None)
    assert without["post16_requests"].sum() == 0
    assert m["post16_requests"].sum() > 150  # about 60 a year for five years
    assert np.all(m["assessment_requests"] >= m["post16_requests"])  # counted among the requests
    assert m["new_ehcps_age_16_25"].sum() > without["new_ehcps_age_16_25"].sum()
    asked = set(log.event_child[log.event_code == R.EV_POST16_REQUEST].tolist())
    planned = asked & set(log.event_child[log.event_code == R.EV_NEW_EHCP].tolist())
    assert len(planned) > 50
    first_state = {}
    for child, state, _start in sorted(zip(log.spell_child.tolist(), log.spell_state.tolist(), log.spell_start.tolist()), key=lambda r: r[2]):
        first_state.setdefault(child, state)
    assert {first_state[c] for c in planned} <= {R.EHCP_POST16_FE, R.EHCP_POST16_SPECIALIST}
    assert not (asked - planned) & set(first_state)  # no spell without a plan: not counted on a school roll


# ---------------------------------------------------------------- without trends, as before
def test_config_without_trends_simulates_as_before():
    """Figures of a run of the main line before trends existed (scaled_data(0.1, 2022-03-31, legacy=True), seed 11, replication 0)."""
    config = validate(scaled_data(0.1, "2022-03-31", legacy=True), "no trends")
    params = compile_parameters(config)
    m = annual_metrics(PathwayModel(config, 0, 11, params).run(), params)
    assert m["assessment_requests"].tolist() == [11.0, 40.0, 50.0, 53.0, 62.0, 57.0, 54.0, 67.0]
    assert m["new_ehcps"].tolist() == [5.0, 27.0, 32.0, 46.0, 46.0, 52.0, 46.0, 49.0]
    assert m["ehcp_total"].tolist() == [251.0, 261.0, 296.0, 337.0, 368.0, 372.0, 400.0, 428.0]
    assert m["ehcp_age_16_19"].tolist() == [12.0, 25.0, 57.0, 68.0, 74.0, 63.0, 68.0, 74.0]
    assert m["spend_total"].tolist() == pytest.approx([4734064.979087278, 4858751.7440551305, 5248420.10336985, 5791861.414301113,
                                                       6384270.694814854, 7029591.9745854, 7891126.470758765, 8454824.398234097], rel=1e-9)
