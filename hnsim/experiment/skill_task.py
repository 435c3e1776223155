"""One forecast-skill task: an authority (or a config) at a forecast origin, calibrated on what was
known then, projected, and set beside the naive forecasters fitted to the same values.

A task is plain data made in the parent (it crosses processes and Dask workers need no shared
disk). :func:`run_task` is the worker's whole job and has two replaceable steps:

- ``calibrate(task) -> Calibration``: one or more calibrated configs (plain data) and the number of
  replications of each. The default, :func:`fit_calibration`, is the national run's:
  :func:`hnsim.experiment.calibrate.fit` on the task's ``calibration:`` section from the middle of
  every range, on the observed values known at the origin only, with the task's budget.
- ``project(task, calibration)``: every config's replications to 31 March after the last year
  scored; the ensemble's members are (config, replication) pairs, numbered config by config.

Naive forecasters are fitted to the same known values in the same worker. A task's result is the
ensembles (model and naive) of every series it can score, never the scores: the published values
after the origin never reach a worker. It is stored by :mod:`hnsim.results.skill`.
"""

from __future__ import annotations

import json
import re
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd
import yaml

from hnsim.analysis.calibration_targets import RULES
from hnsim.analysis.discrepancy import Discrepancy
from hnsim.analysis.skill import discrepancy_seed, forecast_years, model_ensembles, naive_ensembles, simulated_years
from hnsim.analysis.skill import published_forecast as forecast_published
from hnsim.config import validate
from hnsim.experiment.calibrate import fit
from hnsim.experiment.calibration import with_horizon
from hnsim.experiment.runner import combine, run_tasks
from hnsim.experiment.sweep_file import lookup
from hnsim.results.schemas import ENSEMBLE_COLUMNS
from hnsim.results.skill import TaskOutcome


@dataclass
class SkillTask:
    """Everything a worker needs for one (authority, origin): plain data."""

    key: str  # '916-gloucestershire-2016': the result file's name
    old_la_code: str
    la_code: str
    la_name: str
    region_name: str
    origin: int  # January census year: censuses up to it, activity up to the year before
    last_year: int  # the last census and calendar year scored (projection to 31 March after it)
    config: dict[str, Any]  # the config to calibrate, with its calibration section
    observed: pd.DataFrame  # load_observed columns: every value known at the origin, nothing later
    training: pd.DataFrame  # series, year, value: the scored series as known at the origin
    replications: int
    fit_replications: int
    max_evaluations: int
    naive_draws: int
    seed: int  # root seed of the model's replications (shared by every task)
    plans: float  # January caseload at the origin (for ordering and time estimates)
    observed_from: str = ""  # where the observed values came from, for the calibrated config's sources
    notes: list[str] = field(default_factory=list)
    discrepancy: dict[str, Any] = field(default_factory=dict)  # Discrepancy.to_records() of the steps known at the origin; empty: anchored only


@dataclass
class Calibration:
    """A calibration's result: configs (plain data) to project, replications of each, and a record."""

    configs: list[dict[str, Any]]
    replications: int
    info: dict[str, Any] = field(default_factory=dict)


Calibrate = Callable[[SkillTask], Calibration]


def slug(name: str) -> str:
    """'Gloucestershire' -> 'gloucestershire'; 'Bristol, City of' -> 'bristol-city-of'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def fittable(observed: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The observed rows a fit can use, and notes on those left out: a published zero in a series
    whose tolerance is relative with no floor would have a tolerance of zero."""
    zero = observed["value"].eq(0) & observed["metric"].map(lambda m: m in RULES and RULES[m].floor == 0)
    notes = [f"observed zero left out of the fit (no tolerance for it): {r.metric} {r.year}" for r in observed[zero].itertuples()]
    return observed[~zero].reset_index(drop=True), notes


def fit_calibration(task: SkillTask) -> Calibration:
    """The default calibration: :func:`~hnsim.experiment.calibrate.fit` of the task config's free parameters,
    searched from the middle of each range (so no starting value carries information from after
    the origin), on the values known at the origin, ``task.max_evaluations`` parameter sets of
    ``task.fit_replications`` replications (common random numbers). One calibrated config,
    projected ``task.replications`` times; with ``calibration.method: history_matching`` the config
    carries ``task.replications`` members and replication r projects member r."""
    observed, notes = fittable(task.observed)
    # the values travel with the task; task.observed_from only names where they came from in the fit record
    result = fit(task.config, task.observed_from, task.origin, task.fit_replications, task.max_evaluations, 2, workers=1, start="centre", observed=observed,
                 members=max(2, task.replications))  # history matching: one member per projected replication
    data = yaml.safe_load(yaml.safe_dump(result.data, sort_keys=False, allow_unicode=True, width=200))  # plain data, as a written config reads back
    free = [p["path"] for p in task.config["calibration"]["free"]]
    info = {"method": "fit_calibration", "objective": result.objective, "evaluations": result.evaluations, "fitted": {p: lookup(data, p) for p in free},
            "free": task.config["calibration"]["free"], "notes": notes + list(result.notes)}
    return Calibration([data], task.replications, info)


def project(task: SkillTask, calibration: Calibration) -> pd.DataFrame:
    """Every calibrated config's replications 0..R-1 to 31 March after ``task.last_year`` (root seed
    ``task.seed``): long table ``member, financial_year, metric, value``, member = config x R + replication."""
    configs = [validate(with_horizon(data, task.last_year), f"calibrated config {i} for {task.key}") for i, data in enumerate(calibration.configs)]
    runs = [(f"set{i}", config, r) for i, config in enumerate(configs) for r in range(calibration.replications)]
    annual = combine(run_tasks(runs, task.seed, workers=1))
    sets = annual["scenario"].str[3:].astype(int)
    annual = annual.assign(member=sets * calibration.replications + annual["replication"])
    return annual[["member", "financial_year", "metric", "value"]]


def naive_seed(task: SkillTask) -> list[int]:
    """The naive forecasters' seed: the root seed, the origin and the authority's code."""
    return [task.seed, task.origin, zlib.crc32(task.old_la_code.encode())]


def published_forecast(task: SkillTask, simulated: pd.DataFrame) -> pd.DataFrame:
    """The model's forecast of the published values from its simulated ensembles (which include
    horizon 0, the last value known at the origin), with the task's discrepancy steps, the growth
    error and seed (:func:`hnsim.analysis.skill.published_forecast`); a task without steps (no SEN2
    files given) is anchored only."""
    return forecast_published(simulated, task.training, task.origin, Discrepancy.from_records(task.discrepancy),
                              discrepancy_seed(task.seed, task.origin, task.old_la_code), growth_error=bool(task.discrepancy))


def run_task(task: SkillTask, calibrate: Calibrate = fit_calibration) -> TaskOutcome:
    """Calibrate, project and forecast naively one task. Runs in a worker, single-threaded."""
    started, cpu_started = time.perf_counter(), time.process_time()
    calibration = calibrate(task)
    annual = project(task, calibration)
    years = forecast_years(task.training, task.origin, task.last_year)
    simulated = model_ensembles(annual, simulated_years(task.training, years, task.origin), task.origin)
    model = published_forecast(task, simulated)
    naive, methods = naive_ensembles(task.training, years, task.origin, task.naive_draws, naive_seed(task))
    ensembles = pd.concat([model, naive], ignore_index=True).sort_values(["series", "year", "forecaster", "member"], kind="stable").reset_index(drop=True)
    info = {"key": task.key, "old_la_code": task.old_la_code, "la_code": task.la_code, "la_name": task.la_name, "region_name": task.region_name,
            "origin": task.origin, "last_year": task.last_year, "plans": task.plans, "members": calibration.replications * len(calibration.configs),
            "calibration": {k: v for k, v in calibration.info.items()}, "naive_methods": methods, "notes": task.notes,
            "training": json.loads(task.training.to_json(orient="records")), "seconds": round(time.perf_counter() - started, 2),
            "cpu_seconds": round(time.process_time() - cpu_started, 2),
            "simulated": json.loads(simulated.to_json(orient="records")), "discrepancy": {k: v["source"] for k, v in task.discrepancy.items()},
            "calibrated_configs": [yaml.safe_dump(c, sort_keys=False, allow_unicode=True, width=200) for c in calibration.configs]}
    return TaskOutcome(ensembles[ENSEMBLE_COLUMNS], info)
