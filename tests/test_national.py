"""`hnsim national` on two small authorities with a tiny budget: the tables, resuming, England's
total as the sum of the authorities, and a failing authority recorded with exit code 1."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from hnsim.cli import main
from hnsim.experiment import national
from hnsim.experiment.executors import Pool

from conftest import SEN2_DIR

pytestmark = pytest.mark.sen2

SMALL = ["--la", "Rutland", "--la", "City of London"]  # 197 and 14 plans in January 2019
TINY = ["--replications", "2", "--max-evaluations", "3", "--fit-replications", "1", "--horizon", "2021", "--workers", "2", "--quiet"]
TABLES = ("projections.csv", "england.csv", "fit_by_authority.csv", "caseload_check.csv")


def _national(out: Path, data: Path = SEN2_DIR, extra: list[str] | None = None):
    return CliRunner().invoke(main, ["national", "--data", str(data), "--out", str(out), *SMALL, *TINY, *(extra or [])])


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, object, dict[str, bytes]]:
    out = tmp_path_factory.mktemp("national") / "run"
    result = _national(out)
    return out, result, {name: (out / name).read_bytes() for name in TABLES}


def test_national_run_writes_every_table(first_run):
    out, result, _ = first_run
    assert result.exit_code == 0, result.output
    projections = pd.read_csv(out / "projections.csv", dtype={"old_la_code": str})
    assert list(projections.columns) == ["la_code", "old_la_code", "la_name", "region_name", "financial_year", "metric", "mean", "p05", "p95", "n"]
    assert set(projections["la_name"]) == {"Rutland", "City of London"}
    assert set(projections["metric"]) == set(national.METRICS)
    assert projections["financial_year"].max() == "2020-21" and (projections["n"] == 2).all()
    assert (projections["p05"] <= projections["mean"] + 1e-6).all() and (projections["mean"] <= projections["p95"] + 1e-6).all()
    fits = pd.read_csv(out / "fit_by_authority.csv", dtype={"old_la_code": str}).set_index("la_name")
    assert set(fits.index) == {"Rutland", "City of London"}
    assert fits["targets"].gt(10).all() and fits["mape_pct"].ge(0).all() and fits["inside_90_pct"].between(0, 100).all()
    assert (fits["evaluations"] <= 3).all() and fits["worst_target"].str.len().gt(0).all()
    assert fits.loc["Rutland", "ehcp_total_jan2019_observed"] == 197
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["authorities_done"] == 2 and manifest["seed"] == 20190101
    assert "finance.hnb_allocation_gbp" in manifest["assumptions"]["not_given"]
    notes = (out / "notes.md").read_text()
    assert "ASSUMPTIONS" in notes and "NOT GIVEN" in notes and not (out / "failures.csv").exists()
    stored = national.read_authority(out / "authorities" / "857-rutland.parquet")
    assert stored.info["la_code"] == "E06000017" and {"target", "observed", "simulated_mean", "inside_90"} <= set(stored.fit_table.columns)
    for free in stored.info["free"]:  # ranges around the starter's own values, and the fit stayed inside
        assert free["low"] <= stored.info["started_from"][free["path"]] <= free["high"], free
        assert free["low"] <= stored.info["fitted"][free["path"]] <= free["high"], free


def test_caseload_check_compares_observed_and_simulated_january_totals(first_run):
    out, result, _ = first_run
    check = pd.read_csv(out / "caseload_check.csv")
    assert check.loc[0, "value"] == 353995  # England's published January 2019 total, read from the national row
    assert check.loc[1, "value"] == 197 + 14 and check.loc[1, "difference"] == 211 - 353995
    simulated = check.loc[3]
    assert simulated["reference"] == 211 and simulated["p05"] <= simulated["value"] <= simulated["p95"]
    assert "simulated January 2019 caseload" in result.output


def test_rerun_skips_done_authorities_and_tables_are_identical(first_run):
    out, _, tables = first_run
    files = sorted((out / "authorities").glob("*.parquet"))
    stamps = {f.name: f.stat().st_mtime_ns for f in files}
    again = _national(out)
    assert again.exit_code == 0, again.output
    assert {f.name: f.stat().st_mtime_ns for f in files} == stamps  # nothing recomputed
    assert json.loads((out / "manifest.json").read_text())["sessions"] == 2
    for name, content in tables.items():
        assert (out / name).read_bytes() == content, name


def test_another_design_in_the_same_directory_is_refused(first_run):
    out, _, _ = first_run
    result = _national(out, extra=["--replications", "3"])
    assert result.exit_code == 2 and "another design" in result.output


def test_england_total_is_the_sum_of_authorities_replication_by_replication(first_run):
    out, _, _ = first_run
    annual = pd.concat([national.read_authority(f).annual for f in (out / "authorities").glob("*.parquet")])
    summed = annual.groupby(["metric", "financial_year", "replication"])["value"].sum()
    by_rep = summed.groupby(["metric", "financial_year"])
    england = pd.read_csv(out / "england.csv").set_index(["metric", "financial_year"]).sort_index()
    assert (england["authorities"] == 2).all()
    pd.testing.assert_series_equal(england["mean"], by_rep.mean().round(2).rename("mean").sort_index(), check_exact=False, rtol=1e-9)
    pd.testing.assert_series_equal(england["p95"], by_rep.quantile(0.95).round(2).rename("p95").sort_index(), check_exact=False, rtol=1e-9)
    projections = pd.read_csv(out / "projections.csv").groupby(["metric", "financial_year"])["mean"].sum().sort_index()
    assert (england["mean"] - projections).abs().max() < 0.02  # the mean of sums is the sum of means


def test_failing_authority_is_recorded_and_the_run_goes_on(tmp_path):
    data = tmp_path / "sen2"
    data.mkdir()
    for f in SEN2_DIR.iterdir():
        (data / f.name).symlink_to(f)
    age = pd.read_csv(SEN2_DIR / "sen2_age_caseload.csv", dtype=str, keep_default_na=False)
    (data / "sen2_age_caseload.csv").unlink()
    # City of London without its censuses up to 2015: no starting caseload for a 2014 start
    age[~((age["old_la_code"] == "201") & (age["time_period"].str[:4].astype(int) <= 2015))].to_csv(data / "sen2_age_caseload.csv", index=False)
    result = _national(tmp_path / "out", data)
    assert result.exit_code == 1, result.output
    assert "failed authorities (1" in result.output and "City of London (201, E09000001), prepare" in result.output
    failures = pd.read_csv(tmp_path / "out" / "failures.csv", dtype={"old_la_code": str})
    assert failures["la_name"].tolist() == ["City of London"] and "no January census" in failures.loc[0, "error"]
    assert (tmp_path / "out" / "authorities" / "857-rutland.parquet").exists()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["authorities_failed"] == ["City of London (201, E09000001)"]
    assert set(pd.read_csv(tmp_path / "out" / "projections.csv")["la_name"]) == {"Rutland"}


def test_an_error_in_the_worker_is_recorded_with_its_stage(tmp_path, monkeypatch):
    real_fit = national.fit

    def fit_failing_for_city(data, *args, **kwargs):
        if data["meta"]["old_la_code"] == "201":
            raise RuntimeError("optimiser exploded")
        return real_fit(data, *args, **kwargs)

    monkeypatch.setattr(national, "fit", fit_failing_for_city)  # threads share the module, processes would not
    design = national.NationalDesign(SEN2_DIR, replications=2, fit_replications=1, max_evaluations=2, horizon=2021)
    authorities = national.national_authorities(SEN2_DIR, ["857", "201"])
    with ThreadPoolExecutor(max_workers=1) as executor:
        result = national.run_national(design, authorities, tmp_path, Pool(executor, 1, "threads (test)"))
    assert result.failures[["la_name", "stage"]].values.tolist() == [["City of London", "calibrate and run"]]
    assert "RuntimeError: optimiser exploded" in result.failures.loc[0, "error"]
    assert set(result.projections["la_name"]) == {"Rutland"}


def test_a_region_is_not_a_local_authority(tmp_path):
    result = CliRunner().invoke(main, ["national", "--data", str(SEN2_DIR), "--out", str(tmp_path), "--la", "South West", *TINY])
    assert result.exit_code == 2 and "runs local authorities" in result.output


def test_local_dask_gives_the_same_projection_as_local_processes(first_run, tmp_path):
    pytest.importorskip("distributed")
    out, _, tables = first_run
    result = CliRunner().invoke(main, ["national", "--data", str(SEN2_DIR), "--out", str(tmp_path / "dask"), *SMALL, *TINY[:-3], "--workers", "1", "--local-dask", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "local Dask cluster" in json.loads((tmp_path / "dask" / "manifest.json").read_text())["executor"]
    for name in ("projections.csv", "england.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == tables[name], name
