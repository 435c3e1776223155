"""The task files of a forecast-skill directory (``hnsim skill``, ``hnsim backtest --origins``):
one Parquet file per task under ``tasks/``, its forecast ensembles as the table and the task's
record (fit, naive methods, the values known at the origin, times) as JSON in the file's metadata,
so a task is either wholly written or not at all."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from hnsim.results import store
from hnsim.results.schemas import ENSEMBLE_COLUMNS

METADATA_KEY = "hnsim.skill"
TASKS = "tasks"


@dataclass
class TaskOutcome:
    """A task's forecast ensembles (:data:`~hnsim.results.schemas.ENSEMBLE_COLUMNS`) and its record."""

    ensembles: pd.DataFrame
    info: dict[str, Any]


def task_path(out_dir: str | Path, key: str) -> Path:
    """Where the task ``key`` ('916-gloucestershire-2016') of a skill directory is stored."""
    return Path(out_dir) / TASKS / f"{key}.parquet"


def write_outcome(outcome: TaskOutcome, path: Path) -> None:
    """One file per task, atomically: the ensembles as Parquet, the record in the file's metadata."""
    ensembles = outcome.ensembles[ENSEMBLE_COLUMNS].astype({"year": "int16", "horizon": "int8", "member": "int32", "value": "float32"})  # counts exact, draws to 7 digits
    store.write_parquet(ensembles, path, {METADATA_KEY: json.dumps(outcome.info, default=str)})


def read_outcome(path: Path) -> TaskOutcome:
    """A task's stored ensembles and record."""
    table = pq.read_table(path)
    info = json.loads(table.schema.metadata[METADATA_KEY.encode()])
    frame = table.to_pandas().astype({"year": int, "horizon": int, "member": int, "value": float})
    return TaskOutcome(frame, info)


def task_outcomes(out_dir: str | Path, origin: int | None = None) -> list[tuple[Path, TaskOutcome]]:
    """Every stored task of a skill directory (of one ``origin`` if given), by file name."""
    pattern = f"*-{origin}.parquet" if origin is not None else "*.parquet"
    return [(path, read_outcome(path)) for path in sorted((Path(out_dir) / TASKS).glob(pattern))]
