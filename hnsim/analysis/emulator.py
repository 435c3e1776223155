"""An emulator of simulated calibration targets, and the implausibility of history matching.

The emulator is a ridge-regularised quadratic regression of each target's simulated value on the
free parameters' positions in the unit cube, fitted by least squares (numpy). Its predictive
variance adds the residual variance (replication noise and lack of fit) to the parameter
uncertainty of the regression at the point (leverage). It is cheap to evaluate at tens of thousands
of candidate parameter sets, which is what history matching needs.

Implausibility (Vernon, Goldstein and Bower 2010): for target k at parameter set x,
``I_k(x) = |E[f_k(x)] - z_k| / sqrt(Var_emulator_k(x) + Var_observation_k + Var_discrepancy_k)``.
A parameter set is ruled out when the second-largest ``I_k`` exceeds a threshold (3, by
Pukelsheim's three-sigma rule for unimodal distributions); the second-largest rather than the
largest, so one ill-fitting figure does not rule out every point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RIDGE = 1e-6


def features(x: np.ndarray, cross: bool) -> np.ndarray:
    """Quadratic features of points in the unit cube (n x d): constant, linear, squares and,
    with ``cross``, the pairwise products; centred on 0.5 so the terms are nearly orthogonal."""
    c = np.atleast_2d(x) - 0.5
    parts = [np.ones((c.shape[0], 1)), c, c**2]
    if cross:
        i, j = np.triu_indices(c.shape[1], k=1)
        parts.append(c[:, i] * c[:, j])
    return np.hstack(parts)


@dataclass(frozen=True)
class Emulator:
    """Quadratic regression emulators of several outputs on the same design."""

    coef: np.ndarray  # features x outputs
    residual_var: np.ndarray  # outputs
    inverse_gram: np.ndarray  # features x features
    cross: bool

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted mean and variance of every output at points ``x`` (n x d): two n x k arrays."""
        f = features(x, self.cross)
        mean = f @ self.coef
        leverage = np.einsum("ij,jk,ik->i", f, self.inverse_gram, f)
        var = (1.0 + leverage)[:, None] * self.residual_var[None, :]
        return mean, var


def fit_emulator(x: np.ndarray, y: np.ndarray) -> Emulator:
    """Fit quadratic emulators of outputs ``y`` (n x k) on design ``x`` (n x d, unit cube).

    Pairwise products are used only when there are at least 1.5 points per coefficient; outputs
    that are not finite at a point are fitted without it (their residual variance from the rest).
    """
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    n, d = x.shape
    cross = n >= 1.5 * (1 + 2 * d + d * (d - 1) // 2)
    f = features(x, cross)
    p = f.shape[1]
    gram = f.T @ f + RIDGE * n * np.eye(p)
    inverse = np.linalg.inv(gram)
    coef = np.zeros((p, y.shape[1]))
    residual_var = np.zeros(y.shape[1])
    for k in range(y.shape[1]):
        ok = np.isfinite(y[:, k])
        if ok.sum() < 2:
            coef[0, k] = np.nan
            residual_var[k] = np.inf
            continue
        fk = f[ok]
        beta = np.linalg.solve(fk.T @ fk + RIDGE * n * np.eye(p), fk.T @ y[ok, k])
        resid = y[ok, k] - fk @ beta
        dof = max(int(ok.sum()) - p, 1)
        coef[:, k] = beta
        # at least a tiny variance, so a perfectly fitted output cannot divide by zero
        residual_var[k] = max(float(resid @ resid) / dof, 1e-12 * (1.0 + float(np.var(y[ok, k]))))
    return Emulator(coef, residual_var, inverse, cross)


def implausibility(mean: np.ndarray, var: np.ndarray, observed: np.ndarray, observed_var: np.ndarray) -> np.ndarray:
    """Implausibility of every point for every target (n x k)."""
    return np.abs(mean - observed[None, :]) / np.sqrt(var + observed_var[None, :])


def second_largest(values: np.ndarray) -> np.ndarray:
    """The second-largest value of each row (the largest if a row has one column)."""
    if values.shape[1] < 2:
        return values.max(axis=1)
    return np.sort(values, axis=1)[:, -2]


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights."""
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    return float(total**2 / (w**2).sum()) if total > 0 else 0.0


def tempered_weights(log_likelihood: np.ndarray, min_ess: float) -> tuple[np.ndarray, float]:
    """Normalised weights exp(t * log_likelihood) with the largest temperature t in (0, 1] whose
    effective sample size is at least ``min_ess``, and t. Tempering widens a posterior that
    counts correlated figures (the same children in five censuses) as independent evidence."""
    ll = np.asarray(log_likelihood, dtype=float) - np.max(log_likelihood)

    def weights(t: float) -> np.ndarray:
        w = np.exp(t * ll)
        return w / w.sum()

    if effective_sample_size(weights(1.0)) >= min_ess:
        return weights(1.0), 1.0
    low, high = 0.0, 1.0
    for _ in range(50):
        mid = (low + high) / 2
        if effective_sample_size(weights(mid)) >= min_ess:
            low = mid
        else:
            high = mid
    return weights(low), low


def systematic_resample(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` draws by systematic resampling (low variance)."""
    positions = (rng.random() + np.arange(n)) / n
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, positions, side="left")
