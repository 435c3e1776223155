"""Where replications run: local processes (default), a Dask cluster at a scheduler address, or a
local Dask cluster. Every choice is a ``concurrent.futures.Executor``, so the code that submits
work and collects results is the same whichever is used, and so are the results.

Dask is the optional ``hnsim[dask]`` extra; it is imported only when asked for.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Iterator, TypeVar

from hnsim.errors import InputError

K = TypeVar("K", bound=Hashable)


class ExecutorError(InputError):
    """An executor that cannot be started (Dask missing, scheduler unreachable); one line per problem."""


@dataclass(frozen=True)
class Pool:
    """An open executor, how many tasks it runs at once and a description for the manifest."""

    executor: Executor
    workers: int
    description: str


def _exit_with_parent(parent: int, every_seconds: float = 0.5) -> None:
    """In a worker process: leave as soon as the process that started it is gone.

    A worker whose parent was killed outright (no chance to shut the pool down) would otherwise
    wait for work for ever, holding memory and a core.
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="hnsim-exit-with-parent", daemon=True).start()


def local_processes(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` local processes, each of which exits if this process dies."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_exit_with_parent, initargs=(os.getpid(),))


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExecutorError(["Dask is not installed: pip install 'hnsim[dask]' to use --scheduler or --local-dask"]) from None
    return distributed


def _import_on_workers(client: Any, scheduler: str | None) -> None:
    """Import the model on every Dask worker now, so the first replications are not slowed by it
    (Dask starts its workers as fresh interpreters) and a worker without hnsim is one clear error."""
    try:
        client.run(importlib.import_module, "hnsim.experiment.runner")
    except ImportError as exc:
        where = f"the Dask scheduler {scheduler}'s workers" if scheduler else "the local Dask workers"
        raise ExecutorError([f"{where} cannot import hnsim ({exc}): install hnsim, at this version, on every worker"]) from None


# Dask's nanny starts each worker with MALLOC_TRIM_THRESHOLD_=65536, so glibc hands memory back to
# the system on every large free: a replication's numpy batches then cost about 15% more than in a
# local process (measured by benchmarks/run.py). Workers trim their heap after each replication
# themselves (runner.py), so the local cluster starts them with glibc's default instead. The nanny
# also writes the variable into this process's environment, where a later cluster would inherit it.
TRIM_VARIABLE = "MALLOC_TRIM_THRESHOLD_"


def _local_cluster(distributed: Any, workers: int) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1."""
    import dask

    inherited = os.environ.pop(TRIM_VARIABLE, None)
    try:
        with dask.config.set({f"distributed.nanny.pre-spawn-environ.{TRIM_VARIABLE}": None}):
            return distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            )
    finally:
        os.environ.pop(TRIM_VARIABLE, None)
        if inherited is not None:
            os.environ[TRIM_VARIABLE] = inherited


@contextmanager
def open_pool(workers: int, scheduler: str | None = None, local_dask: bool = False, connect_timeout: str = "20s") -> Iterator[Pool]:
    """Open an executor for the duration of a ``with`` block and close it afterwards.

    ``scheduler``: address of a running Dask scheduler (``tcp://host:8786``); its workers need hnsim
    installed at the same version. ``local_dask``: start a ``distributed.LocalCluster`` of
    ``workers`` single-threaded processes on 127.0.0.1. Otherwise ``workers`` local processes.
    ``connect_timeout``: how long to keep trying to reach the scheduler.
    """
    if scheduler and local_dask:
        raise ExecutorError(["give either --scheduler or --local-dask, not both"])
    if scheduler or local_dask:
        distributed = _distributed()
        cluster = None
        try:
            if local_dask:
                cluster = _local_cluster(distributed, workers)
                client = distributed.Client(cluster)
            else:
                client = distributed.Client(scheduler, timeout=connect_timeout)
        except OSError as exc:
            if cluster is not None:
                cluster.close()
            raise ExecutorError([f"cannot reach the Dask scheduler at {scheduler}: {exc}"]) from None
        try:
            _import_on_workers(client, scheduler)
            threads = sum(client.nthreads().values()) or workers
            where = "local Dask cluster" if local_dask else f"Dask scheduler {scheduler}"
            # pure=False: every submission is its own task, never merged with an earlier one by key
            yield Pool(client.get_executor(pure=False), threads, f"{where} ({threads} threads)")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    pool = local_processes(workers)
    try:
        yield Pool(pool, workers, f"local processes ({workers})")
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def as_finished(executor: Executor, jobs: Iterable[tuple[K, Callable[..., Any], tuple]], in_flight: int) -> Iterator[tuple[K, Future]]:
    """Submit ``(key, function, args)`` jobs, at most ``in_flight`` at a time, and yield ``(key,
    future)`` as each finishes, in the order they finish.

    Jobs are taken from ``jobs`` only when there is room, so a generator can prepare each one just
    in time and hold little in memory. A broken executor (a worker process died) raises at once; a
    job's own error stays in its future for the caller to record. On leaving early (an error, Ctrl-C)
    the jobs not yet started are cancelled.
    """
    pending = iter(jobs)
    running: dict[Future, K] = {}
    try:
        while True:
            while len(running) < max(1, in_flight):
                job = next(pending, None)
                if job is None:
                    break
                key, function, args = job
                running[executor.submit(function, *args)] = key
            if not running:
                return
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                key = running.pop(future)
                if isinstance(future.exception(), BrokenExecutor):
                    raise future.exception()
                yield key, future
    finally:
        for future in running:
            future.cancel()


def describe_error(error: BaseException) -> str:
    """One line for a failures table: the exception's type and message (every input problem)."""
    problems = getattr(error, "problems", None)
    if isinstance(problems, list):
        text = "; ".join(problems)
    elif isinstance(problems, str):  # an error rebuilt from its message after crossing processes
        text = problems
    else:
        text = str(error)
    return f"{type(error).__name__}: {text}".replace("\n", "; ")
