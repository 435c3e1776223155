"""Config layer: bad input gets one clear line per problem naming the file, the key and what is allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hnsim.config import ConfigError, config_sha256, deep_merge, load_config, validate

from conftest import BASELINE, baseline_data


def write(tmp_path: Path, data: dict, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def problems_for(tmp_path: Path, mutate) -> list[str]:
    data = baseline_data()
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.problems


def test_shipped_config_is_valid():
    config = load_config(BASELINE)
    assert config.meta.local_authority == "Gloucestershire"
    assert config.simulation.start_date.isoformat() == "2014-04-01"
    assert config.simulation.end_date.year >= 2035


def test_every_sourced_value_cites_a_source():
    def walk(node, path):
        if path == ".calibration":
            return  # the fit's free parameters and record, not evidence for a value
        if isinstance(node, dict):
            if "value" in node and not path.endswith("expansions"):
                assert isinstance(node.get("source"), str) and len(node["source"]) > 10, path
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                assert not isinstance(value, dict) or "source" in str(value), f"{path}.{i}"
                walk(value, f"{path}.{i}")

    walk(baseline_data(), "")


@pytest.mark.parametrize(
    "mutate, key, words",
    [
        (lambda d: d["simulation"].update(census_dya=3), "simulation.census_dya", "unknown key"),
        (lambda d: d["assessment"]["plan_probability"].update(value=1.5), "assessment.plan_probability.value", "less than or equal to 1"),
        (lambda d: d["sen_support"]["step_down_rate"]["value"].update(primary=-0.1), "sen_support.step_down_rate.value.primary", "greater than or equal to 0"),
        (lambda d: d["capacity"]["places"]["value"].update(special_primary=-5), "capacity.places.value.special_primary", "greater than or equal to 0"),
        (lambda d: d["assessment"]["team_capacity"].update(value="many"), "assessment.team_capacity.value", "valid integer"),
        (lambda d: d["assessment"].pop("plan_probability"), "assessment.plan_probability", "required key is missing"),
        (lambda d: d["identification"]["need_shares"]["value"]["primary"].update(SEMH=0.9), "identification.need_shares", "must sum to 1"),
        (lambda d: d["finance"]["hnb_allocation_gbp"]["value"].update({"2019/20": 1.0}), "(top level)", "not a financial year"),
        (lambda d: d["assessment"]["decision_days"].update(dist="lognormal"), "assessment.decision_days", "needs mean, sd"),
        (lambda d: d["sen_support"]["request_rate"]["value"].update(year9=0.1), "sen_support.request_rate.value", "allowed: early_years"),
    ],
)
def test_bad_values_name_file_key_and_rule(tmp_path, mutate, key, words):
    problems = problems_for(tmp_path, mutate)
    assert len(problems) == 1, problems
    line = problems[0]
    assert str(tmp_path / "bad.yaml") in line
    assert key in line
    assert words in line


def test_several_problems_reported_together(tmp_path):
    def mutate(d):
        d["assessment"]["plan_probability"]["value"] = 2
        d["simulation"]["seeds"] = 1

    assert len(problems_for(tmp_path, mutate)) == 2


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("meta: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken.yaml \(line \d+, column \d+\): not valid YAML"):
        load_config(broken)


def test_overlay_merges_and_validates(tmp_path):
    overlay = write(tmp_path, {"assessment": {"team_capacity": {"value": 55}}}, "overlay.yaml")
    config = load_config(BASELINE, [overlay])
    assert config.assessment.team_capacity.value == 55
    assert config.assessment.plan_probability.value == validate(baseline_data()).assessment.plan_probability.value


def test_deep_merge_replaces_leaves_only():
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}


def test_hash_is_stable_and_sensitive():
    a = validate(baseline_data())
    data = baseline_data()
    data["simulation"]["seed"] = 7
    assert config_sha256(a) == config_sha256(validate(baseline_data()))
    assert config_sha256(a) != config_sha256(validate(data))


def test_cli_check_exits_2_without_traceback(tmp_path):
    data = baseline_data()
    data["assessment"]["refusal_probability"]["value"] = 3
    path = write(tmp_path, data)
    proc = subprocess.run([sys.executable, "-m", "hnsim.cli", "check", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "assessment.refusal_probability.value" in proc.stderr
    ok = subprocess.run([sys.executable, "-m", "hnsim.cli", "check", str(BASELINE)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
