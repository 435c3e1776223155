"""The C build of the innermost loop (hnsim/model/_draws.pyx) against the pure Python it replaces:
the same uniforms, the same earliest hazard, the same replication, to the last bit.

Where hnsim was installed without a C compiler the module is absent, the pure Python runs and
these comparisons have nothing to compare (skipped, saying so).
"""

from __future__ import annotations

import random

import pytest
from pandas.testing import assert_frame_equal

from hnsim.experiment.runner import run_replication
from hnsim.model import no_plan, plans, streams
from hnsim.model.hazard import trend_clock
from hnsim.model.parameters import FLAT
from hnsim.model.records import Child

from conftest import small_config

compiled = streams.compiled
pytestmark = pytest.mark.skipif(compiled is None, reason="hnsim.model._draws was not built here (no C compiler at install): the pure Python runs")

KEYS = [0, 1, 2**63 - 1, 2**63, 2**64 - 1] + [random.Random(k).getrandbits(64) for k in range(200)]


def test_a_childs_uniforms_are_the_pure_python_ones_bit_for_bit():
    assert streams.ChildDraws.uniform is compiled.uniform and streams.draw_uniform is compiled.draw_uniform
    for key in KEYS:
        for counter in (1, 2, 3, 1000, 2**40):
            assert compiled.draw_uniform(key, counter) == streams.PYTHON_DRAW_UNIFORM(key, counter)
        fast, slow = streams.ChildDraws(key), streams.ChildDraws(key)
        for _ in range(20):
            assert fast.uniform() == streams.PYTHON_UNIFORM(slow)
        assert fast.n == slow.n == 20


def test_the_earliest_hazard_is_the_pure_python_one_bit_for_bit():
    """Flat and trend clocks, options that win and none that does (the deadline), tags of any kind."""
    python_draw = plans.PlanStage.__dict__["python_draw"].__func__
    clock = trend_clock(0.0, 8000.0, 0.08, 365.0, 4000.0)
    rng = random.Random(5)
    for key in KEYS:
        now = rng.uniform(0.0, 3000.0)
        options = tuple((f"option {i}", rng.choice([1e-5, 1e-3, 0.02]), rng.choice([FLAT, clock])) for i in range(rng.randint(1, 6)))
        deadline = now + rng.choice([1.0, 400.0, 1e9])
        fast, slow = Child(0, key, 2010, -3000.0, 0), Child(0, key, 2010, -3000.0, 0)
        fast.draws.n = slow.draws.n = rng.randint(0, 50)
        assert compiled.earliest(fast, now, options, deadline) == python_draw(slow, now, options, deadline)
        assert fast.draws.n == slow.draws.n


def test_a_replication_is_the_same_with_the_pure_python_draws(monkeypatch):
    config = small_config()
    built = run_replication(config, 1, 11).table
    monkeypatch.setattr(streams.ChildDraws, "uniform", streams.PYTHON_UNIFORM)
    monkeypatch.setattr(plans.PlanStage, "draw", plans.PlanStage.__dict__["python_draw"])
    monkeypatch.setattr(no_plan, "draw_uniform", streams.PYTHON_DRAW_UNIFORM)
    assert_frame_equal(built, run_replication(config, 1, 11).table)
