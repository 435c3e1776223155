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
from hnsim.config import Config, ConfigError, config_dict, config_sha256, load_config, validate
from hnsim.config.outlook import manifest_fields
from hnsim.experiment.adaptive import DifferenceTarget, grow
from hnsim.experiment.calibration import with_horizon
from hnsim.experiment.executors import local_processes
from hnsim.experiment.runner import ReplicationResult, combine, run_tasks
from hnsim.model.levers import effect_points
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
    until every scenario's paired half-width is narrow enough or the cap is reached; a scenario
    stops at the first batch that meets the target, the base runs on with the rest. ``on_batch``
    receives each batch's record (replications so far, the worst half-width, each running
    scenario's difference) and the manifest's ``precision`` holds them all. Replications are
    numbered as usual, so each scenario's rows of the tables equal those of a comparison of its own
    number of replications (differences and savings pair each with the base's same replications).
    ``executor`` runs the replications (default: ``workers`` local processes, or this process).
    """
    started = time.perf_counter()
    if target is not None and target.to_last_year:
        configs = {name: cut_at_year(config, target.years[-1]) for name, config in configs.items()}
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

        def run_batch(start: int, stop: int, names: Sequence[str] | None = None) -> None:
            chosen = list(configs) if names is None else list(names)
            tasks = [(name, configs[name], rep) for name in chosen for rep in range(start, stop)]
            results.extend(run_tasks(tasks, seed, workers, executor=pool, on_done=lambda _: bar.update(1)))

        try:
            if target is None:
                run_batch(0, replications)
            else:
                manifest["precision"] = _until_precise(target, replications, configs, seed, results, run_batch, on_batch)
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


def cut_at_year(config: Config, financial_year: str) -> Config:
    """``config`` simulated only to the end of ``financial_year`` (31 March)."""
    return validate(with_horizon(config_dict(config), int(financial_year[:4])), f"simulation to the end of {financial_year}")


def effect_points_table(configs: dict[str, Config], seed: int, replications: int) -> dict[str, pd.DataFrame]:
    """Where each scenario's stratified lever effects (its own and the base's) fall in replications
    ``0 .. replications-1``: by scenario, a table of replication x effect (points in [0, 1))."""
    rows = {name: [effect_points(config, seed, rep) for rep in range(replications)] for name, config in configs.items()}
    tables = {}
    for name in configs:
        if name == BASE:
            continue
        merged = [{**base, **own} for base, own in zip(rows[BASE], rows[name])]
        tables[name] = pd.DataFrame(merged, index=pd.RangeIndex(replications, name="replication"))
    return tables


def _until_precise(target: DifferenceTarget, first: int, configs: dict[str, Config], seed: int, results: list[ReplicationResult],
                   run_batch: Callable[[int, int, Sequence[str]], None], on_batch: Callable[[dict[str, Any]], None] | None) -> dict[str, Any]:
    """Run batches until every scenario's paired half-width is at most the target; the manifest's
    record. A scenario stops at the first batch that meets the target (its figures are those of its
    replications so far); the base runs on with the scenarios that have not, so the next batch's
    size is set by the worst of those."""
    scenarios = list(configs)
    open_ = [name for name in scenarios if name != BASE]
    final: dict[str, dict[str, Any]] = {}
    found: list[pd.DataFrame] = []

    def batch(start: int, stop: int) -> float:
        run_batch(start, stop, [BASE, *open_])
        table = window_differences(combine(_in_order(results, scenarios)), BASE, target.metric, list(target.years),
                                   effect_points_table(configs, seed, stop))
        rows = table[table["scenario"].isin(open_)]
        found.append(rows)
        for record in _scenario_records(rows):
            final[record["scenario"]] = record
            if record["half_width"] <= target.half_width:
                open_.remove(record["scenario"])
        return float(rows["half_width"].max()) if len(rows) else 0.0

    def report(record: dict[str, Any]) -> None:
        record["scenarios"] = _scenario_records(found[-1])
        record["still_running"] = list(open_)
        if on_batch is not None:
            on_batch(record)

    batches, met = grow(first, target.half_width, target.max_replications, batch, report)
    return {
        "metric": target.metric,
        "years": [target.years[0], target.years[-1]],
        "measure": "scenario minus base, summed over the years, paired by replication",
        "interval": ("Student-t 95% half-width of the mean over replications; where lever effects are uncertain, of the mean "
                     "stratified over them (residual variance after a straight line in each effect's point; docs/levers.md)"),
        "stopping": "each scenario stops at the first batch that meets the target; the base runs as long as any scenario",
        "simulated_to": str(configs[BASE].simulation.end_date),
        "target_half_width": target.half_width,
        "max_replications": target.max_replications,
        "achieved_half_width": max((r["half_width"] for r in final.values()), default=0.0),
        "met": met,
        "batches": batches,
        "scenarios": [final[name] for name in scenarios if name in final],
        "replications_run": sum(r["n"] for r in final.values()) + batches[-1]["replications"],
    }


def _scenario_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"scenario": row.scenario, "difference_mean": float(row.difference_mean), "half_width": float(row.half_width), "n": int(row.n),
             "half_width_independent": float(row.half_width_independent), "stratified_effects": int(row.stratified_effects)}
            for row in table.itertuples()]
