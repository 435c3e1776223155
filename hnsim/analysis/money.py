"""Money that reconciles: unit costs by spend line, central spend and the opening balance fitted to
the published money figures by a conjugate Gaussian linear model.

Given the simulated activity, every money figure is linear in the money parameters
``theta = (m_mainstream_topups, m_special, m_independent, m_ap, m_post16, m_other, central, opening)``:

- spend of a line = m_line x (its placement spend at multiplier 1) [+ place funding, special]
  [+ central x inflation of 'other', other];
- ``spend_total`` = sum of the lines + the levers' running costs;
- ``in_year_balance`` = allocation - ``spend_total``;
- ``cumulative_deficit`` at 31 March of year y = opening + sum over the years to y of (spend - allocation);
- ``spend_mainstream_topups_primary`` = m_mainstream_topups x its placement spend; ``cost_per_ehcp``
  = ``spend_total`` / EHCPs; ``hnb_allocation`` is an input (no parameter moves it).

Each figure is ``y = x . theta + b + e`` with ``x`` and ``b`` averaged over the replications, and
``e`` Gaussian with variance (stated observation noise)^2 + the replications' variance of the figure
(the observed year is one draw of children's paths). The priors are pseudo-observations, so the
posterior is a weighted least squares solution: mean and covariance in closed form. A figure whose
source starts ``derived:`` is arithmetic on other figures (2018-19 spend = allocation + overspend)
and is reported but not fitted, so the same evidence is not counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from hnsim.config.base import SPEND_LINES
from hnsim.config.calibration import MoneySpec
from hnsim.results.schemas import fy_start_year

CENTRAL = "costs.central_spend_gbp.value"
OPENING = "finance.opening_cumulative_deficit_gbp.value"
ALLOCATION_GROWTH = "finance.allocation_growth_after.value"
#: Parameter names (as the fit report shows them) and the config paths they are written to.
NAMES = tuple(f"multiplier_{line}" for line in SPEND_LINES) + ("central_spend", "opening_deficit")
PATHS = tuple(f"costs.line_multiplier.value.{line}" for line in SPEND_LINES) + (CENTRAL, OPENING)
#: Published money figures the fit can use.
MONEY_METRICS = ("spend_total", *(f"spend_{line}" for line in SPEND_LINES), "spend_mainstream_topups_primary",
                 "in_year_balance", "cumulative_deficit", "hnb_allocation", "cost_per_ehcp")
Z_LIMIT = 3.0  # a figure further than this many sd from the fit is not reproduced
Z90 = 1.6448536269514722


@dataclass(frozen=True)
class MoneyPosterior:
    """The posterior of the money parameters, the figures against it, and notes."""

    mean: np.ndarray
    cov: np.ndarray
    prior_mean: np.ndarray
    prior_sd: np.ndarray
    prior_source: tuple[str, ...]
    figures: pd.DataFrame  # one row per published figure
    effective_parameters: float  # trace of the hat matrix: how many parameters the data determine
    notes: list[str] = field(default_factory=list)
    names: tuple[str, ...] = NAMES
    paths: tuple[str, ...] = PATHS

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    @property
    def data_points(self) -> int:
        """Figures fitted (not counting those reported only)."""
        return int(self.figures["used"].sum()) if len(self.figures) else 0

    def values(self) -> dict[str, float]:
        """The posterior mean as config overrides (path -> value)."""
        return dict(zip(self.paths, (float(v) for v in self.mean)))

    def draw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` members from the posterior, columns = config paths; multipliers kept above 0.01 and
        central spend at or above 0 (a draw below is truncated: spend cannot be negative)."""
        values, vectors = np.linalg.eigh((self.cov + self.cov.T) / 2)
        root = vectors * np.sqrt(np.clip(values, 0.0, None))  # parameters held by their priors have near-zero variance
        draws = self.mean + rng.standard_normal((n, len(self.mean))) @ root.T
        frame = pd.DataFrame(draws, columns=list(self.paths))
        lines = [p for p in self.paths if p.startswith("costs.line_multiplier")]
        frame[lines] = frame[lines].clip(lower=0.01)
        if CENTRAL in frame:
            frame[CENTRAL] = frame[CENTRAL].clip(lower=0.0)
        return frame

    def parameter_table(self) -> pd.DataFrame:
        """Prior and posterior mean and sd of each parameter, with the prior's source."""
        return pd.DataFrame({"parameter": self.names, "path": self.paths, "prior_mean": self.prior_mean, "prior_sd": self.prior_sd,
                             "posterior_mean": self.mean, "posterior_sd": self.sd, "prior_source": self.prior_source})


def money_figures(observed: pd.DataFrame, first_fy: str, last_fy: str) -> pd.DataFrame:
    """The published money figures (``load_observed`` rows) in financial years ``first_fy..last_fy``."""
    years = observed["financial_year"].map(fy_start_year)
    keep = observed["metric"].isin(MONEY_METRICS) & years.between(fy_start_year(first_fy), fy_start_year(last_fy))
    return observed[keep].sort_values(["financial_year", "metric"], kind="stable").reset_index(drop=True)


def design(annual: pd.DataFrame, figures: pd.DataFrame, current: Mapping[str, float], central_factor: Mapping[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-replication design of each figure: ``x`` (replication x figure x parameter) and offset
    ``b`` (replication x figure), so that the figure is ``x . theta + b``.

    ``current`` gives the config's multipliers (``costs.line_multiplier.value.<line>``, default 1),
    central spend and opening balance; ``central_factor`` the 'other' line's inflation by financial year,
    needed only when the config's central spend is 0 (otherwise read off ``spend_central``).
    """
    wide = annual.pivot_table(index="replication", columns=["metric", "financial_year"], values="value", aggfunc="first")
    years = sorted(annual["financial_year"].unique(), key=fy_start_year)
    reps = wide.index.to_numpy()
    n_par = len(NAMES)
    central0 = float(current.get(CENTRAL, 0.0))

    def get(metric: str, fy: str) -> np.ndarray:
        if (metric, fy) in wide.columns:
            return wide[(metric, fy)].to_numpy(dtype=float)
        return np.zeros(len(reps))

    # spend_total by year: x (rep x par), b (rep)
    total_x, total_b, alloc = {}, {}, {}
    line_x: dict[tuple[str, str], np.ndarray] = {}
    for fy in years:
        x = np.zeros((len(reps), n_par))
        for j, line in enumerate(SPEND_LINES):
            placement = get(f"spend_{line}", fy)
            if line == "special":
                placement = placement - get("spend_special_place_funding", fy)
            if line == "other":
                placement = placement - get("spend_central", fy)
            m0 = float(current.get(f"costs.line_multiplier.value.{line}", 1.0))
            x[:, j] = placement / m0
            line_x[(line, fy)] = placement / m0
        # central spend's coefficient: its inflation, read off the metrics where there is any central spend
        factor = get("spend_central", fy) / central0 if central0 != 0 else np.full(len(reps), float((central_factor or {}).get(fy, 1.0)))
        x[:, NAMES.index("central_spend")] = factor
        total_x[fy] = x
        total_b[fy] = get("spend_special_place_funding", fy) + get("spend_levers", fy)
        alloc[fy] = get("hnb_allocation", fy)
    X = np.zeros((len(reps), len(figures), n_par))
    B = np.zeros((len(reps), len(figures)))
    for i, row in enumerate(figures.itertuples(index=False)):
        metric, fy = row.metric, row.financial_year
        if fy not in total_x:
            X[:, i], B[:, i] = np.nan, np.nan
            continue
        if metric == "spend_total":
            X[:, i], B[:, i] = total_x[fy], total_b[fy]
        elif metric == "in_year_balance":
            X[:, i], B[:, i] = -total_x[fy], alloc[fy] - total_b[fy]
        elif metric == "cumulative_deficit":
            upto = [y for y in years if fy_start_year(y) <= fy_start_year(fy)]
            X[:, i] = sum(total_x[y] for y in upto)
            X[:, i, NAMES.index("opening_deficit")] = 1.0
            B[:, i] = sum(total_b[y] - alloc[y] for y in upto)
        elif metric == "hnb_allocation":
            B[:, i] = alloc[fy]
        elif metric == "cost_per_ehcp":
            plans = get("ehcp_total", fy)
            X[:, i], B[:, i] = total_x[fy] / plans[:, None], total_b[fy] / plans
        elif metric == "spend_mainstream_topups_primary":
            m0 = float(current.get("costs.line_multiplier.value.mainstream_topups", 1.0))
            X[:, i, SPEND_LINES.index("mainstream_topups")] = get(metric, fy) / m0
        else:  # spend_<line>
            line = metric[len("spend_"):]
            X[:, i, SPEND_LINES.index(line)] = line_x[(line, fy)]
            if line == "special":
                B[:, i] = get("spend_special_place_funding", fy)
            if line == "other":
                X[:, i, NAMES.index("central_spend")] = total_x[fy][:, NAMES.index("central_spend")]
    return X, B


def gaussian_posterior(X: np.ndarray, y: np.ndarray, noise_var: np.ndarray, prior_mean: np.ndarray, prior_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Posterior mean and covariance of ``theta`` for ``y ~ N(X theta, diag(noise_var))`` and the
    prior ``N(prior_mean, diag(prior_sd^2))``, and the trace of the hat matrix.

    Solved as weighted least squares with the prior as pseudo-observations, in the prior's own
    scale (theta = prior_mean + prior_sd * z) so pounds and multipliers are equally conditioned.
    """
    w = 1.0 / np.sqrt(noise_var)
    A = (X * prior_sd[None, :]) * w[:, None]  # whitened design in z
    r = (y - X @ prior_mean) * w
    precision = A.T @ A + np.eye(len(prior_mean))
    cov_z = np.linalg.inv(precision)
    z = cov_z @ (A.T @ r)
    mean = prior_mean + prior_sd * z
    cov = cov_z * np.outer(prior_sd, prior_sd)
    cov = (cov + cov.T) / 2
    effective = float(np.trace(cov_z @ (A.T @ A)))
    return mean, cov, effective


def fit_money(annual: pd.DataFrame, figures: pd.DataFrame, current: Mapping[str, float], spec: MoneySpec,
              central_factor: Mapping[str, float] | None = None) -> MoneyPosterior:
    """The money posterior from the simulated annual metrics of the fit period (long table,
    per replication) and the published figures (:func:`money_figures`).

    ``current``: the config's values at the money paths (:data:`PATHS`; multipliers default 1);
    ``central_factor``: the 'other' line's inflation by financial year (central spend's coefficient,
    needed only when the config's central spend is 0).
    """
    prior_mean = np.array([spec.line_prior(line).mean if spec.line_prior(line).mean is not None else 1.0 for line in SPEND_LINES]
                          + [spec.central_spend.mean if spec.central_spend.mean is not None else float(current.get(CENTRAL, 0.0)),
                             spec.opening_deficit.mean if spec.opening_deficit.mean is not None else float(current.get(OPENING, 0.0))])
    prior_sd = np.array([spec.line_prior(line).sd for line in SPEND_LINES] + [spec.central_spend.sd, spec.opening_deficit.sd])
    prior_source = tuple(spec.line_prior(line).source for line in SPEND_LINES) + (spec.central_spend.source, spec.opening_deficit.source)
    notes: list[str] = []
    if len(figures) == 0:
        notes.append("no published money figure in the fit period: the money parameters stay at their priors")
        return MoneyPosterior(prior_mean, np.diag(prior_sd**2), prior_mean, prior_sd, prior_source, _figure_frame(figures), 0.0, notes)
    Xr, Br = design(annual, figures, current, central_factor)
    X, b = np.nanmean(Xr, axis=0), np.nanmean(Br, axis=0)
    observed = figures["value"].to_numpy(dtype=float)
    simulated = np.isfinite(X).all(axis=1) & np.isfinite(b)
    # an input (the allocation) has no parameter to inform; a derived figure repeats others
    used = simulated & (np.abs(np.nan_to_num(X)).sum(axis=1) > 0) & ~figures["source"].str.strip().str.lower().str.startswith("derived").to_numpy()
    obs_sd = np.maximum(spec.noise.relative * np.abs(observed), spec.noise.floor_gbp)
    mean = prior_mean
    for _ in range(2):  # replication spread at the current estimate; twice so it is taken at the posterior
        rep_var = np.nanvar(np.einsum("rfp,p->rf", Xr, mean) + Br, axis=0, ddof=1) if Xr.shape[0] > 1 else np.zeros(len(figures))
        noise_var = obs_sd**2 + np.nan_to_num(rep_var)
        if used.any():
            mean, cov, effective = gaussian_posterior(X[used], observed[used] - b[used], noise_var[used], prior_mean, prior_sd)
        else:
            mean, cov, effective = prior_mean, np.diag(prior_sd**2), 0.0
    Xs, bs = np.where(simulated[:, None], X, 0.0), np.where(simulated, b, np.nan)
    fitted = Xs @ mean + bs
    fit_var = np.einsum("fp,pq,fq->f", Xs, cov, Xs) + np.nan_to_num(rep_var)
    z = (observed - fitted) / np.sqrt(fit_var + obs_sd**2)
    frame = _figure_frame(figures)
    frame["fitted_mean"] = fitted
    frame["p05"], frame["p95"] = fitted - Z90 * np.sqrt(fit_var), fitted + Z90 * np.sqrt(fit_var)
    frame["noise_sd"] = np.sqrt(obs_sd**2 + np.nan_to_num(rep_var))
    frame["z"] = z
    frame["reproduced"] = np.abs(z) <= Z_LIMIT
    frame["used"] = used
    for r in frame[~frame["reproduced"]].itertuples(index=False):
        if np.isfinite(r.z):
            notes.append(f"{r.metric} {r.financial_year}: published £{r.observed:,.0f}, fitted £{r.fitted_mean:,.0f} (z {r.z:+.1f}): "
                         f"not reproduced within {Z_LIMIT:.0f} sd; the priors or the simulated activity cannot reach it")
        else:
            notes.append(f"{r.metric} {r.financial_year}: published £{r.observed:,.0f} but not simulated (outside the simulated years)")
    for r in frame[frame["reproduced"] & ~frame["used"] & figures["source"].str.strip().str.lower().str.startswith("derived").to_numpy()].itertuples(index=False):
        notes.append(f"{r.metric} {r.financial_year}: derived from other figures, reported but not fitted (z {r.z:+.1f})")
    return MoneyPosterior(mean, cov, prior_mean, prior_sd, prior_source, frame, effective, notes)


def _figure_frame(figures: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame({"metric": figures["metric"].to_numpy(), "financial_year": figures["financial_year"].to_numpy(),
                          "observed": figures["value"].to_numpy(dtype=float), "source": figures["source"].to_numpy()})
    for column in ("fitted_mean", "p05", "p95", "noise_sd", "z"):
        frame[column] = np.nan
    frame["reproduced"], frame["used"] = False, False
    return frame


def money_members(posterior: MoneyPosterior, n: int, seed: int, allocation: tuple[float, float, str] | None = None) -> pd.DataFrame:
    """``n`` posterior draws as config overrides (columns = config paths, one row a member), for
    an ensemble file; with ``allocation`` = (low, high, source) (``allocation_growth_range``) the
    allocation's growth after the last year given is drawn uniformly too. Reproducible by ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    frame = posterior.draw(n, rng)
    if allocation is not None:
        low, high, _ = allocation
        frame[ALLOCATION_GROWTH] = rng.uniform(low, high, size=n)
    frame.index.name = "member"
    return frame
