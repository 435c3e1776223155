"""A comparison: a base config and scenario overlays, run with common random numbers."""

from __future__ import annotations

import time
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd
from hnsim.experiment.progress import progress_bar

from hnsim.analysis.compare import decompose_spend, outcome_table, paired_differences, savings
from hnsim.analysis.summary import summarise
from hnsim.config import Config, ConfigError, config_dict, config_sha256, load_config
from hnsim.config.outlook import manifest_fields
from hnsim.experiment.runner import combine, run_tasks
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
) -> ComparisonResult:
    """Run every scenario with the same seed and replication numbers, then compare each with the base.

    Returns (and writes, if ``out_dir``) the tables: annual, summary, differences, savings,
    decomposition, outcomes; ``out_dir`` is checked before anything runs.
    """
    started = time.perf_counter()
    manifest = new_manifest(kind="comparison", base=BASE, scenarios=list(configs), config_sha256={name: config_sha256(c) for name, c in configs.items()},
                            seed=seed, replications=replications, workers=workers, sim_events=None)
    manifest["configs"] = {name: config_dict(c) for name, c in configs.items()}
    manifest.update(manifest_fields(manifest["configs"], BASE))  # data vantage, funding, what the bands hold
    out = store.writable_directory(out_dir) if out_dir is not None else None
    if out is not None:
        store.write_json(manifest, out / "manifest.json")
    tasks = [(name, config, rep) for name, config in configs.items() for rep in range(replications)]
    with progress_bar(total=len(tasks), desc="scenarios x replications", unit="run", disable=not progress, leave=False) as bar:
        try:
            results = run_tasks(tasks, seed, workers, on_done=lambda _: bar.update(1))
        except BaseException as exc:
            mark_failed(manifest, out, exc)
            raise
    annual = combine(results)
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
