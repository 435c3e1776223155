"""Choosing the number of replications: add replications until the 95% interval of one outcome's
mean (a run) or of every scenario's paired difference from the base (a comparison) is narrow
enough, or a cap is reached.

Replications are numbered 0, 1, 2, ... whatever the batches, and each batch's size depends only on
the results so far, so the same seed gives the same replications whatever the number of workers.
"""

from __future__ import annotations

import math
import re
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Callable

from hnsim.analysis.intervals import half_width
from hnsim.config import Config
from hnsim.experiment.runner import ReplicationResult, run_tasks


@dataclass(frozen=True)
class Precision:
    """Stop when the 95% interval half-width of ``metric`` in ``financial_year`` is at most
    ``half_width``, or when ``max_replications`` have run."""

    metric: str
    financial_year: str
    half_width: float
    max_replications: int = 100

    @classmethod
    def parse(cls, text: str, max_replications: int = 100) -> "Precision":
        """From ``METRIC:YEAR:HALFWIDTH``, e.g. ``cumulative_deficit:2025-26:2000000``."""
        match = re.fullmatch(r"([a-z0-9_]+):(\d{4}-\d{2}):([0-9.eE+]+)", text.strip())
        if not match:
            raise ValueError(f"'{text}': write it as METRIC:YEAR:HALFWIDTH, e.g. cumulative_deficit:2025-26:2000000")
        value = float(match.group(3))
        if not value > 0:
            raise ValueError(f"'{text}': the half-width must be above 0")
        return cls(match.group(1), match.group(2), value, max_replications)


def _values(results: list[ReplicationResult], precision: Precision) -> list[float]:
    values = []
    for result in results:
        table = result.table
        chosen = table[(table["metric"] == precision.metric) & (table["financial_year"] == precision.financial_year)]["value"]
        values.append(float(chosen.iloc[0]) if len(chosen) else math.nan)
    return values


@dataclass(frozen=True)
class DifferenceTarget:
    """Stop a comparison when every scenario's paired 95% half-width of the difference from the base
    in ``metric`` summed over ``years`` (scenario minus base) is at most ``half_width``, or when
    ``max_replications`` have run."""

    half_width: float
    years: tuple[str, ...]
    metric: str = "spend_total"
    max_replications: int = 100
    #: simulate only to the end of the last of ``years`` (31 March): the question needs no later
    #: day, so each replication is cheaper, but its random paths are not those of a full-horizon run
    to_last_year: bool = False


def next_total(done: int, width: float, target: float, cap: int) -> int:
    """The next number of replications: the usual estimate ``done * (width / target)^2``, at most
    double ``done`` (an early estimate of the spread is itself noisy), at least one more, at most ``cap``."""
    needed = math.ceil(done * (width / target) ** 2) if math.isfinite(width) else 2 * done
    return min(cap, max(done + 1, min(needed, 2 * done)))


def grow(first: int, target: float, cap: int, run_batch: Callable[[int, int], float],
         on_batch: Callable[[dict[str, Any]], None] | None = None) -> tuple[list[dict[str, Any]], bool]:
    """Run replications ``0 .. first-1`` (at least 2), then more in batches until the half-width is at
    most ``target`` or ``cap`` replications have run.

    ``run_batch(start, stop)`` runs replications ``start .. stop-1`` and returns the half-width over
    every replication so far (the worst, where there are several). ``on_batch`` receives each batch's
    record (``replications``, ``half_width``) as it ends. Returns the records and whether the target was met.
    """
    batches: list[dict[str, Any]] = []
    done, total = 0, min(max(2, first), cap)
    while True:
        width = run_batch(done, total)
        done = total
        batches.append({"replications": done, "half_width": width if math.isfinite(width) else None})
        if on_batch is not None:
            on_batch(batches[-1])
        if width <= target or done >= cap:
            return batches, bool(width <= target)
        total = next_total(done, width, target, cap)


def replicate_until(config: Config, scenario: str, precision: Precision, first: int, seed: int, workers: int = 1,
                    executor: Executor | None = None,
                    on_done: Callable[[ReplicationResult], None] | None = None, keep_log: bool = False) -> tuple[list[ReplicationResult], dict[str, Any]]:
    """Run ``first`` replications (at least 2), then more in batches until precise enough (:func:`grow`).

    Returns the results in replication order and a record of the batches for the manifest.
    """
    results: list[ReplicationResult] = []

    def batch(start: int, stop: int) -> float:
        results.extend(run_tasks([(scenario, config, rep) for rep in range(start, stop)], seed, workers, executor=executor, on_done=on_done,
                                 keep_log=keep_log))
        return half_width(_values(results, precision))

    batches, met = grow(first, precision.half_width, precision.max_replications, batch)
    record = {
        "metric": precision.metric,
        "financial_year": precision.financial_year,
        "target_half_width": precision.half_width,
        "max_replications": precision.max_replications,
        "achieved_half_width": batches[-1]["half_width"],
        "met": met,
        "batches": batches,
    }
    return results, record
