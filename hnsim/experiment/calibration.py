"""Calibration: fit a config's free parameters to published figures with scipy.optimize.

The search runs :func:`scipy.optimize.least_squares` (trust-region reflective) in the unit cube of
the free parameters, on residuals measured in tolerances (:mod:`hnsim.analysis.calibration_targets`).
Every evaluation simulates the same replications with the same root seed (common random numbers),
so the objective moves only because the parameters did. The Jacobian is taken by forward
differences with a step large enough to see through the whole-children steps of a simulated count,
and all its points run as one batch on the local processes. The money values that the outcomes are
linear in (central spend, opening balance) are then solved exactly from the simulated spend.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from hnsim.analysis.calibration_targets import Target, residuals, simulated_values
from hnsim.config import ConfigError, apply_overrides, validate
from hnsim.config.calibration import CalibrationSpec, FreeParameter
from hnsim.experiment.runner import combine, run_tasks
from hnsim.experiment.sweep_file import lookup

DIFF_STEP = 0.04  # forward-difference step in the unit cube: several children's worth in every count
CENTRAL_SPEND = "costs.central_spend_gbp.value"
OPENING_BALANCE = "finance.opening_cumulative_deficit_gbp.value"


# ------------------------------------------------------------------ parameters
def to_unit(p: FreeParameter, value: float) -> float:
    """A parameter value as a position in its range, 0..1 (clipped)."""
    if p.log_scale:
        u = (math.log(max(value, p.low)) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
    else:
        u = (value - p.low) / (p.high - p.low)
    return float(min(max(u, 0.0), 1.0))


def from_unit(p: FreeParameter, u: float) -> float:
    """The value at position ``u`` (0..1) of a parameter's range."""
    u = min(max(float(u), 0.0), 1.0)
    if p.log_scale:
        return float(math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low))))
    return float(p.low + u * (p.high - p.low))


def sourced_node(path: str) -> str:
    """The sourced value a path points into: ``a.b.value.primary`` -> ``a.b``."""
    keys = path.split(".")
    return ".".join(keys[: len(keys) - 1 - keys[::-1].index("value")])


def set_parameters(data: dict[str, Any], free: list[FreeParameter], values: list[float]) -> dict[str, Any]:
    """A copy of plain config data with the free parameters set; the other entries of a share row
    are rescaled so the row still sums to 1; whole numbers stay whole."""
    out = copy.deepcopy(data)
    set_in_row: dict[str, set[str]] = {}  # share rows: entries set by this call are not rescaled
    for p in free:
        if p.share:
            parent_path, key = p.path.rsplit(".", 1)
            set_in_row.setdefault(parent_path, set()).add(key)
    for p, value in zip(free, values):
        current = lookup(out, p.path)
        if isinstance(current, int) and not isinstance(current, bool):
            value = int(round(value))
        out = apply_overrides(out, {p.path: value})
        if p.share:
            parent_path, key = p.path.rsplit(".", 1)
            row = lookup(out, parent_path)
            fixed = set_in_row[parent_path] - {key}
            rest = sum(v for k, v in row.items() if k != key and k not in fixed)
            if rest > 0:
                scale = (1.0 - value - sum(row[k] for k in fixed)) / rest
                row[key] = round(value, 6)
                others = [k for k in row if k != key and k not in fixed]
                for k in others:
                    row[k] = round(row[k] * scale, 6)
                largest = max(others, key=lambda k: row[k])  # rounding left over goes to the largest share
                row[largest] = round(1.0 - sum(v for k, v in row.items() if k != largest), 6)
    return out


def current_values(data: dict[str, Any], free: list[FreeParameter]) -> list[float]:
    """The free parameters' values in plain config data."""
    return [float(lookup(data, p.path)) for p in free]


def with_horizon(data: dict[str, Any], last_year: int) -> dict[str, Any]:
    """Simulate only to 31 March of ``last_year + 1``, so calendar year ``last_year`` is complete."""
    return apply_overrides(data, {"simulation.end_date": f"{last_year + 1}-03-31"})


# ------------------------------------------------------------------ evaluation
@dataclass
class Evaluator:
    """Simulates parameter sets with common random numbers and keeps count of what it ran."""

    data: dict[str, Any]
    free: list[FreeParameter]
    targets: list[Target]
    replications: int
    seed: int
    workers: int = 1
    executor: Executor | None = None
    on_evaluation: Callable[[int, float, float, list[float]], None] | None = None
    evaluations: int = 0
    best_objective: float = math.inf
    best_values: list[float] = field(default_factory=list)
    history: list[dict[str, float]] = field(default_factory=list)

    def annual(self, datas: list[dict[str, Any]], replications: int | None = None) -> list[pd.DataFrame]:
        """Long annual tables of several configs, run as one batch (replications 0..K-1 each)."""
        k = replications or self.replications
        configs = [validate(d, "calibration point") for d in datas]
        tasks = [(f"point{i}", cfg, r) for i, cfg in enumerate(configs) for r in range(k)]
        results = combine(run_tasks(tasks, self.seed, self.workers, self.executor))
        return [results[results["scenario"] == f"point{i}"] for i in range(len(datas))]

    def residual_batch(self, units: list[np.ndarray]) -> list[np.ndarray]:
        """Residuals (in tolerances) of several points of the unit cube."""
        values = [[from_unit(p, u) for p, u in zip(self.free, unit)] for unit in units]
        datas, bad = [], []
        for vals in values:
            try:
                datas.append(set_parameters(self.data, self.free, vals))
                validate(datas[-1], "calibration point")
                bad.append(False)
            except ConfigError:
                datas[-1:] = [self.data]
                bad.append(True)
        frames = self.annual(datas)
        out = []
        for vals, frame, invalid in zip(values, frames, bad):
            r = residuals(simulated_values(frame, self.targets), self.targets)
            if invalid:
                r = np.full_like(r, 10.0)
            objective = float(np.mean(r**2))
            self.evaluations += 1
            self.history.append({"evaluation": self.evaluations, "objective": objective} | {p.path: v for p, v in zip(self.free, vals)})
            if objective < self.best_objective:
                self.best_objective, self.best_values = objective, vals
            if self.on_evaluation:
                self.on_evaluation(self.evaluations, objective, self.best_objective, vals)
            out.append(r)
        return out


class BudgetSpent(Exception):
    """The evaluation budget ran out; the best point so far is kept."""


def search(evaluator: Evaluator, start: list[float], max_evaluations: int) -> tuple[list[float], float]:
    """Least squares over the searched parameters from ``start``; the best values and objective.

    The Jacobian's points are simulated together (one batch), so both cores stay busy.
    """
    free = evaluator.free
    x0 = np.array([to_unit(p, v) for p, v in zip(free, start)])
    cache: dict[bytes, np.ndarray] = {}

    def budget(n: int) -> None:
        if evaluator.evaluations + n > max_evaluations:
            raise BudgetSpent

    def fun(x: np.ndarray) -> np.ndarray:
        key = np.round(x, 12).tobytes()
        if key not in cache:
            budget(1)
            cache[key] = evaluator.residual_batch([x])[0]
        return cache[key]

    def jac(x: np.ndarray) -> np.ndarray:
        base = fun(x)
        steps = [DIFF_STEP if x[j] + DIFF_STEP <= 1.0 else -DIFF_STEP for j in range(len(x))]
        points = [x + np.eye(len(x))[j] * steps[j] for j in range(len(x))]
        budget(len(points))
        rows = evaluator.residual_batch(points)
        return np.column_stack([(r - base) / s for r, s in zip(rows, steps)])

    try:
        least_squares(fun, x0, jac=jac, bounds=(0.0, 1.0), method="trf", x_scale=1.0, max_nfev=max_evaluations, xtol=1e-3, ftol=1e-3)
    except BudgetSpent:
        pass
    if not evaluator.best_values:  # not even one evaluation fitted in the budget
        return list(start), math.nan
    return evaluator.best_values, evaluator.best_objective


# ------------------------------------------------------------------ money solved exactly
def central_spend_coefficients(data: dict[str, Any]) -> pd.Series:
    """Spend added in each financial year per extra pound a year of central spend (days in the
    year and the 'other' line's inflation), by financial year label."""
    from hnsim.config.schema import SPEND_LINES
    from hnsim.model import compile_parameters
    from hnsim.model.calendar import DAYS_PER_YEAR
    from hnsim.model.metrics import inflation_factors

    params = compile_parameters(validate(data, "calibration"))
    factors = inflation_factors(params)[SPEND_LINES.index("other")]
    bounds = params.calendar.fy_bounds()
    return pd.Series([(last - first) / DAYS_PER_YEAR * f for (_, first, last), f in zip(bounds, factors)], index=[label for label, _, _ in bounds])


def solve_money(data: dict[str, Any], annual: pd.DataFrame, targets: list[Target], linear: list[FreeParameter]) -> tuple[dict[str, float], list[str]]:
    """Central spend and opening balance that hit the spend and deficit targets exactly (in the
    mean of the replications), clipped to their ranges; the values and notes on what was done."""
    means = annual.groupby(["metric", "financial_year"])["value"].mean()
    coef = central_spend_coefficients(data)
    solved, notes = {}, []
    paths = {p.path: p for p in linear}
    spend = [t for t in targets if t.target == "spend_total"]
    deficit = [t for t in targets if t.target == "cumulative_deficit" and t.how == "linear"]
    delta_central = 0.0
    if CENTRAL_SPEND in paths and spend:
        t = spend[-1]
        old = float(lookup(data, CENTRAL_SPEND))
        p = paths[CENTRAL_SPEND]
        new = old + (t.observed - means[("spend_total", t.financial_year)]) / coef[t.financial_year]
        clipped = min(max(new, p.low), p.high)
        if clipped != new:
            notes.append(f"central spend for {t.financial_year} spend would be £{new:,.0f}, outside [{p.low:,.0f}, {p.high:,.0f}]; kept at £{clipped:,.0f}")
        solved[CENTRAL_SPEND], delta_central = round(clipped, -3), round(clipped, -3) - old
    if OPENING_BALANCE in paths and deficit:
        t = deficit[-1]
        old = float(lookup(data, OPENING_BALANCE))
        p = paths[OPENING_BALANCE]
        years = [fy for fy in coef.index if fy <= t.financial_year]
        simulated = means[("cumulative_deficit", t.financial_year)] + delta_central * coef[years].sum()
        new = old + t.observed - simulated
        clipped = min(max(new, p.low), p.high)
        if clipped != new:
            notes.append(f"opening balance for the {t.financial_year} deficit would be £{new:,.0f}, outside [{p.low:,.0f}, {p.high:,.0f}]; kept at £{clipped:,.0f}")
        solved[OPENING_BALANCE] = round(clipped, -3)
    return solved, notes


# ------------------------------------------------------------------ money fitted (Bayes)
def money_current(data: dict[str, Any]) -> dict[str, float]:
    """The config's values at the money fit's paths (a line multiplier not given: 1)."""
    from hnsim.analysis.money import PATHS

    out = {}
    for path in PATHS:
        try:
            out[path] = float(lookup(data, path))
        except (KeyError, TypeError):
            out[path] = 1.0
    return out


def other_inflation(data: dict[str, Any]) -> dict[str, float]:
    """The 'other' line's price factor by financial year label: central spend's coefficient."""
    from hnsim.config.schema import SPEND_LINES
    from hnsim.model import compile_parameters
    from hnsim.model.metrics import inflation_factors

    params = compile_parameters(validate(data, "calibration"))
    factors = inflation_factors(params)[SPEND_LINES.index("other")]
    return {label: float(f) for (label, _, _), f in zip(params.calendar.fy_bounds(), factors)}


def apply_money(data: dict[str, Any], posterior, describe: str | None = None) -> dict[str, Any]:
    """A copy of plain config data with the money posterior's mean (multipliers to 4 places, pounds
    to the nearest £1,000); with ``describe``, sources rewritten to say what was fitted and the
    posterior sd."""
    from hnsim.analysis.money import CENTRAL, OPENING
    from hnsim.config.schema import SPEND_LINES

    out = copy.deepcopy(data)
    mean, sd = posterior.values(), dict(zip(posterior.paths, posterior.sd))
    costs = out["costs"]
    was_lines = (costs.get("line_multiplier") or {}).get("source", "none (1 on every line)")
    costs["line_multiplier"] = {"value": {line: round(mean[f"costs.line_multiplier.value.{line}"], 4) for line in SPEND_LINES},
                                "source": was_lines}
    out = apply_overrides(out, {CENTRAL: round(mean[CENTRAL], -3), OPENING: round(mean[OPENING], -3)})
    costs = out["costs"]
    if describe:
        sds = ", ".join(f"{line} sd {sd[f'costs.line_multiplier.value.{line}']:.3f}" for line in SPEND_LINES)
        for node, what in ((costs["line_multiplier"], f"posterior mean ({sds})"),
                           (lookup(out, CENTRAL.rsplit(".", 1)[0]), f"posterior mean, sd £{sd[CENTRAL]:,.0f}"),
                           (lookup(out, OPENING.rsplit(".", 1)[0]), f"posterior mean, sd £{sd[OPENING]:,.0f}")):
            source = str(node.get("source", ""))
            was = source.split("; was: ", 1)[-1] if "calibrated:" in source else source
            node["source"] = f"calibrated: {describe}, Bayesian money fit, {what}; was: {was}"
    return out


# ------------------------------------------------------------------ the calibrated config
def calibrated_data(data: dict[str, Any], spec: CalibrationSpec, values: dict[str, float], fit_record: dict[str, Any], describe: str) -> dict[str, Any]:
    """Plain config data with the fitted values, their sources rewritten (fit date, what was fitted,
    the bounds, the source before) and the calibration section's fit record."""
    free = [p for p in spec.free if p.path in values]
    out = set_parameters(data, free, [values[p.path] for p in free])
    date = fit_record["date"]
    by_node: dict[str, list[FreeParameter]] = {}
    for p in free:
        by_node.setdefault(sourced_node(p.path), []).append(p)
    for node_path, params in by_node.items():
        node = lookup(out, node_path)
        was = str(node.get("source", "")).split("; was: ", 1)[-1] if "calibrated:" in str(node.get("source", "")) else node.get("source", "")
        ranges = ", ".join(f"{p.path[len(node_path) + len('.value'):].lstrip('.') or 'value'} bounds [{_bound(p.low)}, {_bound(p.high)}]" for p in params)
        how = "solved exactly" if params[0].solve == "linear" else "fitted"
        node["source"] = f"calibrated: hnsim calibrate {date}, {how} to {describe}, {ranges}; was: {was}"
    section = copy.deepcopy(data.get("calibration") or {})
    section["fit"] = fit_record
    out["calibration"] = section
    return out


def _bound(v: float) -> str:
    """A bound as written in a source: pounds and places with thousands separators."""
    return f"{v:,.0f}" if v == int(v) and abs(v) >= 1000 else f"{v:g}"


def today() -> dt.date:
    """The fit date (a function so tests can pin it)."""
    return dt.date.today()
