"""Running a sweep: points x replications on an executor, written point by point, resumable.

Layout of a sweep directory::

    manifest.json                 design hash, seed, versions, status, failed points
    design.csv                    point, varied (one-at-a-time), one column per parameter
    points/point_00012.parquet    every metric of every replication of point 12 (long table)
    outcome_replications.parquet  the outcomes of interest, per point and replication
    outcomes.csv                  per point and outcome: mean, sd, 95% interval, n
    tornado.csv | sensitivity.csv one-at-a-time effects, or Sobol / Morris indices
    failures.csv                  points whose run raised, with the error (only if any)

A point is done when its Parquet exists and the manifest's design hash matches; rerunning runs
only the points not done. Every point uses the same root seed and replications 0..R-1 (common
random numbers), and every replication is a pure function of its config, so resumed, local and
Dask runs give the same tables.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from hnsim.experiment.progress import progress_bar

from hnsim.analysis import sensitivity
from hnsim.config import config_sha256, validate
from hnsim.errors import InputError
from hnsim.experiment.design import DesignTable, build_design
from hnsim.experiment.executors import Pool, as_finished, describe_error
from hnsim.experiment.outcomes import outcome_rows
from hnsim.experiment.runner import run_replication
from hnsim.experiment.sweep_file import Sweep
from hnsim.results import store
from hnsim.config.outlook import manifest_fields
from hnsim.results.manifest import mark_failed, mark_finished, new_manifest, now
from hnsim.results.schemas import POINT_COLUMNS


class SweepMismatch(InputError):
    """The output directory holds a different sweep; one line per problem."""


@dataclass
class SweepResult:
    """What a sweep left on disk, and its small tables."""

    out_dir: Path
    design: DesignTable
    outcomes: pd.DataFrame
    failures: pd.DataFrame
    manifest: dict[str, Any]


def point_path(out_dir: Path, point: int) -> Path:
    """Where a point's results are stored."""
    return Path(out_dir) / "points" / f"point_{point:05d}.parquet"


def _check_directory(out_dir: Path, design_hash: str) -> dict[str, Any] | None:
    """The existing manifest if the directory holds this sweep; refuse a different one."""
    manifest_path = out_dir / "manifest.json"
    if manifest_path.exists():
        manifest = store.read_manifest(out_dir)
        if manifest.get("design_hash") != design_hash:
            raise SweepMismatch([
                f"{out_dir}: holds a sweep with a different design (the sweep file, its base config or overlays changed: "
                f"design hash {str(manifest.get('design_hash'))[:12]}, now {design_hash[:12]}); "
                "use another --out, or delete the directory to start again"
            ])
        return manifest
    if any((out_dir / "points").glob("*.parquet")):
        raise SweepMismatch([f"{out_dir}: holds point results but no manifest.json; use another --out"])
    return None


def _point_table(point: int, results: list) -> pd.DataFrame:
    results = sorted(results, key=lambda r: r.replication)
    table = pd.concat([r.table for r in results], ignore_index=True)
    table.insert(0, "point", point)
    return table[POINT_COLUMNS]


def run_sweep(sweep: Sweep, out_dir: str | Path, pool: Pool, progress: bool = False) -> SweepResult:
    """Run the points of a sweep not already done in ``out_dir`` and write the sweep's tables.

    Raises :class:`SweepMismatch` if ``out_dir`` holds another sweep. A point whose run raises is
    recorded in ``failures.csv`` and the others go on. On Ctrl-C the manifest is marked
    ``interrupted`` and the points written so far are kept for the next run.
    """
    out_dir = Path(out_dir)
    design = build_design(sweep)
    rows = design.rows()
    design_hash = sweep.design_hash(rows)
    previous = _check_directory(out_dir, design_hash)
    reps = sweep.spec.replications
    outcomes = sweep.outcomes
    manifest = new_manifest(
        sweep_name=sweep.name, sweep_file=str(sweep.path), design=sweep.spec.design.kind, design_hash=design_hash,
        base_config_sha256=config_sha256(validate(sweep.base_data, "base")), seed=sweep.seed, replications=reps,
        points=len(rows), points_done=0, points_failed=[], executor=pool.description,
        sessions=(previous or {}).get("sessions", 0) + 1, first_started_at=(previous or {}).get("first_started_at") or now(),
    )
    manifest["sweep"] = sweep.spec.model_dump(mode="json")
    manifest.update({k: v for k, v in manifest_fields({"base": sweep.base_data}, "base").items() if k in ("data_vantage", "funding_assumption", "data_end_year")})
    store.writable_directory(out_dir)
    store.write_json(manifest, out_dir / "manifest.json")
    store.write_csv(design.points, out_dir / "design.csv")
    todo = [r["point"] for r in rows if not point_path(out_dir, r["point"]).exists()]
    fresh_outcomes: dict[int, pd.DataFrame] = {}
    failures: dict[int, str] = {}
    started = time.perf_counter()
    bar = progress_bar(total=len(rows), initial=len(rows) - len(todo), desc=f"{sweep.name}: points", unit="point", disable=not progress)
    try:
        _run_points(sweep, rows, todo, pool, out_dir, fresh_outcomes, failures, bar)
    except BaseException as exc:
        mark_failed(manifest, out_dir, exc, points_done=sum(point_path(out_dir, r["point"]).exists() for r in rows))
        raise
    finally:
        bar.close()

    per_rep = _outcome_replications(out_dir, rows, fresh_outcomes, outcomes)
    store.write_parquet(per_rep, out_dir / "outcome_replications.parquet")
    table = sensitivity.point_outcomes(per_rep, design.points)
    store.write_csv(table, out_dir / "outcomes.csv")
    params = [p.name for p in sweep.parameters]
    failed = pd.DataFrame(
        [{**rows[p], "error": failures[p]} for p in sorted(failures)], columns=["point", *design.points.columns[1:], "error"]
    )
    if failures:
        store.write_csv(failed, out_dir / "failures.csv")
    else:
        (out_dir / "failures.csv").unlink(missing_ok=True)
    _write_sensitivity(sweep, design, per_rep, params, out_dir, complete=not failures)
    mark_finished(manifest, started, "complete" if not failures else "failed", points_done=len(rows) - len(failures), points_failed=sorted(failures))
    store.write_json(manifest, out_dir / "manifest.json")
    return SweepResult(out_dir, design, table, failed, manifest)


def _run_points(sweep: Sweep, rows: list[dict], todo: list[int], pool: Pool, out_dir: Path,
                fresh_outcomes: dict[int, pd.DataFrame], failures: dict[int, str], bar: Any) -> None:
    """Run the replications of a few points at a time and write each point as it completes.

    Only the points in flight are held in memory: enough of them to keep every worker busy.
    """
    reps = sweep.spec.replications
    window = max(2, -(-2 * pool.workers // reps))  # points in flight
    partial: dict[int, list] = {}

    def jobs():
        for point in todo:
            plain = sweep.point_data(rows[point])
            partial[point] = []
            for rep in range(reps):
                yield (point, rep), run_replication, (plain, rep, sweep.seed, f"point {point}")

    for (point, _rep), future in as_finished(pool.executor, jobs(), window * reps):
        if point not in partial:  # an earlier replication of this point failed
            continue
        error = future.exception()
        if error is not None:
            failures[point] = describe_error(error)
            del partial[point]
            bar.update(1)
            continue
        partial[point].append(future.result())
        if len(partial[point]) == reps:
            table = _point_table(point, partial.pop(point))
            store.write_parquet(table, point_path(out_dir, point))
            fresh_outcomes[point] = outcome_rows(table, sweep.outcomes)
            bar.update(1)


def _outcome_replications(out_dir: Path, rows: list[dict], fresh: dict[int, pd.DataFrame], outcomes) -> pd.DataFrame:
    """Outcome values per point and replication: from this session's points, else from disk."""
    metrics = sorted({o.metric for o in outcomes})
    frames = []
    for row in rows:
        point = row["point"]
        if point in fresh:
            frames.append(fresh[point])
        elif point_path(out_dir, point).exists():
            stored = pd.read_parquet(point_path(out_dir, point), filters=[("metric", "in", metrics)])
            frames.append(outcome_rows(stored, outcomes))
    columns = ["point", "replication", "metric", "financial_year", "value"]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)[columns]
    return table.sort_values(["point", "metric", "financial_year", "replication"], kind="stable").reset_index(drop=True)


def _write_sensitivity(sweep: Sweep, design: DesignTable, per_rep: pd.DataFrame, params: list[str], out_dir: Path, complete: bool) -> None:
    """Tornado data for one-at-a-time designs; Sobol or Morris indices (all points needed)."""
    kind = sweep.spec.design.kind
    for stale in ("tornado.csv", "sensitivity.csv"):
        (out_dir / stale).unlink(missing_ok=True)
    frames = []
    for outcome in sweep.outcomes:
        if kind == "one_at_a_time":
            groups = {name: sweep.group(name) for name in params}
            frames.append(sensitivity.tornado(design.points, per_rep, outcome.metric, outcome.financial_year, params, groups))
        elif kind in ("sobol", "morris") and complete:
            means = sensitivity.outcome_means(per_rep, outcome.metric, outcome.financial_year, len(design.points))
            if kind == "sobol":
                indices = sensitivity.sobol_indices(design.problem, means, second_order=sweep.spec.design.second_order, seed=sweep.spec.design.seed)
            else:
                indices = sensitivity.morris_indices(design.problem, design.sample, means, levels=sweep.spec.design.levels, seed=sweep.spec.design.seed)
            indices.insert(0, "financial_year", outcome.financial_year)
            indices.insert(0, "metric", outcome.metric)
            frames.append(indices)
    if frames:
        name = "tornado.csv" if kind == "one_at_a_time" else "sensitivity.csv"
        store.write_csv(pd.concat(frames, ignore_index=True), out_dir / name)
