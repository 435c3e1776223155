"""`hnsim sweep`: the directory it writes, resume after an interruption or a kill, common random
numbers, failed points and bad sweep files."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats
from pandas.testing import assert_frame_equal

from hnsim.cli import main
from hnsim.results import store
from hnsim.experiment import sweep as sweep_module
from hnsim.experiment.executors import open_pool
from hnsim.experiment.sweep_file import load_sweep

from conftest import scaled_data

TABLES = ["design.csv", "outcomes.csv", "tornado.csv", "sensitivity.csv", "failures.csv"]


def write_sweep(folder: Path, **changes) -> Path:
    """A small config and a one-at-a-time sweep over it (7 points x 3 replications)."""
    (folder / "small.yaml").write_text(yaml.safe_dump(scaled_data(0.05, "2016-03-31"), sort_keys=False), encoding="utf-8")
    spec = {
        "base": "small.yaml",
        "parameters": {
            "levers": [
                {"name": "special_secondary_places", "path": "capacity.places.value.special_secondary", "low": 10, "high": 60, "integer": True},
                {"name": "assessment_team", "path": "assessment.team_capacity.value", "values": [2, 10]},
            ],
            "uncertainties": [{"name": "newly_identified", "path": "identification.new_per_year.value", "low": 100, "high": 200}],
        },
        "design": {"kind": "one_at_a_time"},
        "replications": 3,
        "seed": 11,
        "outcomes": {"metrics": ["ehcp_total", "spend_total"], "years": ["2015-16"]},
    }
    spec.update(changes)
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def run_cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_same_sweep(a: Path, b: Path) -> None:
    for name in TABLES:
        assert (a / name).exists() == (b / name).exists(), name
        if (a / name).exists():
            assert_frame_equal(pd.read_csv(a / name), pd.read_csv(b / name))
    assert_frame_equal(pd.read_parquet(a / "outcome_replications.parquet"), pd.read_parquet(b / "outcome_replications.parquet"))
    points = sorted(p.name for p in (a / "points").glob("*.parquet"))
    assert points == sorted(p.name for p in (b / "points").glob("*.parquet"))
    for name in points:
        assert_frame_equal(pd.read_parquet(a / "points" / name), pd.read_parquet(b / "points" / name))


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    """An uninterrupted run of the standard small sweep."""
    folder = tmp_path_factory.mktemp("clean")
    out = folder / "out"
    result = run_cli("sweep", str(write_sweep(folder)), "--out", str(out), "-w", "2", "--quiet")
    assert result.exit_code == 0, result.output
    return out


def test_sweep_writes_the_directory(clean):
    names = sorted(p.name for p in clean.iterdir())
    assert names == ["design.csv", "manifest.json", "outcome_replications.parquet", "outcomes.csv", "points", "tornado.csv"]
    manifest = json.loads((clean / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["points"] == manifest["points_done"] == 7
    assert manifest["seed"] == 11 and manifest["replications"] == 3 and len(manifest["design_hash"]) == 64
    design = pd.read_csv(clean / "design.csv")
    assert list(design.columns) == ["point", "varied", "special_secondary_places", "assessment_team", "newly_identified"]
    point = pd.read_parquet(clean / "points" / "point_00003.parquet")
    assert list(point.columns) == ["point", "replication", "financial_year", "metric", "value"]
    assert (point["point"] == 3).all() and sorted(point["replication"].unique()) == [0, 1, 2]
    outcomes = pd.read_csv(clean / "outcomes.csv")
    assert len(outcomes) == 7 * 2 and (outcomes["n"] == 3).all()
    # each outcome is the Student-t interval of its point's replications, and those are the points' own values
    per_rep = pd.read_parquet(clean / "outcome_replications.parquet")
    by_hand = per_rep.groupby(["point", "metric", "financial_year"])["value"].agg(["mean", "std", "count"]).reset_index()
    merged = outcomes.merge(by_hand, on=["point", "metric", "financial_year"], suffixes=("", "_hand"), validate="one_to_one")
    assert len(merged) == len(outcomes) and (merged["count"] == 3).all()
    half = stats.t.ppf(0.975, 2) * merged["std"] / math.sqrt(3)
    assert np.allclose(merged["mean"], merged["mean_hand"]) and np.allclose(merged["sd"], merged["std"])
    assert np.allclose(merged["ci95_low"], merged["mean_hand"] - half) and np.allclose(merged["ci95_high"], merged["mean_hand"] + half)
    assert (half > 0).any()
    point3 = point[(point.metric == "spend_total") & (point.financial_year == "2015-16")].sort_values("replication")["value"].to_numpy()
    assert np.array_equal(point3, per_rep.query("point == 3 and metric == 'spend_total'").sort_values("replication")["value"].to_numpy())
    tornado = pd.read_csv(clean / "tornado.csv")
    assert set(tornado["parameter"]) == {"special_secondary_places", "assessment_team", "newly_identified"}
    assert set(tornado["group"]) == {"lever", "uncertainty"}


def test_common_random_numbers_across_points(clean):
    """Places for secondary special schools cannot change a 2014-15 count of children identified."""
    per_rep = pd.read_parquet(clean / "outcome_replications.parquet")
    assert per_rep.groupby(["point", "metric"]).size().eq(3).all()
    first_year = pd.concat([pd.read_parquet(p) for p in sorted((clean / "points").glob("*.parquet"))])
    identified = first_year[(first_year.metric == "children_identified") & (first_year.financial_year == "2014-15")]
    by_point = identified[identified.point.isin([0, 1, 2])].pivot(index="replication", columns="point", values="value")
    assert by_point.nunique(axis=1).eq(1).all()


def test_resume_after_ctrl_c_equals_clean_run(tmp_path, clean, monkeypatch):
    path = write_sweep(tmp_path)
    out = tmp_path / "out"
    real_write = store.write_parquet
    written = []

    def write_then_interrupt(frame, target):
        if len(written) == 3:
            raise KeyboardInterrupt
        written.append(target)
        return real_write(frame, target)

    monkeypatch.setattr(sweep_module.store, "write_parquet", write_then_interrupt)
    with open_pool(2) as pool, pytest.raises(KeyboardInterrupt):
        sweep_module.run_sweep(load_sweep(path), out, pool)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["points_done"] == 3
    monkeypatch.setattr(sweep_module.store, "write_parquet", real_write)
    result = run_cli("sweep", str(path), "--out", str(out), "-w", "1", "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text())["sessions"] == 2
    assert_same_sweep(out, clean)


def _group_alive_after(group: int, seconds: float) -> bool:
    """Whether any process of a process group is still running after waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    return True


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_resume_after_kill_equals_clean_run(tmp_path):
    """Kill the process (no chance to tidy up) once some points are on disk, then rerun."""
    levels = list(range(2, 22))
    path = write_sweep(
        tmp_path,
        parameters={"levers": [{"name": "assessment_team", "path": "assessment.team_capacity.value", "values": levels}]},
        design={"kind": "grid"},
        replications=2,
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "hnsim.cli", "sweep", str(path), "--out", str(out), "-w", "1", "--quiet"]
    # its own process group, so that whatever it started can be found (and, at worst, cleared) after
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while proc.poll() is None and len(list((out / "points").glob("*.parquet"))) < 3:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        workers_left = _group_alive_after(proc.pid, seconds=30)
    finally:
        proc.wait()
        _kill_group(proc.pid)
    assert not workers_left, "a worker process outlived the sweep that was killed"
    before = len(list((out / "points").glob("*.parquet")))
    assert 3 <= before < len(levels), "the sweep ended before it could be killed"
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    result = run_cli("sweep", str(path), "--out", str(out), "-w", "2", "--quiet")
    assert result.exit_code == 0, result.output
    clean_out = tmp_path / "clean"
    assert run_cli("sweep", str(path), "--out", str(clean_out), "-w", "2", "--quiet").exit_code == 0
    for name in ("design.csv", "outcomes.csv"):
        assert_frame_equal(pd.read_csv(out / name), pd.read_csv(clean_out / name))
    assert_frame_equal(pd.read_parquet(out / "outcome_replications.parquet"), pd.read_parquet(clean_out / "outcome_replications.parquet"))


def test_two_identical_points_give_identical_results(tmp_path):
    path = write_sweep(
        tmp_path,
        parameters={"levers": [{"name": "assessment_team", "path": "assessment.team_capacity.value", "values": [4, 4]}]},
        design={"kind": "grid"},
        replications=2,
    )
    out = tmp_path / "out"
    assert run_cli("sweep", str(path), "--out", str(out), "-w", "2", "--quiet").exit_code == 0
    a = pd.read_parquet(out / "points" / "point_00000.parquet").drop(columns="point")
    b = pd.read_parquet(out / "points" / "point_00001.parquet").drop(columns="point")
    assert_frame_equal(a, b)
    wide = a.pivot_table(index=["financial_year", "metric"], columns="replication", values="value")
    assert not wide[0].equals(wide[1]), "replications must differ from each other"


def test_failed_point_is_recorded_and_the_rest_go_on(tmp_path):
    # each level is valid on its own; low 12 with mode 10 is not (the mode must lie between low and high)
    path = write_sweep(
        tmp_path,
        parameters={
            "levers": [{"name": "drafting_low", "path": "assessment.drafting_days.low", "values": [7, 12]}],
            "uncertainties": [{"name": "drafting_mode", "path": "assessment.drafting_days.mode", "values": [10, 14]}],
        },
        design={"kind": "grid"},
        replications=2,
    )
    out = tmp_path / "out"
    result = run_cli("sweep", str(path), "--out", str(out), "-w", "2", "--quiet")
    assert result.exit_code == 1
    assert "point 2:" in result.output and "mode must lie between low and high" in result.output
    failures = pd.read_csv(out / "failures.csv")
    assert failures["point"].tolist() == [2] and failures.loc[0, "drafting_low"] == 12
    assert sorted(p.name for p in (out / "points").iterdir()) == ["point_00000.parquet", "point_00001.parquet", "point_00003.parquet"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["points_failed"] == [2] and manifest["points_done"] == 3
    assert sorted(pd.read_csv(out / "outcomes.csv")["point"].unique()) == [0, 1, 3]


def test_changed_sweep_file_is_refused(tmp_path, clean):
    path = write_sweep(tmp_path, replications=4)
    result = run_cli("sweep", str(path), "--out", str(clean), "--quiet")
    assert result.exit_code == 2 and "different design" in result.output


def test_changed_outcomes_need_no_rerun(tmp_path, clean):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(clean, out)
    path = write_sweep(tmp_path, outcomes={"metrics": ["new_ehcps"], "years": ["2014-15", "2015-16"]})
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "points").iterdir()}
    assert run_cli("sweep", str(path), "--out", str(out), "--quiet").exit_code == 0
    assert stamps == {p.name: p.stat().st_mtime_ns for p in (out / "points").iterdir()}
    assert set(pd.read_csv(out / "outcomes.csv")["metric"]) == {"new_ehcps"}


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"replicatons": 3}, "replicatons: unknown key"),
        ({"design": {"kind": "latin_hypercube"}}, "design: a latin_hypercube design needs n"),
        ({"design": {"kind": "sobol", "n": 6}}, "sobol n must be a power of 2"),
        ({"design": {"kind": "morris", "n": 4}}, "give low and high (not values) for assessment_team"),
        ({"parameters": {"levers": [{"name": "x", "path": "capacity.places.value.special_secondry", "low": 1, "high": 2}]}},
         "parameters.levers[0].path: 'capacity.places.value.special_secondry' is not in the base config"),
        ({"parameters": {"uncertainties": [{"name": "p", "path": "placement.when_special_full.independent_probability.value", "low": 0.2, "high": 1.5}]}},
         "parameters.uncertainties[0]: level 1.5 makes the config invalid"),
        ({"parameters": {"levers": [{"name": "x", "path": "assessment.team_capacity.value", "low": 5, "high": 2}]}},
         "parameters.levers.0: low (5.0) must be below high (2.0)"),
        ({"outcomes": {"metrics": ["ehcp_totl"], "years": ["2015-16"]}}, "outcomes.metrics[0]: unknown metric 'ehcp_totl'"),
        ({"outcomes": {"metrics": ["ehcp_total"], "years": ["2030-31"]}}, "outcomes.years[0]: financial year '2030-31' is outside"),
        ({"base": "missing.yaml"}, "missing.yaml: file not found"),
    ],
)
def test_bad_sweep_files_exit_2_naming_the_key(tmp_path, changes, expected):
    path = write_sweep(tmp_path, **changes)
    result = run_cli("sweep", str(path), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "sweep.yaml" in result.output or "missing.yaml" in result.output
    assert not (tmp_path / "out").exists()


def test_shipped_sweep_files_load():
    root = Path(__file__).resolve().parents[1] / "configs" / "sweeps"
    files = sorted(root.glob("*.yaml"))
    assert len(files) >= 4
    kinds = {load_sweep(f, check_metrics=False).spec.design.kind for f in files}
    assert kinds == {"grid", "one_at_a_time", "latin_hypercube", "sobol", "morris"}
