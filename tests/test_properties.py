"""Properties that hold for any config: drawn at random by hypothesis (small populations, short
horizons), each run checked for conservation, non-negative money and waits, and times that only
move forward."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hnsim.config import validate
from hnsim.model import annual_metrics, compile_parameters, simulate
from hnsim.model import records as R
from hnsim.model.calendar import DAYS_PER_YEAR

from conftest import scaled_data

POOLS = ("special_primary", "special_secondary", "special_post16", "semh_secondary")
ENTRIES = (R.EV_NEW_EHCP, R.EV_MOVED_IN, R.EV_POST16_CONVERSION)
EXITS = (R.EV_CEASED_NEEDS_MET, R.EV_CEASED_MOVED_AWAY, R.EV_CEASED_LEFT_EDUCATION, R.EV_CEASED_AGE_25)
probability = st.floats(0.0, 1.0)


@st.composite
def small_configs(draw):
    data = scaled_data(scale=draw(st.floats(0.01, 0.04)), end_date=f"{draw(st.integers(2015, 2018))}-03-31")
    a = data["assessment"]
    a.pop("refusal_probability_by_year", None)
    for key in ("refusal_probability", "appeal_probability", "tribunal_finds_for_parents", "plan_probability"):
        a[key]["value"] = draw(probability)
    a["team_capacity"]["value"] = draw(st.integers(1, 30))
    data["capacity"]["places"]["value"] = {pool: draw(st.integers(0, 40)) for pool in POOLS}
    data["capacity"]["expansions"] = [
        {"date": f"{draw(st.integers(2014, 2017))}-09-01", "pool": draw(st.sampled_from(POOLS)), "places": draw(st.integers(0, 20)), "source": "test"}
        for _ in range(draw(st.integers(0, 2)))
    ]
    full = data["placement"]["when_special_full"]
    full["independent_probability"]["value"] = draw(probability)
    full["max_wait_days"] = draw(st.none() | st.builds(lambda d: {"value": d, "source": "test"}, st.floats(0, 500)))
    for rates in (data["sen_support"]["request_rate"], data["ehcp"]["mainstream_to_special_rate"], data["ehcp"]["ceasing_needs_met_rate"]):
        factor = draw(st.floats(0.2, 5.0))
        rates["value"] = {phase: rate * factor for phase, rate in rates["value"].items()}
    return validate(data, "drawn config"), draw(st.integers(0, 2**16))


@settings(max_examples=12, deadline=None)
@given(small_configs())
def test_any_small_config_keeps_the_invariants(drawn):
    config, seed = drawn
    params = compile_parameters(config)
    log = simulate(config, 0, seed, params)
    horizon = params.calendar.horizon
    child = np.asarray(log.spell_child)
    state, phase = np.asarray(log.spell_state), np.asarray(log.spell_phase)
    start, end = np.asarray(log.spell_start), np.asarray(log.spell_end)
    day, code = np.asarray(log.event_day), np.asarray(log.event_code)
    value, who = np.asarray(log.event_value), np.asarray(log.event_child)

    # times move forward: spells inside the horizon, each child's spells chained without gaps, events in order
    assert (start <= end).all() and start.min() >= 0 and end.max() <= horizon
    assert (np.diff(day) >= 0).all() and (day >= 0).all() and (day < horizon).all()
    paths = defaultdict(list)
    for c, s, e, st_ in sorted(zip(child, start, end, state)):
        paths[c].append((s, e, st_))
    for c, path in paths.items():
        assert all(np.isclose(a[1], b[0]) for a, b in zip(path, path[1:])), c
    births = np.asarray(log.child_birth_day)
    plan = state >= R.EHCP_MAINSTREAM
    assert (end[plan] <= births[child[plan]] + 25 * DAYS_PER_YEAR + 1e-6).all()  # no plan beyond 25
    # without a plan, a child leaves at year 12, unless an assessment it asked for is still under way
    late = ~plan & (phase >= R.PHASE_POST16)
    first_request = {}
    for c, d in zip(who[code == R.EV_REQUEST].tolist(), day[code == R.EV_REQUEST].tolist()):
        first_request.setdefault(c, d)
    assert all(c in first_request and first_request[c] <= s for c, s in zip(child[late].tolist(), start[late].tolist()))

    # each child's assessment in order: request, then a caseworker, then a plan
    last_request, started = {}, {}
    for d, k, c, v in zip(day, code, who, value):
        if k == R.EV_REQUEST:
            last_request[c] = d
        elif k == R.EV_ASSESSMENT_START:
            assert v >= 0 and d >= last_request[c] + v - 1e-9
            started[c] = d
        elif k == R.EV_NEW_EHCP:
            assert v > 0 and np.isclose(d - v, last_request[c]) and started[c] >= last_request[c]
        elif k == R.EV_SPECIAL_PLACE_WAIT_END:
            assert v >= 0

    # conservation: plans at one census = plans at the last + entries - exits; each child leaves at most once
    census = [d for _, d in params.calendar.census_days()]
    stock = [int((plan & (start <= d) & (end > d)).sum()) for d in census]
    for i in range(1, len(census)):
        window = (day > census[i - 1]) & (day <= census[i])
        assert stock[i] - stock[i - 1] == np.isin(code[window], ENTRIES).sum() - np.isin(code[window], EXITS).sum()
    leaving = who[np.isin(code, EXITS + (R.EV_NO_PLAN_EXIT,))]
    assert len(leaving) == len(set(leaving.tolist()))
    assert set(leaving.tolist()).isdisjoint(set(child[end == horizon].tolist()))

    # special places never over capacity, except by pupils on roll at the start (who keep their places):
    # count each pool at every moment a spell in it begins
    pool_of = np.where(state == R.EHCP_SEMH_SPECIAL, 3, np.where(phase <= R.PHASE_PRIMARY, 0, np.where(phase == R.PHASE_SECONDARY, 1, 2)))
    special = (state == R.EHCP_SPECIAL) | (state == R.EHCP_SEMH_SPECIAL)
    first_day = config.simulation.start_date
    for i, pool in enumerate(POOLS):
        mine = special & (pool_of == i)
        on_roll_children = np.unique(child[mine & (start == 0.0)])  # on roll at the start: they keep their places
        for t in np.unique(start[mine]):
            opened = sum(e.places for e in config.capacity.expansions if e.pool == pool and (e.date - first_day).days <= t)
            capacity = config.capacity.places.value[pool] + opened
            on_roll = (np.isin(child[mine], on_roll_children) & (start[mine] <= t) & (end[mine] > t)).sum()
            assert ((start[mine] <= t) & (end[mine] > t)).sum() <= max(capacity, on_roll), (pool, t)

    # money and counts never negative; the stocks the metrics report are the spells'
    metrics = annual_metrics(log, params)
    for name, values in metrics.items():
        if name.startswith(("spend_", "placement_years_", "ehcp_", "hnb_")) or name in ("new_ehcps", "assessment_requests"):
            assert (np.nan_to_num(values) >= 0).all(), name
    assert list(metrics["ehcp_total"]) == stock
