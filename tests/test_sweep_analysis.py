"""Sensitivity analysis against functions with known answers; designs; goal-seek; adaptive replications."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from hnsim.analysis import sensitivity
from hnsim.cli import main
from hnsim.experiment import seek as seek_module
from hnsim.experiment.adaptive import Precision, replicate_until
from hnsim.experiment.design import build_design
from hnsim.experiment.seek import SeekProblem, seek
from hnsim.experiment.sweep_file import load_sweep

from conftest import small_config
from test_sweep import write_sweep

pytest.importorskip("SALib")
from SALib.sample import morris as morris_sample  # noqa: E402
from SALib.sample import sobol as sobol_sample  # noqa: E402

PROBLEM = {"num_vars": 4, "names": ["a", "b", "c", "d"], "bounds": [[0, 1]] * 4}
COEFFICIENTS = np.array([5.0, -3.0, 1.0, 0.0])  # known ranking by size: a, b, c, d


def test_sobol_indices_recover_a_linear_function():
    x = sobol_sample.sample(PROBLEM, 1024, calc_second_order=False, seed=1)
    table = sensitivity.sobol_indices(PROBLEM, x @ COEFFICIENTS, seed=1)
    assert table["parameter"].tolist() == ["a", "b", "c", "d"]
    # for a linear function of uniform inputs, S1 = ST = c_i^2 / sum(c^2)
    expected = COEFFICIENTS**2 / (COEFFICIENTS**2).sum()
    assert np.allclose(table.set_index("parameter").loc[["a", "b", "c", "d"], "S1"], expected, atol=0.03)


def test_sobol_indices_recover_ishigami():
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = sobol_sample.sample(problem, 2048, calc_second_order=False, seed=3)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    table = sensitivity.sobol_indices(problem, y, seed=3).set_index("parameter")
    # analytic values: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    assert table.sort_values("S1", ascending=False).index.tolist() == ["x2", "x1", "x3"]
    assert table.index.tolist() == ["x1", "x2", "x3"]  # ranked by ST
    assert np.allclose(table.loc[["x1", "x2", "x3"], "ST"], [0.558, 0.442, 0.244], atol=0.05)


def test_morris_recovers_the_ranking():
    x = morris_sample.sample(PROBLEM, 30, num_levels=4, seed=2)
    table = sensitivity.morris_indices(PROBLEM, x, x @ COEFFICIENTS, levels=4, seed=2)
    assert table["parameter"].tolist() == ["a", "b", "c", "d"]
    assert np.allclose(table.set_index("parameter").loc[["a", "b", "c", "d"], "mu_star"], np.abs(COEFFICIENTS))


def test_tornado_pairs_replications():
    """Outcome = 100 + 4 * a - 1 * b + noise shared by replication (common random numbers)."""
    points = pd.DataFrame({"point": range(5), "varied": ["base", "a", "a", "b", "b"], "a": [1, 0, 2, 1, 1], "b": [5, 5, 5, 0, 10]})
    noise = np.random.default_rng(0).normal(0, 10, size=8)
    rows = []
    for _, p in points.iterrows():
        for rep, e in enumerate(noise):
            rows.append({"point": p.point, "replication": rep, "metric": "m", "financial_year": "2025-26", "value": 100 + 4 * p.a - p.b + e})
    table = sensitivity.tornado(points, pd.DataFrame(rows), "m", "2025-26", ["a", "b"], {"a": "lever", "b": "uncertainty"})
    assert table["parameter"].tolist() == ["b", "a"] and table["rank"].tolist() == [1, 2]
    b, a = table.iloc[0], table.iloc[1]
    assert a.low_effect == pytest.approx(-4) and a.high_effect == pytest.approx(4) and a.swing == pytest.approx(8)
    assert b.low_effect == pytest.approx(5) and b.high_effect == pytest.approx(-5) and b.swing == pytest.approx(10)
    # the shared noise cancels in the paired differences: the intervals shrink to the effect
    assert a.high_effect_ci95_high - a.high_effect_ci95_low == pytest.approx(0, abs=1e-9)
    assert b.group == "uncertainty"


def test_point_outcomes_intervals():
    per_rep = pd.DataFrame({"point": [0] * 4, "replication": range(4), "metric": "m", "financial_year": "2025-26", "value": [1.0, 2, 3, 4]})
    table = sensitivity.point_outcomes(per_rep, pd.DataFrame({"point": [0], "a": [7]}))
    row = table.iloc[0]
    assert row.a == 7 and row["mean"] == 2.5 and row.n == 4
    assert row.ci95_high - row["mean"] == pytest.approx(3.182446 * np.std([1, 2, 3, 4], ddof=1) / 2, rel=1e-5)


def test_designs(tmp_path):
    ranged = {"levers": [{"name": "places", "path": "capacity.places.value.special_secondary", "low": 10, "high": 60, "integer": True}],
              "uncertainties": [{"name": "identified", "path": "identification.new_per_year.value", "low": 100, "high": 200}]}
    grid = load_sweep(write_sweep(tmp_path, design={"kind": "grid"}), check_metrics=False)
    assert len(build_design(grid).points) == 2 * 2 * 2
    lhs_path = write_sweep(tmp_path, parameters=ranged, design={"kind": "latin_hypercube", "n": 9, "seed": 4})
    lhs = build_design(load_sweep(lhs_path, check_metrics=False)).points
    assert len(lhs) == 9 and lhs["places"].map(type).eq(int).all() and lhs["places"].between(10, 60).all()
    # a Latin hypercube puts exactly one point in each ninth of every range
    assert sorted(((lhs["identified"] - 100) / 100 * 9).astype(int)) == list(range(9))
    again = build_design(load_sweep(lhs_path, check_metrics=False)).points
    pd.testing.assert_frame_equal(lhs, again)
    sobol = build_design(load_sweep(write_sweep(tmp_path, parameters=ranged, design={"kind": "sobol", "n": 8}), check_metrics=False))
    assert len(sobol.points) == 8 * (2 + 2) and sobol.sample.shape == (32, 2)
    morris = build_design(load_sweep(write_sweep(tmp_path, parameters=ranged, design={"kind": "morris", "n": 3}), check_metrics=False))
    assert len(morris.points) == 3 * (2 + 1)


def test_seek_bisects_to_the_boundary(monkeypatch):
    """With a bound that rises with the level and crosses the target at 7.3, the answer is 8."""
    def fake(config_data, problem, level, replications, seed, executor=None):
        bound = level - 7.3
        meets = bound >= problem.target if problem.direction == "at_least" else bound <= problem.target
        return {"level": level, "mean": bound + 1, "bound_side": problem.side, "bound": bound, "meets": meets}

    monkeypatch.setattr(seek_module, "evaluate", fake)
    problem = SeekProblem("x", 0, 100, "m", "2025-26", 0.0, integer=True)
    result = seek({}, problem, 5, 1)
    assert result.status == "found" and result.level == 8
    assert 7 in result.evaluations["level"].tolist() and len(result.evaluations) <= 10
    # at most -2: met below 5.3; continuous search to within 1/100 of the range
    upper = seek({}, SeekProblem("x", 0, 100, "m", "2025-26", -2.0, direction="at_most"), 5, 1)
    assert upper.status == "found" and 4.3 < upper.level <= 5.3
    assert seek({}, SeekProblem("x", 50, 100, "m", "2025-26", 0.0), 5, 1).status == "met_throughout"


def test_seek_command_on_the_model(tmp_path):
    config = tmp_path / "small.yaml"
    write_sweep(tmp_path)
    out = tmp_path / "seek"
    result = CliRunner().invoke(main, ["seek", str(config), "--parameter", "assessment.team_capacity.value", "--low", "1", "--high", "12",
                                       "--integer", "--metric", "ehcp_total", "--year", "2015-16", "--target", "140", "-n", "4",
                                       "-w", "2", "--seed", "11", "--out", str(out)])
    evaluations = pd.read_csv(out / "seek_evaluations.csv")
    assert (evaluations["n"] == 4).all() and evaluations["level"].is_unique
    summary = pd.read_json(out / "seek.json", typ="series")
    if summary["status"] == "found":
        assert result.exit_code == 0
        found = evaluations.set_index("level").loc[summary["level"]]
        assert found["meets"] and found["bound"] >= 140
        below = evaluations[evaluations["level"] < summary["level"]]
        assert not below["meets"].any() and summary["level"] - 1 in below["level"].tolist()
    else:
        assert result.exit_code == (3 if summary["status"] == "not_met" else 0)
    bad = CliRunner().invoke(main, ["seek", str(config), "--parameter", "assessment.team_capacty.value", "--low", "1", "--high", "2",
                                    "--metric", "ehcp_total", "--year", "2015-16", "--target", "1"])
    assert bad.exit_code == 2 and "--parameter: 'assessment.team_capacty.value' is not in the config" in bad.output


def test_adaptive_replications_stop_at_the_half_width_or_the_cap():
    config = small_config(0.05, "2016-03-31")
    loose = Precision("ehcp_total", "2015-16", 1e9, max_replications=20)
    results, record = replicate_until(config, "baseline", loose, 3, seed=5)
    assert [r.replication for r in results] == [0, 1, 2] and record["met"] and len(record["batches"]) == 1
    tight = Precision("ehcp_total", "2015-16", 1e-6, max_replications=7)
    results, record = replicate_until(config, "baseline", tight, 2, seed=5, workers=2)
    assert [r.replication for r in results] == list(range(7)) and not record["met"]
    assert [b["replications"] for b in record["batches"]] == [2, 4, 7]
    with pytest.raises(ValueError, match="METRIC:YEAR:HALFWIDTH"):
        Precision.parse("ehcp_total:2015:3")


def test_run_until_half_width_cli(tmp_path):
    write_sweep(tmp_path)
    result = CliRunner().invoke(main, ["run", str(tmp_path / "small.yaml"), "-n", "2", "--seed", "3", "-w", "1", "--quiet",
                                       "--out", str(tmp_path / "run"), "--until-half-width", "ehcp_total:2015-16:1e9"])
    assert result.exit_code == 0, result.output
    manifest = pd.read_json(tmp_path / "run" / "manifest.json", typ="series")
    assert manifest["replications"] == 2 and manifest["precision"]["met"] is True
    bad = CliRunner().invoke(main, ["run", str(tmp_path / "small.yaml"), "--until-half-width", "ehcp_totl:2015-16:3"])
    assert bad.exit_code == 2 and "unknown metric 'ehcp_totl'" in bad.output
