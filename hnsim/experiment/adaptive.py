"""Choosing the number of replications: add replications until the 95% interval of one outcome's
mean is narrow enough, or a cap is reached.

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


def replicate_until(config: Config, scenario: str, precision: Precision, first: int, seed: int, workers: int = 1,
                    executor: Executor | None = None,
                    on_done: Callable[[ReplicationResult], None] | None = None, keep_log: bool = False) -> tuple[list[ReplicationResult], dict[str, Any]]:
    """Run ``first`` replications (at least 2), then more in batches until precise enough.

    The next total is the usual estimate n * (half-width / target)^2, at most double the current
    total (an early estimate of the spread is itself noisy) and at most the cap. Returns the results
    in replication order and a record of the batches for the manifest.
    """
    results: list[ReplicationResult] = []
    batches: list[dict[str, Any]] = []
    total = min(max(2, first), precision.max_replications)
    while True:
        tasks = [(scenario, config, rep) for rep in range(len(results), total)]
        results += run_tasks(tasks, seed, workers, executor=executor, on_done=on_done, keep_log=keep_log)
        width = half_width(_values(results, precision))
        batches.append({"replications": len(results), "half_width": width if math.isfinite(width) else None})
        if width <= precision.half_width or len(results) >= precision.max_replications:
            break
        needed = math.ceil(len(results) * (width / precision.half_width) ** 2) if math.isfinite(width) else 2 * len(results)
        total = min(precision.max_replications, max(len(results) + 1, min(needed, 2 * len(results))))
    record = {
        "metric": precision.metric,
        "financial_year": precision.financial_year,
        "target_half_width": precision.half_width,
        "max_replications": precision.max_replications,
        "achieved_half_width": batches[-1]["half_width"],
        "met": bool(width <= precision.half_width),
        "batches": batches,
    }
    return results, record
