"""Calendar, hazard clocks and special-place pools: exact, small, deterministic checks."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from hnsim.model.calendar import Calendar, fy_label, fy_start_year
from hnsim.model.hazard import Clock, trend_clock
from hnsim.model.places import AssessmentTeam, PlacePool
from hnsim.model.world import CountingEnvironment

CAL = Calendar(dt.date(2014, 4, 1), dt.date(2016, 3, 31))


def test_financial_years_and_census():
    assert fy_label(2018) == "2018-19" and fy_label(1999) == "1999-00"
    assert fy_start_year("2018-19") == 2018
    assert [b[0] for b in CAL.fy_bounds()] == ["2014-15", "2015-16"]
    label, day = CAL.census_days()[0]
    assert label == "2014-15" and CAL.date(day) == dt.date(2015, 1, 17)
    assert CAL.horizon == 731.0
    assert CAL.calendar_year_bounds()[0] == ("2014-15", CAL.day(dt.date(2015, 1, 1)), CAL.day(dt.date(2016, 1, 1)))


@pytest.mark.parametrize("month, first_census", [(1, dt.date(2015, 1, 17)), (3, dt.date(2015, 3, 17)), (4, dt.date(2014, 4, 17)), (10, dt.date(2014, 10, 17)), (12, dt.date(2014, 12, 17))])
def test_the_census_of_a_financial_year_falls_inside_it(month, first_census):
    cal = Calendar(dt.date(2014, 4, 1), dt.date(2017, 3, 31), census_month=month)
    censuses = cal.census_days()
    assert [label for label, _ in censuses] == ["2014-15", "2015-16", "2016-17"]
    assert [cal.date(day) for _, day in censuses] == [first_census.replace(year=first_census.year + i) for i in range(3)]
    for (_, first, last), (_, day) in zip(cal.fy_bounds(), censuses):
        assert first <= day < last


def test_an_october_census_counts_every_year():
    from conftest import scaled_data
    from hnsim.config import validate
    from hnsim.model import annual_metrics, compile_parameters, simulate

    data = scaled_data(0.05, end_date="2017-03-31")
    data["simulation"]["census_month"] = 10
    config = validate(data)
    params = compile_parameters(config)
    metrics = annual_metrics(simulate(config, 0, 3, params), params)
    assert (metrics["ehcp_total"] > 100).all() and (metrics["sen_support_total"] > 100).all(), metrics["ehcp_total"]


def test_academic_year_cut_off():
    assert CAL.academic_year_of(CAL.day(dt.date(2014, 8, 31))) == 2013
    assert CAL.academic_year_of(CAL.day(dt.date(2014, 9, 1))) == 2014


def test_flat_clock_is_exponential_time():
    clock = Clock.flat(2.0)
    assert clock.time_after(10.0, 4.0) == 12.0
    assert Clock.flat(0.0).time_after(1.0, 1.0) == math.inf


def test_step_clock_inverts_its_integral_exactly():
    clock = Clock([0.0, 10.0, 20.0], [1.0, 0.0, 3.0])
    assert clock.time_after(0.0, 5.0) == 5.0
    assert clock.time_after(5.0, 5.0) == 20.0  # the zero stretch is skipped
    assert clock.time_after(5.0, 8.0) == pytest.approx(21.0)
    assert clock.integral_to(21.0) == pytest.approx(13.0)


@settings(max_examples=200, deadline=None)
@given(
    now=st.floats(0, 3000),
    exposure=st.floats(0, 500),
    growth=st.floats(-0.3, 0.5),
)
def test_trend_clock_time_after_matches_integral(now, exposure, growth):
    clock = trend_clock(0.0, 4000.0, growth, 100.0, 2500.0)
    t = clock.time_after(now, exposure)
    assert t >= now
    assert clock.integral_to(t) - clock.integral_to(now) == pytest.approx(exposure, rel=1e-9, abs=1e-7)


def test_trend_clock_grows_then_stops():
    clock = trend_clock(0.0, 3000.0, 0.1, 0.0, 365.25 * 2)
    assert clock.multiplier(1.0) == pytest.approx(1.1 ** (15.2 / 365.25), rel=1e-3)
    assert clock.multiplier(365.25 * 5) == pytest.approx(1.21)


def test_pool_first_come_first_served_and_capacity_growth():
    env = simpy.Environment()
    pool = PlacePool(env, "special_primary", [(0.0, 1), (10.0, 2)])
    log = []

    def child(name, arrive, stay):
        yield env.timeout(arrive)
        if not pool.take():
            yield pool.wait(env.now)
        log.append((name, env.now))
        assert pool.occupied <= pool.capacity()
        yield env.timeout(stay)
        pool.release()

    for name, arrive, stay in (("a", 0, 30), ("b", 1, 5), ("c", 2, 5)):
        env.process(child(name, arrive, stay))
    env.run()
    # a takes the only place; a second place opens on day 10 for b; c waits for b to leave
    assert log == [("a", 0), ("b", 10), ("c", 15)]


def test_a_team_counts_a_caseworker_free_from_the_end_day_without_an_event_for_it():
    env = simpy.Environment()
    team = AssessmentTeam(env, [(0.0, 2)])
    assert team.request() is None and team.request() is None
    team.hold(5.0)
    team.hold(7.0)
    assert env.peek() == math.inf  # nobody waits: no event is set for either end
    assert team.free() == 0
    env.timeout(6.0)
    env.run(until=6.5)
    assert team.free() == 1  # the assessment that ended on day 5 freed its caseworker
    assert team.request() is None and team.request() is not None  # the second waits for day 7


def test_a_team_grants_the_queue_in_order_on_each_day_a_caseworker_finishes():
    env = simpy.Environment()
    team = AssessmentTeam(env, [(0.0, 1)])
    assert team.request() is None
    team.hold(10.0)
    granted: list[tuple[str, float]] = []

    def queued(name: str, busy: float) -> None:
        def start(_event: simpy.Event) -> None:
            granted.append((name, env.now))
            team.hold(env.now + busy)
        team.request().callbacks.append(start)

    env.timeout(2.0).callbacks.append(lambda _e: queued("first", 4.0))
    env.timeout(3.0).callbacks.append(lambda _e: queued("second", 1.0))
    env.run(until=30.0)
    assert granted == [("first", 10.0), ("second", 14.0)]  # each on the day the one before it ends
    assert team.free() == 1


def test_a_queued_request_is_granted_on_an_end_day_that_now_plus_the_delay_would_miss():
    """A wake-up set as a timeout of (end - now) lands at now + (end - now), one rounding step
    below the end here: it would find the assessment not yet ended and strand the queue."""
    env = CountingEnvironment()
    team = AssessmentTeam(env, [(0.0, 1)])
    end, arrival = 374.6397941329844, 79.06903978381811
    assert arrival + (end - arrival) < end  # the case: the sum rounds below the end day
    assert team.request() is None
    team.hold(end)
    granted: list[float] = []

    def start(_event: object = None) -> None:
        granted.append(env.now)
        team.hold(env.now + 10.0)

    def arrive(_arg: object) -> None:
        grant = team.request()
        start() if grant is None else grant.callbacks.append(start)

    env.call_in(arrival, arrive)
    env.call_in(2000.0, arrive)
    env.run(until=5000.0)
    assert granted == [end, 2000.0] and not team.queue


class _EagerTeam(AssessmentTeam):
    """The reference: every assessment's end is a timeout that frees its caseworker and admits the queue."""

    def hold(self, end: float) -> None:
        self.env.timeout(end - self.env.now).callbacks.append(self._release)

    def _release(self, _event: simpy.Event) -> None:
        self.occupied -= 1
        self._admit()

    def _free_ended(self) -> None:
        return None


def _grant_days(team_class: type, arrivals: list[float], busy: list[float], servers: int, added: list[tuple[float, int]]) -> list[float | None]:
    env = CountingEnvironment()
    team = team_class(env, [(0.0, servers)])
    granted: list[float | None] = [None] * len(arrivals)

    def arrive(i: int) -> None:
        def start(_event: object = None) -> None:
            granted[i] = env.now
            team.hold(env.now + busy[i])
        grant = team.request()
        if grant is None:
            start()
        else:
            grant.callbacks.append(start)

    for i, day in enumerate(arrivals):
        env.call_in(day, arrive, i)
    for day, n in added:  # decided a month before, as the council's recruits are
        env.call_in(max(day - 30.0, 0.0), lambda change: team.schedule(*change), (day, n))
    env.run(until=arrivals[-1] + 10_000.0)
    return granted


@pytest.mark.parametrize("whole_days", [False, True])
def test_the_team_grants_every_request_on_the_day_a_team_with_an_event_for_every_end_would(whole_days: bool):
    """Against the reference, on random queues: many at once, ties (whole days), zero-length
    assessments, caseworkers added while some wait. Every grant day is the same, to the last bit."""
    import random

    for trial in range(300):
        rng = random.Random(trial)
        n, servers, rate = rng.randint(5, 80), rng.randint(1, 4), rng.uniform(0.05, 0.5)
        day, arrivals = 0.0, []
        for _ in range(n):
            day += rng.expovariate(rate)
            arrivals.append(float(round(day)) if whole_days else day)
        busy = [float(rng.randint(0, 40)) if whole_days else rng.expovariate(1 / rng.uniform(5, 60)) for _ in range(n)]
        added = [(float(round(rng.uniform(0, day))) if whole_days else rng.uniform(0, day), rng.randint(1, 2)) for _ in range(rng.randint(0, 3))]
        lazy = _grant_days(AssessmentTeam, arrivals, busy, servers, added)
        assert None not in lazy, trial
        assert lazy == _grant_days(_EagerTeam, arrivals, busy, servers, added), trial


def test_timed_calls_reject_a_negative_delay_and_run_under_simpys_own_loop():
    env = CountingEnvironment()
    with pytest.raises(ValueError, match="negative delay"):
        env.call_in(-1.0, print)
    seen: list[float] = []
    env.call_in(2.0, lambda _arg: seen.append(env.now))
    env.run()  # SimPy's run to the end of the schedule, step by step
    assert seen == [2.0]

    def journey():
        yield 3  # a whole number of days is a delay too
        seen.append(env.now)

    from hnsim.model.world import Journey
    Journey(journey(), env).resume()
    env.run()
    assert seen == [2.0, 5.0]


def test_timed_calls_and_timeouts_at_one_time_run_in_the_order_they_were_made():
    env = CountingEnvironment()
    order: list[str] = []
    env.call_in(5.0, order.append, "call")
    env.timeout(5.0).callbacks.append(lambda _e: order.append("timeout"))
    env.call_in(5.0, order.append, "second call")
    env.call_in(1.0, order.append, "earlier")
    env.run(until=10.0)
    assert order == ["earlier", "call", "timeout", "second call"]
    assert env.scheduled() == 5  # four, and the stop event


def test_pool_cancel_returns_granted_place():
    env = simpy.Environment()
    pool = PlacePool(env, "p", [(0.0, 1)])
    assert pool.take()
    event = pool.wait(env.now)
    pool.release()  # grants the place to x
    assert event.triggered and pool.occupied == 1
    pool.cancel(event)  # x no longer wants it
    assert pool.occupied == 0 and pool.free() == 1


def test_request_multipliers_by_year_carry_the_last_level_forward():
    from hnsim.model.parameters import _by_year_clock

    cal = Calendar(dt.date(2014, 4, 1), dt.date(2018, 3, 31))
    clock = _by_year_clock(cal, {"2015-16": 0.5, "2016-17": 2.0})
    assert clock.multiplier(cal.day(dt.date(2014, 6, 1))) == 0.5  # before the first listed year
    assert clock.multiplier(cal.day(dt.date(2015, 6, 1))) == 0.5
    assert clock.multiplier(cal.day(dt.date(2016, 6, 1))) == 2.0
    assert clock.multiplier(cal.day(dt.date(2017, 6, 1))) == 2.0  # after the last: kept


def test_post16_cease_by_year_ends_plans_at_year_12_in_those_years_only():
    from conftest import scaled_data
    from hnsim.config import validate
    from hnsim.model import compile_parameters, simulate
    from hnsim.model import records as R

    data = scaled_data(0.2, end_date="2016-03-31")
    data["placement"]["transfer"]["post16_cease_probability_by_year"] = {"value": {"2014-15": 1.0}, "source": "test"}
    config = validate(data)
    params = compile_parameters(config)
    log = simulate(config, 0, 4, params)
    sept_2014, sept_2015 = params.calendar.day(dt.date(2014, 9, 1)), params.calendar.day(dt.date(2015, 9, 1))
    starts = [(s, p, st) for s, p, st in zip(log.spell_start, log.spell_phase, log.spell_state) if st >= 10 and p == R.PHASE_POST16]
    assert not [s for s, _, _ in starts if s == sept_2014]  # every year-12 transfer in 2014-15 ceased
    assert [s for s, _, _ in starts if s == sept_2015]  # but not in 2015-16


def test_pool_queue_is_ordered_by_the_day_each_wait_began():
    env = simpy.Environment()
    pool = PlacePool(env, "p", [(0.0, 1)])
    assert pool.take()
    late = pool.wait(5.0)
    early = pool.wait(2.0)  # queued later, but waiting since an earlier day (a move up a phase)
    pool.release()
    assert early.triggered and not late.triggered


def test_leaving_school_ehcp_share_by_year_ends_the_statements_of_those_leaving_school():
    from conftest import scaled_data
    from hnsim.config import validate
    from hnsim.model import compile_parameters, simulate
    from hnsim.model import records as R

    data = scaled_data(0.3, end_date="2017-03-31")
    transfer = data["placement"]["transfer"]
    transfer["post19_continue_probability"] = {"value": 1.0, "source": "test"}
    transfer["leaving_school_ehcp_share_by_year"] = {"value": {"2014-15": 0.0, "2015-16": 0.0}, "source": "test"}
    transfer.pop("post16_cease_probability_by_year", None)  # the same statements ending, in round figures
    config = validate(data)
    params = compile_parameters(config)
    assert params.placement.post19_from_school_by_fy == (0.0, 0.0, 1.0)  # a year not listed has every plan converted
    assert params.placement.post19_continue_by_fy == (1.0, 1.0, 1.0)  # a plan in college was an EHC plan
    log = simulate(config, 0, 4, params)
    sept_2014, sept_2015, sept_2016 = (params.calendar.day(dt.date(y, 9, 1)) for y in (2014, 2015, 2016))
    spells = list(zip(log.spell_child, log.spell_start, log.spell_end, log.spell_phase, log.spell_state))
    college = (R.EHCP_POST16_FE, R.EHCP_POST16_SPECIALIST)

    def went_on(day: float, from_college: bool) -> tuple[int, int]:
        """Of the plans at the transfer at 19 on ``day`` (in college or in school), how many went on past 19."""
        before = {c for c, _, e, p, st in spells if e == day and p == R.PHASE_POST16 and (st in college) == from_college}
        after = {c for c, s, _, p, st in spells if s == day and p == R.PHASE_POST19}
        return len(before), len(before & after)

    for day in (sept_2014, sept_2015):
        at_school, went = went_on(day, from_college=False)
        assert at_school > 0 and went == 0  # no statement held in school went on past 19 in 2014-15 or 2015-16
    in_college, went = went_on(sept_2015, from_college=True)
    assert in_college > 0 and went == in_college  # plans already in college did (converted in FE in 2014-15)
    at_school, went = went_on(sept_2016, from_college=False)
    assert went == at_school > 0  # every plan could in 2016-17
    year_12 = [(s, st) for _, s, _, p, st in spells if p == R.PHASE_POST16]
    assert not [st for s, st in year_12 if s == sept_2014 and st in college]  # nobody went on from school to college at 16 in 2014-15
    assert [st for s, st in year_12 if s == sept_2016 and st in college]  # but did in 2016-17
    assert [st for s, st in year_12 if s == sept_2014 and st in (R.EHCP_MAINSTREAM, R.EHCP_SPECIAL)]  # sixth forms kept their statements


def test_leaving_school_ehcp_share_moves_college_destinations_to_ceasing():
    from hnsim.model.parameters import POST16_OPTIONS, cumulative, post16_destinations

    row = {"stay": 0.25, "post16_fe": 0.55, "post16_specialist": 0.05, "cease": 0.15}
    assert post16_destinations({"school": row})["school"] == cumulative(row, POST16_OPTIONS)
    half = post16_destinations({"school": row}, 0.5)["school"]
    assert half == pytest.approx((0.25, 0.525, 0.55, 1.0))  # FE 0.275, specialist 0.025, cease 0.15 + 0.3


def test_leaving_school_ehcp_share_scales_a_trending_continuation():
    from conftest import scaled_data
    from hnsim.config import validate
    from hnsim.model import compile_parameters

    data = scaled_data(0.1, end_date="2019-03-31")
    data["placement"]["transfer"]["post19_continue_probability"] = {"value": 0.4, "source": "test"}
    data["placement"]["transfer"].pop("post16_cease_probability_by_year", None)
    plain = compile_parameters(validate(data)).placement
    data["placement"]["transfer"]["leaving_school_ehcp_share_by_year"] = {"value": {"2015-16": 0.5, "2016-17": 0.25}, "source": "test"}
    shared = compile_parameters(validate(data)).placement
    p = plain.post19_continue_by_fy
    assert shared.post19_from_school_by_fy == (p[0], p[1] * 0.5, p[2] * 0.25, *p[3:])
    assert shared.post19_continue_by_fy == p == plain.post19_from_school_by_fy
    assert shared.post16_destinations_by_fy[0] == plain.post16_destinations_by_fy[0]
    assert shared.post16_destinations_by_fy[1] != plain.post16_destinations_by_fy[1]
