"""`hnsim calibrate` and `hnsim backtest` as experiments: the fit, its final run and the backtest's
test years (the report is written by :mod:`hnsim.report.calibration`).

Every evaluation runs on the executor it is given (local processes or Dask, as for sweeps), with
the same replications and root seed each time (common random numbers).
"""

from __future__ import annotations

import copy
import math
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from hnsim.analysis.money import MoneyPosterior, fit_money, money_figures, money_members
from hnsim.analysis.calibration_targets import backtest_summary, build_targets, simulated_values, target_label, target_table, target_year
from hnsim.config import ConfigError, validate
from hnsim.data.observed import load_observed
from hnsim.config.outlook import allocation_growth_range, funding_uncertain
from hnsim.experiment.calibration import (
    Evaluator,
    apply_money,
    calibrated_data,
    current_values,
    from_unit,
    money_current,
    other_inflation,
    search,
    set_parameters,
    solve_money,
    today,
    with_horizon,
)
from hnsim.experiment.sweep_file import lookup
from hnsim.model.calendar import fy_label


@dataclass
class FitResult:
    """What a fit produced."""

    data: dict[str, Any]  # calibrated config, plain data, full horizon
    table: pd.DataFrame
    annual: pd.DataFrame
    objective: float
    evaluations: int
    notes: list[str]
    history: pd.DataFrame
    money: MoneyPosterior | None = None  # the Bayesian money fit (calibration.money), its mean in ``data``
    members: pd.DataFrame | None = None  # calibration.money.members posterior draws: config path -> value


def first_financial_year(data: dict[str, Any]) -> str:
    """The first financial year a config simulates."""
    start = validate(data, "config").simulation.start_date
    return fy_label(start.year if start.month >= 4 else start.year - 1)


def from_mid(p) -> float:
    """The middle of a parameter's range (on its own scale)."""
    return from_unit(p, 0.5)


def fit(
    data: dict[str, Any],
    data_dir: str | Path,
    fit_until: int,
    replications: int,
    max_evaluations: int,
    report_replications: int,
    workers: int = 1,
    start: str = "config",
    report_until: int | None = None,
    progress: Callable[[str], None] | None = None,
    executor: Executor | None = None,
    observed: pd.DataFrame | None = None,
) -> FitResult:
    """Fit the config's free parameters to the observed series up to ``fit_until``; run the result
    ``report_replications`` times and tabulate every target up to ``report_until`` (default: the
    fit's years). ``start``: 'config' (the values in the config) or 'centre' (mid-range).

    The series are read from ``data_dir`` (docs/data.md) unless ``observed`` gives them, in which
    case ``data_dir`` only names where they came from in the fit record. Evaluations run on
    ``executor`` if given, else on ``workers`` local processes.
    """
    config = validate(data, "config")
    if config.calibration is None:
        raise ConfigError(["config: no calibration section: list the free parameters under calibration.free (see docs/calibration.md)"])
    spec = config.calibration
    observed = load_observed(data_dir) if observed is None else observed
    first_fy = first_financial_year(data)
    last_fy = fy_label(fit_until - 1)
    targets = build_targets(observed, first_fy, last_fy, fit_until)
    if not any(t.weight > 0 for t in targets):
        raise ConfigError([f"{data_dir}: no observed figures to fit between {first_fy} and {fit_until}"])
    say = progress or (lambda line: None)
    searched = [p for p in spec.free if p.solve == "search"]
    linear = [p for p in spec.free if p.solve == "linear"]
    fit_data = with_horizon(data, fit_until)
    seed = config.simulation.seed

    def on_evaluation(n: int, objective: float, best: float, values: list[float]) -> None:
        say(f"evaluation {n:>3}/{max_evaluations}: objective {objective:8.3f} (best {best:.3f})")

    evaluator = Evaluator(fit_data, searched, targets, replications, seed, workers, executor, on_evaluation)
    begin = current_values(fit_data, searched) if start == "config" else [from_mid(p) for p in searched]
    say(f"fitting {len(searched)} parameters to {sum(t.weight > 0 and t.how == 'search' for t in targets)} targets up to {fit_until}, {replications} replications per evaluation (common random numbers)")
    values, objective = search(evaluator, begin, max_evaluations)
    fitted = {p.path: v for p, v in zip(searched, values)}
    report_until = report_until or fit_until
    report_targets = build_targets(observed, first_fy, fy_label(report_until - 1), report_until)
    final = set_parameters(with_horizon(data, report_until), searched, values)
    say(f"final run: {report_replications} replications")
    annual = evaluator.annual([final], report_replications)[0]
    notes: list[str] = []
    posterior = None
    if spec.money is not None:
        if linear:
            notes.append("calibration.money is given, so the solve: linear entries (" + ", ".join(p.path for p in linear) + ") were not used")
        figures = money_figures(observed, first_fy, last_fy)
        posterior = fit_money(annual, figures, money_current(final), spec.money, other_inflation(final))
        final = apply_money(final, posterior)
        notes += [f"money: {n}" for n in posterior.notes]
        say(f"money fitted (Bayes) to {posterior.data_points} published figures, {posterior.effective_parameters:.1f} effective parameters; "
            f"rerun {report_replications} replications")
        annual = evaluator.annual([final], report_replications)[0]
    elif linear:
        money, notes = solve_money(final, annual, targets, linear)
        if money:
            fitted |= money
            final = set_parameters(final, [p for p in linear if p.path in money], [money[p.path] for p in linear if p.path in money])
            say("money solved exactly: " + ", ".join(f"{k.split('.')[1]} £{v:,.0f}" for k, v in money.items()) + f"; rerun {report_replications} replications")
            annual = evaluator.annual([final], report_replications)[0]
        else:
            notes.append(f"no money figure up to {fit_until}: central spend and opening balance kept as in the config")
    values_table = simulated_values(annual, report_targets)
    table = target_table(values_table, report_targets, fit_until if report_until != fit_until else None)
    table.insert(1, "label", table["target"].map(target_label))
    record = {"date": today(), "data_dir": str(data_dir), "fit_until": int(fit_until), "objective": round(float(objective), 4) if math.isfinite(objective) else 0.0,
              "replications": int(replications), "evaluations": int(evaluator.evaluations)}
    first_year = min(t.year for t in targets)
    describe = f"SEN2 and finance figures ({data_dir}) {first_year}-{fit_until}"
    out = calibrated_data(data, spec, fitted, record, describe)
    members = None
    if posterior is not None:
        out = apply_money(out, posterior, f"hnsim calibrate {record['date']} to {describe}")
        if spec.money.members:
            members = money_members(posterior, spec.money.members, seed, allocation_growth_range(out) if funding_uncertain(out) else None)
    validate(out, "calibrated config")
    return FitResult(out, table, annual, objective, evaluator.evaluations, notes, pd.DataFrame(evaluator.history), posterior, members)


def without_later_years(data: dict[str, Any], fit_until: int) -> dict[str, Any]:
    """Drop free parameters for financial years starting after ``fit_until`` (nothing can fit them)
    and their entries, so those years carry the last fitted year's level forward."""
    data = copy.deepcopy(data)
    kept = []
    for free in data["calibration"]["free"]:
        label = free["path"].rsplit(".", 1)[-1]
        if len(label) == 7 and label[4] == "-" and label[:4].isdigit() and int(label[:4]) > fit_until:
            by_year = lookup(data, free["path"].rsplit(".", 1)[0])
            by_year.pop(label, None)
            continue
        kept.append(free)
    data["calibration"]["free"] = kept
    return data


@dataclass
class BacktestResult:
    """A backtest: the fit on the years up to ``fit_until``, its test rows (the later years, up to
    ``last_year``) and their mean absolute percentage error on the headline series."""

    fit: FitResult
    test: pd.DataFrame
    mape: float
    fit_until: int
    last_year: int


def last_observed_year(observed: pd.DataFrame) -> int:
    """The latest year of an observed table, as targets count years (:func:`target_year`)."""
    return int(observed.apply(target_year, axis=1).max())


def check_backtest(observed: pd.DataFrame, data_dir: str | Path, fit_until: int) -> int:
    """The last observed year, or :class:`~hnsim.config.ConfigError` if none is after ``fit_until``."""
    last = last_observed_year(observed)
    if last <= fit_until:
        raise ConfigError([f"{data_dir}: no observed figures after {fit_until} to test on (last year {last})"])
    return last


def backtest(data: dict[str, Any], data_dir: str | Path, fit_until: int, replications: int, max_evaluations: int, report_replications: int,
             workers: int = 1, progress: Callable[[str], None] | None = None, executor: Executor | None = None,
             observed: pd.DataFrame | None = None) -> BacktestResult:
    """Calibrate on the observed years up to ``fit_until`` only, starting from the middle of each
    range (so nothing of the later years leaks in), then measure the error on the later years.

    Raises :class:`~hnsim.config.ConfigError` if the series hold no year after ``fit_until``.
    """
    observed = load_observed(data_dir) if observed is None else observed
    last = check_backtest(observed, data_dir, fit_until)
    result = fit(without_later_years(data, fit_until), data_dir, fit_until, replications, max_evaluations, report_replications, workers,
                 start="centre", report_until=last, progress=progress, executor=executor, observed=observed)
    test, mape = backtest_summary(result.table, fit_until)
    return BacktestResult(result, test, mape, fit_until, last)
