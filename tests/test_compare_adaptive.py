"""Adaptive comparisons (`hnsim compare --until-half-width`): batches of replications until every
scenario's paired interval is narrow enough, with the tables of a fixed-size comparison."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from pandas.testing import assert_frame_equal

from conftest import scaled_data
from hnsim import api

YEARS = "2015-16:2017-18"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> SimpleNamespace:
    """A small four-year config, and two overlays whose levers act from its second year."""
    root = tmp_path_factory.mktemp("adaptive")
    base = root / "small.yaml"
    base.write_text(yaml.safe_dump(scaled_data(0.05, end_date="2018-03-31"), sort_keys=False), encoding="utf-8")
    overlays = []
    for name in ("linc_funding", "ehcp_rigour"):
        path = root / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"levers": {name: {"enabled": True, "start_date": "2015-04-01"}}}), encoding="utf-8")
        overlays.append(path)
    return SimpleNamespace(root=root, base=base, overlays=overlays)


def _target(files, half_width: float, cap: int = 12) -> api.DifferenceTarget:
    return api.difference_target(half_width, files.base, years=YEARS, max_replications=cap)


def test_stops_when_every_half_width_is_met_and_equals_a_fixed_comparison(files):
    probe = api.compare(files.base, files.overlays, 3, seed=7, out_dir=files.root / "p3", target=_target(files, 1e12))
    widths = {s["scenario"]: s["half_width"] for s in probe.manifest["precision"]["scenarios"]}
    assert probe.manifest["precision"]["met"] and probe.manifest["replications"] == 3  # a target met at once stops after the first batch
    goal = max(widths.values()) / 2  # a target the first batch misses for at least one scenario
    seen = []
    adaptive = api.compare(files.base, files.overlays, 3, seed=7, workers=2, out_dir=files.root / "adaptive",
                           target=_target(files, goal, cap=40), on_batch=seen.append)
    p = adaptive.manifest["precision"]
    n = adaptive.manifest["replications"]
    assert p["met"] and n > 3 and p["achieved_half_width"] <= goal
    assert [b["replications"] for b in seen] == [b["replications"] for b in p["batches"]] and seen[-1]["replications"] == n
    assert all(b["half_width"] > goal for b in p["batches"][:-1])  # it stopped at the first batch that met the target
    ends = [b["replications"] for b in p["batches"]]
    assert {s["scenario"] for s in p["scenarios"]} == {"linc_funding", "ehcp_rigour"}
    for row in p["scenarios"]:
        # each scenario stopped at the end of the first batch that met the target for it
        assert row["half_width"] <= goal and row["n"] in ends
        met_at = [b["replications"] for b in p["batches"] if any(s["scenario"] == row["scenario"] and s["half_width"] <= goal for s in b["scenarios"])]
        assert row["n"] == met_at[0]
    assert len({row["n"] for row in p["scenarios"]}) == 2  # one scenario stopped a batch before the other
    assert max(row["n"] for row in p["scenarios"]) == n and p["replications_run"] == n + sum(row["n"] for row in p["scenarios"])
    annual = adaptive.tables["annual"]
    for row, overlay in zip(sorted(p["scenarios"], key=lambda r: r["scenario"] != "linc_funding"), files.overlays):
        assert annual[annual["scenario"] == row["scenario"]]["replication"].nunique() == row["n"]
        # a scenario's tables are those of a fixed-size comparison of its own replications with the base's same ones
        fixed = api.compare(files.base, [overlay], row["n"], seed=7, workers=1, out_dir=files.root / f"fixed-{row['scenario']}")
        for name in ("differences", "savings", "decomposition"):
            ours = adaptive.tables[name]
            ours = ours[ours["scenario"] == row["scenario"]].reset_index(drop=True)
            assert_frame_equal(ours, fixed.tables[name].reset_index(drop=True), check_exact=True, obj=name)


def test_the_cap_is_respected_and_said(files):
    result = api.compare(files.base, files.overlays, 2, seed=7, out_dir=files.root / "capped", target=_target(files, 1.0, cap=5))
    p = result.manifest["precision"]
    assert not p["met"] and result.manifest["replications"] == 5 and p["batches"][-1]["replications"] == 5
    assert [b["replications"] for b in p["batches"]] == [2, 4, 5]  # doubling, then the cap
    assert p["achieved_half_width"] > 1.0


def test_the_half_width_is_that_of_the_summed_paired_difference(files):
    result = api.compare(files.base, files.overlays, 4, seed=7, out_dir=files.root / "sum", target=_target(files, 1e12))
    annual = result.tables["annual"]
    spend = annual[(annual["metric"] == "spend_total") & annual["financial_year"].isin(["2015-16", "2016-17", "2017-18"])]
    total = spend.groupby(["scenario", "replication"])["value"].sum()
    difference = total["linc_funding"] - total["baseline"]
    row = next(s for s in result.manifest["precision"]["scenarios"] if s["scenario"] == "linc_funding")
    assert row["difference_mean"] == pytest.approx(difference.mean())
    from scipy import stats

    assert row["half_width"] == pytest.approx(stats.t.ppf(0.975, 3) * difference.std(ddof=1) / 2)


def test_bad_targets_are_refused_naming_the_option(files):
    for kwargs, words in (({"years": "2015-16:2030-31"}, "--years"), ({"metric": "no_such_metric"}, "--metric"),
                          ({"years": "2017-18:2015-16"}, "--years"), ({"half_width": 0}, "--until-half-width")):
        args = {"half_width": 1e6, "config": files.base, **kwargs}
        with pytest.raises(api.ConfigError) as info:
            api.difference_target(**args)
        assert any(words in line for line in info.value.problems), info.value.problems


def test_the_command_line_prints_batches_and_the_answer(files, tmp_path):
    from click.testing import CliRunner

    from hnsim.cli import main

    out = tmp_path / "cli"
    args = ["compare", str(files.base), *map(str, files.overlays), "-n", "2", "--seed", "7", "--workers", "1", "--out", str(out), "--quiet",
            "--until-half-width", "1", "--years", YEARS, "--max-replications", "4", "--year", "2015-16"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "2 replications: worst 95% half-width" in result.output and "4 replications: worst" in result.output
    assert "target NOT met: stopped at the cap of 4 replications" in result.output
    assert "linc_funding" in result.output and "+/-" in result.output
    assert Path(out / "differences.csv").is_file()


def test_the_half_width_is_stratified_over_the_lever_effects(files):
    """With enough replications, each scenario's half-width is that of the residuals of the summed
    difference on its effects' stratified points, and the independent-draws one is kept beside it."""
    import numpy as np
    from scipy import stats

    from hnsim.config import load_config
    from hnsim.model.levers import effect_points

    n = 10
    result = api.compare(files.base, files.overlays, n, seed=7, out_dir=files.root / "strat", target=_target(files, 1e12, cap=n))
    annual = result.tables["annual"]
    spend = annual[(annual["metric"] == "spend_total") & annual["financial_year"].isin(["2015-16", "2016-17", "2017-18"])]
    total = spend.groupby(["scenario", "replication"])["value"].sum()
    config = load_config(files.base, [files.overlays[1]])
    difference = (total["ehcp_rigour"] - total["baseline"]).to_numpy()
    points = np.array([list(effect_points(config, 7, rep).values()) for rep in range(n)])
    assert points.shape == (n, 3)  # refusal, plan probability and appeal changes
    design = np.column_stack([np.ones(n), points - 0.5])
    residual = difference - design @ np.linalg.lstsq(design, difference, rcond=None)[0]
    expected = stats.t.ppf(0.975, n - 4) * np.sqrt(residual @ residual / (n - 4)) / np.sqrt(n)
    row = next(s for s in result.manifest["precision"]["scenarios"] if s["scenario"] == "ehcp_rigour")
    assert row["stratified_effects"] == 3
    assert row["half_width"] == pytest.approx(expected)
    assert row["half_width_independent"] == pytest.approx(stats.t.ppf(0.975, n - 1) * difference.std(ddof=1) / np.sqrt(n))


def test_to_last_year_simulates_only_the_years_asked(files, tmp_path):
    target = api.difference_target(1e12, files.base, years="2015-16:2016-17", max_replications=3, to_last_year=True)
    result = api.compare(files.base, files.overlays, 3, seed=7, out_dir=tmp_path / "cut", target=target)
    assert sorted(result.tables["annual"]["financial_year"].unique()) == ["2014-15", "2015-16", "2016-17"]
    assert result.manifest["precision"]["simulated_to"] == "2017-03-31"
    from click.testing import CliRunner

    from hnsim.cli import main

    refused = CliRunner().invoke(main, ["compare", str(files.base), str(files.overlays[0]), "--to-last-year", "--out", str(tmp_path / "no")])
    assert refused.exit_code == 2 and "--to-last-year" in refused.output and not (tmp_path / "no").exists()
