"""Which parameters move an outcome most: outcome means per point, tornado data from one-at-a-time
designs (effects paired over common random numbers), and Sobol or Morris indices (SALib).

Inputs are small tables: ``per_rep`` has one row per point, replication, metric and financial year
(``point, replication, metric, financial_year, value``); ``points`` is the design table.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from hnsim.analysis.intervals import mean_interval
from hnsim.config import ConfigError

OUTCOME_COLUMNS = ["mean", "sd", "ci95_low", "ci95_high", "n"]


def point_outcomes(per_rep: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Per point and outcome: the parameter levels, mean, sd, Student-t 95% interval and n."""
    rows = []
    for (point, metric, year), group in per_rep.groupby(["point", "metric", "financial_year"], sort=True):
        values = group["value"].to_numpy(dtype=float)
        mean, sd, low, high = mean_interval(values)
        rows.append({"point": point, "metric": metric, "financial_year": year, "mean": mean, "sd": sd,
                     "ci95_low": low, "ci95_high": high, "n": int((~np.isnan(values)).sum())})
    table = pd.DataFrame(rows, columns=["point", "metric", "financial_year", *OUTCOME_COLUMNS])
    table["point"] = table["point"].astype(int)
    return points.merge(table, on="point", how="inner").sort_values(["point", "metric", "financial_year"], kind="stable").reset_index(drop=True)


def outcome_means(per_rep: pd.DataFrame, metric: str, year: str, n_points: int) -> np.ndarray:
    """Mean of one outcome over replications, for points 0..n_points-1 in order (NaN if absent)."""
    chosen = per_rep[(per_rep["metric"] == metric) & (per_rep["financial_year"] == year)]
    means = chosen.groupby("point")["value"].mean()
    return means.reindex(range(n_points)).to_numpy(dtype=float)


def _values(per_rep: pd.DataFrame, point: int, metric: str, year: str) -> pd.Series:
    chosen = per_rep[(per_rep["point"] == point) & (per_rep["metric"] == metric) & (per_rep["financial_year"] == year)]
    return chosen.set_index("replication")["value"]


def _paired_effect(values: pd.Series, base: pd.Series) -> tuple[float, float, float]:
    """Mean of the differences replication by replication (same random numbers), with its 95% interval."""
    diff = (values - base.reindex(values.index)).to_numpy(dtype=float)
    mean, _, low, high = mean_interval(diff)
    return mean, low, high


def tornado(points: pd.DataFrame, per_rep: pd.DataFrame, metric: str, year: str, parameters: Sequence[str],
            groups: dict[str, str] | None = None) -> pd.DataFrame:
    """Tornado data from a one-at-a-time design, largest swing first.

    For each parameter: the outcome at the base point, at its lowest and highest level, and the
    effect of each (level minus base) with a 95% interval from the differences between the same
    replications, which common random numbers make much narrower than comparing two means.
    ``swing`` is the distance between the two effects. Points that are missing are skipped.
    """
    base_rows = points[points["varied"] == "base"]
    if base_rows.empty:
        raise ValueError("a tornado needs a one-at-a-time design (a point with varied == 'base')")
    base_point = int(base_rows["point"].iloc[0])
    base = _values(per_rep, base_point, metric, year)
    rows = []
    for name in parameters:
        moved = points[(points["varied"] == name) & points["point"].isin(per_rep["point"].unique())]
        if moved.empty or base.empty:
            continue
        numeric = pd.api.types.is_numeric_dtype(moved[name])
        ordered = moved.sort_values(name, kind="stable") if numeric else moved
        low_row, high_row = ordered.iloc[0], ordered.iloc[-1]
        low = _values(per_rep, int(low_row["point"]), metric, year)
        high = _values(per_rep, int(high_row["point"]), metric, year)
        low_effect = _paired_effect(low, base)
        high_effect = _paired_effect(high, base)
        rows.append({
            "metric": metric, "financial_year": year, "parameter": name, "group": (groups or {}).get(name, ""),
            "base_level": base_rows[name].iloc[0], "low_level": low_row[name], "high_level": high_row[name],
            "base_mean": base.mean(), "low_mean": low.mean(), "high_mean": high.mean(),
            "low_effect": low_effect[0], "low_effect_ci95_low": low_effect[1], "low_effect_ci95_high": low_effect[2],
            "high_effect": high_effect[0], "high_effect_ci95_low": high_effect[1], "high_effect_ci95_high": high_effect[2],
            "swing": abs(high_effect[0] - low_effect[0]),
        })
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table = table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(3, "rank", np.arange(1, len(table) + 1))
    return table


def require_salib(part: str) -> Any:
    """``SALib.sample`` or ``SALib.analyze`` with its sobol and morris modules, or a ConfigError
    saying how to install it (SALib is the optional ``hnsim[sensitivity]`` extra)."""
    import importlib

    try:
        package = importlib.import_module(f"SALib.{part}")
        importlib.import_module(f"SALib.{part}.sobol")
        importlib.import_module(f"SALib.{part}.morris")
    except ImportError:
        raise ConfigError(["Sobol and Morris designs need SALib: pip install 'hnsim[sensitivity]'"]) from None
    return package


def _analyze() -> Any:
    return require_salib("analyze")


def sobol_indices(problem: dict[str, Any], y: np.ndarray, second_order: bool = False, seed: int = 0) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices with 95% bootstrap intervals, largest ST first.

    ``y`` holds the outcome at each point of SALib's Sobol sample, in sample order.
    """
    result = _analyze().sobol.analyze(problem, np.asarray(y, dtype=float), calc_second_order=second_order,
                                      conf_level=0.95, seed=seed)
    table = pd.DataFrame({
        "parameter": problem["names"],
        "S1": result["S1"], "S1_conf95": result["S1_conf"],
        "ST": result["ST"], "ST_conf95": result["ST_conf"],
    })
    table = table.sort_values("ST", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(1, "rank", np.arange(1, len(table) + 1))
    return table


def morris_indices(problem: dict[str, Any], sample: np.ndarray, y: np.ndarray, levels: int = 4, seed: int = 0) -> pd.DataFrame:
    """Morris elementary-effect screening: mu, mu_star (mean absolute effect, the ranking), sigma.

    ``sample`` is SALib's Morris sample (before any rounding), ``y`` the outcome at each of its rows.
    """
    result = _analyze().morris.analyze(problem, np.asarray(sample, dtype=float), np.asarray(y, dtype=float),
                                       conf_level=0.95, num_levels=levels, seed=seed)
    table = pd.DataFrame({
        "parameter": problem["names"],
        "mu": result["mu"], "mu_star": result["mu_star"], "mu_star_conf95": result["mu_star_conf"], "sigma": result["sigma"],
    })
    table = table.sort_values("mu_star", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(1, "rank", np.arange(1, len(table) + 1))
    return table
