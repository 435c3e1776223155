"""The Python API end to end: every operation of the command line, called as a notebook would call it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, scaled_data
from hnsim import api
from hnsim.cli import main
from hnsim.errors import InputError

SEN2_DIR = ROOT.parent / "shared" / "data" / "sen2"
MONEY = ("spend_", "hnb_allocation", "in_year_balance", "cumulative_deficit", "cost_per_ehcp")


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> SimpleNamespace:
    """A small config, the same with dearer independent places, one with more children, an overlay."""
    root = tmp_path_factory.mktemp("api")
    data = scaled_data(0.05)
    dearer = copy.deepcopy(data)
    dearer["costs"]["settings"]["independent"]["annual_gbp"] = {k: v * 1.5 for k, v in dearer["costs"]["settings"]["independent"]["annual_gbp"].items()}
    dearer["costs"]["central_spend_gbp"]["value"] += 250_000
    more = copy.deepcopy(data)
    more["identification"]["new_per_year"]["value"] *= 1.2
    overlay = root / "rigour.yaml"
    overlay.write_text((ROOT / "configs" / "scenarios" / "ehcp_rigour.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return SimpleNamespace(root=root, small=_write(root / "small.yaml", data), dearer=_write(root / "dearer.yaml", dearer),
                           more=_write(root / "more.yaml", more), overlay=overlay)


@pytest.fixture(scope="module")
def kept(files) -> api.RunResult:
    """A run of the small config that keeps its event logs."""
    return api.run(files.small, replications=2, seed=3, workers=2, out_dir=files.root / "kept", keep_log=True)


def test_every_command_has_an_api_function():
    operations = {"check": "load_config", "run": "run", "recost": "recost", "compare": "compare", "sweep": "sweep", "seek": "seek",
                  "calibrate": "calibrate", "backtest": "backtest", "init": "init_config", "observed": "write_observed",
                  "national": "national", "skill": "skill", "forecast": "forecast", "report": "report", "experiment": "run_experiment", "schema": "config_schema"}
    assert set(main.commands) == set(operations)
    for name in operations.values():
        function = getattr(api, name)
        assert callable(function) and function.__doc__, name


def test_run_from_a_file_or_a_config_gives_the_same_tables(files, kept):
    in_memory = api.run(api.load_config(files.small), replications=2, seed=3)
    pd.testing.assert_frame_equal(in_memory.annual, kept.annual)
    assert in_memory.out_dir is None and kept.manifest["config_path"] == str(files.small)
    again = api.read_run(kept.out_dir)
    pd.testing.assert_frame_equal(again.annual, kept.annual)
    pd.testing.assert_frame_equal(again.summary, kept.summary, check_dtype=False)
    assert api.wide(kept.summary, "mean").loc["ehcp_total"].gt(0).all()
    log = api.simulate(api.load_config(files.small), 1, 3)
    params = api.compile_parameters(api.member_config(api.load_config(files.small), 1))
    by_hand = api.annual_metrics(log, params)["ehcp_total"]
    np.testing.assert_array_equal(by_hand, kept.annual.query("replication == 1 and metric == 'ehcp_total'")["value"].to_numpy())


def test_kept_logs_follow_children_and_rebuild_exactly(files, kept):
    spells = pd.read_parquet(kept.out_dir / "spells.parquet")
    events = pd.read_parquet(kept.out_dir / "events.parquet")
    assert list(spells.columns) == ["scenario", "replication", "child", "state", "phase", "start_day", "end_day", "start_date", "end_date", "need", "cohort", "birth_day"]
    assert list(events.columns) == ["scenario", "replication", "day", "date", "child", "event", "value"]
    assert sorted(spells["replication"].unique()) == [0, 1] and (spells["end_day"] >= spells["start_day"]).all()
    one = spells[(spells["replication"] == 0)]
    assert one.groupby("child")[["need", "cohort", "birth_day"]].nunique().eq(1).all().all()  # a child's own attributes on every spell
    logs = list(api.read_event_log(kept.out_dir))
    assert [(s, r) for s, r, _ in logs] == [("baseline", 0), ("baseline", 1)]
    original = api.simulate(api.load_config(files.small), 0, 3)
    rebuilt = logs[0][2]
    for name in ("spell_child", "spell_state", "spell_phase", "spell_start", "spell_end", "event_day", "event_code", "event_value", "event_child"):
        assert np.array_equal(getattr(rebuilt, name), getattr(original, name)), name
    assert rebuilt.pool_schedules == original.pool_schedules and rebuilt.sim_events == original.sim_events


def test_recost_with_other_unit_costs_equals_a_new_run(files, kept):
    same = api.recost(kept.out_dir, files.small, files.root / "same")
    pd.testing.assert_frame_equal(same.annual, kept.annual)
    recosted = api.recost(kept.out_dir, files.dearer)
    assert recosted.out_dir == Path(f"{kept.out_dir}-recost-dearer") and recosted.manifest["kind"] == "recost"
    fresh = api.run(files.dearer, replications=2, seed=3)
    pd.testing.assert_frame_equal(recosted.annual, fresh.annual)
    money = kept.annual["metric"].str.startswith(MONEY)
    assert (recosted.annual["value"][~money].fillna(-1) == kept.annual["value"][~money].fillna(-1)).all()
    spend = lambda t: t.annual.query("metric == 'spend_total'")["value"].sum()  # noqa: E731
    assert spend(recosted) > spend(kept)


def test_recost_refuses_a_config_that_changes_what_children_do(files, kept, tmp_path):
    with pytest.raises(InputError, match=r"identification\.new_per_year\.value: differs from the run's config"):
        api.recost(kept.out_dir, files.more, tmp_path / "no")
    assert not (tmp_path / "no").exists()
    plain = api.run(files.small, replications=1, seed=3, out_dir=tmp_path / "plain")
    with pytest.raises(InputError, match="--keep-log"):
        api.recost(plain.out_dir, files.small, tmp_path / "no")


def test_compare_report_and_experiment(files, tmp_path):
    compared = api.compare(files.small, [files.overlay], replications=2, seed=5, out_dir=tmp_path / "cmp")
    assert set(compared.tables["savings"]["scenario"]) == {"rigour"} and (tmp_path / "cmp" / "savings.csv").is_file()
    made = api.report(tmp_path / "cmp", formats=("md",), year="2015-16")
    assert made.kind == "comparison" and (made.out_dir / "appendix.md").is_file()
    (tmp_path / "e.yaml").write_text(f"question: What does the small authority look like?\nkind: run\nbase: {files.small}\nreplications: 2\nout: exp\nreport: false\n",
                                     encoding="utf-8")
    done = api.run_experiment(tmp_path / "e.yaml")
    assert done.report is None and (tmp_path / "exp" / "annual.parquet").is_file()
    assert done.result.manifest["replications"] == 2


def test_sweep_and_seek(files, tmp_path):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({
        "base": str(files.small), "design": {"kind": "one_at_a_time"}, "replications": 2, "seed": 4,
        "parameters": {"levers": [{"name": "team", "path": "assessment.team_capacity.value", "values": [2, 8]}], "uncertainties": []},
        "outcomes": {"metrics": ["mean_weeks_waiting_for_assessment"], "years": ["2016-17"]},
    }), encoding="utf-8")
    swept = api.sweep(tmp_path / "s.yaml", tmp_path / "sweep")
    assert swept.manifest["status"] == "complete" and swept.manifest["points"] == 3
    assert api.sweep_rankings(tmp_path / "sweep")[0][0] == "swing"
    sought = api.seek(files.small, "assessment.team_capacity.value", 1, 12, "mean_weeks_waiting_for_assessment", "2016-17", 4.0,
                      direction="at_most", replications=2, integer=True, tolerance=4, out_dir=tmp_path / "seek")
    assert sought.status in ("found", "met_throughout", "not_met") and sought.out_dir == tmp_path / "seek"
    assert json.loads((tmp_path / "seek" / "seek.json").read_text())["evaluations"] == len(sought.evaluations)


def _history(config_path: Path, seed: int) -> pd.DataFrame:
    """Observed-style census and calendar-year rows made by the model (other random numbers than a fit's)."""
    annual = api.run(config_path, replications=2, seed=seed).annual
    means = annual.groupby(["metric", "financial_year"])["value"].mean().dropna().reset_index()
    census, calendar = ["ehcp_total", "ehcp_mainstream", "ehcp_special"], ["assessment_requests_calendar_year", "new_ehcps_calendar_year"]
    rows = means[means["metric"].isin(census + calendar)].copy()
    rows["year"] = rows["financial_year"].str[:4].astype(int) + 1
    rows["kind"] = np.where(rows["metric"].isin(calendar), "calendar_year", "census")
    rows["source"] = "made by the model"
    return rows[["financial_year", "metric", "value", "source", "year", "kind"]]


def test_calibrate_and_backtest(tmp_path):
    data = scaled_data(0.05, "2018-03-31")
    data["calibration"] = {"free": [{"path": "sen_support.request_rate.value.primary", "low": 0.005, "high": 0.06, "log_scale": True}]}
    config = _write(tmp_path / "small.yaml", data)
    (tmp_path / "observed").mkdir()
    _history(config, seed=99).to_csv(tmp_path / "observed" / "history.csv", index=False)
    fitted = api.calibrate(config, tmp_path / "observed", 2017, replications=1, max_evaluations=2, report_replications=2, workers=2,
                           out_dir=tmp_path / "fit")
    assert fitted.fit.evaluations <= 2 and {"small.yaml", "fit_report.md", "fit_report.csv", "fit_history.csv"} <= {p.name for p in fitted.out_dir.iterdir()}
    tested = api.backtest(config, tmp_path / "observed", 2017, replications=1, max_evaluations=2, report_replications=2, out_dir=tmp_path / "bt")
    assert tested.backtest.last_year == 2018 and (tested.out_dir / "backtest.csv").is_file()
    assert set(pd.read_csv(tested.out_dir / "backtest.csv")["year"]) == {2018}
    with pytest.raises(InputError, match="no observed figures after 2018"):
        api.backtest(config, tmp_path / "observed", 2018, out_dir=tmp_path / "never")
    assert not (tmp_path / "never").exists()


@pytest.mark.skipif(not SEN2_DIR.is_dir(), reason=f"DfE SEN2 files not found at {SEN2_DIR} (shared/ beside the clone)")
def test_data_operations(tmp_path):
    assert any(a.old_la_code == "916" for a in api.list_authorities(SEN2_DIR))
    starter = api.init_config("916", SEN2_DIR, tmp_path / "glos.yaml")
    assert starter.problems == [] and starter.authority.name == "Gloucestershire" and starter.warnings
    with pytest.raises(InputError, match="already exists"):
        api.init_config("916", SEN2_DIR, tmp_path / "glos.yaml")
    written = api.write_observed(SEN2_DIR, "Rutland", tmp_path / "rutland")
    assert [p.name for p in written.paths] == ["caseload.csv", "activity.csv"] and written.authority.old_la_code == "857"


def test_unwritable_output_is_bad_input_and_nothing_runs(files, kept):
    for call in (lambda: api.run(files.small, replications=1, out_dir="/proc/x"),
                 lambda: api.compare(files.small, [files.overlay], replications=2, out_dir="/proc/x"),
                 lambda: api.report(kept.out_dir, out_dir="/proc/x", formats=("md",))):
        with pytest.raises(InputError, match="/proc/x: cannot write there"):
            call()
