"""Re-costing a kept run: the same children, other unit costs, no new simulation.

A run made with ``keep_log`` holds every replication's event log (:mod:`hnsim.results.event_log`).
Money is charged from spell lengths after the simulation, so a config that differs from the run's
only in its money sections gives its metrics by rebuilding each log and calling
``annual_metrics(log, compile_parameters(config))``. A config that would change what the children
do (rates, capacities, levers, dates) is refused: that needs a new run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from hnsim.analysis.summary import summarise
from hnsim.config import Config, config_dict, config_sha256
from hnsim.config.ensemble import ensemble_table
from hnsim.errors import InputError
from hnsim.experiment.runner import member_config, metrics_table
from hnsim.model import annual_metrics, compile_parameters
from hnsim.results import store
from hnsim.results.event_log import has_event_log, read_event_log
from hnsim.results.manifest import mark_failed, mark_finished, new_manifest
from hnsim.results.rundir import RunResult, read_run
from hnsim.results.schemas import ANNUAL_COLUMNS

#: Config sections that only price what the children did: they may differ from the run's.
MONEY_SECTIONS = ("costs", "finance")
#: Parts that change nothing a kept log records: descriptions, fit records, and how many (and
#: which root seed) replications a new run would make; the log holds those that were made.
IGNORED = ("meta", "calibration", "simulation.seed", "simulation.replications")


class RecostError(InputError):
    """A run that cannot be re-costed, or a config it cannot be re-costed with; one line per problem."""


def _plain(data: Any) -> Any:
    """Config data as the manifest stores it (JSON: dates and the like as text)."""
    return json.loads(json.dumps(data, default=str))


def _differences(run: Any, new: Any, path: str = "") -> list[str]:
    """Dotted paths where two plain configs differ, outside the money sections and the ignored parts."""
    if path in MONEY_SECTIONS or path in IGNORED:
        return []
    if isinstance(run, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(run) | set(new), key=str):
            found += _differences(run.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return found
    return [] if run == new else [path or "(the whole config)"]


def member_differences(run_config: dict[str, Any], config: Config) -> list[str]:
    """Ensemble columns outside the money sections whose members differ from the run's (they change
    what the children do)."""
    run = ensemble_table(_plain(run_config)) or []
    new = ensemble_table(_plain(config_dict(config))) or []
    columns = {c for row in run + new for c in row if c.split(".")[0] not in MONEY_SECTIONS}
    return sorted(c for c in columns if [row.get(c) for row in run] != [row.get(c) for row in new])


def model_differences(run_config: dict[str, Any], config: Config) -> list[str]:
    """The config paths (outside costs and finance) where ``config`` differs from a run's config."""
    return _differences(_plain(run_config), _plain(config_dict(config)))


def recost(run_dir: str | Path, config: Config, out_dir: str | Path, config_path: str | None = None) -> RunResult:
    """Recompute a kept run's annual metrics with ``config``'s costs and finance; write a run
    directory (``manifest.json`` of kind ``recost``, ``annual.parquet``, ``summary.csv``) to ``out_dir``.

    Raises :class:`RecostError` if ``run_dir`` kept no event logs, or if ``config`` differs from
    the run's outside its money sections (each differing path named).
    """
    source = read_run(run_dir)
    where = config_path or "config"
    if not has_event_log(source.out_dir):
        raise RecostError([f"{source.out_dir}: no spells.parquet and events.parquet; make the run with --keep-log to re-cost it later"])
    run_config = source.manifest.get("config")
    if run_config is None:
        raise RecostError([f"{source.out_dir}: the manifest holds no config (a comparison is re-costed scenario by scenario from runs)"])
    differ = model_differences(run_config, config) + [f"calibration.ensemble member column {c}" for c in member_differences(run_config, config)]
    if differ:
        raise RecostError([f"{where}: {path}: differs from the run's config; only {' and '.join(MONEY_SECTIONS)} may change when re-costing "
                           "(anything else changes what the children do: run it instead)" for path in differ])
    out = store.writable_directory(out_dir)
    manifest = new_manifest(kind="recost", source_run=str(source.out_dir), source_config_sha256=source.manifest.get("config_sha256"),
                            config_path=config_path, config_sha256=config_sha256(config), seed=source.manifest.get("seed"),
                            replications=source.manifest.get("replications"), scenario=source.manifest.get("scenario"))
    manifest["config"] = config_dict(config)
    for stale in ("annual.parquet", "summary.csv"):
        (out / stale).unlink(missing_ok=True)
    store.write_json(manifest, out / "manifest.json")
    started = time.perf_counter()
    try:
        tables = []
        for scenario, replication, log in read_event_log(source.out_dir):
            params = compile_parameters(member_config(config, replication, scenario))  # each member's own costs
            tables.append(metrics_table(annual_metrics(log, params), params, scenario, replication))
    except BaseException as exc:
        mark_failed(manifest, out, exc)
        raise
    annual = pd.concat(tables, ignore_index=True)[ANNUAL_COLUMNS] if tables else pd.DataFrame(columns=ANNUAL_COLUMNS)
    summary = summarise(annual)
    mark_finished(manifest, started, replications=int(annual["replication"].nunique()))
    store.write_parquet(annual, out / "annual.parquet")
    store.write_csv(summary, out / "summary.csv")
    store.write_json(manifest, out / "manifest.json")
    return RunResult(annual, summary, manifest, out)
