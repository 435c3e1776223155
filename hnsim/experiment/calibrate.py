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

import numpy as np
import pandas as pd

from hnsim.analysis.calibration_targets import backtest_summary, build_targets, residuals, simulated_values, target_label, target_table, target_year
from hnsim.analysis.money import MoneyPosterior, fit_money, money_figures, money_members
from hnsim.config import ConfigError, validate
from hnsim.config.ensemble import without_members
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
from hnsim.experiment.history_matching import HistoryMatch, history_match
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
    members: pd.DataFrame | None = None  # posterior members: member, then config paths (history matching, or calibration.money.members)
    matched: HistoryMatch | None = None


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
    method: str | None = None,
    members: int | None = None,
    cache_dir: Path | None = None,
) -> FitResult:
    """Fit the config's free parameters to the observed series up to ``fit_until``; run the result
    ``report_replications`` times and tabulate every target up to ``report_until`` (default: the
    fit's years). ``start``: 'config' (the values in the config) or 'centre' (mid-range).

    The series are read from ``data_dir`` (docs/data.md) unless ``observed`` gives them, in which
    case ``data_dir`` only names where they came from in the fit record. Evaluations run on
    ``executor`` if given, else on ``workers`` local processes.
    """
    data = without_members(data)
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
    method = method or spec.method
    if method == "history_matching":
        return _fit_ensemble(data, spec, evaluator, observed, data_dir, fit_until, report_until, report_replications, members, cache_dir, say, linear, targets,
                             max_evaluations)
    begin = current_values(fit_data, searched) if start == "config" else [from_mid(p) for p in searched]
    say(f"fitting {len(searched)} parameters to {sum(t.weight > 0 and t.how == 'search' for t in targets)} targets up to {fit_until}, {replications} replications per evaluation (common random numbers)")
    values, objective = search(evaluator, begin, max_evaluations)
    fitted = {p.path: v for p, v in zip(searched, values)}
    report_until = report_until or fit_until
    report_targets = build_targets(observed, first_fy, fy_label(report_until - 1), report_until)
    final = set_parameters(with_horizon(data, report_until), searched, values)
    say(f"final run: {report_replications} replications")
    annual = evaluator.annual([final], report_replications)[0]
    final, annual, fitted_money, notes, posterior = _fit_money(final, annual, spec, linear, observed, first_fy, last_fy, targets, say, evaluator, report_replications, fit_until)
    fitted |= fitted_money
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


def _fit_money(final: dict[str, Any], annual: pd.DataFrame, spec, linear, observed: pd.DataFrame, first_fy: str, last_fy: str, targets, say: Callable[[str], None],
               evaluator: Evaluator, report_replications: int, fit_until: int, rerun_bayes: bool = True) -> tuple[dict[str, Any], pd.DataFrame, dict[str, float], list[str], MoneyPosterior | None]:
    """The money step after the demand fit: the Bayesian money fit (``calibration.money``) or the
    exact linear solve of central spend and opening balance; the config, its rerun annual table,
    values solved, notes and the money posterior (if Bayes). ``rerun_bayes=False`` keeps the
    annual table as it was after a Bayesian fit, for a caller that reruns with members' draws."""
    notes: list[str] = []
    posterior = None
    fitted: dict[str, float] = {}
    if spec.money is not None:
        if linear:
            notes.append("calibration.money is given, so the solve: linear entries (" + ", ".join(p.path for p in linear) + ") were not used")
        figures = money_figures(observed, first_fy, last_fy)
        posterior = fit_money(annual, figures, money_current(final), spec.money, other_inflation(final))
        final = apply_money(final, posterior)
        notes += [f"money: {n}" for n in posterior.notes]
        say(f"money fitted (Bayes) to {posterior.data_points} published figures, {posterior.effective_parameters:.1f} effective parameters"
            + (f"; rerun {report_replications} replications" if rerun_bayes else ""))
        if rerun_bayes:
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
    return final, annual, fitted, notes, posterior


def _fit_ensemble(data: dict[str, Any], spec, evaluator: Evaluator, observed: pd.DataFrame, data_dir, fit_until: int, report_until: int | None,
                  report_replications: int, members: int | None, cache_dir: Path | None, say: Callable[[str], None], linear, targets,
                  max_evaluations: int | None = None) -> FitResult:
    """History matching (:mod:`hnsim.experiment.history_matching`): the members, the config set to
    their medians with the ensemble attached, and a final run of ``report_replications``
    replications, replication r on member r."""
    ensemble = spec.ensemble
    n_members = members or (ensemble.members if ensemble else 100)
    searched = evaluator.free
    say(f"history matching {len(searched)} parameters ({len(spec.uncertain)} more drawn, not fitted) to the published figures up to {fit_until}; "
        f"{evaluator.replications} replication(s) per design point, {n_members} members")
    waves = ensemble.waves if ensemble else 3
    design = (ensemble.design_points if ensemble and ensemble.design_points else None) or max(24, 4 * len(searched))
    if max_evaluations and design * waves > max_evaluations:  # the budget caps the design points: fewer waves, then fewer points
        waves = max(1, min(waves, max_evaluations // 8))
        design = max(2, max_evaluations // waves)
    matched = history_match(evaluator, searched, list(spec.uncertain), targets, n_members, design_points=design, waves=waves,
                            cache_dir=cache_dir, progress=say)
    centre = dict(zip([p.path for p in searched], matched.centre))
    report_until = report_until or fit_until
    first_fy = first_financial_year(data)
    report_targets = build_targets(observed, first_fy, fy_label(report_until - 1), report_until)
    table_rows = matched.members.drop(columns="member").to_dict("records")
    provenance = f"history matching, {len(matched.waves)} waves of {matched.waves[0].design_points} design points, {n_members} members, fitted {today()} to {data_dir} up to {fit_until}"
    ensemble_data = {"members": n_members, "table": table_rows, "provenance": provenance, "waves": len(matched.waves),
                     **({"design_points": ensemble.design_points} if ensemble and ensemble.design_points else {})}

    def with_members(d: dict[str, Any]) -> dict[str, Any]:
        d = copy.deepcopy(d)
        d["calibration"] = dict(d["calibration"]) | {"ensemble": ensemble_data, "method": "history_matching"}
        return d

    final = with_members(set_parameters(with_horizon(data, report_until), searched, matched.centre))
    say(f"final run: {report_replications} replications, replication r on member r")
    annual = evaluator.annual([final], report_replications)[0]
    fitted = dict(centre)
    final, annual, fitted_money, notes, posterior = _fit_money(final, annual, spec, linear, observed, first_fy, fy_label(fit_until - 1), targets, say,
                                                               evaluator, report_replications, fit_until, rerun_bayes=False)
    notes = list(matched.notes) + notes
    fitted |= fitted_money
    member_table = matched.members
    if posterior is not None:  # each member its own draw of the money posterior
        money = money_members(posterior, n_members, evaluator.seed, allocation_growth_range(final) if funding_uncertain(final) else None)
        money = money.drop(columns=[c for c in money.columns if c in member_table.columns or c == "member"])
        member_table = pd.concat([member_table.reset_index(drop=True), money.reset_index(drop=True)], axis=1)
        ensemble_data["table"] = member_table.drop(columns="member").to_dict("records")
        final = with_members(final)
        say(f"money drawn for each member from its posterior; rerun {report_replications} replications")
        annual = evaluator.annual([final], report_replications)[0]
    values_table = simulated_values(annual, report_targets)
    table = target_table(values_table, report_targets, fit_until if report_until != fit_until else None)
    table.insert(1, "label", table["target"].map(target_label))
    fitted_rows = table[table["year"] <= fit_until] if "fitted" in table else table
    coverage = float(fitted_rows["inside_90"].mean()) if len(fitted_rows) else math.nan
    notes.append(f"{100 * coverage:.0f}% of the published figures up to {fit_until} lie inside the members' 90% interval; "
                 f"{matched.effective_parameters:.1f} effective parameters (of {len(searched)} free) against {matched.data_points} figures fitted; "
                 f"likelihood tempered to {matched.temperature:.3f} for an effective sample of {matched.ess:.0f} candidates")
    objective = float(np.mean(residuals(simulated_values(annual, targets), targets) ** 2))
    record = {"date": today(), "data_dir": str(data_dir), "fit_until": int(fit_until), "objective": round(objective, 4) if math.isfinite(objective) else 0.0,
              "replications": int(evaluator.replications), "evaluations": int(len(matched.points)), "method": "history_matching", "members": int(n_members),
              "effective_parameters": round(matched.effective_parameters, 2), "data_points": int(matched.data_points)}
    first_year = min(t.year for t in targets)
    describe = f"SEN2 and finance figures ({data_dir}) {first_year}-{fit_until}, posterior median of {n_members} history-matched members"
    out = calibrated_data(with_members(data), spec, fitted, record, describe)
    if posterior is not None:
        out = apply_money(out, posterior, f"hnsim calibrate {record['date']} to {describe}")
    validate(out, "calibrated config")
    history = matched.points.rename(columns={"wave": "evaluation"})
    return FitResult(out, table, annual, objective, len(matched.points), notes, history, posterior, member_table, matched)


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
             observed: pd.DataFrame | None = None, method: str | None = None, members: int | None = None,
             cache_dir: Path | None = None) -> BacktestResult:
    """Calibrate on the observed years up to ``fit_until`` only, starting from the middle of each
    range (so nothing of the later years leaks in), then measure the error on the later years.

    Raises :class:`~hnsim.config.ConfigError` if the series hold no year after ``fit_until``.
    """
    observed = load_observed(data_dir) if observed is None else observed
    last = check_backtest(observed, data_dir, fit_until)
    result = fit(without_later_years(data, fit_until), data_dir, fit_until, replications, max_evaluations, report_replications, workers,
                 start="centre", report_until=last, progress=progress, executor=executor, observed=observed, method=method, members=members,
                 cache_dir=cache_dir)
    test, mape = backtest_summary(result.table, fit_until)
    return BacktestResult(result, test, mape, fit_until, last)
