"""A run: replications of one config, written to a run directory with its manifest."""

from __future__ import annotations

import time
from pathlib import Path

from hnsim.experiment.progress import progress_bar

from hnsim.analysis.summary import summarise
from hnsim.config import Config, config_dict, config_sha256
from hnsim.config.outlook import manifest_fields
from hnsim.experiment.adaptive import Precision, replicate_until
from hnsim.experiment.runner import combine, compact, run_tasks
from hnsim.results import store
from hnsim.results.event_log import EVENTS_FILE, SPELLS_FILE, EventLogWriter
from hnsim.results.manifest import mark_failed, mark_finished, new_manifest
from hnsim.results.rundir import RunResult


def run(
    config: Config,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    out_dir: str | Path | None = None,
    scenario: str = "baseline",
    progress: bool = False,
    config_path: str | None = None,
    precision: Precision | None = None,
    keep_log: bool = False,
) -> RunResult:
    """Run replications of a config; if ``out_dir`` is given, write the run directory.

    The directory gets ``manifest.json`` (status ``running`` at once, ``complete`` at the end, or
    ``interrupted``/``failed``), ``annual.parquet`` and ``summary.csv``, each written atomically;
    ``out_dir`` is checked before anything runs. With ``precision``, ``replications`` is the first
    batch and more are added until the interval is narrow enough (see
    :mod:`hnsim.experiment.adaptive`). With ``keep_log`` (needs ``out_dir``), every replication's
    event log is written too, as ``spells.parquet`` and ``events.parquet``
    (:mod:`hnsim.results.event_log`).
    """
    if keep_log and out_dir is None:
        raise ValueError("keep_log writes the event logs into the run directory: give out_dir")
    replications = replications or config.simulation.replications
    seed = config.simulation.seed if seed is None else seed
    manifest = new_manifest(scenario=scenario, config_path=config_path, config_sha256=config_sha256(config), seed=seed,
                            replications=replications, workers=workers, sim_events=None)
    manifest["config"] = config_dict(config)
    manifest.update(manifest_fields({scenario: manifest["config"]}, scenario))  # data vantage, funding, what the bands hold
    out = store.writable_directory(out_dir) if out_dir is not None else None
    if out is not None:
        for stale in ("annual.parquet", "summary.csv", SPELLS_FILE, EVENTS_FILE):
            (out / stale).unlink(missing_ok=True)
        store.write_json(manifest, out / "manifest.json")
    started = time.perf_counter()
    bar = progress_bar(total=precision.max_replications if precision else replications, desc=f"{scenario}: replications", unit="rep", disable=not progress, leave=False)
    logs = EventLogWriter(out, config.simulation.start_date) if keep_log else None

    def done(result) -> None:
        bar.update(1)
        result.table = compact(result.table)  # held until all are done: its names as categories
        if logs is not None:
            logs.add(result.replication, result.log)
            result.log = None  # written (or held in order): not kept twice

    try:
        tasks = [(scenario, config, rep) for rep in range(replications)]
        if precision is None:
            results = run_tasks(tasks, seed, workers, on_done=done, keep_log=keep_log)
        else:
            results, manifest["precision"] = replicate_until(config, scenario, precision, replications, seed, workers, on_done=done, keep_log=keep_log)
            manifest["replications"] = len(results)
    except BaseException as exc:
        if logs is not None:
            logs.discard()
        mark_failed(manifest, out, exc)
        raise
    finally:
        bar.close()
    annual = combine(results)
    summary = summarise(annual)
    mark_finished(manifest, started, sim_events=sum(r.sim_events for r in results))
    if out is not None:
        if logs is not None:
            logs.commit()
            manifest["event_log"] = [SPELLS_FILE, EVENTS_FILE]
        store.write_parquet(annual, out / "annual.parquet")
        store.write_csv(summary, out / "summary.csv")
        store.write_json(manifest, out / "manifest.json")
    return RunResult(annual, summary, manifest, out)
