"""Same seed, same results: whatever the number of workers; different seeds differ."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

from hnsim.experiment.runner import combine, compact, member_config, run_tasks
from hnsim.model import annual_metrics, compile_parameters, simulate
from hnsim.model.records import CHILD_FIELDS, EVENT_FIELDS, SPELL_FIELDS

from conftest import small_config


def tasks(config, n=3):
    return [("baseline", config, rep) for rep in range(n)]


def test_parallel_equals_sequential():
    config = small_config(scale=0.05)
    sequential = combine(run_tasks(tasks(config), seed=3, workers=1))
    parallel = combine(run_tasks(tasks(config), seed=3, workers=2))
    assert_frame_equal(sequential, parallel)


def test_compact_tables_combine_to_the_same_table():
    """A run holds its replications' tables compact (names as categories); combined, they are the
    plain tables' combination exactly, across scenarios whose names differ."""
    config = small_config(scale=0.05)
    results = run_tasks([("baseline", config, 0), ("baseline", config, 1), ("other", config, 0)], seed=3)
    plain = combine(results)
    for result in results:
        result.table = compact(result.table)
        assert isinstance(result.table["metric"].dtype, pd.CategoricalDtype)
    assert_frame_equal(combine(results), plain)
    assert set(plain["scenario"]) == {"baseline", "other"}


def test_same_seed_identical_and_other_seed_differs():
    config = small_config(scale=0.05)
    a = simulate(config, 1, 99)
    b = simulate(config, 1, 99)
    c = simulate(config, 1, 100)
    for name in SPELL_FIELDS + EVENT_FIELDS + CHILD_FIELDS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert not np.array_equal(a.spell_start, c.spell_start)


def test_replications_are_distinct_streams():
    config = small_config(scale=0.05)
    table = combine(run_tasks(tasks(config, 2), seed=3))
    wide = table.pivot_table(index=["financial_year", "metric"], columns="replication", values="value")
    assert not wide[0].equals(wide[1])


def test_long_table_shape():
    config = small_config(scale=0.05)
    table = combine(run_tasks(tasks(config, 1), seed=3))
    assert list(table.columns) == ["scenario", "replication", "financial_year", "metric", "value"]
    assert table["financial_year"].str.fullmatch(r"\d{4}-\d{2}").all()
    assert not table.duplicated(["scenario", "replication", "financial_year", "metric"]).any()
    # the table holds the model's own metrics for that replication and seed, year by year
    member = member_config(config, 0)  # replication 0 runs ensemble member 0
    params = compile_parameters(member)
    metrics = annual_metrics(simulate(member, 0, 3, params), params)
    assert set(table["metric"]) == set(metrics)
    wide = table.pivot(index="financial_year", columns="metric", values="value")
    assert list(wide.index) == [label for label, _, _ in params.calendar.fy_bounds()]
    for name in ("ehcp_total", "new_ehcps", "spend_total", "pct_plans_within_20_weeks"):
        assert np.allclose(wide[name].to_numpy(), metrics[name], equal_nan=True), name


def test_a_replication_freezes_what_lives_before_it_once_a_process_and_gives_the_same_results():
    """The objects alive at a process's first replication leave the cycle collector's sight once
    (its full passes over them took two thirds of a fit-period replication); later replications
    freeze nothing more, and results do not depend on it."""
    import gc

    from hnsim.experiment.runner import freeze_long_lived, run_replication

    config = small_config()
    first = run_replication(config, 0, 7).table
    frozen = gc.get_freeze_count()
    assert frozen > 0
    kept = [[] for _ in range(1000)]  # tracked objects made after the first replication: later ones freeze none of them
    freeze_long_lived()
    again = run_replication(config, 0, 7).table
    assert gc.get_freeze_count() == frozen and len(kept) == 1000
    assert_frame_equal(first, again)


def test_a_finished_replication_leaves_no_cycle_of_children_for_the_collector():
    """The run drops its pending events and live children, so they go by reference counting."""
    import gc

    from conftest import scaled_data
    from hnsim.config import validate
    from hnsim.model import records as R
    from hnsim.model.pathway import PathwayModel

    def children_left_to_the_collector(release: bool) -> int:
        model = PathwayModel(validate(scaled_data(0.1, end_date="2030-03-31")), 0, 3)
        if not release:
            model._release = lambda: None
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            gc.collect()
            model.run()
            del model
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            return sum(isinstance(o, R.Child) for o in gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            if was_enabled:
                gc.enable()

    assert children_left_to_the_collector(release=False) > 50  # the test can see them
    assert children_left_to_the_collector(release=True) == 0
