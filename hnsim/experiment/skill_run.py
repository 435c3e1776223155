"""Running forecast-skill tasks into a directory, resumably, and scoring them from the stored files.

Shared by ``hnsim skill`` (:mod:`hnsim.experiment.skill`, many authorities from the SEN2 files) and
the rolling-origin ``hnsim backtest`` (:mod:`hnsim.experiment.rolling`, one config). Each task is a
:class:`TaskSpec`: how to prepare it in the parent, and the published values it is scored against
(read in the parent only, after the workers are done). Tasks are stored by :mod:`hnsim.results.skill`
and scored by :mod:`hnsim.analysis.skill`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd
from tqdm.auto import tqdm

from hnsim.analysis.skill import SKILL_COLUMNS, TASK_COLUMNS, notes, score_task, skill_summary, task_row
from hnsim.experiment.executors import Pool, as_finished, describe_error
from hnsim.experiment.skill_task import Calibrate, SkillTask, run_task
from hnsim.results import store
from hnsim.results.manifest import mark_failed, mark_finished
from hnsim.results.skill import read_outcome, task_path, write_outcome


@dataclass
class TaskSpec:
    """One task of a run: its file name, a label for messages, a weight (plans: order and progress),
    how to prepare it (in the parent) and the published values after its origin (``series, year,
    horizon, observed``), read only to score."""

    key: str
    label: str
    weight: float
    prepare: Callable[[], SkillTask]
    truth: Callable[[], pd.DataFrame]


@dataclass
class SkillResult:
    """What a skill run left on disk, and its tables."""

    out_dir: Path
    scored: pd.DataFrame
    summary: pd.DataFrame
    tasks: pd.DataFrame
    failures: pd.DataFrame
    manifest: dict[str, Any]


def run_specs(specs: list[TaskSpec], out_dir: Path, pool: Pool, manifest: dict[str, Any], calibrate: Calibrate, progress: bool = False) -> SkillResult:
    """Run the tasks whose file is missing, write each as it completes, then the tables.

    ``manifest`` is the run's (:func:`hnsim.results.manifest.new_manifest`), completed here."""
    paths = {s.key: task_path(out_dir, s.key) for s in specs}
    todo = [s for s in specs if not paths[s.key].exists()]
    failures: dict[str, tuple[TaskSpec, str, str]] = {}
    manifest.update(tasks=len(specs), tasks_done=len(specs) - len(todo), tasks_failed=[])
    store.write_json(manifest, out_dir / "manifest.json")
    started = time.perf_counter()
    bar = tqdm(total=round(sum(s.weight for s in specs)), initial=round(sum(s.weight for s in specs if s not in todo)), unit=" plans", disable=not progress,
               desc="skill", bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} plans{postfix} [{elapsed}<{remaining}]")
    count = {"done": len(specs) - len(todo)}

    def finished(spec: TaskSpec) -> None:
        count["done"] += 1
        bar.set_postfix_str(f"tasks {count['done']}/{len(specs)}", refresh=False)
        bar.update(round(spec.weight))

    bar.set_postfix_str(f"tasks {count['done']}/{len(specs)}")
    try:
        _run(todo, pool, paths, failures, finished, calibrate)
    except BaseException as exc:
        mark_failed(manifest, out_dir, exc, tasks_done=sum(p.exists() for p in paths.values()))
        raise
    finally:
        bar.close()
    result = write_tables(specs, paths, failures, out_dir)
    mark_finished(manifest, started, "complete" if not failures else "failed", tasks_done=len(specs) - len(failures),
                  tasks_failed=[f"{s.key}" for s, _, _ in failures.values()],
                  task_cpu_seconds=round(float(result.tasks["cpu_seconds"].sum()), 1) if len(result.tasks) else 0.0)
    store.write_json(manifest, out_dir / "manifest.json")
    store.write_text(notes(result.summary, len(result.tasks), result.failures, manifest), out_dir / "notes.md")
    result.manifest = manifest
    return result


def _run(todo: list[TaskSpec], pool: Pool, paths: dict[str, Path], failures: dict[str, tuple[TaskSpec, str, str]], finished, calibrate: Calibrate) -> None:
    """Prepare a few tasks ahead of the workers, submit them, write each as it completes."""

    def jobs():
        for spec in sorted(todo, key=lambda s: (s.weight, s.key), reverse=True):  # the largest (longest) first
            try:
                task = spec.prepare()
            except Exception as exc:  # the files cannot give this task a config: record, go on
                failures[spec.key] = (spec, "prepare", describe_error(exc))
                finished(spec)
                continue
            yield spec, run_task, (task, calibrate)

    # one prepared ahead keeps every worker busy
    for spec, future in as_finished(pool.executor, jobs(), pool.workers + 1):
        error = future.exception()
        if error is not None:
            failures[spec.key] = (spec, "calibrate and run", describe_error(error))
        else:
            write_outcome(future.result(), paths[spec.key])
        finished(spec)


def write_tables(specs: list[TaskSpec], paths: dict[str, Path], failures: dict[str, tuple[TaskSpec, str, str]], out_dir: Path) -> SkillResult:
    """skill.parquet, skill_summary.csv, tasks.csv and failures.csv from the stored task files
    (never from memory, so a resumed run's tables equal an uninterrupted one's)."""
    scored, rows = [], []
    for spec in specs:
        if spec.key in failures or not paths[spec.key].exists():
            continue
        outcome = read_outcome(paths[spec.key])
        scored.append(score_task(outcome, spec.truth()))
        rows.append(task_row(spec.key, outcome.info))
    table = pd.concat(scored, ignore_index=True) if scored else pd.DataFrame(columns=SKILL_COLUMNS)
    table = table.sort_values(["old_la_code", "origin", "series", "year", "forecaster"], kind="stable").reset_index(drop=True)
    summary = skill_summary(table) if len(table) else pd.DataFrame()
    tasks = pd.DataFrame(rows, columns=TASK_COLUMNS).sort_values(["old_la_code", "origin"], kind="stable").reset_index(drop=True)
    failed = pd.DataFrame([{"key": s.key, "authority": s.label, "stage": stage, "error": error} for s, stage, error in failures.values()],
                          columns=["key", "authority", "stage", "error"])
    store.write_parquet(table, out_dir / "skill.parquet")
    store.write_csv(summary, out_dir / "skill_summary.csv")
    store.write_csv(tasks, out_dir / "tasks.csv")
    if failures:
        store.write_csv(failed, out_dir / "failures.csv")
    else:
        (out_dir / "failures.csv").unlink(missing_ok=True)
    return SkillResult(out_dir, table, summary, tasks, failed, {})
