"""Naive forecasters on series with known answers, and their documented fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from hnsim.analysis import naive

DRAWS = 20000


def _rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_last_value_is_a_random_walk_with_the_one_step_changes_as_shocks():
    f = naive.last_value([2014, 2015, 2016, 2017], [1, 2, 3, 5], [2018, 2020], DRAWS, _rng())
    sd = np.sqrt((1 + 1 + 4) / 3)  # root mean square of the changes 1, 1, 2
    assert f.method == "last value" and f.years == (2018, 2020)
    assert np.median(f.draws[0]) == pytest.approx(5, abs=0.05)
    assert f.draws[0].std() == pytest.approx(sd, rel=0.03)
    assert f.draws[1].std() == pytest.approx(sd * np.sqrt(3), rel=0.03)  # three steps ahead (draws below zero clipped: none here)


def test_linear_trend_continues_a_straight_line():
    f = naive.linear_trend([2010, 2011, 2012, 2013], [2, 4, 6, 8], [2014, 2015], DRAWS, _rng())
    assert f.draws.mean(axis=1) == pytest.approx([10, 12], abs=0.03)
    assert f.draws.std(axis=1) == pytest.approx([naive.MIN_STEP_SD] * 2, rel=0.03)  # a perfect line still gets the least spread
    noisy = naive.linear_trend([1, 2, 3, 4, 5, 6], [3, 5, 4, 8, 9, 9], [7], DRAWS, _rng())
    slope, intercept = np.polyfit([1, 2, 3, 4, 5, 6], [3, 5, 4, 8, 9, 9], 1)
    assert noisy.draws.mean() == pytest.approx(intercept + 7 * slope, abs=0.05)


def test_compound_growth_continues_a_constant_growth_rate():
    values = [100 * 1.1**k for k in range(5)]
    f = naive.compound_growth(range(2010, 2015), values, [2015, 2016], DRAWS, _rng())
    assert f.method == "compound growth"
    assert np.median(f.draws, axis=1) == pytest.approx([100 * 1.1**5, 100 * 1.1**6], rel=0.002)


def test_damped_trend_stays_between_the_last_value_and_the_straight_line():
    flat = naive.damped_trend(range(2010, 2016), [5] * 6, [2016, 2017], DRAWS, _rng())
    assert flat.method == "damped trend" and flat.draws.mean(axis=1) == pytest.approx([5, 5], abs=0.05)
    line = naive.damped_trend(range(2010, 2017), [10, 12, 14, 16, 18, 20, 22], [2017, 2018, 2019], DRAWS, _rng())
    means = line.draws.mean(axis=1)
    assert np.all(np.diff(means) > 0) and np.all(means > 22)
    assert np.all(means <= np.array([24, 26, 28]) + 0.1)  # damped: never beyond the straight line


def test_fallbacks_when_a_series_is_too_short():
    one = naive.naive_forecasts([2015], [100.0], [2016, 2017], 2000, seed=[1])
    assert [f.method.split(" (")[0] for f in one] == ["last value"] * 4
    assert "one value" in one[0].method and "fewer than 3 values" in one[1].method and "fewer than 5 values" in one[3].method
    assert one[0].draws[0].std() == pytest.approx(naive.FALLBACK_RELATIVE_SD * 100, rel=0.05)
    zero = naive.compound_growth([2014, 2015, 2016, 2017], [0, 5, 48, 59], [2018], 200, _rng())
    assert zero.method == "linear trend (a zero in the series)"
    gap = naive.damped_trend([2010, 2011, 2013, 2014, 2015, 2016], [1, 2, 4, 5, 6, 7], [2017], 200, _rng())
    assert gap.method.startswith("last value") and "a year missing" in gap.method


def test_draws_are_never_negative_and_depend_only_on_the_seed():
    low = naive.last_value([2015, 2016, 2017], [3, 0, 2], [2018, 2019], 5000, _rng())
    assert (low.draws >= 0).all() and (low.draws == 0).any()
    a = naive.naive_forecasts(range(2010, 2017), [5, 6, 8, 9, 12, 13, 15], [2017, 2018], 100, seed=[4, 2])
    b = naive.naive_forecasts(range(2010, 2017), [5, 6, 8, 9, 12, 13, 15], [2017, 2018], 100, seed=[4, 2])
    assert all(np.array_equal(x.draws, y.draws) for x, y in zip(a, b)) and [f.forecaster for f in a] == list(naive.NAIVE_FORECASTERS)
    with pytest.raises(ValueError, match="after the last observed year"):
        naive.last_value([2015, 2016], [1, 2], [2016], 10, _rng())
