"""Strategy levers: metamorphic tests under common random numbers, and `hnsim compare`."""

from __future__ import annotations

import copy
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal

from hnsim.analysis.compare import decompose_spend, paired_differences
from hnsim.config import ConfigError, validate
from hnsim.experiment.runner import combine, run_tasks
from hnsim.model.calendar import Calendar
from hnsim.model.levers import Ramp, compile_levers

from conftest import ROOT, scaled_data

REPS = 6


def with_levers(data: dict, **enabled: dict) -> dict:
    data = copy.deepcopy(data)
    for name, overrides in enabled.items():
        data["levers"][name].update({"enabled": True, **overrides})
    return data


def run(data: dict, reps: int = REPS, seed: int = 17) -> pd.DataFrame:
    config = validate(data, "lever test config")
    table = combine(run_tasks([("s", config, r) for r in range(reps)], seed, workers=2))
    return table.pivot_table(index=["replication", "financial_year"], columns="metric", values="value")


@pytest.fixture(scope="module")
def base_data() -> dict:
    return scaled_data(scale=0.25, end_date="2026-03-31")


@pytest.fixture(scope="module")
def base(base_data) -> pd.DataFrame:
    return run(base_data)


def totals(table: pd.DataFrame, metric: str) -> np.ndarray:
    return table[metric].groupby(level="replication").sum().to_numpy()


def test_ramp_and_clock():
    ramp = Ramp(100.0, 200.0)
    assert ramp(50) == 0 and ramp(200) == pytest.approx(0.5) and ramp(400) == 1
    assert Ramp(100.0, 0.0, end_day=300.0)(350) == 0
    clock = ramp.clock(-0.5)
    assert clock.multiplier(50) == 1.0 and clock.multiplier(1000) == 0.5
    # halfway up the ramp, half the effect (to within the monthly steps of the clock)
    assert clock.multiplier(200) == pytest.approx(0.75, abs=0.5 * 0.5 * 30.5 / 200)
    # over the ramp the multiplier integrates to the straight line's, to within a monthly step's error
    month = 365.25 / 12
    assert clock.integral_to(300.0) - clock.integral_to(100.0) == pytest.approx(200 * 0.75, abs=month * 0.5 * month / 200)


def test_effects_are_drawn_per_lever_and_replication(base_data):
    data = with_levers(base_data, linc_funding={}, restorative_practice={})
    config = validate(data)
    cal = Calendar(config.simulation.start_date, config.simulation.end_date)
    first = compile_levers(config, cal, seed=1, replication=0).sampled
    again = compile_levers(config, cal, seed=1, replication=0).sampled
    other = compile_levers(config, cal, seed=1, replication=1).sampled
    alone = compile_levers(validate(with_levers(base_data, linc_funding={})), cal, seed=1, replication=0).sampled
    assert first == again and first != other
    # a lever's draw does not depend on which other levers are on (paired comparisons)
    assert {k: v for k, v in first.items() if k.startswith("linc")} == alone
    low, high = -0.25, -0.05
    assert all(low <= v <= high for k, v in first.items() if k.startswith("linc_funding.sen_support.request"))


def _effect_draws(config, reps: int, seed: int = 1) -> pd.DataFrame:
    cal = Calendar(config.simulation.start_date, config.simulation.end_date)
    return pd.DataFrame([compile_levers(config, cal, seed=seed, replication=r).sampled for r in range(reps)])


def test_effects_are_stratified_over_replications(base_data):
    # LINC's two hazard effects (-0.25 to -0.05, 0 to 0.15) and restorative practice's three
    config = validate(with_levers(base_data, linc_funding={}, restorative_practice={}))
    ranges = {"linc_funding.sen_support.request.0": (-0.25, -0.05), "linc_funding.sen_support.step_down.1": (0.0, 0.15),
              "restorative_practice.sen_support.exclusion.0": (-0.20, 0.0), "restorative_practice.ehcp.exclusion.1": (-0.20, 0.0),
              "restorative_practice.sen_support.request.2": (-0.10, 0.0)}
    n = 64
    draws = _effect_draws(config, n)
    for key, (low, high) in ranges.items():
        u = (draws[key].to_numpy() - low) / (high - low)
        # one draw in each 64th of the range: a Latin hypercube over the 64 replications
        assert sorted(np.floor(u * n).astype(int)) == list(range(n)), key
        # so their mean is within 1/(2n) of the midpoint (independent draws: sd of the mean 1/sqrt(12n) = 0.036)
        assert abs(u.mean() - 0.5) < 0.5 / n, key
        # and every prefix is stratified at its own scale: the first 16 hold one draw per 16th, the first 8 one per 8th
        for prefix in (8, 16, 32):
            assert sorted(np.floor(u[:prefix] * prefix).astype(int)) == list(range(prefix)), (key, prefix)
    # the effects are not stratified alike: their draws in the same replication differ
    assert draws[list(ranges)].rank().corr().abs().to_numpy()[np.triu_indices(len(ranges), 1)].max() < 0.5


def test_effect_draws_are_the_same_in_every_scenario_and_for_any_workers(base_data):
    both = _effect_draws(validate(with_levers(base_data, linc_funding={}, restorative_practice={})), 16)
    alone = _effect_draws(validate(with_levers(base_data, linc_funding={})), 16)
    assert_frame_equal(both[alone.columns], alone)
    assert not both.equals(_effect_draws(validate(with_levers(base_data, linc_funding={}, restorative_practice={})), 16, seed=2))
    small = scaled_data(0.05, end_date="2016-03-31")
    config = validate(with_levers(small, linc_funding={"start_date": "2014-06-01"}))
    tasks = [("s", config, r) for r in range(4)]
    assert_frame_equal(combine(run_tasks(tasks, 5, workers=1)), combine(run_tasks(tasks, 5, workers=2)))


def test_zero_effect_zero_cost_lever_changes_nothing(base_data, base):
    data = copy.deepcopy(base_data)
    data["levers"]["nothing"] = {
        "enabled": True,
        "description": "a lever that does nothing",
        "start_date": "2016-04-01",
        "ramp_up_years": {"value": 1, "source": "test"},
        "annual_cost_gbp": {"value": 0, "source": "test"},
        "hazard_effects": [{"hazard": "sen_support.request", "change": {"low": 0, "high": 0, "source": "test"}}],
        "refusal_change": {"low": 0, "high": 0, "source": "test"},
        "bespoke_share": {"low": 0, "high": 0, "source": "test"},
    }
    changed = run(data)
    lever_lines = [c for c in changed.columns if c.startswith("spend_lever_")]
    assert_frame_equal(changed.drop(columns=lever_lines), base)


def test_lever_after_the_horizon_changes_nothing(base_data, base):
    late = {"start_date": "2030-04-01"}
    data = with_levers(base_data, linc_funding=late, ehcp_rigour=late, bespoke_packages=late, special_school_expansion={"extra_places": [
        {"pool": "special_secondary", "places": 20, "opening_date": "2031-09-01", "source": "test"}]})
    changed = run(data)
    lever_lines = [c for c in changed.columns if c.startswith("spend_lever_")]
    assert_frame_equal(changed.drop(columns=lever_lines), base)


def test_more_special_places_never_increase_independent_placements(base_data, base):
    """With capacity fixed (the council commissioning nothing of its own), more places never raise
    independent placements in any replication. With the council commissioning under pressure the
    relation holds only on average: the lever's places relieve the pressure that would have made the
    council commission its own, in the pool where children wait, so a replication can end with fewer
    places in that pool than the status quo (the council's 30 secondary places against the lever's 25)."""
    places = {"extra_places": [
        {"pool": "special_secondary", "places": 25, "opening_date": "2016-09-01", "source": "test"},
        {"pool": "special_primary", "places": 15, "opening_date": "2016-09-01", "source": "test"}]}
    frozen_data = copy.deepcopy(base_data)
    frozen_data["status_quo"]["commissioning"]["ceiling"]["value"] = 0
    frozen, frozen_more = run(frozen_data), run(with_levers(frozen_data, special_school_expansion=places))
    assert not frozen["special_places_commissioned"].any()
    assert (totals(frozen_more, "new_independent_placements") <= totals(frozen, "new_independent_placements")).all()
    assert totals(frozen_more, "new_independent_placements").sum() < totals(frozen, "new_independent_placements").sum()
    more = run(with_levers(base_data, special_school_expansion=places))
    assert totals(more, "new_independent_placements").sum() < totals(base, "new_independent_placements").sum()
    assert totals(more, "special_places_commissioned").sum() <= totals(base, "special_places_commissioned").sum()
    assert (more["special_places"].to_numpy() >= base["special_places"].to_numpy()).all()
    assert (frozen_more["special_places"].to_numpy() >= frozen["special_places"].to_numpy()).all()


def test_outreach_never_increases_mainstream_to_special_moves(base_data, base):
    data = with_levers(base_data, special_school_outreach={"start_date": "2015-09-01"})
    outreach = run(data)
    assert (totals(outreach, "mainstream_to_special_moves") <= totals(base, "mainstream_to_special_moves")).all()
    assert totals(outreach, "mainstream_to_special_moves").sum() < totals(base, "mainstream_to_special_moves").sum()
    assert (outreach["spend_lever_special_school_outreach"].groupby(level="replication").sum() > 0).all()


def test_levers_cost_money_and_block_transfer_adds_to_the_allocation(base_data, base):
    data = with_levers(base_data, linc_funding={"start_date": "2016-04-01"}, block_transfer={"start_date": "2016-04-01"})
    changed = run(data, reps=2)
    year = "2018-19"
    # a whole financial year costs exactly the annual figure (price base 2018-19: no inflation)
    assert changed.loc[(0, year), "spend_lever_linc_funding"] == pytest.approx(1_500_000, rel=1e-12)
    assert changed.loc[(0, "2015-16"), "spend_lever_linc_funding"] == 0
    transfer = changed.loc[(0, year), "allocation_transfers"]
    levers = data["levers"]
    assert transfer > 0 and changed.loc[(0, year), "spend_levers"] == pytest.approx(
        changed.loc[(0, year), "spend_lever_linc_funding"] + changed.loc[(0, year), "spend_lever_block_transfer"])
    low, high = levers["block_transfer"]["allocation_transfer_gbp"]["low"], levers["block_transfer"]["allocation_transfer_gbp"]["high"]
    assert low <= transfer <= high
    assert changed.loc[(0, year), "hnb_allocation"] == pytest.approx(base.loc[(0, year), "hnb_allocation"] + transfer)
    assert changed.loc[(0, "2015-16"), "hnb_allocation"] == base.loc[(0, "2015-16"), "hnb_allocation"]


def test_a_lever_running_a_whole_year_costs_its_annual_cost(base_data):
    changed = run(with_levers(base_data, linc_funding={"start_date": "2016-04-01"}), reps=1)
    assert changed.loc[(0, "2018-19"), "spend_lever_linc_funding"] == 1_500_000


def test_rigour_raises_refusals(base_data, base):
    data = with_levers(base_data, ehcp_rigour={"start_date": "2015-04-01"})
    rigour = run(data)
    assert totals(rigour, "assessments_refused").sum() > totals(base, "assessments_refused").sum()


def test_bespoke_lever_needs_a_cost(base_data):
    data = with_levers(base_data, bespoke_packages={})
    del data["costs"]["settings"]["bespoke"]
    with pytest.raises(ConfigError, match="bespoke"):
        validate(data)


def test_decomposition_by_hand():
    """Three settings, every effect present. Base: 10, 5 and 5 placement-years at £1, £4 and £2
    (mean £2, £40); scenario: 14, 8 and 2 at £1.50, £4 and £2.50 (£58); other spend £7 then £11.
    Volume: 4 more years at the base mean, £8. Mix at base costs: (14-12)x1 + (8-6)x4 + (2-6)x2 = £2.
    Unit cost on the scenario's years: 14x0.5 + 8x0 + 2x0.5 = £8. Other: 11 - 7 = £4."""
    base = {"a": (10, 1.0), "b": (5, 4.0), "c": (5, 2.0)}
    scenario = {"a": (14, 1.5), "b": (8, 4.0), "c": (2, 2.5)}
    rows = []
    for name, settings, other in (("baseline", base, 7.0), ("s", scenario, 11.0)):
        for k, (years, cost) in settings.items():
            rows.append((name, 0, "2020-21", f"placement_years_{k}", float(years)))
            rows.append((name, 0, "2020-21", f"spend_setting_{k}", years * cost))
        rows.append((name, 0, "2020-21", "spend_total", sum(y * c for y, c in settings.values()) + other))
    annual = pd.DataFrame(rows, columns=["scenario", "replication", "financial_year", "metric", "value"])
    d = decompose_spend(annual, "baseline").iloc[0]
    assert d["change_in_spend"] == pytest.approx(69 - 47)
    assert (d["volume"], d["mix"], d["unit_cost"], d["other"]) == (pytest.approx(8.0), pytest.approx(2.0), pytest.approx(8.0), pytest.approx(4.0))


def test_paired_differences_use_pairs():
    annual = pd.DataFrame(
        [("baseline", r, "2020-21", "m", 100.0 + 10 * r) for r in range(4)] + [("s", r, "2020-21", "m", 98.0 + 10 * r) for r in range(4)],
        columns=["scenario", "replication", "financial_year", "metric", "value"],
    )
    row = paired_differences(annual, "baseline").iloc[0]
    assert row["difference"] == pytest.approx(-2.0) and row["sd"] == pytest.approx(0.0)
    assert row["ci95_low"] == pytest.approx(-2.0) and row["ci95_high"] == pytest.approx(-2.0)


def test_compare_command_writes_its_tables(tmp_path):
    data = scaled_data(scale=0.05, end_date="2021-03-31")
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    scenario = ROOT / "configs" / "scenarios" / "linc_funding.yaml"
    out = tmp_path / "cmp"
    proc = subprocess.run(
        [sys.executable, "-m", "hnsim.cli", "compare", str(base), str(scenario), "-n", "3", "-w", "2", "--out", str(out), "--quiet"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("annual.parquet", "summary.csv", "differences.csv", "savings.csv", "decomposition.csv", "outcomes.csv", "manifest.json"):
        assert (out / name).exists(), name
    differences = pd.read_csv(out / "differences.csv")
    assert set(differences["scenario"]) == {"linc_funding"}
    savings = pd.read_csv(out / "savings.csv")
    assert {"cumulative_saving", "ci95_low", "ci95_high", "balance_positive_from"} <= set(savings.columns)
    bad = subprocess.run([sys.executable, "-m", "hnsim.cli", "compare", str(base), str(tmp_path / "missing.yaml")], capture_output=True, text=True)
    assert bad.returncode == 2 and "file not found" in bad.stderr


def test_effect_points_are_where_compile_levers_drew_each_effect(base_data):
    """`effect_points` names every uncertain effect the compiled levers drew, and its point maps to
    the drawn size (low + (high - low) u, before any dose response), in every shipped lever."""
    from hnsim.model.levers import effect_points, effect_ranges

    data = with_levers(base_data, **{name: {} for name in base_data["levers"]})
    config = validate(data)
    calendar = Calendar(config.simulation.start_date, config.simulation.end_date)
    for rep in (0, 5):
        plan = compile_levers(config, calendar, 17, rep)
        points = effect_points(config, 17, rep)
        ranges = {key: effect for name, lever in config.levers.items() for key, effect in effect_ranges(name, lever)}
        assert set(ranges) == set(plan.sampled)
        assert set(points) == {key for key, effect in ranges.items() if effect.high > effect.low}
        for key, u in points.items():
            lever = config.levers[key.split(".")[0]]
            if lever.dose_response is None:
                low, high = ranges[key].low, ranges[key].high
                assert plan.sampled[key] == pytest.approx(low + (high - low) * u), key
