"""Config layer: bad input gets one clear line per problem naming the file, the key and what is allowed."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import TypeAdapter

from hnsim.cli import main
from hnsim.config import ConfigError, apply_overrides, config_sha256, deep_merge, load_config, validate
from hnsim.config.schema import Distribution

from conftest import BASELINE, ROOT, baseline_data


def write(tmp_path: Path, data: dict, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False), encoding="utf-8")
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


def rename(mapping: dict, old: str, new: str) -> None:
    """Misspell a key: the value moves to the new name (a row of shares still sums to 1)."""
    mapping[new] = mapping.pop(old)


def first_settings(d: dict) -> dict:
    return d["placement"]["first_setting_shares"]["value"]


def post16(d: dict) -> dict:
    return d["placement"]["transfer"]["post16_destinations"]["value"]


#: (mutation of the shipped config, key path named, words in the message): each one line, exit 2.
BAD_VALUES = {
    "unknown key": (lambda d: d["simulation"].update(census_dya=3), "simulation.census_dya", "unknown key"),
    "probability above 1": (lambda d: d["assessment"]["plan_probability"].update(value=1.5), "assessment.plan_probability.value", "less than or equal to 1"),
    "negative rate": (lambda d: d["sen_support"]["step_down_rate"]["value"].update(primary=-0.1), "sen_support.step_down_rate.value.primary", "greater than or equal to 0"),
    "negative places": (lambda d: d["capacity"]["places"]["value"].update(special_primary=-5), "capacity.places.value.special_primary", "greater than or equal to 0"),
    "not a number": (lambda d: d["assessment"]["team_capacity"].update(value="many"), "assessment.team_capacity.value", "valid integer"),
    "missing key": (lambda d: d["assessment"].pop("plan_probability"), "assessment.plan_probability", "required key is missing"),
    "unknown phase": (lambda d: d["sen_support"]["request_rate"]["value"].update(year9=0.1), "sen_support.request_rate.value.year9", "unknown phase 'year9'; allowed: early_years"),
    "unknown pool": (lambda d: rename(d["capacity"]["places"]["value"], "special_post16", "special_post_16"), "capacity.places.value.special_post_16", "unknown pool"),
    # every share table: keys from the model's vocabulary, shares 0..1, rows summing to 1
    "setting misspelt": (lambda d: rename(first_settings(d)["primary"], "special", "specail"), "placement.first_setting_shares.value.primary.specail", "unknown setting 'specail'; allowed: mainstream"),
    "phase misspelt in shares": (lambda d: rename(first_settings(d), "secondary", "secondry"), "placement.first_setting_shares.value.secondry", "unknown phase 'secondry'"),
    "first settings not summing to 1": (lambda d: first_settings(d)["primary"].update(special=0.9), "placement.first_setting_shares.value.primary", "must sum to 1"),
    "initial setting misspelt": (lambda d: rename(d["initial_population"]["ehcp_setting_shares"]["value"]["post16"], "independent", "indepedent"), "initial_population.ehcp_setting_shares.value.post16.indepedent", "unknown setting"),
    "need shares not summing to 1": (lambda d: d["identification"]["need_shares"]["value"]["primary"].update(SEMH=0.9), "identification.need_shares.value.primary", "must sum to 1"),
    "need misspelt": (lambda d: rename(d["identification"]["need_shares"]["value"]["primary"], "ASD", "ADS"), "identification.need_shares.value.primary.ADS", "unknown need 'ADS'"),
    "post-16 destination misspelt": (lambda d: rename(post16(d)["school"], "stay", "stya"), "placement.transfer.post16_destinations.value.school.stya", "unknown post-16 destination 'stya'; allowed: stay, post16_fe, post16_specialist, cease"),
    "post-16 group misspelt": (lambda d: rename(post16(d), "independent", "indep"), "placement.transfer.post16_destinations.value.indep", "unknown setting group at year 12 'indep'; allowed: school, special, independent"),
    "post-16 share above 1": (lambda d: post16(d)["special"].update(stay=1.2), "placement.transfer.post16_destinations.value.special.stay", "less than or equal to 1"),
    "post-16 row not summing to 1": (lambda d: post16(d)["independent"].update(cease=0.5), "placement.transfer.post16_destinations.value.independent", "must sum to 1"),
    "statements ended at 16 twice": (lambda d: d["placement"]["transfer"].update(leaving_school_ehcp_share_by_year={"value": {"2014-15": 0.5}, "source": "assumption: test"}),
                                     "placement.transfer", "give post16_cease_probability_by_year or leaving_school_ehcp_share_by_year, not both"),
    "transfer phase misspelt": (lambda d: rename(d["placement"]["transfer"]["mainstream_to_special_probability"]["value"], "secondary", "secondry"), "placement.transfer.mainstream_to_special_probability.value.secondry", "unknown phase entered at a transfer 'secondry'; allowed: primary, secondary"),
    # distributions take exactly their family's parameters
    "distribution with a stray parameter": (lambda d: d["assessment"]["decision_days"].update(mean=999), "assessment.decision_days", "a triangular distribution takes exactly low, mode, high and source (mean not allowed)"),
    "distribution missing a parameter": (lambda d: d["assessment"]["decision_days"].update(dist="lognormal"), "assessment.decision_days", "a lognormal distribution takes exactly mean, sd and source (missing mean, sd; low, mode, high not allowed)"),
    "unknown distribution": (lambda d: d["assessment"]["drafting_days"].update(dist="normal"), "assessment.drafting_days", "dist must be one of: fixed, exponential, uniform, triangular, lognormal, gamma (got dist: 'normal')"),
    "distribution out of order": (lambda d: d["assessment"]["decision_days"].update(low=50), "assessment.decision_days", "mode must lie between low and high (got low 50.0, mode 35.0, high 42.0)"),
    # ages and financial years are checked at their own key
    "move-in age beyond 24": (lambda d: d["ehcp"]["move_in_age_weights"]["value"].update({30: 1}), "ehcp.move_in_age_weights.value.30", "age 30 is outside 0..24 (a plan ends at 25)"),
    "move-in ages all zero": (lambda d: d["ehcp"]["move_in_age_weights"].update(value={5: 0}), "ehcp", "no age a weight > 0"),
    "identification age beyond 15": (lambda d: d["identification"]["age_weights"]["value"].update({16: 1}), "identification.age_weights.value.16", "outside 0..15"),
    "financial year misspelt": (lambda d: d["finance"]["hnb_allocation_gbp"]["value"].update({"2019/20": 1.0}), "finance.hnb_allocation_gbp.value.2019/20", "'2019/20' is not a financial year; write it like '2018-19'"),
    "financial year out of step": (lambda d: d["ehcp"]["post16_conversions_by_year"]["value"].update({"2016-18": 1.0}), "ehcp.post16_conversions_by_year.value.2016-18", "not a financial year"),
    "price base year misspelt": (lambda d: d["costs"].update(price_base_year="2018/19"), "costs.price_base_year", "not a financial year"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_bad_values_name_file_key_and_rule(tmp_path, case):
    mutate, key, words = BAD_VALUES[case]
    problems = problems_for(tmp_path, mutate)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{tmp_path / 'bad.yaml'}: {key}: ") and words in problems[0], problems


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_check_command_exits_2_with_one_line(tmp_path, case):
    mutate, key, words = BAD_VALUES[case]
    data = baseline_data()
    mutate(data)
    result = CliRunner().invoke(main, ["check", str(write(tmp_path, data))])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'bad.yaml'}: {key}: ") and words in lines[0], lines


def test_every_shipped_distribution_family_samples_its_own_parameters():
    """The union keeps the field names the samplers read."""
    from hnsim.model.distributions import sampler

    cases = {
        "fixed": ({"value": 7}, 0.3, 7.0),
        "exponential": ({"mean": 10}, 1 - math.exp(-1), 10.0),
        "uniform": ({"low": 2, "high": 6}, 0.25, 3.0),
        "triangular": ({"low": 0, "mode": 5, "high": 10}, 0.5, 5.0),
        "lognormal": ({"mean": 4, "sd": 2}, 0.5, 4 / math.sqrt(1.25)),  # the median, exp(mu)
        "gamma": ({"mean": 3, "sd": 3}, 1 - math.exp(-1), 3.0),  # shape 1: exponential
    }
    adapter = TypeAdapter(Distribution)
    for family, (parameters, u, expected) in cases.items():
        dist = adapter.validate_python({"dist": family, **parameters, "source": "test"})
        assert sampler(dist)(u) == pytest.approx(expected), family


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


LEVERS = ", ".join(baseline_data()["levers"])


def test_misspelt_lever_in_an_overlay_is_one_line(tmp_path):
    overlay = write(tmp_path, {"levers": {"linc_fundng": {"enabled": True}}}, "overlay.yaml")
    with pytest.raises(ConfigError) as info:
        load_config(BASELINE, [overlay])
    assert info.value.problems == [
        f"{overlay}: levers.linc_fundng: unknown lever 'linc_fundng' (known: {LEVERS}); "
        "a new lever needs description, start_date, ramp_up_years, annual_cost_gbp"
    ]
    result = CliRunner().invoke(main, ["check", str(BASELINE), "--scenario", str(overlay)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {info.value.problems[0]}"]


def test_an_overlay_may_define_a_whole_new_lever():
    config = load_config(BASELINE, [ROOT / "configs" / "scenarios" / "stress_request_spike.yaml"])
    assert "request_spike" not in baseline_data()["levers"] and config.levers["request_spike"].enabled


@pytest.mark.parametrize(
    "path, words",
    [
        ("capacity.expansions.places", "capacity.expansions is a list of "),
        ("capacity.expansions.99.places", "'99' is not an index 0.."),
        ("assessment.team_capacity.value.low", "assessment.team_capacity.value is a single value (55), not a section with 'low' in it"),
        ("assessment.team_capacty.value", "no section 'team_capacty' in assessment"),
    ],
)
def test_overrides_that_run_into_a_list_or_a_value_are_config_errors(path, words):
    data = baseline_data()
    data["assessment"]["team_capacity"]["value"] = 55
    with pytest.raises(ConfigError) as info:
        apply_overrides(data, {path: 1})
    assert len(info.value.problems) == 1 and info.value.problems[0].startswith(f"override {path}: ") and words in info.value.problems[0]
    with pytest.raises(ConfigError):
        load_config(BASELINE, overrides={path: 1})


def test_overrides_reach_into_lists_by_index():
    data = apply_overrides(baseline_data(), {"capacity.expansions.0.places": 3})
    assert data["capacity"]["expansions"][0]["places"] == 3


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
