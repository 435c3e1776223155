"""Model discrepancy: forecasts anchored on the last published value, steps from the spread of
authorities' yearly changes known at the origin, bands that hold what a random walk of those steps
later does, and nothing published after the origin in the steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hnsim.analysis.discrepancy import (DRAWS_PER_MEMBER, GROWTH_DAMPING, Discrepancy, discrepancy_at, growth_error_sd, growth_errors,
                                       has_growth_error, insample_growth_error, with_discrepancy, yearly_steps)
from hnsim.analysis.scores import score_ensembles
from hnsim.data.vantage import write_vantage
from hnsim.experiment.discrepancy import discrepancy_known_at

from conftest import ROOT

FIXTURE = ROOT / "tests" / "data" / "sen2"


def _table(values: dict[str, list[float]], first_year: int = 2014, series: str = "ehcp_total") -> pd.DataFrame:
    rows = [{"authority": a, "series": series, "year": first_year + i, "value": v} for a, vs in values.items() for i, v in enumerate(vs)]
    return pd.DataFrame(rows)


def test_steps_are_each_authoritys_change_less_the_years_median_up_to_the_last_year_known():
    table = _table({"A": [100, 110, 121, 150], "B": [100, 100, 100, 100], "C": [100, 105, 110.25, 90]})
    steps = yearly_steps(table, {"ehcp_total": 2016})
    assert sorted(steps["year"].unique()) == [2015, 2016]  # 2017 is after the last year known
    first = steps[steps["year"] == 2015].set_index("authority")["step"]
    median = np.log(1.05)
    assert first["A"] == pytest.approx(np.log(1.1) - median) and first["B"] == pytest.approx(-median) and first["C"] == pytest.approx(0.0)
    gap = _table({"A": [100, np.nan, 120]}).dropna()  # no change across a missing year
    assert yearly_steps(gap, {"ehcp_total": 2016}).empty


def test_a_series_with_too_few_changes_borrows_and_steps_have_mean_one_when_exponentiated():
    rng = np.random.default_rng(1)
    values = {f"a{i}": list(100 * np.exp(np.cumsum(rng.normal(0.05, 0.1, 6)))) for i in range(40)}
    table = pd.concat([_table(values, series="new_ehcps_calendar_year"), _table({"a0": [10, 12]}, series="assessment_requests_calendar_year")])
    known = {"new_ehcps_calendar_year": 2019, "assessment_requests_calendar_year": 2015, "ehcp_total": 2019}
    found = discrepancy_at(table, known, list(known), min_steps=100)
    assert len(found.steps["new_ehcps_calendar_year"]) == 40 * 5
    assert np.array_equal(found.steps["assessment_requests_calendar_year"], found.steps["new_ehcps_calendar_year"])
    assert found.sources["assessment_requests_calendar_year"].startswith("borrowed")
    assert len(found.steps["ehcp_total"]) == 0 and found.sources["ehcp_total"].startswith("none")
    assert np.mean(np.exp(found.steps["new_ehcps_calendar_year"])) == pytest.approx(1.0)
    assert Discrepancy.from_records(found.to_records()).sources == found.sources


def test_the_young_adult_series_borrow_the_16_19_bands_steps_while_they_have_too_few():
    """The 20-25 band and the FE group had a handful of plans before the reforms reached them: with
    too few changes of their own they take the 16-19 band's, not none at all."""
    rng = np.random.default_rng(2)
    values = {f"a{i}": list(200 * np.exp(np.cumsum(rng.normal(0.1, 0.2, 6)))) for i in range(40)}
    starting = {f"a{i}": [0, 2, 5, 30, 60, 90] for i in range(40)}  # changes from fewer than 20 plans do not count
    table = pd.concat([_table(values, series="ehcp_age_16_19"), _table(starting, series="ehcp_age_20_25"), _table(starting, series="ehcp_post16")])
    known = {"ehcp_age_16_19": 2017, "ehcp_age_20_25": 2017, "ehcp_post16": 2017}
    found = discrepancy_at(table, known, list(known), min_steps=100)
    for series in ("ehcp_age_20_25", "ehcp_post16"):
        assert np.array_equal(found.steps[series], found.steps["ehcp_age_16_19"])
        assert found.sources[series].startswith("borrowed") and "(0 of its own)" in found.sources[series]
    later = discrepancy_at(table, {**known, "ehcp_age_20_25": 2019}, list(known), min_steps=80)  # 2017-18 and 2018-19 from 30 and 60 plans
    assert len(later.steps["ehcp_age_20_25"]) == 80 and not later.sources["ehcp_age_20_25"].startswith("borrowed")


def test_a_count_starting_up_is_anchored_by_its_miss_in_plans_not_scaled():
    """Four plans published where a member simulated twelve move the member's path down by eight
    plans (floored at zero); scaling it by a third would cut all its later growth to a third."""
    members = np.array([[12.0, 30.0, 50.0], [40.0, 60.0, 80.0]])
    simulated = _simulated(members, [2016, 2017, 2018], 2016, series="ehcp_age_20_25")
    training = pd.DataFrame({"series": ["ehcp_age_20_25"], "year": [2016], "value": [4.0]})
    wide = with_discrepancy(simulated, training, {"ehcp_age_20_25": 2016}, Discrepancy({}, {}), seed=1, draws=1).pivot_table(
        index="member", columns="year", values="value")
    assert wide.loc[0].tolist() == pytest.approx([22.0, 42.0]) and wide.loc[1].tolist() == pytest.approx([24.0, 44.0])
    training = training.assign(value=20.0)  # from 20 plans (MIN_BASE) the anchor scales again
    wide = with_discrepancy(simulated, training, {"ehcp_age_20_25": 2016}, Discrepancy({}, {}), seed=1, draws=1).pivot_table(
        index="member", columns="year", values="value")
    assert wide.loc[0].tolist() == pytest.approx([50.0, 250.0 / 3]) and wide.loc[1].tolist() == pytest.approx([30.0, 40.0])


def test_a_path_anchored_below_zero_stays_at_zero_and_the_discrepancy_keeps_every_other_years_mean():
    """The additive anchor can take a member's path below zero (twelve simulated, four published,
    then fewer simulated): that year is zero in every draw, whatever its steps; elsewhere the steps
    (exp of mean one) keep the anchored path's mean. So a band's mean is the anchored path's,
    floored at zero, year by year."""
    members = np.array([[30.0, 20.0, 60.0]])  # anchored by 4 - 30 = -26: -6 in 2017, 34 in 2018
    simulated = _simulated(members, [2016, 2017, 2018], 2016, series="ehcp_age_20_25")
    training = pd.DataFrame({"series": ["ehcp_age_20_25"], "year": [2016], "value": [4.0]})
    rng = np.random.default_rng(3)
    pool = rng.normal(0.0, 0.3, 4000)
    pool = pool - np.log(np.mean(np.exp(pool)))
    out = with_discrepancy(simulated, training, {"ehcp_age_20_25": 2016}, Discrepancy({"ehcp_age_20_25": pool}, {"ehcp_age_20_25": "test"}),
                           seed=1, draws=20000)
    by_year = out.groupby("year")["value"]
    assert by_year.max()[2017] == 0.0
    spread = by_year.std()[2018] / np.sqrt(20000)
    assert by_year.mean()[2018] == pytest.approx(34.0, abs=4 * spread)
    assert by_year.std()[2018] > 5.0  # the steps widen the year anchored above zero


def _simulated(members: np.ndarray, years: list[int], origin_year: int, series: str = "ehcp_total") -> pd.DataFrame:
    """Ensembles: ``members`` (members x years) of ``series``, the first year being horizon 0."""
    rows = [{"series": series, "year": y, "horizon": y - origin_year, "forecaster": "hnsim", "member": m, "value": float(members[m, k])}
            for m in range(members.shape[0]) for k, y in enumerate(years)]
    return pd.DataFrame(rows)


def test_without_steps_each_member_is_anchored_on_the_last_published_value():
    members = np.array([[90.0, 99.0, 108.0], [110.0, 121.0, 132.0], [0.0, 5.0, 10.0]])  # the third member simulated none at the origin
    simulated = _simulated(members, [2018, 2019, 2020], 2018)
    training = pd.DataFrame({"series": ["ehcp_total"], "year": [2018], "value": [100.0]})
    out = with_discrepancy(simulated, training, {"ehcp_total": 2018}, Discrepancy({}, {}), seed=1, draws=3)
    assert set(out["horizon"]) == {1, 2} and len(out) == 3 * 3 * 2  # horizon 0 is not forecast; each member three times
    wide = out.pivot_table(index="member", columns="year", values="value")
    assert wide.loc[0].tolist() == pytest.approx([110.0, 120.0]) and wide.loc[3].tolist() == pytest.approx([110.0, 120.0])  # member 1's growth from 100
    assert wide.loc[6].tolist() == pytest.approx([105.0, 110.0])  # additive anchor where the member had none
    unanchored = with_discrepancy(simulated, training.iloc[:0], {"ehcp_total": 2018}, Discrepancy({}, {}), seed=1, draws=1)
    assert unanchored.pivot_table(index="member", columns="year", values="value").loc[0].tolist() == [99.0, 108.0]


def test_bands_hold_what_a_random_walk_of_the_same_steps_does_and_the_seed_fixes_them():
    rng = np.random.default_rng(7)
    pool = rng.standard_t(4, size=2000) * 0.08
    pool = pool - np.log(np.mean(np.exp(pool)))
    discrepancy = Discrepancy({"ehcp_total": pool}, {"ehcp_total": "test"})
    truths, forecasts = [], []
    flat = np.full((20, 4), 200.0)  # members simulate a flat 200; the published series is 200 then a random walk of the steps
    simulated = _simulated(flat, [2018, 2019, 2020, 2021], 2018)
    training = pd.DataFrame({"series": ["ehcp_total"], "year": [2018], "value": [200.0]})
    for k in range(150):
        walk = 200.0 * np.exp(np.cumsum(rng.choice(pool, 3)))
        truths.append(pd.DataFrame({"case": k, "series": "ehcp_total", "year": [2019, 2020, 2021], "observed": walk}))
        forecasts.append(with_discrepancy(simulated, training, {"ehcp_total": 2018}, discrepancy, seed=[k]).assign(case=k))
    scored = score_ensembles(pd.concat(forecasts), pd.concat(truths), ["case", "series", "year", "horizon", "forecaster"])
    assert scored["members"].eq(20 * DRAWS_PER_MEMBER).all()
    assert scored["inside_90"].mean() == pytest.approx(0.90, abs=0.045)  # 450 values: about 3 standard errors
    assert scored["inside_50"].mean() == pytest.approx(0.50, abs=0.07)
    by_horizon = scored.groupby("horizon")["p95"].mean() - scored.groupby("horizon")["p05"].mean()
    assert by_horizon.is_monotonic_increasing  # the band widens year by year
    again = with_discrepancy(simulated, training, {"ehcp_total": 2018}, discrepancy, seed=[0])
    pd.testing.assert_frame_equal(again, forecasts[0].drop(columns="case"))


def test_the_growth_error_is_the_root_mean_square_of_the_members_in_sample_slopes():
    """Published 100, 110, 121 (10% a year): a member growing 10% a year misses by nothing, one
    flat misses by log(1.1) a year; the published year below MIN_BASE and a gap count no pair."""
    wide = pd.DataFrame({2015: [100.0, 100.0, 50.0], 2016: [110.0, 100.0, 0.0], 2017: [121.0, 100.0, 0.0]}, index=[0, 1, 2])
    published = {2015: 100.0, 2016: 110.0, 2017: 121.0}
    slopes = insample_growth_error(wide, published, 2017)
    assert slopes[0] == pytest.approx(0.0) and slopes[1] == pytest.approx(np.log(1.1)) and np.isnan(slopes[2])  # member 2 simulated none
    assert growth_error_sd(slopes) == pytest.approx(np.sqrt(np.log(1.1) ** 2 / 2))
    assert insample_growth_error(wide, published, 2016)[1] == pytest.approx(np.log(1.1))  # nothing after the last year known
    assert np.isnan(insample_growth_error(wide, {2015: 10.0, 2016: 110.0, 2017: 121.0}, 2016)).all()  # from 10 published: no pair
    assert np.isnan(insample_growth_error(wide[[2015, 2017]], published, 2017)).all()  # no two consecutive years
    assert growth_error_sd(np.full(3, np.nan)) == 0.0


def test_a_member_that_missed_growth_in_sample_gets_a_damped_growth_error_with_mean_one():
    """Every member simulated a flat 200 while 200 / 1.05^2, 200 / 1.05 and 200 were published: the
    growth error's sigma is log(1.05), its reach at horizon h sigma x (1 + phi + ... + phi^(h-1)),
    and the forecast's mean stays on the anchored path (the flat 200)."""
    members = np.full((40, 6), 200.0)
    simulated = _simulated(members, [2016, 2017, 2018, 2019, 2020, 2021], 2018)
    training = pd.DataFrame({"series": "ehcp_total", "year": [2016, 2017, 2018], "value": [200.0 / 1.05**2, 200.0 / 1.05, 200.0]})
    out = with_discrepancy(simulated, training, {"ehcp_total": 2018}, Discrepancy({}, {}), seed=3, draws=200)
    assert set(out["horizon"]) == {1, 2, 3}  # the fitted years are read, not forecast
    logs = np.log(out.pivot_table(index="member", columns="horizon", values="value"))
    reach = np.log(1.05) * np.cumsum(GROWTH_DAMPING ** np.arange(3))
    assert logs.std().to_numpy() == pytest.approx(reach, rel=0.03)  # 8,000 draws: sd known to about 1%
    assert np.exp(logs).mean().to_numpy() == pytest.approx(200.0, rel=0.01)
    exact = _simulated(np.array([[200.0 / 1.05**2, 200.0 / 1.05, 200.0, 210.0, 220.0, 230.0]]), [2016, 2017, 2018, 2019, 2020, 2021], 2018)
    tracked = with_discrepancy(exact, training, {"ehcp_total": 2018}, Discrepancy({}, {}), seed=3, draws=5)
    assert tracked["value"].round(9).nunique() == 3  # a member that tracked every fitted year has no growth error
    only_anchor = with_discrepancy(simulated[simulated["horizon"] >= 0], training, {"ehcp_total": 2018}, Discrepancy({}, {}), seed=3, draws=5)
    assert only_anchor["value"].eq(200.0).all()  # without the fitted years, none either
    flows = _simulated(members, [2015, 2016, 2017, 2018, 2019, 2020], 2017, series="new_ehcps_calendar_year")
    flow_training = training.assign(series="new_ehcps_calendar_year", year=[2015, 2016, 2017])
    assert not has_growth_error("new_ehcps_calendar_year") and has_growth_error("ehcp_age_16_19")
    out = with_discrepancy(flows, flow_training, {"new_ehcps_calendar_year": 2017}, Discrepancy({}, {}), seed=3, draws=5)
    assert out["value"].eq(200.0).all()  # a calendar year's activity carries its noise in the steps alone


def test_a_large_growth_error_keeps_its_mean_and_its_reach_across_gaps_in_the_future_years():
    """sigma log(1.5), future years 2019, 2021 and 2024 after a 2018 origin (horizons 1, 3 and 6):
    the log of the growth error's factor has mean -(sigma c_h)^2 / 2 (half the variance: exp of it
    has mean one) and sd sigma c_h, one z per member and draw at every horizon, and it multiplies
    the forecast with the steps alone, whose draws it leaves as they were."""
    members = np.full((40, 6), 200.0)
    years = [2016, 2017, 2018, 2019, 2021, 2024]
    simulated = _simulated(members, years, 2018)
    training = pd.DataFrame({"series": "ehcp_total", "year": [2016, 2017, 2018], "value": [200.0 / 1.5**2, 200.0 / 1.5, 200.0]})
    steps = Discrepancy({"ehcp_total": np.array([-0.05, 0.0, 0.05])}, {"ehcp_total": "test"})
    args = (simulated, training, {"ehcp_total": 2018}, steps)
    both = with_discrepancy(*args, seed=[5, 2], draws=200).pivot_table(index="member", columns="horizon", values="value")
    alone = with_discrepancy(*args, seed=[5, 2], draws=200, growth_error=False).pivot_table(index="member", columns="horizon", values="value")
    assert list(both.columns) == [1, 3, 6]
    factor = np.log(both / alone)  # the growth error's own term, the steps' draws cancelled
    reach = np.log(1.5) * np.cumsum(GROWTH_DAMPING ** np.arange(6))[[0, 2, 5]]
    z = factor.to_numpy() + reach**2 / 2
    np.testing.assert_allclose(z / reach, np.repeat((z / reach)[:, :1], 3, axis=1), atol=1e-9)  # one z, scaled by c_h
    assert factor.std().to_numpy() == pytest.approx(reach, rel=0.03)
    # 8,000 draws: the log mean is known to about reach / 90, against reach^2 / 2 (0.08 to 1.4) if the correction were missing
    assert factor.mean().to_numpy() == pytest.approx(-(reach**2) / 2, abs=0.05 * reach.max())


def test_a_young_adult_band_with_no_slope_to_read_borrows_the_16_19_bands_growth_error():
    """At origin 2016 the 20-25 band had published a handful of plans: no slope to read, so it
    takes the 16-19 band's growth error (as it takes its steps); with a slope of its own it keeps it."""
    flat = np.full((4, 3), 100.0)
    simulated = pd.concat([_simulated(flat, [2014, 2015, 2016], 2016, series="ehcp_age_16_19"),
                           _simulated(flat, [2014, 2015, 2016], 2016, series="ehcp_age_20_25")])
    published = {("ehcp_age_16_19", 2014): 100.0 / 1.1**2, ("ehcp_age_16_19", 2015): 100.0 / 1.1, ("ehcp_age_16_19", 2016): 100.0,
                 ("ehcp_age_20_25", 2014): 2.0, ("ehcp_age_20_25", 2015): 5.0, ("ehcp_age_20_25", 2016): 12.0}
    known = {"ehcp_age_16_19": 2016, "ehcp_age_20_25": 2016}
    sigmas = growth_errors(simulated, published, known)
    assert sigmas["ehcp_age_16_19"] == pytest.approx(np.log(1.1)) and sigmas["ehcp_age_20_25"] == sigmas["ehcp_age_16_19"]
    own = {**published, ("ehcp_age_20_25", 2015): 100.0, ("ehcp_age_20_25", 2016): 100.0}  # tracked from 2015: a slope of 0 of its own
    assert growth_errors(simulated, own, known)["ehcp_age_20_25"] == 0.0
    assert "ehcp_age_20_25" not in growth_errors(simulated, published, {"ehcp_age_16_19": 2016})  # nothing known: nothing to forecast


def test_the_steps_known_at_an_origin_are_the_same_from_the_full_files_and_from_files_cut_there(tmp_path):
    cut = write_vantage(FIXTURE, 2017, tmp_path / "cut")  # three authorities: every series' own steps, however few
    full, truncated = discrepancy_known_at(FIXTURE, 2017, min_steps=1), discrepancy_known_at(cut, 2017, min_steps=1)
    assert full.sources == truncated.sources and len(full.steps["ehcp_total"]) >= 10  # City of London has fewer than 20 plans in some years
    for series, steps in full.steps.items():
        np.testing.assert_array_equal(steps, truncated.steps[series])
    later = discrepancy_known_at(FIXTURE, 2018, min_steps=1)
    assert len(later.steps["ehcp_total"]) > len(full.steps["ehcp_total"])
