"""`hnsim run`: the run directory contract (manifest, annual.parquet, summary.csv), written atomically."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from hnsim.analysis.summary import SUMMARY_COLUMNS
from hnsim.experiment import run as run_module

from conftest import scaled_data, small_config

REQUIRED_METRICS = {
    "ehcp_total", "ehcp_mainstream", "ehcp_resourced", "ehcp_special", "ehcp_independent", "ehcp_ap",
    "ehcp_post16", "ehcp_other", "sen_support_total", "ap_pupils", "waiting_for_special_place",
    "assessment_requests", "assessments_refused", "new_ehcps", "ehcps_ceased", "mainstream_to_special_moves",
    "permanent_exclusions", "ehe_deregistrations", "pct_plans_within_20_weeks", "spend_total",
    "spend_mainstream_topups", "spend_special", "spend_independent", "spend_ap", "spend_post16", "spend_other",
    "hnb_allocation", "in_year_balance", "cumulative_deficit",
}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(scaled_data(0.05), sort_keys=False), encoding="utf-8")
    return path


def test_run_writes_the_contract(tmp_path, config_file):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "hnsim.cli", "run", str(config_file), "-n", "2", "-w", "2", "--seed", "5", "--out", str(out), "--quiet"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["annual.parquet", "manifest.json", "summary.csv"]
    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("hnsim_version", "config", "config_sha256", "seed", "replications", "workers", "started_at", "finished_at", "wall_seconds", "sim_events", "status"):
        assert key in manifest
    assert manifest["status"] == "complete" and manifest["seed"] == 5 and manifest["replications"] == 2
    assert manifest["sim_events"] > 100
    annual = pd.read_parquet(out / "annual.parquet")
    assert list(annual.columns) == ["scenario", "replication", "financial_year", "metric", "value"]
    assert REQUIRED_METRICS <= set(annual.metric)
    assert sorted(annual.replication.unique()) == [0, 1]
    assert set(annual.financial_year) == {"2014-15", "2015-16", "2016-17"}
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert (summary.n == 2).sum() > 0


def test_interrupted_run_is_marked_and_leaves_no_results(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "run_tasks", boom)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_module.run(small_config(0.05), 2, 1, 1, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]


def test_rerun_replaces_stale_results_atomically(tmp_path):
    out = tmp_path / "run"
    first = run_module.run(small_config(0.05), 1, 1, 1, out)
    second = run_module.run(small_config(0.05), 1, 2, 1, out)
    assert first.manifest["seed"] == 1 and second.manifest["seed"] == 2
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))
    stored = pd.read_parquet(out / "annual.parquet")
    pd.testing.assert_frame_equal(stored, second.annual)


def test_cli_rejects_bad_arguments(config_file):
    proc = subprocess.run([sys.executable, "-m", "hnsim.cli", "run", str(config_file), "-n", "0"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_unwritable_out_is_bad_input_for_run_compare_and_report(tmp_path, config_file):
    overlay = Path(__file__).resolve().parents[1] / "configs" / "scenarios" / "ehcp_rigour.yaml"
    done = tmp_path / "done"
    assert subprocess.run([sys.executable, "-m", "hnsim.cli", "run", str(config_file), "-n", "1", "-w", "1", "--out", str(done), "--quiet"]).returncode == 0
    for args in (["run", str(config_file), "-n", "1"], ["compare", str(config_file), str(overlay), "-n", "2"], ["report", str(done)]):
        proc = subprocess.run([sys.executable, "-m", "hnsim.cli", *args, "--out", "/proc/x"], capture_output=True, text=True)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and "error: /proc/x: cannot write there" in proc.stderr and "choose another --out" in proc.stderr


def test_keep_log_and_recost_from_the_command_line(tmp_path, config_file):
    out = tmp_path / "kept"
    assert subprocess.run([sys.executable, "-m", "hnsim.cli", "run", str(config_file), "-n", "2", "-w", "1", "--out", str(out), "--quiet", "--keep-log"]).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["annual.parquet", "events.parquet", "manifest.json", "spells.parquet", "summary.csv"]
    data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    # a unit cost the ensemble's members do not set (they scale each line and set central spend)
    data["costs"]["settings"]["independent"]["annual_gbp"]["all"] *= 1.5
    (tmp_path / "dearer.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    ok = subprocess.run([sys.executable, "-m", "hnsim.cli", "recost", str(out), "--config", str(tmp_path / "dearer.yaml"), "--out", str(tmp_path / "re")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    before, after = pd.read_parquet(out / "annual.parquet"), pd.read_parquet(tmp_path / "re" / "annual.parquet")
    independent = lambda t: t[t.metric == "spend_independent"]["value"].sum()  # noqa: E731
    assert independent(after) == pytest.approx(1.5 * independent(before), rel=1e-9) and independent(before) > 0
    plans = lambda t: t[t.metric == "ehcp_total"]["value"].tolist()  # noqa: E731
    assert plans(after) == plans(before)  # the same children
    data["assessment"]["team_capacity"]["value"] += 1
    (tmp_path / "faster.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "hnsim.cli", "recost", str(out), "--config", str(tmp_path / "faster.yaml")], capture_output=True, text=True)
    assert refused.returncode == 2 and "assessment.team_capacity.value: differs from the run's config" in refused.stderr
    assert "Traceback" not in refused.stderr
