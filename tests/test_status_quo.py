"""Status-quo policies (``status_quo:``): the council commissions places, grows its assessment team
and gatekeeps under pressure at an annual review; without the section nothing changes."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest
import simpy

from hnsim.config.load import ConfigError, validate
from hnsim.config.schema import config_dict
from hnsim.model import records as R
from hnsim.model.council import Council
from hnsim.model.levers import compile_levers
from hnsim.model.metrics import annual_metrics
from hnsim.model.parameters import compile_parameters
from hnsim.model.pathway import PathwayModel, simulate
from hnsim.model.places import AssessmentTeam, PlacePool
from hnsim.model.world import World

from conftest import scaled_data
from test_plan_batch import by_child
from tiny_configs import quiet_data, sourced

COUNCIL_METRICS = ("special_places_commissioned", "capital_commissioned_gbp", "assessment_team_capacity")


def commissioning(**changes) -> dict:
    policy = {"from_date": "2015-04-01", "waiting_threshold": sourced(0), "independent_threshold": sourced(0), "places_per_step": sourced(3),
              "lag_days": sourced(153), "ceiling": sourced(7), "capital_gbp_per_place": sourced(50000.0)}
    policy.update(changes)
    return policy


def staffing(**changes) -> dict:
    policy = {"from_date": "2016-04-01", "elasticity": sourced(1.0), "share_of_gap": sourced(0.5), "lag_days": sourced(100)}
    policy.update(changes)
    return policy


def gatekeeping(**changes) -> dict:
    policy = {"from_date": "2016-04-01", "refusal_per_pressure": sourced(0.25), "max_refusal_probability": sourced(0.6)}
    policy.update(changes)
    return policy


def with_status_quo(data: dict, **section) -> dict:
    data = copy.deepcopy(data)
    data["status_quo"] = section
    return data


def waiting_for_places(end_date: str = "2020-03-31") -> dict:
    """Twenty primary-age plan holders in mainstream who all seek a special place soon and wait for one (none exists)."""
    data = quiet_data(end_date)
    data["initial_population"]["ehcp_by_age_band"] = sourced({"5-10": 20})
    data["ehcp"]["mainstream_to_special_rate"] = sourced({"primary": 20.0, "secondary": 20.0})
    data["placement"]["when_special_full"] = {"independent_probability": sourced(0.0)}
    return data


# ---------------------------------------------------------------- config
@pytest.mark.parametrize("change, where", [
    (lambda sq: sq["commissioning"].update(celing=sourced(3)), "status_quo.commissioning.celing"),
    (lambda sq: sq.update(gatekeping={}), "status_quo.gatekeping"),
    (lambda sq: sq["staffing"].update(share_of_gap=sourced(1.5)), "status_quo.staffing.share_of_gap.value"),
    (lambda sq: sq["commissioning"].update(places_per_step=sourced(0)), "status_quo.commissioning.places_per_step.value"),
    (lambda sq: sq["commissioning"].update(lag_days=sourced(-1)), "status_quo.commissioning.lag_days.value"),
    (lambda sq: sq["commissioning"].update(pools=["special_tertiary"]), "status_quo.commissioning.pools"),
    (lambda sq: sq["gatekeeping"].update(max_refusal_probability=sourced(1.2)), "status_quo.gatekeeping.max_refusal_probability.value"),
    (lambda sq: sq.update(review_month=13), "status_quo.review_month"),
    (lambda sq: sq.pop("reference_year"), "status_quo"),
    (lambda sq: sq["staffing"].update(from_date="2015-10-01"), "status_quo"),
    (lambda sq: sq["commissioning"]["ceiling"].pop("source"), "status_quo.commissioning.ceiling.source"),
])
def test_bad_status_quo_is_refused_naming_the_key(change, where):
    section = {"reference_year": "2015-16", "commissioning": commissioning(), "staffing": staffing(), "gatekeeping": gatekeeping()}
    change(section)
    with pytest.raises(ConfigError) as caught:
        validate(with_status_quo(quiet_data(), **section), "cfg.yaml")
    text = str(caught.value)
    assert "cfg.yaml" in text and where in text, text


def test_reference_year_outside_the_run_is_refused():
    section = {"reference_year": "2013-14", "staffing": staffing()}
    with pytest.raises(ConfigError, match="reference_year 2013-14 must not start before the simulated period"):
        validate(with_status_quo(quiet_data(), **section))
    # a fit to earlier years ends before the reference year: its policies never act, so it is valid
    later = {"reference_year": "2030-31", "staffing": staffing(from_date="2031-04-01")}
    validate(with_status_quo(quiet_data("2017-03-31"), **later))


def test_a_valid_section_compiles_its_reviews():
    config = validate(with_status_quo(quiet_data(), reference_year="2015-16", commissioning=commissioning(), gatekeeping=gatekeeping()))
    rules = compile_parameters(config).status_quo
    cal = compile_parameters(config).calendar
    assert rules.review_days == (cal.day(dt.date(2015, 4, 1)), cal.day(dt.date(2016, 4, 1)))
    assert (rules.reference_first_day, rules.reference_last_day) == (365.0, 731.0)
    assert rules.staffing is None and rules.commissioning.pools == ("special_primary", "special_secondary", "special_post16", "semh_secondary")


# ---------------------------------------------------------------- no section: nothing changes
def test_without_the_section_the_config_hash_and_the_metrics_are_as_before():
    data = scaled_data(0.1, "2021-03-31", legacy=True)
    config = validate(data)
    assert config.status_quo is None and "status_quo" not in config_dict(config)
    params = compile_parameters(config)
    assert params.status_quo is None
    metrics = annual_metrics(simulate(config, 0, params=params), params)
    assert not set(COUNCIL_METRICS) & set(metrics)
    # a section whose policies never act (no places allowed, a team that cannot grow, no rise in
    # refusals) runs the council's reviews and counts, and must change no existing metric, bit for bit
    inert = validate(with_status_quo(data, reference_year="2015-16", commissioning=commissioning(ceiling=sourced(0)),
                                     staffing=staffing(elasticity=sourced(0.0)), gatekeeping=gatekeeping(refusal_per_pressure=sourced(0.0))))
    inert_params = compile_parameters(inert)
    inert_metrics = annual_metrics(simulate(inert, 0, params=inert_params), inert_params)
    assert set(inert_metrics) == set(metrics) | set(COUNCIL_METRICS)
    for name, values in metrics.items():
        assert np.array_equal(values, inert_metrics[name], equal_nan=True), name
    assert not inert_metrics["special_places_commissioned"].any() and not inert_metrics["capital_commissioned_gbp"].any()
    assert (inert_metrics["assessment_team_capacity"] == config.assessment.team_capacity.value).all()


def assert_same_paths(a: R.EventLog, b: R.EventLog) -> None:
    """Child by child, the same states and phases, the same event codes, and days equal to rounding
    (the batches' arithmetic and the clock's differ in the last bits)."""
    for got, expected in zip(by_child(a), by_child(b)):
        assert got.keys() == expected.keys()
        for child, rows in expected.items():
            kinds = 2 if len(rows[0]) == 4 else 1  # spells: state, phase; events: code
            assert [r[:kinds] for r in got[child]] == [r[:kinds] for r in rows], child
            assert np.allclose([r[kinds:] for r in got[child]], [r[kinds:] for r in rows], rtol=0, atol=1e-6), child


# ---------------------------------------------------------------- the resources
def test_a_pool_given_places_admits_those_waiting_in_the_order_they_began_to_wait():
    env = simpy.Environment()
    pool = PlacePool(env, "special_primary", [(0.0, 0), (50.0, 1)])
    late, early, middle = pool.wait(30.0), pool.wait(10.0), pool.wait(20.0)
    pool.add(2)
    assert early.triggered and middle.triggered and not late.triggered and pool.occupied == 2
    pool.schedule(40.0, 1)
    assert pool.steps() == [(0.0, 2), (40.0, 3), (50.0, 4)]  # a later step of the schedule rises too
    env.run(until=39.0)
    assert not late.triggered
    env.run(until=41.0)
    assert late.triggered and pool.capacity() == 3 and pool.capacity(60.0) == 4


def test_a_team_given_caseworkers_starts_queued_assessments():
    env = simpy.Environment()
    team = AssessmentTeam(env, [(0.0, 1)])
    assert team.request() is None
    queued = [team.request(), team.request()]
    team.schedule(10.0, 1)
    env.run(until=5.0)
    assert not any(e.triggered for e in queued)
    env.run(until=11.0)
    assert queued[0].triggered and not queued[1].triggered and team.capacity() == 2


# ---------------------------------------------------------------- commissioning
def test_commissioning_adds_places_after_the_lag_and_stops_at_the_ceiling():
    data = with_status_quo(waiting_for_places(), commissioning=commissioning())
    config = validate(data)
    params = compile_parameters(config)
    cal = params.calendar
    log = simulate(config, 0, params=params)

    def day(y: int, m: int, d: int) -> float:
        return cal.day(dt.date(y, m, d))

    opened = [(d, v) for d, c, v in zip(log.event_day, log.event_code, log.event_value) if c == R.EV_PLACES_OPENED]
    committed = [(d, v) for d, c, v in zip(log.event_day, log.event_code, log.event_value) if c == R.EV_PLACES_COMMISSIONED]
    # reviews on 1 April 2015, 2016, 2017 commission 3, 3 and the 1 the ceiling of 7 leaves; none after
    assert committed == [(day(2015, 4, 1), 3.0), (day(2016, 4, 1), 3.0), (day(2017, 4, 1), 1.0)]
    assert opened == [(day(2015, 9, 1), 3.0), (day(2016, 9, 1), 3.0), (day(2017, 9, 1), 1.0)]  # 153 days later
    extra = sum(schedule[-1][1] for schedule in log.pool_schedules.values())
    assert extra == 7
    metrics = annual_metrics(log, params)
    assert metrics["special_places_commissioned"].tolist() == [0, 3, 6, 7, 7, 7]  # at each January census
    assert metrics["special_places"].tolist() == [0, 3, 6, 7, 7, 7]
    assert metrics["capital_commissioned_gbp"].tolist() == [0, 150000, 150000, 50000, 0, 0]
    # the new places are taken by children who waited, on the day they open, and are funded from then
    ends = [d for d, c in zip(log.event_day, log.event_code) if c == R.EV_SPECIAL_PLACE_WAIT_END]
    assert ends.count(day(2015, 9, 1)) == 3 and ends.count(day(2016, 9, 1)) == 3
    assert metrics["spend_special_place_funding"][0] == 0 and metrics["spend_special_place_funding"][3] > metrics["spend_special_place_funding"][2] > 0


def test_no_commissioning_while_the_waiting_list_is_under_its_threshold():
    config = validate(with_status_quo(waiting_for_places(), commissioning=commissioning(waiting_threshold=sourced(20))))
    log = simulate(config, 0)
    assert R.EV_PLACES_COMMISSIONED not in set(np.asarray(log.event_code).tolist())


def test_foreseen_and_batched_journeys_agree_with_the_clock_under_the_policies():
    data = with_status_quo(scaled_data(0.1, "2022-03-31", legacy=True), reference_year="2017-18", commissioning=commissioning(ceiling=sourced(40), places_per_step=sourced(8)),
                           staffing=staffing(from_date="2018-04-01", lag_days=sourced(60)), gatekeeping=gatekeeping(from_date="2018-04-01"))
    config = validate(data)
    params = compile_parameters(config)
    batched = PathwayModel(config, 0, 7, params).run()
    assert R.EV_PLACES_OPENED in set(np.asarray(batched.event_code).tolist())
    assert_same_paths(batched, PathwayModel(config, 0, 7, params, batches=False).run())


# ---------------------------------------------------------------- staffing and gatekeeping (the review itself)
def council_on(data: dict) -> tuple[World, Council]:
    config = validate(data)
    params = compile_parameters(config)
    world = World(params, compile_levers(config, params.calendar, 1, 0), 1, 0)
    world.council = Council(world, params.status_quo, params.assessment.team_capacity)
    return world, world.council


def requests_in(council: Council, first: float, last: float, n: int) -> None:
    for i in range(n):
        council.requested(first + (last - first) * i / n)


def test_staffing_ratchet_grows_the_team_late_and_never_shrinks_it():
    data = quiet_data("2020-03-31")
    data["assessment"]["team_capacity"] = sourced(10)
    world, council = council_on(with_status_quo(data, reference_year="2015-16", staffing=staffing(from_date="2017-04-01", lag_days=sourced(100))))
    review = world.params.status_quo.review_days
    assert len(review) == 3  # 1 April 2017 to 2019
    requests_in(council, 365, 731, 100)  # the reference year 2015-16
    requests_in(council, review[0] - 365, review[0], 200)  # twice as many: target 20, half the gap of 10
    council.review(review[0])
    assert world.team.capacity(review[0] + 99) == 10 and world.team.capacity(review[0] + 100) == 15
    requests_in(council, review[1] - 365, review[1], 50)  # half the reference: target 5, below the team
    council.review(review[1])
    assert world.team.steps()[-1] == (review[0] + 100, 15)
    requests_in(council, review[2] - 365, review[2], 300)  # target 30: half the gap to the 15 decided on
    council.review(review[2])
    assert world.team.capacity(review[2] + 100) == 23
    events = [(d, v) for d, c, v in zip(world.log.event_day, world.log.event_code, world.log.event_value) if c == R.EV_TEAM_CAPACITY]
    assert events == [(review[0] + 100, 15.0), (review[2] + 100, 23.0)]


def test_gatekeeping_raises_refusals_with_pressure_up_to_the_maximum():
    world, council = council_on(with_status_quo(quiet_data("2020-03-31"), reference_year="2015-16", gatekeeping=gatekeeping(from_date="2017-04-01")))
    review = world.params.status_quo.review_days
    requests_in(council, 365, 731, 100)
    requests_in(council, review[0] - 365, review[0], 100)
    council.review(review[0])
    assert council.refusal(0.2) == 0.2  # no pressure, no rise
    requests_in(council, review[1] - 365, review[1], 180)
    council.review(review[1])
    assert council.refusal(0.2) == pytest.approx(0.2 + 0.25 * 0.8)
    assert council.refusal(0.5) == 0.6 and council.refusal(0.7) == 0.7  # clipped at the maximum; a rate above it stays


def test_a_request_spike_raises_refusals_and_reversals_at_tribunal():
    data = scaled_data(0.2, "2022-03-31", legacy=True)
    data["sen_support"]["request_multiplier_by_year"] = sourced({"2018-19": 1.0, "2019-20": 2.5})
    data["assessment"]["appeal_probability"] = sourced(0.5)
    without = validate(data)
    with_policy = validate(with_status_quo(data, reference_year="2018-19", gatekeeping=gatekeeping(from_date="2019-04-01")))
    totals = {}
    for name, config in (("without", without), ("with", with_policy)):
        params = compile_parameters(config)
        runs = [annual_metrics(simulate(config, rep, params=params), params) for rep in range(2)]
        totals[name] = {m: np.array([run[m] for run in runs]).sum(axis=0) for m in ("assessments_refused", "tribunal_found_for_parents", "assessment_requests")}
    fy = [f"{y}-{(y + 1) % 100:02d}" for y in range(2014, 2022)]
    before, after = fy.index("2019-20"), fy.index("2020-21")
    # the review of April 2019 sees no pressure (2018-19 is the reference), that of April 2020 the spike
    assert np.array_equal(totals["with"]["assessments_refused"][:after], totals["without"]["assessments_refused"][:after])
    assert totals["with"]["assessment_requests"][before] > 2 * totals["with"]["assessment_requests"][before - 1]
    assert totals["with"]["assessments_refused"][after:].sum() > 1.3 * totals["without"]["assessments_refused"][after:].sum()
    assert totals["with"]["tribunal_found_for_parents"][after:].sum() > totals["without"]["tribunal_found_for_parents"][after:].sum()


# ---------------------------------------------------------------- metamorphic, under common random numbers
def test_a_larger_commissioning_ceiling_never_raises_independent_placements():
    """Special places fill (high special demand, few places): with the same seeds and replications,
    more places allowed never raises the independent caseload, and many more lower it."""
    data = scaled_data(0.1, "2026-03-31", legacy=True)
    data["placement"]["when_special_full"]["independent_probability"] = sourced(0.5)
    independent = {}
    commissioned = {}
    for ceiling in (0, 20, 200):
        config = validate(with_status_quo(data, commissioning=commissioning(from_date="2017-04-01", ceiling=sourced(ceiling), places_per_step=sourced(10),
                                                                           waiting_threshold=sourced(2), independent_threshold=sourced(2))))
        params = compile_parameters(config)
        runs = [annual_metrics(simulate(config, rep, params=params), params) for rep in range(3)]
        independent[ceiling] = sum(run["ehcp_independent"].sum() + run["new_independent_placements"].sum() for run in runs)
        commissioned[ceiling] = sum(run["special_places_commissioned"][-1] for run in runs)
    assert commissioned[0] == 0 and 0 < commissioned[20] <= 60 < commissioned[200]
    assert independent[200] <= independent[20] <= independent[0]
    assert independent[200] < 0.8 * independent[0]


def test_a_kept_log_rebuilds_the_council_metrics(tmp_path):
    from hnsim.results.event_log import EventLogWriter, log_tables, read_event_log

    config = validate(with_status_quo(waiting_for_places(), commissioning=commissioning()))
    params = compile_parameters(config)
    log = simulate(config, 0, params=params)
    writer = EventLogWriter(tmp_path, config.simulation.start_date)
    writer.add(0, log_tables(log, config.simulation.start_date, "base", 0))
    writer.commit()
    [(_, _, rebuilt)] = list(read_event_log(tmp_path))
    assert rebuilt.pool_schedules == log.pool_schedules
    before, after = annual_metrics(log, params), annual_metrics(rebuilt, params)
    for name in (*COUNCIL_METRICS, "special_places", "spend_special_place_funding"):
        assert np.array_equal(before[name], after[name]), name
