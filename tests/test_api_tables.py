"""The Python API as a notebook uses it: load, run, read back, summarise, look inside one
replication; every layer's numbers agree with the others."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from pandas.testing import assert_frame_equal

from hnsim import api

from conftest import ROOT, scaled_data


@pytest.fixture(scope="module")
def config_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("api") / "small.yaml"
    path.write_text(yaml.safe_dump(scaled_data(0.05, "2017-03-31"), sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def result(config_path, tmp_path_factory):
    config = api.load_config(config_path)
    return config, api.run(config, replications=3, seed=5, workers=2, out_dir=tmp_path_factory.mktemp("api") / "run")


def test_run_writes_and_reads_back_the_same_tables(result):
    _, run = result
    again = api.read_run(run.out_dir)
    assert again.manifest["status"] == "complete" and again.manifest["seed"] == 5 and again.manifest["replications"] == 3
    assert_frame_equal(again.annual.reset_index(drop=True), run.annual.reset_index(drop=True))
    assert np.allclose(again.summary["mean"], run.summary["mean"], equal_nan=True)


def test_each_replication_is_simulate_then_annual_metrics(result):
    config, run = result
    for replication in range(3):  # replication r runs ensemble member r, its parameters and its costs
        params = api.compile_parameters(api.member_config(config, replication))
        metrics = api.annual_metrics(api.simulate(config, replication, 5, params), params)
        mine = run.annual[run.annual["replication"] == replication].pivot(index="metric", columns="financial_year", values="value")
        for name in ("ehcp_total", "assessment_requests", "spend_total", "cumulative_deficit"):
            assert np.array_equal(mine.loc[name].to_numpy(), metrics[name]), (replication, name)


def test_the_summary_is_the_mean_over_replications(result):
    _, run = result
    table = api.wide(run.summary, "mean")
    by_hand = run.annual.groupby(["metric", "financial_year"])["value"].mean().unstack()
    for name in ("ehcp_total", "spend_total", "new_ehcps"):
        assert np.allclose(table.loc[name, by_hand.columns].to_numpy(), by_hand.loc[name].to_numpy())
    assert_frame_equal(api.summarise(run.annual), run.summary, check_dtype=False)


def test_overlays_through_the_api(config_path):
    config = api.load_config(config_path, [ROOT / "configs" / "scenarios" / "linc_funding.yaml"])
    assert config.levers["linc_funding"].enabled and not api.load_config(config_path).levers["linc_funding"].enabled


def test_bad_input_through_the_api(tmp_path):
    data = scaled_data(0.05)
    data["placement"]["first_setting_shares"]["value"]["primary"]["specail"] = data["placement"]["first_setting_shares"]["value"]["primary"].pop("special")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(api.ConfigError) as info:
        api.load_config(path)
    assert info.value.problems == [f"{path}: placement.first_setting_shares.value.primary.specail: unknown setting 'specail'; allowed: mainstream, resourced, special, independent, ap, post16_fe, post16_specialist, early_years, other"]


def test_a_run_without_a_directory_gives_the_same_replications(result):
    config, written = result
    in_memory = api.run(config, replications=2, seed=5, workers=1)
    assert in_memory.out_dir is None
    first_two = written.annual[written.annual["replication"] < 2].reset_index(drop=True)
    assert_frame_equal(in_memory.annual.reset_index(drop=True), first_two)
