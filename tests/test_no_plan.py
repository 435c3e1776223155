"""The vectorised no-plan stage against the plain-Python path for one child: same numbers, same paths."""

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


def random_children(model: PathwayModel, n: int) -> NP.Entrants:
    """Children in every no-plan state at random days, some with a spell open since earlier."""
    rng = np.random.default_rng(3)
    timeline = model.world.timeline
    days = rng.uniform(0.0, timeline.horizon - 1.0, n)
    births = days - rng.uniform(1.0, 15.9, n) * 365.25
    cohorts = timeline.cohorts_of(births)
    phases = NP.phases_of(timeline, cohorts, days)
    states = rng.integers(0, len(NP.NO_PLAN_STATES), n)
    states[(states == R.EARLY_INTERVENTION) & (phases > R.PHASE_EARLY_YEARS)] = R.SEN_SUPPORT
    starts = np.maximum(days - rng.uniform(0.0, 60.0, n) * (rng.random(n) < 0.3), 0.0)
    keys = child_keys(model.world.rep_key, 2, np.arange(n))
    entrants = NP.Entrants(np.arange(n), keys, cohorts, births, rng.integers(0, 5, n), states, phases, starts, days, rng.integers(0, 3, n))
    return entrants.subset(phases < R.PHASE_POST16)


def paths(log: R.EventLog) -> tuple[dict, dict]:
    log.finish()
    spells: dict[int, list] = {}
    for row in zip(log.spell_child.tolist(), log.spell_state.tolist(), log.spell_phase.tolist(), log.spell_start.tolist(), log.spell_end.tolist()):
        spells.setdefault(row[0], []).append(row[1:])
    events: dict[int, list] = {}
    for row in zip(log.event_child.tolist(), log.event_code.tolist(), log.event_day.tolist()):
        events.setdefault(row[0], []).append(row[1:])
    return {k: sorted(v) for k, v in spells.items()}, {k: sorted(v) for k, v in events.items()}


@pytest.mark.parametrize("clocks", ["config", "per_phase"])
def test_fast_forward_follows_the_one_child_path(clocks):
    config = small_config(scale=0.1, end_date="2024-03-31")
    fast, slow = PathwayModel(config, 0, 5), PathwayModel(config, 0, 5)
    if clocks == "per_phase":  # a clock on every clocked option, different by phase, with a zero stretch
        for model in (fast, slow):
            for name in ("sen_support.request", "sen_support.exclusion", "sen_support.ehe"):
                model.world._clocks[name] = tuple(trend_clock(0.0, 4000.0, 0.1 * (ph + 1), 200.0, 3000.0) for ph in range(5))
            request = list(model.world._clocks["sen_support.request"])
            request[2] = Clock([0.0, 1000.0, 1500.0], [1.0, 0.0, 2.0])
            model.world._clocks["sen_support.request"] = tuple(request)
            model.no_plan = NP.NoPlanStage(model.world, model.params.no_plan)
    entrants = random_children(fast, 3000)
    got = fast.no_plan.fast_forward(entrants)

    expected: dict[int, tuple] = {}
    for i in range(len(entrants)):
        child = R.Child(int(entrants.ids[i]), int(entrants.keys[i]), int(entrants.cohorts[i]), float(entrants.births[i]), int(entrants.needs[i]))
        child.state, child.phase, child.spell_start = int(entrants.states[i]), int(entrants.phases[i]), float(entrants.starts[i])
        child.draws.n = int(entrants.counters[i])
        day = slow.no_plan.fast_forward_one(child, float(entrants.days[i]))
        if day is not None:
            expected[child.id] = (day, child.state, child.phase, child.spell_start, child.draws.n)

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
    model = PathwayModel(small_config(), 0, 1)
    got = model.no_plan.fast_forward(random_children(model, 10).subset(np.zeros(0, dtype=np.int64)))
    model.log.finish()
    assert len(got.index) == 0 and len(model.log.spell_child) == 0 and len(model.log.event_code) == 0


def test_compile_parameters_is_reused_unchanged():
    config = small_config()
    params = compile_parameters(config)
    before = params.clocks["sen_support.request"]
    PathwayModel(config, 0, 1, params).run()
    assert params.clocks["sen_support.request"] is before
