"""`hnsim backtest --origins`: the rolling-origin backtest of one config, scored like `hnsim skill`."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from hnsim.cli import main
from hnsim.experiment.rolling import config_known_at, fixed_after
from hnsim.experiment.sweep_file import lookup

from conftest import ROOT, baseline_data


def test_the_config_is_cut_at_the_origin():
    data = baseline_data()
    data["calibration"]["free"] += [{"path": f"ehcp.post16_conversions_by_year.value.{y}", "low": 0, "high": 100} for y in ("2016-17", "2017-18")]
    known = config_known_at(data, 2017)
    free = [p["path"] for p in known["calibration"]["free"]]
    assert not any(p.endswith(("2017-18", "2018-19", "2019-20")) for p in free) and len(free) == len(data["calibration"]["free"]) - 1
    assert list(known["ehcp"]["post16_conversions_by_year"]["value"]) == ["2014-15", "2015-16", "2016-17"]  # fitted to later years: dropped
    refusal = known["assessment"]["refusal_probability_by_year"]["value"]
    assert refusal["2016-17"] == data["assessment"]["refusal_probability_by_year"]["value"]["2016-17"]
    assert refusal["2018-19"] == refusal["2016-17"]  # later published refusals do not reach the origin
    assert known["trends"]["data_end"] == "2016-12-31"  # damping starts where the data known at the origin end
    growth = next(p for p in known["calibration"]["free"] if p["path"] == "trends.requests.growth_per_year.value")
    assert growth["prior_source"].startswith("assumption:") and "2019" in data["calibration"]["free"][3]["prior_source"]  # a prior pooled from later years is not used
    assert not (known["calibration"].get("ensemble") or {}).get("file")  # the shipped members were fitted to later years
    named = fixed_after(data)  # fitted to 2019 once, not freed: named in the manifest
    assert named and all(lookup(data, f"{path}.source").startswith("calibrated:") for path in named)
    assert not set(named) & {p["path"].rsplit(".value", 1)[0] for p in data["calibration"]["free"]}


def test_rolling_backtest_writes_the_skill_tables(tmp_path):
    out = tmp_path / "rolling"
    args = ["backtest", str(ROOT / "configs" / "gloucestershire.yaml"), "--data", str(ROOT / "data" / "gloucestershire"), "--origins", "2018",
            "--replications", "1", "--max-evaluations", "1", "--report-replications", "2", "--workers", "1", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "horizon 1: hnsim mean APE" in result.output
    scored = pd.read_parquet(out / "skill.parquet")
    assert set(scored["authority"]) == {"Gloucestershire"} and (scored["origin"] == 2018).all()
    truth = pd.concat([pd.read_csv(ROOT / "data" / "gloucestershire" / f) for f in ("caseload.csv", "activity.csv")])
    total = scored[(scored["series"] == "ehcp_total") & (scored["forecaster"] == "hnsim")]
    assert total["year"].tolist() == [2019] and total["observed"].iloc[0] == truth.query("metric == 'ehcp_total' and year == 2019")["value"].iloc[0]
    requests = scored[(scored["series"] == "assessment_requests_calendar_year") & (scored["forecaster"] == "last_value")]
    assert requests["year"].tolist() == [2018, 2019] and requests["horizon"].tolist() == [1, 2]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "rolling backtest" and manifest["status"] == "complete" and manifest["fixed_after_origin"] == fixed_after(baseline_data())
    assert (out / "figures" / "origin_fans.png").exists()
    neither = CliRunner().invoke(main, [*args[:4], "--out", str(tmp_path / "x")])
    assert neither.exit_code == 2 and "either --fit-until" in neither.output
