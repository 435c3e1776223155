"""Calibration: free-parameter schema, targets from the observed files, the calibrated config, the
report table, the backtest split, and recovery of known parameters from model-made data."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hnsim.experiment import calibration as C
from hnsim.analysis.calibration_targets import backtest_summary, build_targets, target_table
from hnsim.experiment.calibrate import fit
from hnsim.report.calibration import markdown_table
from hnsim.config import validate
from hnsim.config.calibration import CalibrationSpec, FreeParameter
from hnsim.data.observed import load_observed
from hnsim.experiment.runner import combine, run_tasks
from hnsim.experiment.sweep_file import lookup

import yaml

from conftest import ROOT, baseline_data, scaled_data

OBSERVED = ROOT / "data" / "gloucestershire"


def test_free_parameter_rejects_bad_ranges_and_paths():
    with pytest.raises(ValueError, match="must be below"):
        FreeParameter(path="assessment.plan_probability.value", low=0.9, high=0.8)
    with pytest.raises(ValueError, match="sourced value"):
        FreeParameter(path="assessment.deadline_weeks", low=1, high=30)
    with pytest.raises(ValueError, match="solved linearly"):
        FreeParameter(path="assessment.plan_probability.value", low=0.5, high=0.9, solve="linear")
    with pytest.raises(ValueError, match="log_scale"):
        FreeParameter(path="sen_support.request_rate.value.primary", low=0.0, high=0.1, log_scale=True)
    with pytest.raises(ValueError, match="listed twice"):
        p = {"path": "assessment.plan_probability.value", "low": 0.5, "high": 0.9}
        CalibrationSpec(free=[p, p])


def test_shipped_config_calibration_section_points_at_real_values():
    data = baseline_data()
    config = validate(data, "shipped")
    assert config.calibration is not None and config.calibration.fit is not None
    assert config.calibration.fit.fit_until == 2019  # fitted to 2015-2019 only
    for p in config.calibration.free:
        value = lookup(data, p.path)
        assert p.low <= value <= p.high, p.path
        assert lookup(data, C.sourced_node(p.path) + ".source").startswith("calibrated:"), p.path


def test_unit_cube_round_trip():
    linear = FreeParameter(path="a.value", low=2.0, high=6.0)
    log = FreeParameter(path="a.value", low=0.001, high=0.1, log_scale=True)
    for p, v in ((linear, 3.5), (log, 0.01)):
        assert C.from_unit(p, C.to_unit(p, v)) == pytest.approx(v)
    assert C.to_unit(log, 0.01) == pytest.approx(0.5)
    assert C.to_unit(linear, 100.0) == 1.0  # clipped to the range


def test_calibrated_config_validates_and_carries_fitted_sources():
    data = baseline_data()
    data.pop("calibration", None)
    spec = CalibrationSpec(free=[
        FreeParameter(path="sen_support.request_rate.value.primary", low=0.005, high=0.05, log_scale=True),
        FreeParameter(path="placement.first_setting_shares.value.primary.special", low=0.05, high=0.4, share=True),
        FreeParameter(path="capacity.places.value.special_post16", low=60, high=250),
    ])
    data["calibration"] = spec.model_dump(mode="json", exclude_none=True)
    old_source = data["sen_support"]["request_rate"]["source"].split("; was: ", 1)[-1]  # the shipped source is itself calibrated
    values = {"sen_support.request_rate.value.primary": 0.0123, "placement.first_setting_shares.value.primary.special": 0.2, "capacity.places.value.special_post16": 151.6}
    record = {"date": "2019-06-01", "data_dir": "data/gloucestershire", "fit_until": 2019, "objective": 0.5, "replications": 8, "evaluations": 40}
    out = C.calibrated_data(data, spec, values, record, "SEN2 2015-2019")
    config = validate(out, "calibrated")
    assert config.sen_support.request_rate.value["primary"] == pytest.approx(0.0123)
    row = config.placement.first_setting_shares.value["primary"]
    assert row["special"] == pytest.approx(0.2) and sum(row.values()) == pytest.approx(1.0, abs=1e-6)
    assert config.capacity.places.value["special_post16"] == 152  # whole places stay whole
    source = config.sen_support.request_rate.source
    assert source.startswith("calibrated: hnsim calibrate 2019-06-01") and "bounds [0.005, 0.05]" in source and source.endswith(f"was: {old_source}")
    assert config.calibration.fit.fit_until == 2019
    again = C.calibrated_data(out, spec, values, record, "SEN2 2015-2019")  # a second fit keeps the first source, not a chain
    assert again["sen_support"]["request_rate"]["source"].count("was:") == 1


def test_targets_cover_every_required_figure_and_the_report_has_a_row_each():
    observed = load_observed(OBSERVED)
    targets = build_targets(observed, "2014-15", "2018-19", 2019)
    keys = {(t.target, t.year) for t in targets}
    required = {(t.target, t.year) for t in targets if t.required}
    expected = {("ehcp_total", y) for y in range(2015, 2020)}
    expected |= {(m, y) for m in ("assessment_requests_calendar_year", "new_ehcps_calendar_year") for y in range(2016, 2020)}
    expected |= {(f"share_{s}", 2019) for s in ("mainstream", "special", "independent", "ap", "post16")}
    expected |= {("spend_total", 2019), ("cumulative_deficit", 2019)}
    assert required == expected
    assert ("ehcp_total", 2014) not in keys  # January 2014 is before the simulation starts
    shares_2019 = [t for t in targets if t.is_share and t.year == 2019]
    assert sum(t.observed for t in shares_2019) == pytest.approx(1.0)
    assert {t.target: t.observed for t in shares_2019}["share_special"] == pytest.approx(1122 / 3658)
    fake = np.tile(np.array([[t.observed] for t in targets]), (1, 5)) * np.linspace(0.98, 1.02, 5)
    table = target_table(fake, targets)
    assert len(table) == len(targets) and table["within_tolerance"].all()
    table.insert(1, "label", table["target"])
    text = markdown_table(table)
    assert text.count("\n") == len(targets) + 1


def test_backtest_splits_targets_by_year():
    observed = load_observed(OBSERVED)
    fitted = build_targets(observed, "2014-15", "2016-17", 2017)
    assert fitted and max(t.year for t in fitted) == 2017
    assert not any(t.target in ("spend_total", "cumulative_deficit") for t in fitted)  # money is 2018-19 only
    everything = build_targets(observed, "2014-15", "2018-19", 2019)
    table = target_table(np.tile(np.array([[t.observed * 1.1] for t in everything]), (1, 3)), everything, fit_until=2017)
    assert (table["fitted"] == (table["year"] <= 2017)).all()
    test, mape = backtest_summary(table, 2017)
    assert set(test["year"]) == {2018, 2019}
    assert mape == pytest.approx(10.0)


def _synthetic_history(data: dict, seed: int, replications: int) -> pd.DataFrame:
    """Observed-style rows (census and calendar years) averaged over replications of the model."""
    config = validate(data, "synthetic")
    annual = combine(run_tasks([("truth", config, r) for r in range(replications)], seed))
    means = annual.groupby(["metric", "financial_year"])["value"].mean().dropna().reset_index()
    census = ["ehcp_total", "ehcp_mainstream", "ehcp_special", "ehcp_independent", "ehcp_ap", "ehcp_post16", "ehcp_other"]
    calendar = ["assessment_requests_calendar_year", "new_ehcps_calendar_year"]
    rows = means[means["metric"].isin(census + calendar)].copy()
    rows["year"] = rows["financial_year"].str[:4].astype(int) + 1
    rows["kind"] = np.where(rows["metric"].isin(calendar), "calendar_year", "census")
    rows["source"] = "synthetic: made by the model with known parameters"
    return rows[["financial_year", "metric", "value", "source", "year", "kind"]]


def test_calibration_recovers_known_parameters(tmp_path: Path):
    base = scaled_data(0.1, "2018-03-31", legacy=True)
    free = [
        {"path": "sen_support.request_rate.value.primary", "low": 0.005, "high": 0.06, "log_scale": True},
        {"path": "placement.first_setting_shares.value.primary.special", "low": 0.02, "high": 0.5, "share": True},
    ]
    truth = {"sen_support.request_rate.value.primary": 0.03, "placement.first_setting_shares.value.primary.special": 0.3}
    spec = CalibrationSpec(free=free)
    made = C.set_parameters(base, spec.free, list(truth.values()))
    history = _synthetic_history(made, seed=777, replications=16)  # other random numbers than the fit's
    history.to_csv(tmp_path / "history.csv", index=False)
    start = copy.deepcopy(base)
    start["calibration"] = {"free": free}
    start = C.set_parameters(start, spec.free, [0.012, 0.1])  # perturbed well away from the truth
    result = fit(start, tmp_path, 2017, replications=8, max_evaluations=40, report_replications=4, workers=2)
    got = {p.path: lookup(result.data, p.path) for p in spec.free}
    assert got["sen_support.request_rate.value.primary"] == pytest.approx(0.03, rel=0.2)
    assert got["placement.first_setting_shares.value.primary.special"] == pytest.approx(0.3, abs=0.07)
    assert result.objective < 1.0
    assert result.data["calibration"]["fit"]["fit_until"] == 2017


def test_backtest_drops_the_years_it_cannot_fit():
    from hnsim.experiment.calibrate import without_later_years

    data = yaml.safe_load((ROOT / "configs" / "gloucestershire.yaml").read_text(encoding="utf-8"))
    years = ["2014-15", "2015-16", "2016-17", "2017-18", "2018-19", "2019-20"]
    data["assessment"]["refusal_probability_by_year"]["value"] = {y: 0.05 for y in years}
    data["calibration"]["free"] += [{"path": f"assessment.refusal_probability_by_year.value.{y}", "low": 0, "high": 0.3} for y in years]
    trimmed = without_later_years(data, 2017)
    kept = {f["path"] for f in trimmed["calibration"]["free"]}
    assert "assessment.refusal_probability_by_year.value.2017-18" in kept
    assert "assessment.refusal_probability_by_year.value.2018-19" not in kept
    assert set(trimmed["assessment"]["refusal_probability_by_year"]["value"]) == {"2014-15", "2015-16", "2016-17", "2017-18"}
    assert "2018-19" in data["assessment"]["refusal_probability_by_year"]["value"]  # the input is untouched
    assert "trends.requests.growth_per_year.value" in kept  # a trend is not a year: kept
