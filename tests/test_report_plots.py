"""Plot functions on synthetic frames, and the report of a comparison directory (several scenarios)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import small_config
from hnsim.analysis.compare import window_savings
from hnsim.analysis.summary import summarise
from hnsim.results import store
from hnsim.experiment.run import run
from hnsim.plots import fan_panels, heatmap_chart, prepare, style, tornado_chart
from hnsim.report import build_report
from hnsim.results.rundir import load


def test_money_and_count_formatting():
    assert style.money(60_000_000) == "£60m"
    assert style.money(1_500_000) == "£1.5m"
    assert style.money(-2_500_000) == "-£2.5m"
    assert style.money(250_000) == "£250k"
    assert style.money(0) == "£0"
    assert style.money(1.2e9) == "£1.2bn"
    assert style.count(12345.4) == "12,345"
    assert style.count(-0.3) == "0" and style.count(-1234.6) == "-1,235"
    # in text and tables: one decimal of £m, the sign before the pound sign
    assert style.money_text(144_609_007.932) == "£144.6m"
    assert style.money_text(-1_300_000) == "-£1.3m"
    assert style.money_text(250_000) == "£250k" and style.money_text(0) == "£0.0m" and style.money_text(-40) == "£0.0m"


def test_year_ticks_are_thinned_financial_years():
    years = [f"{y}-{str(y + 1)[-2:]}" for y in range(2014, 2035)]
    frame = pd.DataFrame({"financial_year": years, "p05": 1.0, "p25": 2.0, "p50": 3.0, "mean": 3.0, "p75": 4.0, "p95": 5.0, "scenario": "s"})
    fig = fan_panels(frame, "t")
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert 3 <= len(labels) <= 8
    assert labels[-1] == "2034-35" and all(label in years for label in labels)  # the last year always has its label


def test_tornado_orders_by_swing_and_checks_columns():
    frame = pd.DataFrame(
        {
            "parameter": ["a.small", "b.large", "c.middle"],
            "low_value": [0.1, 1, 10],
            "high_value": [0.2, 2, 20],
            "outcome_low": [99e6, 80e6, 95e6],
            "outcome_high": [101e6, 130e6, 104e6],
            "base": 100e6,
        }
    )
    fig = tornado_chart(frame, "Cumulative deficit 2029-30")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert [label.split()[0] for label in labels] == ["a.small", "c.middle", "b.large"]  # widest at the top
    bars = fig.axes[0].patches
    widths = sorted(round(abs(b.get_width())) for b in bars)
    assert widths == sorted(round(abs(v)) for v in [-1e6, -20e6, -5e6, 1e6, 30e6, 4e6])
    with pytest.raises(ValueError, match="outcome_high"):
        tornado_chart(frame.drop(columns="outcome_high"), "x")


def test_heatmap_draws_the_grid_and_labels_cells():
    grid = pd.DataFrame([(x, y, 1e6 * x + 1e5 * y) for x in (1, 2, 3) for y in (10, 20)], columns=["lever_a", "lever_b", "deficit_mean"])
    fig = heatmap_chart(grid, "lever_a", "lever_b", "deficit_mean", "Deficit")
    image = fig.axes[0].images[0].get_array()
    expected = grid.pivot(index="lever_b", columns="lever_a", values="deficit_mean").to_numpy()
    np.testing.assert_allclose(np.asarray(image), expected)
    cell_text = {t.get_text() for t in fig.axes[0].texts}
    assert style.money(3e6 + 2e6) in cell_text and len(fig.axes[0].texts) == 6


def test_fan_percentiles_match_numpy():
    rng = np.random.default_rng(1)
    rows = [("s", r, fy, "m", v) for r in range(20) for fy, v in zip(["2020-21", "2021-22"], rng.normal(100, 10, 2))]
    annual = pd.DataFrame(rows, columns=["scenario", "replication", "financial_year", "metric", "value"])
    fan = prepare.fan(annual, "m").set_index("financial_year")
    wide = annual.pivot(index="financial_year", columns="replication", values="value")
    for col, q in prepare.FAN_PERCENTILES.items():
        np.testing.assert_allclose(fan[col], np.percentile(wide, 100 * q, axis=1))


@pytest.fixture(scope="module")
def comparison_dir(tmp_path_factory):
    """A comparison directory: a small run's baseline plus a 'lever' scenario spending £1m less a year
    from 2015-16 in every replication, and £0.2m a year of lever cost."""
    root = tmp_path_factory.mktemp("compare")
    result = run(small_config(), replications=3, seed=5, workers=1)
    base = result.annual
    lever = base.copy()
    lever["scenario"] = "lever"
    later = lever["financial_year"] >= "2015-16"
    for metric, change in (("spend_total", -1e6), ("spend_special", -1e6), ("in_year_balance", 1e6)):
        lever.loc[later & (lever["metric"] == metric), "value"] += change
    cost = lever[lever["metric"] == "spend_total"].assign(metric="spend_levers", value=np.where(lever.loc[lever["metric"] == "spend_total", "financial_year"] >= "2015-16", 2e5, 0.0))
    annual = pd.concat([base, lever, cost], ignore_index=True)
    out = root / "cmp"
    store.write_parquet(annual, out / "annual.parquet")
    store.write_csv(summarise(annual), out / "summary.csv")
    store.write_json({**result.manifest, "kind": "comparison"}, out / "manifest.json")
    return out


def test_savings_are_paired_differences_over_the_window(comparison_dir):
    annual = pd.read_parquet(comparison_dir / "annual.parquet")
    assert prepare.first_divergent_year(annual, "baseline") == "2015-16"
    table = window_savings(annual, "baseline", ["2015-16", "2016-17"]).set_index("scenario")
    assert table.loc["lever", "saving_mean"] == pytest.approx(2e6)
    assert table.loc["lever", "saving_ci95_low"] == pytest.approx(2e6)  # the same saving in every replication
    assert table.loc["lever", "own_cost_mean"] == pytest.approx(4e5)


def test_report_of_a_comparison_directory(comparison_dir):
    run_data = load(comparison_dir)
    assert run_data.kind == "comparison" and run_data.scenarios == ["baseline", "lever"]
    report = build_report(comparison_dir, formats=("md",), year="2015-16")
    assert report.key_years == ["2015-16", "2016-17"]  # five years from --year, as many as the run has
    names = {f.name for f in report.figures}
    assert "scenario_comparison" in names
    drawn = pd.read_csv(report.out_dir / "figures" / "scenario_comparison.csv")
    assert drawn["saving_mean"].tolist() == pytest.approx([2e6])
    assert drawn["balance_effect_mean"].tolist() == pytest.approx([2e6])  # the lever changed spend and the balance alike
    deficit = pd.read_csv(report.out_dir / "figures" / "deficit_fan.csv")
    assert set(deficit["scenario"]) == {"baseline", "lever"}
    summary = pd.read_csv(report.out_dir / "tables" / "scenario_summary.csv").set_index("scenario")
    assert summary.loc["lever", "saving_gbp"] == pytest.approx(2e6) and summary.loc["baseline", "saving_gbp"] == 0
    captions = json.loads((report.out_dir / "figures" / "captions.json").read_text())
    assert "2015-16 to 2016-17" in captions["scenario_comparison"]["caption"]


def test_report_of_a_sweep_directory(tmp_path):
    """A sweep directory (design, outcomes, tornado tables; no annual table) gives tornado and heat-map figures."""
    out = tmp_path / "sweep"
    design = pd.DataFrame([(i, "grid", a, b) for i, (a, b) in enumerate((a, b) for a in (540, 600) for b in (2500, 2800, 3100))], columns=["point", "varied", "places", "identified"])
    outcomes = design.assign(metric="cumulative_deficit", financial_year="2024-25", mean=lambda d: 1e8 - 1e5 * d["places"] + 1e4 * d["identified"], sd=1.0, ci95_low=0.0, ci95_high=0.0, n=3)
    tornado = pd.DataFrame({"metric": "cumulative_deficit", "financial_year": "2024-25", "parameter": ["places", "identified"], "base_level": [570, 2800], "low_level": [540, 2500], "high_level": [600, 3100], "base_mean": 9e7, "low_mean": [9.3e7, 8.7e7], "high_mean": [8.7e7, 9.6e7]})
    for name, frame in (("design", design), ("outcomes", outcomes), ("tornado", tornado)):
        store.write_csv(frame, out / f"{name}.csv")
    store.write_json({"status": "complete", "design": "grid", "seed": 1, "replications": 3, "base_config_sha256": "abcdef1234", "finished_at": "2026-01-01T00:00:00"}, out / "manifest.json")
    report = build_report(out, formats=("md", "html"))
    assert report.kind == "sweep"
    assert {f.name for f in report.figures} == {"tornado_cumulative_deficit_2024-25", "heatmap_cumulative_deficit_2024-25"}
    drawn = pd.read_csv(report.out_dir / "figures" / "tornado_cumulative_deficit_2024-25.csv")
    assert list(drawn.columns) == ["parameter", "low_value", "high_value", "outcome_low", "outcome_high", "base"]
    assert drawn["outcome_high"].tolist() == [8.7e7, 9.6e7]
    heat = pd.read_csv(report.out_dir / "figures" / "heatmap_cumulative_deficit_2024-25.csv")
    assert len(heat) == 6 and "config abcdef12" in report.documents["md"].read_text()
