"""The half-width of a mean stratified over lever effects (`stratified_half_width`): a known-answer
check of its coverage and of how much narrower than the independent-draws one it is."""

from __future__ import annotations

import numpy as np
import pytest

from hnsim.analysis.intervals import half_width, stratified_half_width
from hnsim.model.streams import strata_key, stratified_uniform


def test_stratified_interval_covers_at_the_nominal_rate_and_is_narrower():
    """y = 3 + 10 u1 + 4 u2^2 + N(0, 1) at stratified points, 32 replications, 400 independent
    sequences: the true mean (3 + 5 + 4/3) falls inside the 95% interval at least 93% of the time
    (it is conservative: the straight line leaves u2^2's curvature in the residual), and the
    interval is about a third of the independent-draws one (residual sd about 1.04 against 3.3)."""
    n, runs, truth = 32, 400, 3 + 5 + 4 / 3
    noise = np.random.default_rng(11)
    covered, ratios = 0, []
    for run in range(runs):
        points = np.array([[stratified_uniform(strata_key(run, "lever", effect), r, bits=32) for effect in ("a", "b")] for r in range(n)])
        y = 3 + 10 * points[:, 0] + 4 * points[:, 1] ** 2 + noise.normal(size=n)
        width, used = stratified_half_width(y, points)
        assert used == 2
        covered += abs(y.mean() - truth) <= width
        ratios.append(width / half_width(y))
    share = covered / runs
    assert 0.93 <= share <= 0.995, share  # binomial sd at 95% over 400 runs: 1.1 points
    assert 0.25 <= np.mean(ratios) <= 0.42, np.mean(ratios)


def test_independent_draws_are_not_helped_by_the_fit_on_average():
    """Points drawn independently (not stratified) unrelated to y: the half-width is about the
    ordinary one (a fit on noise gains nothing), so the method cannot narrow an interval for free."""
    rng = np.random.default_rng(3)
    ratios = [stratified_half_width(y, rng.random((40, 3)))[0] / half_width(y) for y in rng.normal(size=(300, 40))]
    assert 0.97 <= np.mean(ratios) <= 1.08, np.mean(ratios)


@pytest.mark.parametrize("points", [None, np.full((6, 2), 0.5), np.random.default_rng(1).random((4, 2))])
def test_without_usable_points_it_is_the_ordinary_half_width(points):
    """No points, points that do not vary, or too few replications for the fit (n - 1 - p < 2)."""
    y = np.arange(len(points) if points is not None else 5, dtype=float) ** 1.5
    width, used = stratified_half_width(y, points)
    assert used == 0 and width == pytest.approx(half_width(y))


def test_missing_values_are_left_out():
    rng = np.random.default_rng(5)
    points = rng.random((12, 1))
    y = 2 * points[:, 0] + rng.normal(size=12)
    with_gap = y.copy()
    with_gap[3] = np.nan
    assert stratified_half_width(with_gap, points) == stratified_half_width(np.delete(y, 3), np.delete(points, 3, axis=0))
