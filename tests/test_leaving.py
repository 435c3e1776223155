"""The leaving rate past 19 from the SEN2 age bands: recovered from bands built with a known rate,
the prior alone before the bands hold enough years, nothing after the last year read, and the
starter configs of skill tasks carrying it with its interval drawn across members."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hnsim.analysis.leaving import leaving_past_19


def _bands(stay: float, inflow: float, authorities: int = 150, seed: int = 3) -> pd.DataFrame:
    """Age bands of ``authorities`` from January 2015 to 2019: the 20-25 band keeps ``stay`` of
    itself a year on and takes ``inflow`` of the 16-19 band, with Poisson noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(authorities):
        band_16_19 = rng.uniform(100, 600)
        band_20_25 = 2.0
        for year in range(2015, 2020):
            rows += [{"authority": f"a{a}", "series": "ehcp_age_16_19", "year": year, "value": round(band_16_19)},
                     {"authority": f"a{a}", "series": "ehcp_age_20_25", "year": year, "value": band_20_25}]
            band_20_25 = float(rng.poisson(stay * band_20_25 + inflow * band_16_19))
            band_16_19 *= 1.1
    return pd.DataFrame(rows)


def test_a_known_rate_is_recovered_from_150_authorities():
    table = _bands(stay=0.7, inflow=0.15)
    estimate = leaving_past_19(table, 2019, prior=(0.45, 10.0))  # a prior too wide to matter
    assert estimate.pairs == 150 * 3  # pairs 2016-17, 2017-18, 2018-19
    assert estimate.own_rate == pytest.approx(-math.log(0.7), abs=3 * estimate.own_sd)
    assert estimate.rate == pytest.approx(estimate.own_rate, abs=1e-3)
    assert "150 authorities, Januaries 2016-2019" in estimate.source


def test_before_the_band_holds_two_januaries_from_2016_the_prior_stands_and_later_years_are_not_read():
    table = _bands(stay=0.7, inflow=0.15)
    alone = leaving_past_19(table, 2016, prior=(0.45, 0.2))
    assert (alone.rate, alone.sd, alone.pairs) == (0.45, 0.2, 0) and alone.source.startswith("prior alone")
    at_2018 = leaving_past_19(table, 2018, prior=(0.45, 0.2))
    changed = table.copy()
    changed.loc[changed["year"] == 2019, "value"] *= 5  # a January after the last year read
    assert leaving_past_19(changed, 2018, prior=(0.45, 0.2)) == at_2018


def test_the_estimate_is_combined_with_the_prior_by_precision():
    table = _bands(stay=0.7, inflow=0.15, authorities=20)
    estimate = leaving_past_19(table, 2017, prior=(0.9, 0.05))  # one pair of years from 20 authorities against a tight prior
    weight = (1 / estimate.own_sd**2) / (1 / estimate.own_sd**2 + 1 / 0.05**2)
    assert estimate.rate == pytest.approx(weight * estimate.own_rate + (1 - weight) * 0.9)
    assert estimate.sd < min(estimate.own_sd, 0.05)
    assert abs(estimate.rate - 0.9) < abs(estimate.own_rate - 0.9)


def test_a_skill_tasks_starter_config_carries_the_rate_known_at_its_origin_and_draws_it_across_members(tmp_path):
    from hnsim.experiment.national import POST19_LEAVING_PATH
    from hnsim.experiment.skill import SkillDesign, Vantages, prepare
    from hnsim.experiment.sweep_file import lookup

    from conftest import ROOT

    fixture = ROOT / "tests" / "data" / "sen2"  # two authorities and Gloucestershire: too few pairs, the prior stands
    design = SkillDesign(fixture, origins=(2018,), last_year=2019).resolved()
    task = prepare(design, "916", 2018, Vantages(fixture, tmp_path))
    rate = lookup(task.config, POST19_LEAVING_PATH)
    assert "post19: prior alone" in task.config["ehcp"]["leave_education_rate"]["source"]
    assert "known in January 2018" in task.config["ehcp"]["leave_education_rate"]["source"]
    (drawn,) = [u for u in task.config["calibration"]["uncertain"] if u["path"] == POST19_LEAVING_PATH]
    assert drawn["low"] < rate < drawn["high"] and drawn["high"] - drawn["low"] == pytest.approx(2 * 1.645 * 0.2, abs=1e-5)
