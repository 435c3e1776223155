"""`hnsim forecast`: a run's replications anchored on the last published values, the discrepancy's
bands, the figure, its caption and its table, and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from hnsim import api
from hnsim.cli import main
from hnsim.experiment.run import run
from hnsim.results.rundir import read_run

from conftest import ROOT, small_config

FIXTURE = ROOT / "tests" / "data" / "sen2"
PUBLISHED = {2015: 250.0, 2016: 270.0, 2017: 300.0}  # a small authority's January totals, known to the January 2017 census


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A small run to March 2019 (3 replications) and a directory of its published history to 2017."""
    root = tmp_path_factory.mktemp("forecast")
    run_dir = root / "run"
    run(small_config(end_date="2019-03-31"), replications=3, seed=5, workers=1, out_dir=run_dir)
    observed = root / "observed"
    observed.mkdir()
    pd.DataFrame({"financial_year": [f"{y - 1}-{str(y)[2:]}" for y in PUBLISHED], "metric": "ehcp_total", "value": list(PUBLISHED.values()),
                  "source": "SEN2", "year": list(PUBLISHED), "kind": "census"}).to_csv(observed / "caseload.csv", index=False)
    return run_dir, observed


def test_without_steps_the_forecast_is_each_replication_anchored_on_the_last_published_value(made, tmp_path):
    run_dir, observed = made
    result = api.forecast(run_dir, observed, out_dir=tmp_path / "f")
    assert result.origin == 2017 and result.members == 3 and result.notes and "anchored" in result.notes[0]
    table = pd.read_csv(tmp_path / "f" / "forecast.csv")
    assert set(table["series"]) == {"ehcp_total"} and list(table["year"]) == [2018, 2019]  # January 2018 and 2019 censuses are inside the run
    annual = read_run(run_dir).annual
    wide = annual[annual["metric"] == "ehcp_total"].pivot_table(index="replication", columns="financial_year", values="value")
    anchored = wide["2017-18"] * PUBLISHED[2017] / wide["2016-17"]  # January 2018 census, each replication moved onto 2017's published 300
    assert table.loc[table["year"] == 2018, "mean"].iloc[0] == pytest.approx(anchored.mean())
    assert table.loc[table["year"] == 2018, "members"].iloc[0] == 3 * api.DRAWS_PER_MEMBER
    for name in ("forecast.png", "forecast.svg", "forecast.csv"):
        assert (tmp_path / "f" / "figures" / name).stat().st_size > 0
    caption = (tmp_path / "f" / "figures.md").read_text(encoding="utf-8")
    assert "January 2017" in caption and "structural error" in caption


def test_with_steps_the_bands_widen_and_the_command_line_writes_them(made, tmp_path):
    run_dir, observed = made
    out = tmp_path / "g"
    result = CliRunner().invoke(main, ["forecast", str(run_dir), "--data", str(observed), "--sen2", str(FIXTURE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "from the January 2017 census" in result.output and "EHCPs, January: 2018:" in result.output
    # the fixture's three authorities give fewer steps than a series needs, so it is anchored only, and the caption lists the sources
    assert "none:" in (out / "figures.md").read_text(encoding="utf-8")
    bad = CliRunner().invoke(main, ["forecast", str(run_dir), "--data", str(observed), "--scenario", "nope", "--out", str(tmp_path / "h")])
    assert bad.exit_code == 2 and "nope" in bad.output and "baseline" in bad.output
    assert not (tmp_path / "h").exists()  # nothing half-written


def test_forecast_quantiles_are_the_ensembles_weibull_percentiles():
    from hnsim.analysis.discrepancy import forecast_quantiles

    values = np.arange(1, 20, dtype=float)  # 19 members: the Weibull 5th and 95th percentiles are the first and last
    ensembles = pd.DataFrame({"series": "ehcp_total", "year": 2020, "horizon": 1, "forecaster": "hnsim", "member": range(19), "value": values})
    row = forecast_quantiles(ensembles).iloc[0]
    assert row["p05"] == 1.0 and row["p95"] == 19.0 and row["p50"] == 10.0 and row["mean"] == 10.0 and row["members"] == 19
