"""Forecast scores against hand computations and scoringrules' published examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scoringrules as sr

from hnsim.analysis import scores


def _pairwise(x: np.ndarray) -> float:
    return float(np.abs(x[:, None] - x[None, :]).sum())


def test_fair_crps_by_hand():
    # ensemble {0, 1, 3}, observed 1: E|X - y| = 1; sum over all pairs |xi - xj| = 12;
    # fair: 1 - 12 / (2 * 3 * 2) = 0 (the usual estimator: 1 - 12 / (2 * 9) = 1/3)
    assert scores.crps(np.array([1.0]), np.array([[0.0, 1.0, 3.0]]))[0] == pytest.approx(0.0, abs=1e-12)
    # ensemble {1, ..., 5}, observed 1: E|X - y| = 2; pairs 40; 2 - 40 / 40 = 1
    assert scores.crps(np.array([1.0]), np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]))[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 2 members"):
        scores.crps(np.array([1.0]), np.array([[1.0]]))


def test_fair_crps_is_unbiased_for_small_ensembles_against_the_closed_form_normal_crps():
    # CRPS of N(mu, sigma) at y (Gneiting and Raftery 2007, eq. 21): sigma [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)]
    from scipy.stats import norm

    mu, sigma, y = 10.0, 2.0, 11.0
    z = (y - mu) / sigma
    closed = sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))
    assert sr.crps_normal(y, mu, sigma) == pytest.approx(closed)
    rng = np.random.default_rng(11)
    members = rng.normal(mu, sigma, size=(40000, 5))
    fair = scores.crps(np.full(40000, y), members).mean()
    usual = sr.crps_ensemble(np.full(40000, y), members, estimator="nrg").mean()
    assert fair == pytest.approx(closed, rel=0.01)
    # the usual estimator adds E|X - X'| / (2M) = sigma / (sqrt(pi) M) on average: it penalises a small ensemble for its size
    assert usual - fair == pytest.approx(sigma / (np.sqrt(np.pi) * 5), rel=0.03)


def test_interval_score_published_examples_and_by_hand():
    assert scores.interval_score(0.1, 0.0, 0.4, 0.5) == pytest.approx(0.4)  # scoringrules' docstring example
    # its second example prints 0.4 for the third interval, [0.2, 0.5] holding 0.3, whose score by the definition is its width, 0.3
    assert scores.interval_score(np.array([0.1, 0.2, 0.3]), np.array([0.0, 0.1, 0.2]), np.array([0.4, 0.3, 0.5]), 0.5) == pytest.approx([0.4, 0.2, 0.3])
    # below the interval: width + 2/alpha x shortfall; above: width + 2/alpha x excess
    assert scores.interval_score(8.0, 10.0, 20.0, 0.1) == pytest.approx(10 + 20 * 2)
    assert scores.interval_score(23.0, 10.0, 20.0, 0.5) == pytest.approx(10 + 4 * 3)


def test_mase_scale_is_the_mean_absolute_one_step_change():
    assert scores.mase_scale([1, 2, 4, 7]) == pytest.approx(2.0)
    assert scores.mase_scale([1, 2, 4, 7], [2014, 2015, 2017, 2018]) == pytest.approx(2.0)  # 1 and 3; the 2-year step is left out
    assert np.isnan(scores.mase_scale([5]))
    assert np.isnan(scores.mase_scale([5, 5, 5]))  # no change to scale by


def test_weibull_quantiles_give_nominal_coverage_whatever_the_ensemble_size():
    rng = np.random.default_rng(7)
    for members in (20, 50):
        draws = rng.normal(size=(20000, members + 1))  # the observed value is exchangeable with the members
        q = scores.ensemble_quantiles(draws[:, 1:])
        obs = draws[:, 0]
        assert np.mean((q[:, 0] <= obs) & (obs <= q[:, 4])) == pytest.approx(0.90, abs=0.01)
        assert np.mean((q[:, 1] <= obs) & (obs <= q[:, 3])) == pytest.approx(0.50, abs=0.015)
    # numpy's default plotting positions make 20 members cover less than 90%
    default = np.quantile(draws[:, 1:21], [0.05, 0.95], axis=1).T
    assert np.mean((default[:, 0] <= draws[:, 0]) & (draws[:, 0] <= default[:, 1])) < 0.87


def test_pit_is_uniform_for_exchangeable_whole_counts():
    rng = np.random.default_rng(3)
    draws = rng.poisson(4.0, size=(20000, 21)).astype(float)  # many ties with the observed value
    values = scores.pit(draws[:, 0], draws[:, 1:], rng.uniform(size=20000))
    counts, _ = np.histogram(values, bins=10, range=(0, 1))
    assert counts.min() > 0.9 * 2000 and counts.max() < 1.1 * 2000
    assert scores.pit(np.array([5.0]), np.array([[1.0, 2.0, 3.0]]))[0] == pytest.approx((3 + 0.5) / 4)


def test_score_ensembles_by_hand():
    ensembles = pd.DataFrame({"series": "s", "year": 2018, "forecaster": ["hnsim"] * 3 + ["last_value"] * 5,
                              "member": [0, 1, 2, 0, 1, 2, 3, 4], "value": [0.0, 1.0, 3.0, 1.0, 2.0, 3.0, 4.0, 5.0]})
    observed = pd.DataFrame({"series": ["s"], "year": [2018], "observed": [1.0]})
    out = scores.score_ensembles(ensembles, observed, ["series", "year", "forecaster"], pd.DataFrame({"series": ["s"], "scale": [0.5]})).set_index("forecaster")
    assert list(out.columns[-len(scores.SCORE_COLUMNS):]) == scores.SCORE_COLUMNS
    model, naive = out.loc["hnsim"], out.loc["last_value"]
    assert model["mean"] == pytest.approx(4 / 3) and model["abs_pct_error"] == pytest.approx(100 / 3) and model["crps"] == pytest.approx(0.0, abs=1e-12)
    assert model["abs_scaled_error"] == pytest.approx((1 / 3) / 0.5) and model["members"] == 3
    assert naive["crps"] == pytest.approx(1.0) and naive["pct_error"] == pytest.approx(200.0) and naive["crps_pct"] == pytest.approx(100.0)
    # Weibull quantiles of {1..5}: p25 at position 1.5 -> 1.5, p75 at 4.5 -> 4.5; observed 1 is below the 50% interval
    assert naive["p25"] == pytest.approx(1.5) and naive["p75"] == pytest.approx(4.5) and not naive["inside_50"] and naive["inside_90"]
    assert naive["interval_score_50"] == pytest.approx(3.0 + 2 / 0.5 * 0.5)
    again = scores.score_ensembles(ensembles.sample(frac=1, random_state=1), observed, ["series", "year", "forecaster"])
    assert again["pit"].tolist() == scores.score_ensembles(ensembles, observed, ["series", "year", "forecaster"])["pit"].tolist()  # row order does not matter


def test_skill_is_one_minus_the_ratio_to_the_best_naive_forecaster():
    rows = []
    for forecaster, crps in (("hnsim", [2.0, 4.0]), ("last_value", [4.0, 4.0]), ("linear_trend", [3.0, 3.0])):
        for i, c in enumerate(crps):
            rows.append({"series": "s", "horizon": 1, "forecaster": forecaster, "observed": 100.0, "abs_pct_error": 5.0, "pct_error": -5.0,
                         "abs_scaled_error": 1.0, "inside_50": i == 0, "inside_90": True, "interval_score_50": 1.0, "interval_score_90": 2.0,
                         "crps": c, "crps_pct": c})
    table = scores.summary_table(pd.DataFrame(rows), ["series", "horizon"]).set_index("forecaster")
    assert table.loc["hnsim", "best_naive"] == "linear_trend"  # mean CRPS 3 against last value's 4
    assert table.loc["hnsim", "crps_skill"] == pytest.approx(1 - 3.0 / 3.0)
    assert table.loc["last_value", "crps_skill"] == pytest.approx(1 - 4.0 / 3.0)
    assert table.loc["hnsim", "coverage_50"] == pytest.approx(0.5) and table.loc["hnsim", "n"] == 2


def test_paired_difference_pairs_values_and_counts_each_authority_once():
    from hnsim.analysis.scores import paired_difference

    def run(shift: dict[str, float]) -> pd.DataFrame:
        rows = []
        for la in ("a", "b", "c"):
            for year in (2017, 2018):
                for forecaster in ("hnsim", "last_value"):
                    ape = 10.0 + (shift[la] if forecaster == "hnsim" else 50.0)
                    rows.append({"old_la_code": la, "origin": 2016, "series": "ehcp_total", "year": year, "forecaster": forecaster,
                                 "abs_pct_error": ape, "crps_pct": ape / 2, "inside_50": True, "inside_90": la != "c", "pct_error": -ape})
        return pd.DataFrame(rows)

    before, after = run({"a": 0.0, "b": 0.0, "c": 0.0}), run({"a": 1.0, "b": 2.0, "c": 6.0})
    after = after[~((after["old_la_code"] == "c") & (after["year"] == 2018))]  # scored in one run only: not compared
    table = paired_difference(before, after).set_index("score")
    ape = table.loc["abs_pct_error"]
    assert ape["n"] == 5 and ape["clusters"] == 3
    assert ape["difference"] == pytest.approx((1 + 1 + 2 + 2 + 6) / 5)  # hnsim's rows only, the naive forecaster's ignored
    d = np.array([1.0, 1.0, 2.0, 2.0, 6.0])  # a, a, b, b, c: one draw per authority
    sums = [(d[:2] - d.mean()).sum(), (d[2:4] - d.mean()).sum(), (d[4:] - d.mean()).sum()]
    assert ape["se"] == pytest.approx(np.sqrt(3 / 2 * np.sum(np.square(sums))) / 5)
    assert table.loc["inside_90", "difference"] == 0.0
    by_series = paired_difference(before, after, by="series")
    assert set(by_series["series"]) == {"ehcp_total"}
    before["horizon"], after["horizon"] = before["year"] - 2016, after["year"] - 2016
    by_horizon = paired_difference(before, after, by="horizon").set_index(["horizon", "score"])
    assert by_horizon.loc[(2, "abs_pct_error"), "n"] == 2  # a column that is not a key
    after.loc[after["old_la_code"] == "b", "crps_pct"] = np.nan  # not scored: left out of that score only
    table = paired_difference(before, after).set_index("score")
    assert table.loc["crps_pct", "n"] == 3 and table.loc["abs_pct_error", "n"] == 5
