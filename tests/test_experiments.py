"""Experiment files: every shipped one validates; one runs end to end; levers' dose response."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml

from hnsim.config import ConfigError, validate
from hnsim.experiment.definition import load_experiment
from hnsim.model.calendar import Calendar
from hnsim.model.levers import compile_levers

from conftest import ROOT, scaled_data


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_experiments_validate(path):
    experiment, folder = load_experiment(path)
    assert experiment.question.endswith("?")
    if experiment.base:
        overlays = [folder / s for s in experiment.scenarios] if experiment.kind != "compare" else []
        from hnsim.config import load_config

        load_config(folder / experiment.base, overlays)


def test_bad_experiment_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("question: Does this run at all, please?\nkind: compare\nbase: nowhere.yaml\nout: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="needs scenarios"):
        load_experiment(path)
    proc = subprocess.run([sys.executable, "-m", "hnsim.cli", "experiment", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_a_small_comparison_experiment_runs(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(scaled_data(0.05), sort_keys=False), encoding="utf-8")
    (tmp_path / "rigour.yaml").write_text((ROOT / "configs" / "scenarios" / "ehcp_rigour.yaml").read_text(), encoding="utf-8")
    (tmp_path / "e.yaml").write_text(
        "question: Does rigour cut new plans in a small authority?\nkind: compare\nbase: base.yaml\nscenarios: [rigour.yaml]\n"
        "replications: 2\nout: out\nreport: false\n",
        encoding="utf-8",
    )
    proc = subprocess.run([sys.executable, "-m", "hnsim.cli", "experiment", str(tmp_path / "e.yaml"), "-w", "1", "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "differences.csv").exists()
    import json

    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["question"] == "Does rigour cut new plans in a small authority?"  # the report's question is the experiment's own
    assert "saving on spend" in proc.stdout and "net effect on in-year balance" in proc.stdout


def test_dose_response_scales_effects_with_funding():
    data = scaled_data(0.05)
    data["levers"]["linc_funding"]["enabled"] = True

    def sampled(cost: float) -> dict:
        d = copy.deepcopy(data)
        d["levers"]["linc_funding"]["annual_cost_gbp"]["value"] = cost
        config = validate(d)
        cal = Calendar(config.simulation.start_date, config.simulation.end_date)
        return compile_levers(config, cal, seed=3, replication=0).sampled

    reference, quadruple, none = sampled(1_500_000), sampled(6_000_000), sampled(0)
    for key, value in reference.items():
        assert quadruple[key] == pytest.approx(2 * value)  # square root of 4
        assert none[key] == 0
