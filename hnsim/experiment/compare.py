"""A comparison: a base config and scenario overlays, run with common random numbers."""

from __future__ import annotations

import time
from pathlib import Path
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import pandas as pd
from hnsim.experiment.progress import progress_bar

from hnsim.analysis.compare import decompose_spend, outcome_table, paired_differences, savings, window_differences
from hnsim.analysis.summary import summarise
from hnsim.config import Config, ConfigError, config_dict, config_sha256, load_config
from hnsim.config.outlook import manifest_fields
from hnsim.experiment.adaptive import DifferenceTarget, grow
from hnsim.experiment.executors import local_processes
from hnsim.experiment.runner import ReplicationResult, combine, run_tasks
from hnsim.results import store
from hnsim.results.manifest import mark_failed, mark_finished, new_manifest

BASE = "baseline"


@dataclass
class ComparisonResult:
    """The tables of a comparison (annual, summary, differences, savings, decomposition, outcomes),
    its manifest and where it was written (if anywhere)."""

    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any]
    out_dir: Path | None = None


def scenario_name(path: str | Path) -> str:
    """A scenario's name: its overlay file's stem."""
    return Path(path).stem


def load_scenarios(base: str | Path, overlays: Sequence[str | Path]) -> dict[str, Config]:
    """The base config and one config per overlay, by name (raises ConfigError listing problems)."""
    configs = {BASE: load_config(base)}
    for overlay in overlays:
        name = scenario_name(overlay)
        if name in configs:
            raise ConfigError([f"{overlay}: two scenarios are both called '{name}' (a scenario is named by its file name)"])
        configs[name] = load_config(base, [overlay])
    return configs


def compare(
    configs: dict[str, Config],
    replications: int,
    seed: int,
    workers: int = 1,
    out_dir: str | Path | None = None,
    progress: bool = False,
    target: DifferenceTarget | None = None,
    on_batch: Callable[[dict[str, Any]], None] | None = None,
    executor: Executor | None = None,
) -> ComparisonResult:
    """Run every scenario with the same seed and replication numbers, then compare each with the base.

    Returns (and writes, if ``out_dir``) the tables: annual, summary, differences, savings,
    decomposition, outcomes; ``out_dir`` is checked before anything runs. With ``target``,
    ``replications`` is the first batch and more are added (:func:`~hnsim.experiment.adaptive.grow`)
    until every scenario's paired half-width is narrow enough or the cap is reached; ``on_batch``
    receives each batch's record (replications so far, the worst half-width, each scenario's
    difference) and the manifest's ``precision`` holds them all. Replications are numbered as
    usual, so the tables equal those of a comparison of the final number of replications.
    ``executor`` runs the replications (default: ``workers`` local processes, or this process).
    """
    started = time.perf_counter()
    manifest = new_manifest(kind="comparison", base=BASE, scenarios=list(configs), config_sha256={name: config_sha256(c) for name, c in configs.items()},
                            seed=seed, replications=replications, workers=workers, sim_events=None)
    manifest["configs"] = {name: config_dict(c) for name, c in configs.items()}
    manifest.update(manifest_fields(manifest["configs"], BASE))  # data vantage, funding, what the bands hold
    out = store.writable_directory(out_dir) if out_dir is not None else None
    if out is not None:
        store.write_json(manifest, out / "manifest.json")
    cap = target.max_replications if target is not None else replications
    own = executor is None and workers > 1 and target is not None  # one pool for every batch
    pool = local_processes(workers) if own else executor
    results: list[ReplicationResult] = []
    with progress_bar(total=len(configs) * cap, desc="scenarios x replications", unit="run", disable=not progress, leave=False) as bar:

        def run_batch(start: int, stop: int) -> None:
            tasks = [(name, config, rep) for name, config in configs.items() for rep in range(start, stop)]
            results.extend(run_tasks(tasks, seed, workers, executor=pool, on_done=lambda _: bar.update(1)))

        try:
            if target is None:
                run_batch(0, replications)
            else:
                manifest["precision"] = _until_precise(target, replications, list(configs), results, run_batch, on_batch)
                manifest["replications"] = manifest["precision"]["batches"][-1]["replications"]
        except BaseException as exc:
            if own:
                pool.shutdown(wait=False, cancel_futures=True)
            mark_failed(manifest, out, exc)
            raise
    if own:
        pool.shutdown()
    annual = combine(_in_order(results, list(configs)))
    summary = summarise(annual)
    years = sorted(annual["financial_year"].unique())
    chosen = [y for y in years if y.endswith(("-20", "-25", "-30", "-35"))] or years[-1:]
    tables = {
        "annual": annual,
        "summary": summary,
        "differences": paired_differences(annual, BASE),
        "savings": savings(annual, BASE),
        "decomposition": decompose_spend(annual, BASE),
        "outcomes": outcome_table(summary, chosen),
    }
    mark_finished(manifest, started, sim_events=sum(r.sim_events for r in results))
    if out is not None:
        store.write_parquet(annual, out / "annual.parquet")
        for name, table in tables.items():
            if name != "annual":
                store.write_csv(table, out / f"{name}.csv")
        store.write_json(manifest, out / "manifest.json")
    return ComparisonResult(tables, manifest, out)


def _in_order(results: list[ReplicationResult], scenarios: list[str]) -> list[ReplicationResult]:
    """Results by scenario (in the comparison's order), then replication, across batches."""
    order = {name: i for i, name in enumerate(scenarios)}
    return sorted(results, key=lambda r: (order[r.scenario], r.replication))


def _until_precise(target: DifferenceTarget, first: int, scenarios: list[str], results: list[ReplicationResult], run_batch: Callable[[int, int], None],
                   on_batch: Callable[[dict[str, Any]], None] | None) -> dict[str, Any]:
    """Run batches until every scenario's paired half-width is at most the target; the manifest's record."""
    found: list[pd.DataFrame] = []

    def batch(start: int, stop: int) -> float:
        run_batch(start, stop)
        table = window_differences(combine(_in_order(results, scenarios)), BASE, target.metric, list(target.years))
        found.append(table)
        return float(table["half_width"].max()) if len(table) else 0.0

    def report(record: dict[str, Any]) -> None:
        record["scenarios"] = _scenario_records(found[-1])
        if on_batch is not None:
            on_batch(record)

    batches, met = grow(first, target.half_width, target.max_replications, batch, report)
    return {
        "metric": target.metric,
        "years": [target.years[0], target.years[-1]],
        "measure": "scenario minus base, summed over the years, paired by replication",
        "target_half_width": target.half_width,
        "max_replications": target.max_replications,
        "achieved_half_width": batches[-1]["half_width"],
        "met": met,
        "batches": batches,
        "scenarios": batches[-1]["scenarios"],
    }


def _scenario_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"scenario": row.scenario, "difference_mean": float(row.difference_mean), "half_width": float(row.half_width), "n": int(row.n)}
            for row in table.itertuples()]
