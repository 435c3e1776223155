"""Replications: run one, run many in parallel processes, always in the same order of results.

Each replication is a pure function of (config, root seed, replication number), so the table of
results is identical whatever the number of workers or the executor.
"""

from __future__ import annotations

import ctypes
import gc
import os
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from hnsim.config import Config, config_dict, validate
from hnsim.config.ensemble import ensemble_table, member_data, member_of
from hnsim.experiment.executors import as_finished, local_processes
from hnsim.model import Parameters, annual_metrics, compile_parameters, simulate
from hnsim.model.pathway import cyclic_gc_paused
from hnsim.results.event_log import LogTables, log_tables
from hnsim.results.schemas import ANNUAL_COLUMNS, NAME_COLUMNS


@dataclass
class ReplicationResult:
    """Metrics of one replication in long form, the number of simulation events it processed and,
    if asked for, its event log as tables (taken away by whoever writes them)."""

    scenario: str
    replication: int
    table: pd.DataFrame
    sim_events: int
    log: LogTables | None = None


def metrics_table(metrics: dict[str, np.ndarray], params: Parameters, scenario: str, replication: int) -> pd.DataFrame:
    """One replication's metrics (arrays by financial year) as the long annual table."""
    years = [label for label, _, _ in params.calendar.fy_bounds()]
    names = list(metrics)
    values = np.stack([np.asarray(metrics[n], dtype=float) for n in names])  # metric x year
    return pd.DataFrame(
        {
            "scenario": scenario,
            "replication": np.int64(replication),
            "financial_year": np.tile(years, len(names)),
            "metric": np.repeat(names, len(years)),
            "value": values.ravel(),
        }
    )


def run_replication(config: Config | dict, replication: int, seed: int, scenario: str = "baseline", keep_log: bool = False) -> ReplicationResult:
    """Simulate one replication and reduce it to annual metrics (long table); with ``keep_log``,
    keep its event log as tables too.

    ``config`` may be plain data (as sent to worker processes, since validated generic models do
    not pickle); it is validated again here.
    """
    freeze_long_lived()
    with cyclic_gc_paused():
        config = member_config(config, replication, scenario)
        params = compile_parameters(config)
        log = simulate(config, replication, seed, params)
        table = metrics_table(annual_metrics(log, params), params, scenario, replication)
        tables = log_tables(log, config.simulation.start_date, scenario, replication) if keep_log else None
        result = ReplicationResult(scenario, replication, table, int(log.sim_events), tables)
        del log
    release_memory()
    return result


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


_TRIM = _malloc_trim()


_FROZEN = False


def freeze_long_lived() -> None:
    """Once a process: collect, then move every object alive now (the modules, the config) out of
    the cycle collector's sight (:func:`gc.freeze`).

    The collector's full passes walk every tracked object, and a process that has imported the
    model holds several hundred thousand, nearly all for good: one pass took 0.1 s, two thirds of
    a fit-period replication, and came every dozen or so replications, at the first allocation
    after one (the counts build up while :func:`~hnsim.model.pathway.cyclic_gc_paused` holds the
    collector off). Frozen, they are never walked again; whatever a replication makes is still
    collected as before. (An object alive at the first replication is still freed when its last
    reference goes; only a reference cycle among such objects stays until :func:`gc.unfreeze`.)
    """
    global _FROZEN
    if not _FROZEN:
        gc.collect()
        gc.freeze()
        _FROZEN = True


def release_memory() -> None:
    """Free a finished replication's event log now and hand the freed heap back to the system.

    Without this a worker running replication after replication grows: the log's many small
    arrays and objects are freed, but the allocator keeps the pages, fragmented, and each
    replication's peak lands higher (a Gloucestershire worker from 210 MB to 500 MB over a hundred
    replications). Collecting the log's reference cycles and trimming the heap keeps it flat.

    Only the young generations are collected: :func:`run_replication` pauses the cycle collector,
    so everything the replication made is still young, and a full collection would spend most of
    its time (a quarter of a fit-period replication) walking the long-lived modules and config."""
    gc.collect(1)
    if _TRIM is not None:
        _TRIM(0)


def member_config(config: Config | dict, replication: int, scenario: str = "baseline") -> Config:
    """The config replication ``replication`` simulates: with a posterior ensemble, its member's
    parameter set (member r mod members, the same in every scenario); else the config itself."""
    data = config if isinstance(config, dict) else None
    if isinstance(config, Config):
        ensemble = config.calibration.ensemble if config.calibration else None
        if ensemble is None or not ensemble.table:
            return config
        data = config_dict(config)
    assert data is not None
    if ensemble_table(data) is None:
        return validate(data, f"scenario {scenario}")
    return validate(member_data(data, replication), f"scenario {scenario}, ensemble member {member_of(replication, len(ensemble_table(data) or []))}")


Task = tuple[str, Config, int]  # scenario, config, replication


def run_tasks(
    tasks: Sequence[Task],
    seed: int,
    workers: int = 1,
    executor: Executor | None = None,
    on_done: Callable[[ReplicationResult], None] | None = None,
    keep_log: bool = False,
) -> list[ReplicationResult]:
    """Run (scenario, config, replication) tasks; results come back sorted by scenario order and replication.

    ``workers`` > 1 uses local processes unless an ``executor`` is given. ``on_done`` is called as
    each task finishes (for progress bars, or to write event logs as they come with ``keep_log``).
    """
    results: list[ReplicationResult] = []
    if executor is None and workers <= 1:
        for scenario, config, rep in tasks:
            result = run_replication(config, rep, seed, scenario, keep_log)
            results.append(result)
            if on_done:
                on_done(result)
    else:
        own = executor is None
        pool = executor or local_processes(workers)
        try:
            plain = {id(config): config_dict(config) for _, config, _ in tasks}
            jobs = ((i, run_replication, (plain[id(config)], rep, seed, scenario, keep_log)) for i, (scenario, config, rep) in enumerate(tasks))
            for _, future in as_finished(pool, jobs, len(tasks)):
                result = future.result()
                results.append(result)
                if on_done:
                    on_done(result)
        except BaseException:
            if own:
                pool.shutdown(wait=False, cancel_futures=True)
            raise
        if own:
            pool.shutdown()
    order = {scenario: i for i, scenario in enumerate(dict.fromkeys(t[0] for t in tasks))}
    results.sort(key=lambda r: (order[r.scenario], r.replication))
    return results


def compact(table: pd.DataFrame) -> pd.DataFrame:
    """A replication's table with its name columns as categories: a quarter of its size, for a run
    that holds a thousand of them until they are combined (:func:`combine` gives the names back)."""
    return table.astype({column: "category" for column in NAME_COLUMNS if column in table})


def combine(results: Iterable[ReplicationResult]) -> pd.DataFrame:
    """One long table of annual metrics from many replications (plain or :func:`compact` tables)."""
    frames = [r.table for r in results]
    if not frames:
        return pd.DataFrame(columns=ANNUAL_COLUMNS)
    columns = {}
    for column in ANNUAL_COLUMNS:
        parts = [frame[column] for frame in frames]
        if all(isinstance(part.dtype, pd.CategoricalDtype) for part in parts):
            # names joined as codes, then written out once: never a table of a thousand copies of each name
            joined = union_categoricals([part.array for part in parts])
            columns[column] = pd.Series(joined.categories.astype(str).take(joined.codes))
        else:
            columns[column] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(columns)


def default_workers() -> int:
    """Local processes used when none are asked for: all cores."""
    return max(os.cpu_count() or 1, 1)
