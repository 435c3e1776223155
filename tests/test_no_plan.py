"""The vectorised no-plan stage against the scalar code it replaces: same numbers, same paths."""

from __future__ import annotations

import numpy as np
import pytest

from hnsim.model import compile_parameters
from hnsim.model import no_plan as NP
from hnsim.model import records as R
from hnsim.model.hazard import Clock, trend_clock
from hnsim.model.pathway import PathwayModel
from hnsim.model.streams import ChildDraws, child_key, child_keys, replication_key, uniforms

from conftest import small_config


def test_vectorised_uniforms_are_the_child_draws_bit_for_bit():
    rng = np.random.default_rng(1)
    extremes = np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64)
    keys = np.concatenate([extremes, rng.integers(0, 2**64 - 1, size=200, dtype=np.uint64, endpoint=True)])
    counters = np.arange(1, 41)
    vectorised = uniforms(keys[:, None], counters[None, :])
    for key, row in zip(keys.tolist(), vectorised.tolist()):
        draws = ChildDraws(key)
        assert row == [draws.uniform() for _ in counters]


def test_vectorised_child_keys_match():
    rep_key = replication_key(20190101, 3)
    indices = np.arange(5000)
    assert child_keys(rep_key, 2, indices).tolist() == [child_key(rep_key, 2, i) for i in range(5000)]


@pytest.mark.parametrize(
    "clock",
    [
        trend_clock(0.0, 4000.0, 0.22, 100.0, 1300.0),
        trend_clock(0.0, 4000.0, -0.3, 0.0, None),
        Clock([0.0, 10.0, 20.0, 30.0], [1.0, 0.0, 3.0, 0.0]),
        Clock([5.0, 10.0], [0.0, 2.0]),
        Clock.flat(2.0),
        Clock.flat(0.0),
    ],
)
def test_time_after_many_is_time_after_exactly(clock):
    rng = np.random.default_rng(2)
    now = np.concatenate([rng.uniform(-10, 4500, 3000), [0.0, 5.0, 10.0, 20.0, 30.0]])
    exposure = np.concatenate([rng.exponential(50.0, 3000), [0.0, 0.0, 5.0, np.inf, 1.0]])
    expected = [clock.time_after(n, e) for n, e in zip(now.tolist(), exposure.tolist())]
    assert clock.time_after_many(now, exposure).tolist() == expected


def reference(model: PathwayModel, child: R.Child, day: float, requests: dict):
    """The no-plan stage of one child as a SimPy process, with the scalar ``PathwayModel.draw``."""
    env, horizon = model.env, model.cal.horizon
    yield env.timeout(day - env.now)
    while True:
        options = model.no_plan.options(child.state, child.phase, child.need)
        when, outcome = model.draw(child, options, model.next_transfer(child, env.now))
        if when >= horizon:
            model.log.spell(child.id, child.state, child.phase, child.spell_start, horizon)
            return
        yield env.timeout(when - env.now)
        if outcome == NP.REQUEST:
            requests[child.id] = (env.now, child.state, child.phase, child.spell_start, child.draws.n)
            return
        if outcome in (NP.STEP_DOWN, NP.MOVE_AWAY):
            model.leave(child, R.EV_NO_PLAN_EXIT)
            return
        if outcome is None:
            phase = model.phase_of(child, env.now)
            if phase >= R.PHASE_POST16:
                model.leave(child, R.EV_NO_PLAN_EXIT)
                return
            model.set_state(child, R.SEN_SUPPORT if child.state == R.EARLY_INTERVENTION else child.state, phase)
        elif outcome == NP.EXCLUSION:
            model.log.event(env.now, R.EV_PERMANENT_EXCLUSION, child.id)
            model.set_state(child, R.AP_NO_PLAN)
        elif outcome == NP.EHE:
            model.log.event(env.now, R.EV_EHE_DEREGISTRATION, child.id)
            model.set_state(child, R.EHE_NO_PLAN)
        elif outcome == NP.ENHANCE:
            model.set_state(child, R.SEN_SUPPORT_ENHANCED)
        else:  # reintegrate, return
            model.set_state(child, R.SEN_SUPPORT)


def random_children(model: PathwayModel, n: int) -> NP.Entrants:
    """Children in every no-plan state at random days, some with a spell open since earlier."""
    rng = np.random.default_rng(3)
    days = rng.uniform(0.0, model.cal.horizon - 1.0, n)
    births = days - rng.uniform(1.0, 15.9, n) * 365.25
    cohorts = model.academic_years(births) + 5
    phases = model.phases_of(cohorts, days)
    states = rng.integers(0, len(NP.NO_PLAN_STATES), n)
    states[(states == R.EARLY_INTERVENTION) & (phases > R.PHASE_EARLY_YEARS)] = R.SEN_SUPPORT
    starts = np.maximum(days - rng.uniform(0.0, 60.0, n) * (rng.random(n) < 0.3), 0.0)
    keys = child_keys(model.rep_key, 2, np.arange(n))
    entrants = NP.Entrants(np.arange(n), keys, cohorts, births, rng.integers(0, 5, n), states, phases, starts, days, rng.integers(0, 3, n))
    return entrants.subset(phases < R.PHASE_POST16)


def by_child(rows: list[tuple]) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = {}
    for child, *rest in rows:
        out.setdefault(child, []).append(tuple(rest))
    return {child: sorted(v) for child, v in out.items()}


def paths(log: R.EventLog) -> tuple[dict, dict]:
    spells = by_child(list(zip(log.spell_child, log.spell_state, log.spell_phase, log.spell_start, log.spell_end)))
    events = by_child(list(zip(log.event_child, log.event_code, log.event_day)))
    return spells, events


@pytest.mark.parametrize("clocks", ["config", "per_phase"])
def test_fast_forward_follows_the_scalar_stage(clocks):
    config = small_config(scale=0.1, end_date="2024-03-31")
    params = compile_parameters(config)
    if clocks == "per_phase":  # a clock on every clocked option, different by phase, with a zero stretch
        for name in ("sen_support.request", "sen_support.exclusion", "sen_support.ehe"):
            params.clocks[name] = [trend_clock(0.0, 4000.0, 0.1 * (ph + 1), 200.0, 3000.0) for ph in range(5)]
        params.clocks["sen_support.request"][2] = Clock([0.0, 1000.0, 1500.0], [1.0, 0.0, 2.0])
    fast, slow = PathwayModel(config, 0, 5, params), PathwayModel(config, 0, 5, params)
    entrants = random_children(fast, 3000)
    got = fast.no_plan.fast_forward(entrants)

    expected: dict[int, tuple] = {}
    for i in range(len(entrants)):
        child = R.Child(int(entrants.ids[i]), int(entrants.keys[i]), int(entrants.cohorts[i]), float(entrants.births[i]), int(entrants.needs[i]))
        child.state, child.phase, child.spell_start = int(entrants.states[i]), int(entrants.phases[i]), float(entrants.starts[i])
        child.draws.n = int(entrants.counters[i])
        slow.alive[child.id] = child
        slow.env.process(reference(slow, child, float(entrants.days[i]), expected))
    slow.env.run(until=slow.cal.horizon)

    assert len(expected) > 100
    assert sorted(entrants.ids[got.index].tolist()) == sorted(expected)
    for j, i in enumerate(got.index.tolist()):
        day, state, phase, start, counter = expected[int(entrants.ids[i])]
        assert (got.states[j], got.phases[j], got.counters[j]) == (state, phase, counter)
        assert got.days[j] == pytest.approx(day, abs=1e-7) and got.starts[j] == pytest.approx(start, abs=1e-7)
    for fast_paths, slow_paths in zip(paths(fast.log), paths(slow.log)):
        assert fast_paths.keys() == slow_paths.keys()
        for child, rows in slow_paths.items():
            assert [r[:-2] for r in fast_paths[child]] == [r[:-2] for r in rows]  # states and phases, or codes
            assert np.allclose([r[-2:] for r in fast_paths[child]], [r[-2:] for r in rows], rtol=0, atol=1e-7)


def test_an_empty_batch_does_nothing():
    config = small_config()
    model = PathwayModel(config, 0, 1)
    got = model.no_plan.fast_forward(random_children(model, 10).subset(np.zeros(0, dtype=np.int64)))
    assert len(got.index) == 0 and not model.log.spell_child and not model.log.event_code
