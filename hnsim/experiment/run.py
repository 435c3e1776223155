"""A run: replications of one config, written to a run directory with its manifest."""

from __future__ import annotations

import datetime as dt
import platform
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

import hnsim
from hnsim.analysis.summary import summarise
from hnsim.config import Config, config_dict, config_sha256
from hnsim.results import store
from hnsim.experiment.adaptive import Precision, replicate_until
from hnsim.experiment.runner import combine, run_tasks

PACKAGES = ("simpy", "numpy", "scipy", "pandas", "pydantic", "pyarrow", "matplotlib")


@dataclass
class RunResult:
    """The tables of a finished run and where they were written (if anywhere)."""

    annual: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any]
    out_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def software_versions() -> dict[str, str]:
    """Versions of Python and the packages results depend on."""
    versions = {"python": platform.python_version(), "hnsim": hnsim.__version__}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


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
    ``interrupted``/``failed``), ``annual.parquet`` and ``summary.csv``, each written atomically.
    With ``precision``, ``replications`` is the first batch and more are added until the interval
    is narrow enough (see :mod:`hnsim.experiment.adaptive`).
    """
    replications = replications or config.simulation.replications
    seed = config.simulation.seed if seed is None else seed
    manifest: dict[str, Any] = {
        "hnsim_version": hnsim.__version__,
        "status": "running",
        "scenario": scenario,
        "config_path": config_path,
        "config_sha256": config_sha256(config),
        "seed": seed,
        "replications": replications,
        "workers": workers,
        "started_at": _now(),
        "finished_at": None,
        "wall_seconds": None,
        "sim_events": None,
        "command": " ".join(sys.argv),
        "software": software_versions(),
        "config": config_dict(config),
    }
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for stale in ("annual.parquet", "summary.csv"):
            (out / stale).unlink(missing_ok=True)
        store.write_json(manifest, out / "manifest.json")
    started = time.perf_counter()
    bar = tqdm(total=precision.max_replications if precision else replications, desc=f"{scenario}: replications", unit="rep", disable=not progress, leave=False)
    try:
        tasks = [(scenario, config, rep) for rep in range(replications)]
        if precision is None:
            results = run_tasks(tasks, seed, workers, on_done=lambda _: bar.update(1))
        else:
            results, manifest["precision"] = replicate_until(config, scenario, precision, replications, seed, workers, on_done=lambda _: bar.update(1))
            manifest["replications"] = len(results)
    except BaseException as exc:
        record_failure(manifest, out, exc)
        raise
    finally:
        bar.close()
    annual = combine(results)
    summary = summarise(annual)
    record_completion(manifest, started, results)
    if out is not None:
        store.write_parquet(annual, out / "annual.parquet")
        store.write_csv(summary, out / "summary.csv")
        store.write_json(manifest, out / "manifest.json")
    return RunResult(annual, summary, manifest, out)


def record_failure(manifest: dict[str, Any], out: Path | None, exc: BaseException) -> None:
    """Mark a manifest interrupted or failed (and write it), so no directory looks complete that is not."""
    manifest["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
    manifest["error"] = repr(exc)
    if out is not None:
        store.write_json(manifest, out / "manifest.json")


def record_completion(manifest: dict[str, Any], started: float, results: list) -> None:
    """Mark a manifest complete, with the finish time, wall seconds and simulation events."""
    manifest.update(
        status="complete",
        finished_at=_now(),
        wall_seconds=round(time.perf_counter() - started, 3),
        sim_events=sum(r.sim_events for r in results),
    )


def read_run(run_dir: str | Path) -> RunResult:
    """Load a finished run directory."""
    run_dir = Path(run_dir)
    manifest = store.read_manifest(run_dir)
    if manifest.get("status") != "complete":
        raise ValueError(f"{run_dir}: run status is '{manifest.get('status')}', not complete")
    annual = pd.read_parquet(run_dir / "annual.parquet")
    summary = pd.read_csv(run_dir / "summary.csv")
    return RunResult(annual, summary, manifest, run_dir)
