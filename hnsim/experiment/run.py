"""A run: replications of one config, written to a run directory with its manifest."""

from __future__ import annotations

import time
from pathlib import Path

from tqdm.auto import tqdm

from hnsim.analysis.summary import summarise
from hnsim.config import Config, config_dict, config_sha256
from hnsim.experiment.adaptive import Precision, replicate_until
from hnsim.experiment.runner import combine, run_tasks
from hnsim.results import store
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
) -> RunResult:
    """Run replications of a config; if ``out_dir`` is given, write the run directory.

    The directory gets ``manifest.json`` (status ``running`` at once, ``complete`` at the end, or
    ``interrupted``/``failed``), ``annual.parquet`` and ``summary.csv``, each written atomically;
    ``out_dir`` is checked before anything runs. With ``precision``, ``replications`` is the first
    batch and more are added until the interval is narrow enough (see
    :mod:`hnsim.experiment.adaptive`).
    """
    replications = replications or config.simulation.replications
    seed = config.simulation.seed if seed is None else seed
    manifest = new_manifest(scenario=scenario, config_path=config_path, config_sha256=config_sha256(config), seed=seed,
                            replications=replications, workers=workers, sim_events=None)
    manifest["config"] = config_dict(config)
    out = store.writable_directory(out_dir) if out_dir is not None else None
    if out is not None:
        for stale in ("annual.parquet", "summary.csv"):
            (out / stale).unlink(missing_ok=True)
        store.write_json(manifest, out / "manifest.json")
    started = time.perf_counter()
    bar = tqdm(total=precision.max_replications if precision else replications, desc=f"{scenario}: replications", unit="rep", disable=not progress, leave=False)

    def done(result) -> None:
        bar.update(1)

    try:
        tasks = [(scenario, config, rep) for rep in range(replications)]
        if precision is None:
            results = run_tasks(tasks, seed, workers, on_done=done)
        else:
            results, manifest["precision"] = replicate_until(config, scenario, precision, replications, seed, workers, on_done=done)
            manifest["replications"] = len(results)
    except BaseException as exc:
        mark_failed(manifest, out, exc)
        raise
    finally:
        bar.close()
    annual = combine(results)
    summary = summarise(annual)
    mark_finished(manifest, started, sim_events=sum(r.sim_events for r in results))
    if out is not None:
        store.write_parquet(annual, out / "annual.parquet")
        store.write_csv(summary, out / "summary.csv")
        store.write_json(manifest, out / "manifest.json")
    return RunResult(annual, summary, manifest, out)
