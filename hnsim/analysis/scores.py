"""Forecast scores: every forecast is an ensemble of draws, scored the same way.

The model's forecast is its replications; a naive forecaster's is draws from its predictive
distribution (:mod:`hnsim.analysis.naive`). Each (series, year) forecast is scored against the value
published later:

- point error of the ensemble mean: signed (``error``, ``pct_error``), absolute percentage error
  (``abs_pct_error``) and scaled absolute error (``abs_scaled_error``, the mean of which is the MASE:
  the scale is the mean absolute one-step change of the series up to the origin, :func:`mase_scale`);
- central 50% and 90% intervals from the ensemble's quantiles (:data:`QUANTILE_METHOD`) and whether
  the observed value lies inside them, with the interval score of each (``scoringrules.interval_score``);
- the CRPS (``scoringrules.crps_ensemble`` with the *fair* estimator, :data:`CRPS_ESTIMATOR`), in
  plans and relative to the observed value (``crps_pct``), and the randomised PIT (rank of the
  observed value among the members).

The fair estimator is unbiased for the CRPS of the distribution the members were drawn from,
whatever their number, so a model of 20 replications and a naive forecaster of 200 draws are
compared on equal terms (the usual estimator would penalise the smaller ensemble for its size).
Weibull quantiles (plotting position ``p(M+1)``) make the expected coverage of the interval between
the ``p`` and ``1 - p`` quantiles exactly ``1 - 2p`` for draws from the forecast distribution,
whatever ``M`` (at least ``1/p - 1`` members), where numpy's default shrinks it for small ensembles.
Pure functions: tables in, tables out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CRPS_ESTIMATOR = "fair"
QUANTILE_METHOD = "weibull"
QUANTILES: dict[str, float] = {"p05": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95}
INTERVALS: dict[str, tuple[str, str, float]] = {"50": ("p25", "p75", 0.5), "90": ("p05", "p95", 0.1)}  # name: (lower, upper, alpha)
MODEL = "hnsim"
#: Columns of a scored table after the keys given to :func:`score_ensembles`.
SCORE_COLUMNS = ["observed", "mean", "p05", "p25", "p50", "p75", "p95", "abs_pct_error", "inside_50", "inside_90", "crps",
                 "error", "pct_error", "abs_scaled_error", "scale", "crps_pct", "interval_score_50", "interval_score_90", "pit", "members"]


def ensemble_quantiles(members: np.ndarray, probabilities: list[float] | tuple[float, ...] | None = None) -> np.ndarray:
    """Quantiles of ensembles (rows x members): array rows x probabilities (Weibull positions;
    default those of :data:`QUANTILES`)."""
    probabilities = tuple(QUANTILES.values()) if probabilities is None else probabilities
    return np.quantile(np.asarray(members, dtype=float), probabilities, axis=-1, method=QUANTILE_METHOD).T


def crps(observed: np.ndarray | float, members: np.ndarray) -> np.ndarray:
    """CRPS of ensemble forecasts (rows x members, at least 2 members), fair estimator."""
    import scoringrules as sr  # imported when scoring, not with the package (it takes a moment)

    members = np.asarray(members, dtype=float)
    if members.shape[-1] < 2:
        raise ValueError("the fair CRPS needs at least 2 members")
    return np.asarray(sr.crps_ensemble(np.asarray(observed, dtype=float), members, estimator=CRPS_ESTIMATOR), dtype=float)


def interval_score(observed: np.ndarray | float, lower: np.ndarray | float, upper: np.ndarray | float, alpha: float) -> np.ndarray:
    """Interval score of central ``1 - alpha`` intervals (scoringrules)."""
    import scoringrules as sr

    return np.asarray(sr.interval_score(np.asarray(observed, dtype=float), np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), alpha), dtype=float)


def pit(observed: np.ndarray, members: np.ndarray, uniform: np.ndarray | None = None) -> np.ndarray:
    """Randomised probability integral transform of ensemble forecasts (rows x members):
    (members below the observed value + U x (members equal to it + 1)) / (M + 1), with ``uniform``
    the U of each row (0.5 when not given). Uniform on [0, 1] when the observed value is
    exchangeable with the members, ties (whole counts) included."""
    observed = np.asarray(observed, dtype=float)[:, None]
    members = np.asarray(members, dtype=float)
    below = (members < observed).sum(axis=1)
    equal = (members == observed).sum(axis=1)
    u = np.full(len(below), 0.5) if uniform is None else np.asarray(uniform, dtype=float)
    return (below + u * (equal + 1)) / (members.shape[1] + 1)


def mase_scale(values: np.ndarray | list[float], years: np.ndarray | list[int] | None = None) -> float:
    """The scale of the MASE: mean absolute one-step change of a series (consecutive years only
    when ``years`` is given). NaN with no change to average or when every change is zero."""
    values = np.asarray(values, dtype=float)
    changes = np.diff(values)
    if years is not None:
        changes = changes[np.diff(np.asarray(years)) == 1]
    scale = float(np.mean(np.abs(changes))) if len(changes) else np.nan
    return scale if scale > 0 else np.nan


def score_ensembles(ensembles: pd.DataFrame, observed: pd.DataFrame, keys: list[str], scales: pd.DataFrame | None = None, seed: int = 0) -> pd.DataFrame:
    """One scored row per forecast with an observed value.

    ``ensembles``: long table ``keys..., member, value`` (one forecast per ``keys`` combination;
    ensembles may differ in size). ``observed``: the published values, ``keys`` without any it lacks
    (for example ``forecaster``), and ``observed``. ``scales``: optional MASE scales with the columns
    they are keyed by and ``scale``. ``seed`` fixes the PIT's randomisation (rows are scored in the
    order of ``keys``, so the same inputs give the same table).
    """
    joined = [k for k in keys if k in observed.columns]
    forecasts = ensembles.sort_values([*keys, "member"], kind="stable")
    groups = forecasts.groupby(keys, sort=True, observed=True)["value"]
    table = groups.size().reset_index(name="members").merge(observed[[*joined, "observed"]], on=joined, how="inner")
    if scales is not None:
        table = table.merge(scales, on=[c for c in scales.columns if c != "scale"], how="left")
    else:
        table["scale"] = np.nan
    if table.empty:
        return pd.DataFrame(columns=[*keys, *SCORE_COLUMNS])
    values = {key if isinstance(key, tuple) else (key,): np.asarray(v, dtype=float) for key, v in groups}
    table = table.sort_values(keys, kind="stable").reset_index(drop=True)
    # the PIT's uniforms are drawn in the order of the keys, so the table does not depend on how rows are grouped
    table["_u"] = np.random.default_rng(seed).uniform(size=len(table))
    rows = []
    for _, part in table.groupby("members", sort=True):  # equal-sized ensembles are scored as one array
        members = np.vstack([values[r] for r in part[keys].itertuples(index=False, name=None)])
        q = ensemble_quantiles(members)
        obs = part["observed"].to_numpy(dtype=float)
        mean = members.mean(axis=1)
        out = part.copy()
        out["mean"] = mean
        for i, name in enumerate(QUANTILES):
            out[name] = q[:, i]
        out["error"] = mean - obs
        with np.errstate(divide="ignore", invalid="ignore"):
            out["pct_error"] = np.where(obs != 0, 100 * (mean - obs) / obs, np.nan)
            out["abs_scaled_error"] = np.abs(mean - obs) / out["scale"].to_numpy(dtype=float)
            out["crps"] = crps(obs, members)
            out["crps_pct"] = np.where(obs != 0, 100 * out["crps"] / obs, np.nan)
        out["abs_pct_error"] = np.abs(out["pct_error"])
        for name, (low, high, alpha) in INTERVALS.items():
            out[f"inside_{name}"] = (out[low] <= obs) & (obs <= out[high])
            out[f"interval_score_{name}"] = interval_score(obs, out[low].to_numpy(), out[high].to_numpy(), alpha)
        out["pit"] = pit(obs, members, part["_u"].to_numpy())
        rows.append(out)
    scored = pd.concat(rows).sort_values(keys, kind="stable").reset_index(drop=True)
    return scored[[*keys, *SCORE_COLUMNS]]


# ------------------------------------------------------------------ summaries
def common_rows(scored: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The rows whose ``keys`` (without ``forecaster``) were forecast by every forecaster present,
    so that every forecaster is averaged over the same published values."""
    forecasters = scored["forecaster"].nunique()
    counts = scored.groupby(keys, observed=True)["forecaster"].transform("nunique")
    return scored[counts == forecasters]


def summary_table(scored: pd.DataFrame, by: list[str], model: str = MODEL, cell: list[str] | None = None) -> pd.DataFrame:
    """Scores aggregated by ``by`` and forecaster: n, mean and median APE, mean signed percentage
    error (bias), MASE, coverage of the 50% and 90% intervals, mean interval scores, mean CRPS (in
    plans, and as a percentage of the observed value), and the CRPS skill of each forecaster
    against the best naive forecaster of its cell: ``1 - mean CRPS / mean CRPS of the naive
    forecaster with the lowest mean CRPS`` (``crps_skill``, plans, so larger authorities weigh
    more) and the same on the percentage CRPS (``crps_pct_skill``, every authority alike).

    ``scored`` holds only rows forecast by every forecaster (:func:`common_rows`).
    """
    grouped = scored.groupby([*by, "forecaster"], observed=True, sort=True)
    out = grouped.agg(n=("observed", "size"), mean_ape=("abs_pct_error", "mean"), median_ape=("abs_pct_error", "median"),
                      mean_pct_error=("pct_error", "mean"), mase=("abs_scaled_error", "mean"), coverage_50=("inside_50", "mean"),
                      coverage_90=("inside_90", "mean"), mean_interval_score_50=("interval_score_50", "mean"),
                      mean_interval_score_90=("interval_score_90", "mean"), mean_crps=("crps", "mean"), mean_crps_pct=("crps_pct", "mean")).reset_index()
    naive = out[out["forecaster"] != model]
    for column, skill in (("mean_crps", "crps_skill"), ("mean_crps_pct", "crps_pct_skill")):
        if by:
            scored_cells = naive.dropna(subset=[column])  # a cell of published zeros has no percentage CRPS
            best = scored_cells.loc[scored_cells.groupby(by, observed=True)[column].idxmin()][[*by, "forecaster", column]]
            best = best.rename(columns={"forecaster": f"best_naive_{skill}", column: "best"})
            merged = out.merge(best, on=by, how="left")
        else:
            row = naive.loc[[naive[column].idxmin()]] if naive[column].notna().any() else naive.iloc[:0]
            merged = out.assign(**{f"best_naive_{skill}": row["forecaster"].iloc[0] if len(row) else None, "best": row[column].iloc[0] if len(row) else np.nan})
        with np.errstate(divide="ignore", invalid="ignore"):
            out[skill] = 1.0 - merged[column].to_numpy() / merged["best"].to_numpy()
        out[f"best_naive_{skill}"] = merged[f"best_naive_{skill}"].to_numpy()
    out = out.rename(columns={"best_naive_crps_skill": "best_naive", "best_naive_crps_pct_skill": "best_naive_pct"})
    return out


#: The scores :func:`paired_difference` compares, each a mean over published values.
PAIRED_SCORES = ("abs_pct_error", "crps_pct", "inside_50", "inside_90", "pct_error")


def paired_difference(before: pd.DataFrame, after: pd.DataFrame, model: str = MODEL, cluster: str = "old_la_code",
                      keys: tuple[str, ...] = ("old_la_code", "origin", "series", "year"), by: str | None = None) -> pd.DataFrame:
    """The change in ``model``'s mean scores from one scored run (``before``, rows as ``skill.parquet``)
    to another (``after``), over the published values both scored, paired value by value.

    The standard error treats each ``cluster`` (an authority) as one draw: an authority's values at
    every origin, series and year come from the same calibrations and the same years, so they do not
    vary independently, and a value-by-value standard error would overstate what the runs can tell.
    It is the cluster-robust standard error of the mean difference over values,
    ``sqrt(k / (k - 1) * sum_c (sum_{i in c} (d_i - mean d))^2) / n`` for ``k`` clusters and ``n``
    values. One row per score (and per value of the column ``by``, if given; for example
    ``series``, ``origin`` or ``horizon``): n (the pairs where both runs have the score), clusters,
    the two means, the difference (after - before) and its standard error.
    """
    extra = [by] if by is not None and by not in keys else []
    columns = list(keys) + extra + list(PAIRED_SCORES)
    a = before.loc[before["forecaster"] == model, columns].set_index(list(keys))
    b = after.loc[after["forecaster"] == model, columns].drop(columns=extra).set_index(list(keys))
    joined = a.merge(b, how="inner", left_index=True, right_index=True, suffixes=("_before", "_after")).reset_index()
    rows = []
    groups = [(None, joined)] if by is None else list(joined.groupby(by, observed=True))
    for group, part in groups:
        for score in PAIRED_SCORES:
            x, y = part[f"{score}_before"].astype(float), part[f"{score}_after"].astype(float)
            both = x.notna() & y.notna()
            x, y = x[both], y[both]
            d = y - x
            n = len(d)
            sums = (d - d.mean()).groupby(part.loc[both, cluster]).sum()
            k = len(sums)
            se = float(np.sqrt(k / (k - 1) * (sums**2).sum()) / n) if k > 1 else float("nan")
            rows.append({**({} if by is None else {by: group}), "score": score, "n": n, "clusters": k,
                         "before": x.mean(), "after": y.mean(), "difference": d.mean(), "se": se})
    return pd.DataFrame(rows)
