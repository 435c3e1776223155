"""Posterior ensembles: the emulator and history matching, the members' file, and replication r
running member r in every scenario."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from hnsim.analysis.emulator import effective_sample_size, fit_emulator, implausibility, second_largest, systematic_resample, tempered_weights
from hnsim.config import ConfigError, load_config, validate
from hnsim.config.calibration import CalibrationSpec
from hnsim.experiment import calibration as C
from hnsim.experiment.calibrate import fit
from hnsim.experiment.runner import member_config, run_replication
from tests.conftest import scaled_data
from tests.test_calibration import _synthetic_history


def test_emulator_reproduces_a_quadratic_and_its_variance_grows_away_from_the_design():
    rng = np.random.default_rng(1)
    x = rng.random((60, 2))
    y = np.column_stack([1 + 2 * x[:, 0] - 3 * x[:, 1] ** 2, 5 * x[:, 0] * x[:, 1]])
    em = fit_emulator(x, y)
    probe = np.array([[0.3, 0.6], [0.9, 0.1]])
    mean, var = em.predict(probe)
    assert mean[:, 0] == pytest.approx(1 + 2 * probe[:, 0] - 3 * probe[:, 1] ** 2, abs=1e-3)
    assert mean[:, 1] == pytest.approx(5 * probe[:, 0] * probe[:, 1], abs=1e-3)
    _, far = em.predict(np.array([[3.0, 3.0]]))
    assert far[0, 0] > var[0, 0]


def test_implausibility_and_second_largest():
    imp = implausibility(np.array([[10.0, 0.0, 4.0]]), np.zeros((1, 3)), np.zeros(3), np.ones(3))
    assert imp[0] == pytest.approx([10.0, 0.0, 4.0])
    assert second_largest(imp)[0] == 4.0


def test_tempering_reaches_the_effective_sample_asked_for_and_resampling_follows_weights():
    ll = -0.5 * np.linspace(0, 40, 200) ** 2
    w, t = tempered_weights(ll, min_ess=20)
    assert 0 < t < 1
    assert effective_sample_size(w) == pytest.approx(20, rel=0.05)
    idx = systematic_resample(np.array([0.5, 0.25, 0.25]), 8, np.random.default_rng(0))
    assert np.bincount(idx, minlength=3).tolist() == [4, 2, 2]


def _ensemble_config(tmp_path: Path, members: list[dict[str, float]]) -> Path:
    data = scaled_data(0.1, "2016-03-31")
    data["calibration"] = {"free": [{"path": "assessment.team_capacity.value", "low": 1, "high": 50}], "method": "history_matching",
                           "ensemble": {"members": len(members), "file": "small.ensemble.csv"}}
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    table = pd.DataFrame(members)
    table.insert(0, "member", range(len(members)))
    table.to_csv(tmp_path / "small.ensemble.csv", index=False)
    return path


def test_an_explicit_share_takes_its_whole_row_out_of_the_members():
    from hnsim.config.ensemble import drop_member_paths

    row = "placement.first_setting_shares.value.primary"
    data = {"calibration": {"ensemble": {"table": [{f"{row}.special": 0.3, f"{row}.mainstream": 0.7, "a.value": 1.0}]}}}
    kept = drop_member_paths(data, [f"{row}.special"])["calibration"]["ensemble"]["table"]
    assert kept == [{"a.value": 1.0}]


def test_replication_r_runs_member_r_and_an_explicit_value_wins(tmp_path: Path):
    path = _ensemble_config(tmp_path, [{"assessment.team_capacity.value": 3}, {"assessment.team_capacity.value": 40}])
    config = load_config(path)
    assert [member_config(config, r).assessment.team_capacity.value for r in range(4)] == [3, 40, 3, 40]
    overlay = tmp_path / "more_staff.yaml"
    overlay.write_text("assessment:\n  team_capacity: {value: 12, source: 'assumption: a test'}\n", encoding="utf-8")
    scenario = load_config(path, [overlay])
    assert {member_config(scenario, r).assessment.team_capacity.value for r in range(2)} == {12}
    overridden = load_config(path, overrides={"assessment.team_capacity.value": 9})
    assert member_config(overridden, 1).assessment.team_capacity.value == 9
    # members change what is simulated, and plain data (as sent to workers) gives the same result
    a = run_replication(config, 0, 5).table
    b = run_replication(config, 1, 5).table
    assert not a["value"].equals(b["value"])
    from hnsim.config import config_dict
    assert run_replication(config_dict(config), 1, 5).table.equals(b)


def test_a_bad_ensemble_file_is_a_clear_error(tmp_path: Path):
    path = _ensemble_config(tmp_path, [{"assessment.team_capacity.value": 3}, {"assessment.team_capacity.value": 4}])
    (tmp_path / "small.ensemble.csv").write_text("member,assessment.team_capacity.value\n0,abc\n1,4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2: every value must be a number"):
        load_config(path)
    (tmp_path / "small.ensemble.csv").unlink()
    with pytest.raises(ConfigError, match="ensemble file not found"):
        load_config(path)


def test_priors_need_a_source_and_both_moments():
    with pytest.raises(ValueError, match="prior_source"):
        CalibrationSpec(free=[{"path": "a.value", "low": 0, "high": 1, "prior_mean": 0.5, "prior_sd": 0.1}])
    with pytest.raises(ValueError, match="both prior_mean and prior_sd"):
        CalibrationSpec(free=[{"path": "a.value", "low": 0, "high": 1, "prior_mean": 0.5}])
    with pytest.raises(ValueError, match="both free and uncertain"):
        CalibrationSpec(free=[{"path": "a.value", "low": 0, "high": 1}], uncertain=[{"path": "a.value", "low": 0, "high": 1, "source": "assumption: x"}])


def test_history_matching_finds_the_truth_reproducibly_and_resumes(tmp_path: Path):
    base = scaled_data(0.1, "2018-03-31", legacy=True)
    free = [{"path": "sen_support.request_rate.value.primary", "low": 0.005, "high": 0.06, "log_scale": True}]
    spec = CalibrationSpec(free=free)
    made = C.set_parameters(base, spec.free, [0.03])
    history = _synthetic_history(made, seed=777, replications=8)
    history.to_csv(tmp_path / "history.csv", index=False)
    start = copy.deepcopy(base)
    start["calibration"] = {"free": free, "method": "history_matching",
                            "uncertain": [{"path": "finance.allocation_growth_after.value", "low": 0.0, "high": 0.04, "source": "assumption: a test"}],
                            "ensemble": {"members": 10, "design_points": 12, "waves": 2}}
    cache = tmp_path / "cache"
    result = fit(start, tmp_path, 2017, replications=2, max_evaluations=0, report_replications=10, workers=2, cache_dir=cache)
    members = result.members
    assert len(members) == 10 and list(members["member"]) == list(range(10))
    rates = members["sen_support.request_rate.value.primary"]
    assert rates.median() == pytest.approx(0.03, rel=0.25)
    growth = np.sort(members["finance.allocation_growth_after.value"].to_numpy())
    assert np.all(np.diff(np.floor(growth / 0.004)) == 1)  # one member in each tenth of the range
    assert result.data["calibration"]["fit"]["method"] == "history_matching"
    validate(result.data, "calibrated")
    again = fit(start, tmp_path, 2017, replications=2, max_evaluations=0, report_replications=10, workers=1, cache_dir=cache)
    pd.testing.assert_frame_equal(again.members, members)  # same seed, any number of workers
    assert again.matched.simulated == 0 and result.matched.simulated == len(result.history)  # every design point read back from the cache
