"""Pooled trend priors: partial pooling of an authority's growth towards its region and England."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hnsim.analysis.trends import fit_pooled, pooled_growth
from hnsim.data.trend_tables import trend_table
from hnsim.experiment.trend_priors import growth_prior, pooled_fit, request_growth_prior
from tests.conftest import ROOT, SEN2_DIR

FIXTURE = ROOT / "tests" / "data" / "sen2"  # national rows, Gloucestershire, Rutland, City of London
REGION_SLOPES = {"North": 0.05, "Middle": 0.10, "South": 0.15}


def synthetic(seed: int = 1) -> pd.DataFrame:
    """30 authorities in 3 regions, six years 2013-2018 of about 500 a year growing at their region's
    log slope plus an authority's own (sd 0.03) and noise (sd 0.04); later years 2019-2020 too.
    Authority 'flat' (Middle) has two years, 2017 and 2018, both 400; 'steady' (Middle) grows at a log
    slope of 0.17 with no noise for six years."""
    rng = np.random.default_rng(seed)
    rows = []
    for r, (region, slope) in enumerate(REGION_SLOPES.items()):
        for i in range(10):
            own = slope + rng.normal(0, 0.03)
            level = math.log(500) + rng.normal(0, 0.3)
            for year in range(2013, 2021):
                rows.append((f"{r}{i:02d}", f"{region} {i}", region, year, math.exp(level + own * (year - 2015.5) + rng.normal(0, 0.04))))
    rows += [("flat", "Flat", "Middle", year, 400.0) for year in (2017, 2018)]
    rows += [("steady", "Steady", "Middle", year, 300 * math.exp(0.17 * (year - 2013))) for year in range(2013, 2019)]
    return pd.DataFrame(rows, columns=["authority", "la_name", "region_name", "year", "value"])


def test_two_flat_years_are_pulled_most_of_the_way_to_the_region():
    prior = pooled_growth(synthetic(), "requests", "flat", 2013, 2018)
    assert prior.method == "MixedLM"
    assert prior.n_years == 2 and prior.own is not None and prior.own.mean == pytest.approx(0.0)
    assert prior.own.mean < prior.mean < prior.regional.mean
    assert prior.regional.mean - prior.mean < prior.mean - prior.own.mean  # closer to the region
    assert 0 < prior.shrinkage < 0.5
    assert prior.sd > 0 and "own +0.0%/yr (2 yrs)" in prior.source and "MixedLM" in prior.source


def test_six_steady_years_keep_their_own_slope():
    prior = pooled_growth(synthetic(), "requests", "steady", 2013, 2018)
    assert prior.own is not None and prior.own.mean == pytest.approx(math.expm1(0.17))
    assert abs(prior.mean - prior.own.mean) < 0.2 * abs(prior.own.mean - prior.regional.mean)
    assert prior.shrinkage > 0.8
    # and it is surer than the flat authority
    assert prior.sd < pooled_growth(synthetic(), "requests", "flat", 2013, 2018).sd


def test_regional_and_england_slopes_recover_the_truth():
    fit = fit_pooled(synthetic(), "requests", 2013, 2018)
    for region, slope in REGION_SLOPES.items():
        assert fit.regions[region][0] == pytest.approx(slope, abs=0.03)
    assert fit.england[0] == pytest.approx(np.mean(list(REGION_SLOPES.values())), abs=0.02)


@pytest.mark.parametrize("method", ["auto", "empirical_bayes"])
def test_no_year_after_last_year_is_used(method):
    table = synthetic()
    changed = table.copy()
    later = changed["year"] > 2018
    changed.loc[later, "value"] *= 5  # a boom after the origin
    changed = pd.concat([changed, pd.DataFrame([("new", "New", "North", 2019, 50.0), ("new", "New", "North", 2020, 90.0)], columns=table.columns)])
    for code in ("flat", "steady", "105"):
        assert pooled_growth(changed, "requests", code, 2013, 2018, method=method) == pooled_growth(table, "requests", code, 2013, 2018, method=method)
    # the later years do change a fit that may see them
    assert pooled_growth(changed, "requests", "105", 2013, 2020, method=method) != pooled_growth(table, "requests", "105", 2013, 2020, method=method)


def test_failed_mixedlm_falls_back_to_empirical_bayes(monkeypatch):
    import statsmodels.api as sm

    def fail(*args, **kwargs):
        raise np.linalg.LinAlgError("singular")

    monkeypatch.setattr(sm.MixedLM, "fit", fail)
    prior = pooled_growth(synthetic(), "requests", "flat", 2013, 2018)
    assert prior.method == "empirical Bayes" and "empirical Bayes" in prior.source
    assert prior.own.mean < prior.mean < prior.regional.mean
    assert 0 < prior.shrinkage < 0.5
    with pytest.raises(ValueError, match="MixedLM not usable"):
        pooled_growth(synthetic(), "requests", "flat", 2013, 2018, method="mixedlm")


def test_few_authorities_use_the_fallback_and_no_years_is_refused():
    few = synthetic()
    few = few[few["authority"].isin(["000", "001", "100", "101", "flat"])]
    prior = pooled_growth(few, "requests", "flat", 2013, 2018)
    assert prior.method == "empirical Bayes" and math.isfinite(prior.mean) and prior.sd > 0
    with pytest.raises(ValueError, match="a trend needs two"):
        pooled_growth(synthetic(), "requests", "flat", 2018, 2018)
    with pytest.raises(ValueError, match="not in the requests table"):
        pooled_growth(synthetic(), "requests", "Atlantis", 2013, 2018)


def test_an_authority_without_years_in_the_window_gets_its_region():
    table = pd.concat([synthetic(), pd.DataFrame([("late", "Late", "South", 2020, 80.0)], columns=["authority", "la_name", "region_name", "year", "value"])])
    prior = pooled_growth(table, "requests", "late", 2013, 2018)
    assert prior.own is None and prior.n_years == 0 and prior.shrinkage == 0
    assert prior.mean == pytest.approx(prior.regional.mean) and prior.sd > prior.regional.sd


def test_two_years_each_says_the_variances_are_not_separable():
    table = synthetic()
    fit = fit_pooled(table, "requests", 2017, 2018)
    assert fit.method == "empirical Bayes" and "two years each" in fit.note


def test_trend_table_series():
    requests = trend_table(FIXTURE, "requests")
    assert list(requests.columns) == ["authority", "la_name", "region_name", "year", "value"]
    glos = requests[requests["authority"] == "916"].set_index("year")["value"]
    assert glos.to_dict() == {2016: 505.0, 2017: 610.0, 2018: 632.0, 2019: 613.0}
    share = trend_table(FIXTURE, "ehcp_20_25_share").query("authority == '916'").set_index("year")["value"]
    band = trend_table(FIXTURE, "ehcp_20_25").query("authority == '916'").set_index("year")["value"]
    total = trend_table(FIXTURE, "ehcp_total").query("authority == '916'").set_index("year")["value"]
    assert share.to_dict() == pytest.approx((band / total).dropna().to_dict())
    assert set(trend_table(FIXTURE, "new_plans")["year"]) >= {2014, 2018}
    with pytest.raises(KeyError, match="allowed: requests"):
        trend_table(FIXTURE, "tribunals")


def test_fixture_prior_is_fitted_once_per_origin():
    # three authorities: the fallback; asked twice, the same fit
    assert pooled_fit(FIXTURE, "requests", 2018) is pooled_fit(FIXTURE, "requests", 2018)
    prior = request_growth_prior(FIXTURE, "Gloucestershire", 2018)
    assert prior.authority == "916" and prior.n_years == 3 and prior.method == "empirical Bayes"
    assert math.isfinite(prior.mean) and prior.sd > 0
    with pytest.raises(ValueError, match="local authority"):
        growth_prior(FIXTURE, "England", "requests", 2018)


@pytest.mark.sen2
def test_gloucestershire_request_growth_prior_on_the_sen2_files():
    prior = request_growth_prior(SEN2_DIR, "Gloucestershire", 2018)
    assert prior.method == "MixedLM" and prior.n_authorities > 100
    assert prior.first_year == 2016 and prior.last_year == 2018 and prior.n_years == 3
    assert math.isfinite(prior.mean) and math.isfinite(prior.sd) and prior.sd > 0
    assert 0 <= prior.shrinkage <= 1 and prior.region == "South West"
    assert -0.5 < prior.mean < 1.0  # within the schema's range of a growth per year

