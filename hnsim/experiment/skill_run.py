"""Running forecast-skill tasks into a directory, resumably, and scoring them from the stored files.

Shared by ``hnsim skill`` (:mod:`hnsim.experiment.skill`, many authorities from the SEN2 files) and
the rolling-origin ``hnsim backtest`` (:mod:`hnsim.experiment.rolling`, one config). Each task is a
:class:`TaskSpec`: how to prepare it in the parent, and the published values it is scored against
(read in the parent only, after the workers are done).
"""

from __future__ import annotations

import datetime as dt
import time
import zlib
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd
from tqdm.auto import tqdm

from hnsim.analysis.scores import MODEL, SCORE_COLUMNS, score_ensembles
from hnsim.analysis.skill import HEADLINE_SERIES, scales, skill_summary
from hnsim.experiment import store
from hnsim.experiment.executors import Pool
from hnsim.experiment.skill_task import Calibrate, SkillTask, read_outcome, run_task, write_outcome
from hnsim.experiment.sweep import describe_error

IDENTITY = ["authority", "old_la_code", "la_code", "region_name", "origin"]
KEYS = ["series", "year", "horizon", "forecaster"]
SKILL_COLUMNS = [*IDENTITY, *KEYS, *SCORE_COLUMNS, "method"]
TASK_COLUMNS = ["key", "authority", "old_la_code", "origin", "plans", "members", "objective", "evaluations", "seconds", "cpu_seconds"]


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


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def run_specs(specs: list[TaskSpec], out_dir: Path, pool: Pool, manifest: dict[str, Any], calibrate: Calibrate, progress: bool = False) -> SkillResult:
    """Run the tasks whose file is missing, write each as it completes, then the tables."""
    paths = {s.key: out_dir / "tasks" / f"{s.key}.parquet" for s in specs}
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
        manifest.update(status="interrupted" if isinstance(exc, KeyboardInterrupt) else "failed", error=repr(exc), tasks_done=sum(p.exists() for p in paths.values()))
        store.write_json(manifest, out_dir / "manifest.json")
        raise
    finally:
        bar.close()
    result = write_tables(specs, paths, failures, out_dir)
    manifest.update(status="complete" if not failures else "failed", tasks_done=len(specs) - len(failures), tasks_failed=[f"{s.key}" for s, _, _ in failures.values()],
                    finished_at=_now(), wall_seconds=round(time.perf_counter() - started, 3),
                    task_cpu_seconds=round(float(result.tasks["cpu_seconds"].sum()), 1) if len(result.tasks) else 0.0)
    store.write_json(manifest, out_dir / "manifest.json")
    store.write_text(notes(result, manifest), out_dir / "notes.md")
    result.manifest = manifest
    return result


def _run(todo: list[TaskSpec], pool: Pool, paths: dict[str, Path], failures: dict[str, tuple[TaskSpec, str, str]], finished, calibrate: Calibrate) -> None:
    """Prepare a few tasks ahead of the workers, submit them, write each as it completes."""
    queue = sorted(todo, key=lambda s: (s.weight, s.key))  # popped from the end: the largest (longest) first
    running: dict[Future, TaskSpec] = {}
    try:
        while queue or running:
            while queue and len(running) < pool.workers + 1:  # one prepared ahead keeps every worker busy
                spec = queue.pop()
                try:
                    task = spec.prepare()
                except Exception as exc:  # the files cannot give this task a config: record, go on
                    failures[spec.key] = (spec, "prepare", describe_error(exc))
                    finished(spec)
                    continue
                running[pool.executor.submit(run_task, task, calibrate)] = spec
            if not running:
                continue
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                spec = running.pop(future)
                error = future.exception()
                if isinstance(error, BrokenExecutor):
                    raise error
                if error is not None:
                    failures[spec.key] = (spec, "calibrate and run", describe_error(error))
                else:
                    write_outcome(future.result(), paths[spec.key])
                finished(spec)
    except BaseException:
        for future in running:
            future.cancel()
        raise


def score_task(outcome, truth: pd.DataFrame) -> pd.DataFrame:
    """The scored rows of one stored task (:data:`SKILL_COLUMNS`)."""
    info = outcome.info
    training = pd.DataFrame(info["training"], columns=["series", "year", "value"])
    scored = score_ensembles(outcome.ensembles, truth, KEYS, scales(training), seed=zlib.crc32(info["key"].encode()))
    methods = info.get("naive_methods", {})
    scored["method"] = [("model" if f == MODEL else methods.get(s, {}).get(f, f)) for s, f in zip(scored["series"], scored["forecaster"])]
    for column, value in zip(IDENTITY, (info["la_name"], info["old_la_code"], info["la_code"], info["region_name"], int(info["origin"]))):
        scored[column] = value
    return scored[SKILL_COLUMNS]


def write_tables(specs: list[TaskSpec], paths: dict[str, Path], failures: dict[str, tuple[TaskSpec, str, str]], out_dir: Path) -> SkillResult:
    """skill.parquet, skill_summary.csv, tasks.csv and failures.csv from the stored task files
    (never from memory, so a resumed run's tables equal an uninterrupted one's)."""
    scored, rows = [], []
    for spec in specs:
        if spec.key in failures or not paths[spec.key].exists():
            continue
        outcome = read_outcome(paths[spec.key])
        scored.append(score_task(outcome, spec.truth()))
        info, calibration = outcome.info, outcome.info.get("calibration", {})
        rows.append({"key": spec.key, "authority": info["la_name"], "old_la_code": info["old_la_code"], "origin": info["origin"], "plans": info["plans"],
                     "members": info["members"], "objective": calibration.get("objective"), "evaluations": calibration.get("evaluations"),
                     "seconds": info["seconds"], "cpu_seconds": info["cpu_seconds"]})
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


def _pct(v: float) -> str:
    return "-" if pd.isna(v) else f"{v:.1f}%"


def notes(result: SkillResult, manifest: dict[str, Any]) -> str:
    """notes.md: what the run was, and the model against the best naive forecaster on the headline series."""
    s = result.summary
    lines = [f"# Forecast skill: {len(result.tasks)} tasks (authority x origin), origins {', '.join(map(str, manifest.get('origins', [])))}", "",
             f"Model ensemble: {manifest.get('replications')} replications of each task's calibrated config (calibration `{manifest.get('calibrate')}`, "
             f"{manifest.get('max_evaluations')} evaluations of {manifest.get('fit_replications')} replications, from the middle of every range); "
             f"naive forecasters: {manifest.get('naive_draws')} draws each. CRPS: fair estimator (scoringrules). Scores on the values published after each "
             "origin; skill = 1 - mean CRPS of hnsim / mean CRPS of the best naive forecaster of the cell.", ""]
    if len(s):
        lines += ["| series | horizon | hnsim mean APE | best naive | its mean APE | CRPS skill | CRPS skill (% of observed) | hnsim 50% / 90% coverage |", "|---|---|---|---|---|---|---|---|"]
        model = s[s["forecaster"] == MODEL]
        for r in model[model["series"].isin([*HEADLINE_SERIES, "all"])].itertuples(index=False):
            best = s[(s["series"] == r.series) & (s["horizon"] == r.horizon) & (s["forecaster"] == r.best_naive)]
            ape = best["mean_ape"].iloc[0] if len(best) else float("nan")
            lines.append(f"| {r.series} | {r.horizon} | {_pct(r.mean_ape)} | {r.best_naive} | {_pct(ape)} | {r.crps_skill:+.2f} | {r.crps_pct_skill:+.2f} | "
                         f"{100 * r.coverage_50:.0f}% / {100 * r.coverage_90:.0f}% |")
    lines += ["", f"Wall time {manifest.get('wall_seconds')} s this session; CPU seconds in the tasks {manifest.get('task_cpu_seconds')}; executor {manifest.get('executor')}."]
    if len(result.failures):
        lines += ["", "Failed tasks:", *[f"- {r.key} ({r.stage}): {r.error}" for r in result.failures.itertuples(index=False)]]
    return "\n".join(lines) + "\n"
