"""What every output says and how it is written: the data vantage, what the bands hold, readiness
warnings, paths and lever quantities for seek, plain progress lines, file permissions, formats that
need an extra, the levers an overlay switches on, the config's JSON Schema."""

from __future__ import annotations

import copy
import io
import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import ROOT, baseline_data, scaled_data
from hnsim import api
from hnsim.analysis.compare import key_years
from hnsim.cli import main
from hnsim.config import outlook, paths
from hnsim.config.json_schema import config_schema, overlay_schema
from hnsim.experiment.progress import PlainProgress, progress_bar
from hnsim.report import build as report_build
from hnsim.results import store


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------- what a config stands on
def test_the_vantage_and_funding_come_from_the_config():
    data = baseline_data()
    assert outlook.fit_until(data) == data["calibration"]["fit"]["fit_until"] == 2019
    assert outlook.data_end_year(data) == "2018-19"
    assert outlook.data_vantage(data).startswith("Fitted to published data up to the January 2019 census, calendar 2018 assessment activity")
    assert outlook.funding_assumption(data) == "Funding: the High Needs Block allocation as given for 2014-15 to 2019-20, then +2.3% a year (uncertain: 0.0% to 4.6% a year)."
    data["calibration"]["fit"]["fit_until"] = 2017
    assert outlook.data_end_year(data) == "2016-17" and "January 2017 census" in outlook.data_vantage(data)
    del data["calibration"]
    assert outlook.data_end_year(data) is None and "Not fitted" in outlook.data_vantage(data)


def test_the_bands_say_what_they_hold():
    shipped = outlook.uncertainty_sources(baseline_data())
    assert shipped[:3] == ["replication noise", "parameters", "future trends"] and shipped[3].startswith("funding (HNB allocation growth after 2019-20")
    data = baseline_data()
    del data["calibration"]["ensemble"]  # one parameter set: nothing but the paths varies
    assert outlook.uncertainty_sources(data) == ["replication noise"]
    data["levers"]["linc_funding"]["enabled"] = True
    assert outlook.uncertainty_sources(data) == ["replication noise", "lever effect ranges"]
    sentence = outlook.band_sentence(outlook.uncertainty_sources(data))
    assert "replication noise" in sentence and "leave out uncertainty in the fitted parameters" in sentence
    with_parameters = outlook.band_sentence(["replication noise", "lever effect ranges", "parameters"])
    assert "uncertainty in the fitted parameters (a posterior ensemble" in with_parameters and "leave out" not in with_parameters
    ensemble = copy.deepcopy(data)
    ensemble["calibration"]["ensemble"] = {"members": 2, "file": "x.ensemble.csv"}
    ensemble["calibration"]["uncertain"] = []
    assert "parameters" in outlook.uncertainty_sources(ensemble) and "future trends" not in outlook.uncertainty_sources(ensemble)
    ensemble["calibration"]["uncertain"] = [{"path": "trends.damping.value", "low": 0.7, "high": 1.0, "source": "assumption: x"}]
    assert outlook.uncertainty_sources(ensemble)[2:4] == ["parameters", "future trends"]
    fixed = copy.deepcopy(data)  # a lever whose every range is a single value adds no spread
    for effect in fixed["levers"]["linc_funding"]["hazard_effects"]:
        effect["change"]["high"] = effect["change"]["low"]
    assert outlook.uncertainty_sources(fixed) == ["replication noise"]


def test_a_starter_config_warns_it_is_uncalibrated_and_names_money_never_supplied(tmp_path):
    data = scaled_data(0.05)
    del data["calibration"]
    data["finance"]["hnb_allocation_gbp"]["source"] = "assumption: NOT GIVEN - replace with the authority's own figure"
    data["costs"]["central_spend_gbp"]["source"] = "assumption: NOT GIVEN - the council's own figure"
    lines = outlook.readiness_warnings(data, "starter.yaml")
    assert len(lines) == 3 and "uncalibrated" in lines[0]
    assert any("finance.hnb_allocation_gbp was never supplied" in line for line in lines)
    assert outlook.readiness_warnings(baseline_data()) == []
    config = _write(tmp_path / "starter.yaml", data)
    ran = CliRunner().invoke(main, ["run", str(config), "-n", "1", "-w", "1", "--quiet", "--out", str(tmp_path / "out")])
    assert ran.exit_code == 0, ran.output
    assert "warning: baseline is uncalibrated" in ran.output and "costs.central_spend_gbp was never supplied" in ran.output
    assert "Not fitted to observed data" in ran.output and "means of replications" in ran.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert len(manifest["warnings"]) == 3 and manifest["uncertainty"] == ["replication noise"]


# ---------------------------------------------------------------- paths and seek
def test_paths_take_brackets_or_dots_and_seek_reads_lever_quantities_first():
    assert paths.normalise("capacity.expansions[0].places") == "capacity.expansions.0.places"
    assert paths.display("capacity.expansions.0.places") == "capacity.expansions[0].places"
    data = baseline_data()
    assert paths.lever_quantity(data, "special_school_expansion.extra_places[0].places") == ("levers.special_school_expansion.extra_places.0.places", "special_school_expansion")
    assert paths.lever_quantity(data, "levers.linc_funding.annual_cost_gbp.value") == ("levers.linc_funding.annual_cost_gbp.value", "linc_funding")
    assert paths.lever_quantity(data, "capacity.places.value.special_secondary") == ("capacity.places.value.special_secondary", None)
    from hnsim.config import apply_overrides
    changed = apply_overrides(data, {"capacity.expansions[1].places": 7})
    assert changed["capacity"]["expansions"][1]["places"] == 7


def test_seek_over_a_lever_quantity_switches_the_lever_on_and_exits_3_when_the_target_is_met_nowhere(tmp_path):
    data = scaled_data(0.05, "2016-03-31")
    config = _write(tmp_path / "small.yaml", data)
    out = tmp_path / "seek"
    result = CliRunner().invoke(main, ["seek", str(config), "--parameter", "special_school_expansion.extra_places[0].places", "--low", "0", "--high", "10",
                                       "--integer", "--metric", "ehcp_total", "--year", "2015-16", "--target", "1000000", "-n", "2", "-w", "1", "--out", str(out)])
    assert result.exit_code == 3, result.output
    summary = json.loads((out / "seek.json").read_text())
    assert summary["status"] == "not_met" and summary["path"] == "levers.special_school_expansion.extra_places.0.places"
    assert summary["lever"] == "special_school_expansion" and "switched on" in summary["note"]


# ---------------------------------------------------------------- progress, permissions
def test_progress_without_a_terminal_is_a_line_every_few_per_cent():
    out = io.StringIO()
    bar = progress_bar(200, desc="baseline: replications", unit="rep", file=out)
    assert isinstance(bar, PlainProgress)
    for _ in range(200):
        bar.update(1)
    bar.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and 15 <= len(lines) <= 21
    assert lines[-1].startswith("baseline: replications: 200/200 rep (100%)")
    half = io.StringIO()
    with progress_bar(10, desc="x", file=half) as partial:
        partial.update(3)
    assert half.getvalue().splitlines()[-1].startswith("x: 3/10 it (30%)")  # closing early says how far it got
    assert progress_bar(10, disable=True, file=io.StringIO()).update(1) is None


def test_results_are_readable_by_the_group_as_a_plain_write_would_make_them(tmp_path):
    old = os.umask(0o002)
    try:
        written = store.write_text("x", tmp_path / "shared.txt")
        assert oct(written.stat().st_mode & 0o777) == oct(0o664)
    finally:
        os.umask(old)
    assert oct(store.write_text("x", tmp_path / "mine.txt").stat().st_mode & 0o777) == oct(0o666 & ~old)


# ---------------------------------------------------------------- formats, check, schema
@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("run")
    config = _write(root / "small.yaml", scaled_data(0.05, "2016-03-31"))
    api.run(config, replications=2, seed=3, workers=1, out_dir=root / "run")
    return root / "run"


def test_word_output_without_python_docx_is_one_line_exit_2_and_nothing_written(small_run, tmp_path, monkeypatch):
    monkeypatch.setattr(report_build, "installed", lambda part: part != "docx")
    out = tmp_path / "report"
    asked = CliRunner().invoke(main, ["report", str(small_run), "--format", "md,docx", "--out", str(out)])
    assert asked.exit_code == 2 and not out.exists()
    assert asked.output.strip() == "error: --format docx needs python-docx, which is not installed: pip install 'hnsim[report]'"
    default = CliRunner().invoke(main, ["report", str(small_run), "--out", str(out)])
    assert default.exit_code == 0, default.output
    assert (out / "appendix.md").is_file() and (out / "appendix.html").is_file() and not (out / "appendix.docx").exists()
    assert "appendix.docx not written" in default.output
    monkeypatch.setattr(report_build, "installed", lambda part: False)  # a broken install: the workbook cannot be made
    broken = CliRunner().invoke(main, ["report", str(small_run), "--format", "md", "--out", str(tmp_path / "other")])
    assert broken.exit_code == 2 and "needs openpyxl" in broken.output and "Traceback" not in broken.output
    assert not (tmp_path / "other").exists()


def test_the_main_job_of_a_report_installs_with_the_main_install():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    main_deps = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert '"openpyxl' in main_deps  # the DSG plan workbook
    assert "report = [\"python-docx" in text


def test_key_years_start_at_the_year_asked():
    years = [f"{y}-{(y + 1) % 100:02d}" for y in range(2014, 2035)]
    assert key_years(years, "2025-26") == ["2025-26", "2026-27", "2027-28", "2028-29", "2029-30"]
    assert key_years(years, "2032-33") == ["2032-33", "2033-34", "2034-35"]
    with pytest.raises(ValueError, match="2040-41"):
        key_years(years, "2040-41")


def test_check_lists_the_levers_an_overlay_switches_on():
    result = CliRunner().invoke(main, ["check", str(ROOT / "configs" / "gloucestershire.yaml"), "--scenario", str(ROOT / "configs" / "scenarios" / "whole_strategy.yaml")])
    assert result.exit_code == 0, result.output
    assert "levers switched on by" in result.output
    assert "  linc_funding (LINC funding): Local Inclusion Clusters" in result.output and "  block_transfer (Schools block transfer)" in result.output
    plain = CliRunner().invoke(main, ["check", str(ROOT / "configs" / "gloucestershire.yaml")])
    assert plain.exit_code == 0 and "levers switched on" not in plain.output


def test_schema_command_and_the_shipped_schemas_are_current(tmp_path):
    out = tmp_path / "config.schema.json"
    result = CliRunner().invoke(main, ["schema", "--out", str(out)])
    assert result.exit_code == 0 and json.loads(out.read_text()) == json.loads(json.dumps(config_schema()))
    for name, schema in (("config.schema.json", config_schema()), ("overlay.schema.json", overlay_schema())):
        shipped = json.loads((ROOT / "docs" / name).read_text(encoding="utf-8"))
        assert shipped == json.loads(json.dumps(schema)), f"regenerate: hnsim schema {'--overlay ' if 'overlay' in name else ''}--out docs/{name}"
    assert "required" in json.dumps(config_schema()) and '"required"' not in json.dumps(overlay_schema())


def test_every_shipped_config_names_its_schema_and_validates_against_it():
    jsonschema = pytest.importorskip("jsonschema")
    import datetime as dt

    def plain(x):
        if isinstance(x, dict):
            return {str(k): plain(v) for k, v in x.items()}
        if isinstance(x, list):
            return [plain(v) for v in x]
        return x.isoformat() if isinstance(x, dt.date) else x

    for path in [ROOT / "configs" / "gloucestershire.yaml", *sorted((ROOT / "configs" / "scenarios").glob("*.yaml"))]:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path.name
        schema_path = (path.parent / first.split("=", 1)[1]).resolve()
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(plain(yaml.safe_load(path.read_text(encoding="utf-8")))))
        assert not errors, f"{path.name}: {errors[0].message}"
