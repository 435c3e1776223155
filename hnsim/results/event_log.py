"""Child-level results: a run's event logs as ``spells.parquet`` and ``events.parquet``, and back.

``hnsim run --keep-log`` writes, beside ``annual.parquet``:

- ``spells.parquet``: one row per spell, a stretch of time a child spends in one state:
  ``scenario, replication, child`` (the child's number within its replication), ``state`` (see
  :data:`hnsim.model.records.STATE_NAMES`: ``sen_support``, ``special``, ``mainstream_waiting``,
  ...), ``phase`` (``early_years`` to ``post19``), ``start_day, end_day`` (days since the
  simulation's start date, the end exclusive), ``start_date, end_date`` (the same as dates), and
  the child's own ``need`` (primary need), ``cohort`` (calendar year of the September the child
  starts reception) and ``birth_day``.
- ``events.parquet``: one row per flow event: ``scenario, replication, day, date, child`` (-1 for
  an event of no one child), ``event`` (see :data:`hnsim.model.records.EVENT_NAMES`) and
  ``value`` (days from request to final plan for ``new_ehcp``, days waited for
  ``assessment_start`` and ``special_place_wait_end``, else 0).

Rows are in the order the model logged them, replication after replication; the file metadata
(``hnsim.event_log``) keeps what re-costing also needs: each replication's number of children,
simulation events, commissioned places over time and allocation transfers. From these,
:func:`read_event_log` rebuilds each replication's :class:`~hnsim.model.records.EventLog`
exactly, so metrics can be recomputed with other unit costs without re-simulating.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hnsim.config.base import NEEDS, PHASES
from hnsim.model.records import EVENT_NAMES, STATE_NAMES, EventLog
from hnsim.results import store
from hnsim.results.schemas import EVENT_COLUMNS, SPELL_COLUMNS

SPELLS_FILE = "spells.parquet"
EVENTS_FILE = "events.parquet"
METADATA_KEY = b"hnsim.event_log"
FORMAT = 1

SPELL_SCHEMA = pa.schema([
    ("scenario", pa.string()), ("replication", pa.int32()), ("child", pa.int64()), ("state", pa.string()), ("phase", pa.string()),
    ("start_day", pa.float64()), ("end_day", pa.float64()), ("start_date", pa.date32()), ("end_date", pa.date32()),
    ("need", pa.string()), ("cohort", pa.int32()), ("birth_day", pa.float64()),
])
EVENT_SCHEMA = pa.schema([
    ("scenario", pa.string()), ("replication", pa.int32()), ("day", pa.float64()), ("date", pa.date32()), ("child", pa.int64()),
    ("event", pa.string()), ("value", pa.float64()),
])
assert SPELL_SCHEMA.names == SPELL_COLUMNS and EVENT_SCHEMA.names == EVENT_COLUMNS

_STATES = np.array([STATE_NAMES.get(code, "") for code in range(max(STATE_NAMES) + 1)], dtype=object)
_EVENTS = np.array([EVENT_NAMES.get(code, "") for code in range(max(EVENT_NAMES) + 1)], dtype=object)
_STATE_CODES = {name: code for code, name in STATE_NAMES.items()}
_EVENT_CODES = {name: code for code, name in EVENT_NAMES.items()}


@dataclass
class LogTables:
    """One replication's event log as two Arrow tables and the rest as plain data (it crosses processes)."""

    spells: pa.Table
    events: pa.Table
    info: dict[str, Any]


def _dates(start: dt.date, days: np.ndarray) -> np.ndarray:
    return np.datetime64(start, "D") + np.floor(days).astype("timedelta64[D]")


def log_tables(log: EventLog, start: dt.date, scenario: str, replication: int) -> LogTables:
    """The tables of one replication's log; ``start`` is the simulation's start date (day 0)."""
    child = np.asarray(log.spell_child, dtype=np.int64)
    start_day = np.asarray(log.spell_start, dtype=float)
    end_day = np.asarray(log.spell_end, dtype=float)
    need = np.array(NEEDS, dtype=object)[np.asarray(log.child_need, dtype=np.int64)]
    cohort = np.asarray(log.child_cohort, dtype=np.int32)
    birth = np.asarray(log.child_birth_day, dtype=float)
    n = len(child)
    spells = pa.table({
        "scenario": pa.array([scenario] * n, pa.string()),
        "replication": pa.array(np.full(n, replication, dtype=np.int32)),
        "child": pa.array(child),
        "state": pa.array(_STATES[np.asarray(log.spell_state, dtype=np.int64)], pa.string()),
        "phase": pa.array(np.array(PHASES, dtype=object)[np.asarray(log.spell_phase, dtype=np.int64)], pa.string()),
        "start_day": pa.array(start_day),
        "end_day": pa.array(end_day),
        "start_date": pa.array(_dates(start, start_day), pa.date32()),
        "end_date": pa.array(_dates(start, end_day), pa.date32()),
        "need": pa.array(need[child], pa.string()),
        "cohort": pa.array(cohort[child]),
        "birth_day": pa.array(birth[child]),
    }, schema=SPELL_SCHEMA)
    day = np.asarray(log.event_day, dtype=float)
    m = len(day)
    events = pa.table({
        "scenario": pa.array([scenario] * m, pa.string()),
        "replication": pa.array(np.full(m, replication, dtype=np.int32)),
        "day": pa.array(day),
        "date": pa.array(_dates(start, day), pa.date32()),
        "child": pa.array(np.asarray(log.event_child, dtype=np.int64)),
        "event": pa.array(_EVENTS[np.asarray(log.event_code, dtype=np.int64)], pa.string()),
        "value": pa.array(np.asarray(log.event_value, dtype=float)),
    }, schema=EVENT_SCHEMA)
    info = {
        "scenario": scenario, "replication": int(replication), "children": len(log.child_cohort), "sim_events": int(log.sim_events),
        "pool_schedules": {pool: [[float(day), int(places)] for day, places in schedule] for pool, schedule in log.pool_schedules.items()},
        "allocation_transfers": [float(v) for v in log.allocation_transfers],
    }
    return LogTables(spells, events, info)


class EventLogWriter:
    """Writes replications' logs into ``spells.parquet`` and ``events.parquet`` of a run directory.

    Replications may arrive in any order (as workers finish); they are written in replication order
    (0, 1, 2, ...), holding back only those that arrive early, so the files are the same whatever
    the number of workers. Both files are written under temporary names and renamed by
    :meth:`commit`; :meth:`discard` (or an error) leaves neither.
    """

    def __init__(self, out_dir: Path, start: dt.date):
        self.out_dir = Path(out_dir)
        self.start = start
        self._next = 0
        self._early: dict[int, LogTables] = {}
        self._infos: list[dict[str, Any]] = []
        self._tmp: dict[str, Path] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}
        for name, schema in ((SPELLS_FILE, SPELL_SCHEMA), (EVENTS_FILE, EVENT_SCHEMA)):
            handle, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.out_dir)
            os.close(handle)
            self._tmp[name] = Path(tmp)
            self._writers[name] = pq.ParquetWriter(tmp, schema)

    def add(self, replication: int, tables: LogTables) -> None:
        """Take one replication's tables; write them and any held back that now follow in order."""
        self._early[replication] = tables
        while self._next in self._early:
            ready = self._early.pop(self._next)
            self._writers[SPELLS_FILE].write_table(ready.spells)
            self._writers[EVENTS_FILE].write_table(ready.events)
            self._infos.append(ready.info)
            self._next += 1

    def commit(self) -> list[Path]:
        """Close both files with their metadata and rename them into place."""
        if self._early:
            raise RuntimeError(f"replications {sorted(self._early)} arrived without replication {self._next}")
        meta = json.dumps({"format": FORMAT, "start_date": self.start.isoformat(), "replications": self._infos})
        written = []
        for name, writer in self._writers.items():
            writer.add_key_value_metadata({METADATA_KEY: meta.encode()})
            writer.close()
            os.chmod(self._tmp[name], store.file_mode())
            os.replace(self._tmp[name], self.out_dir / name)
            written.append(self.out_dir / name)
        self._writers = {}
        return written

    def discard(self) -> None:
        """Close and delete both temporary files."""
        for name, writer in self._writers.items():
            writer.close()
            self._tmp[name].unlink(missing_ok=True)
        self._writers = {}


def has_event_log(run_dir: Path) -> bool:
    """Whether a run directory keeps its event logs."""
    return (Path(run_dir) / SPELLS_FILE).is_file() and (Path(run_dir) / EVENTS_FILE).is_file()


def event_log_info(run_dir: Path) -> dict[str, Any]:
    """The metadata of a run directory's event logs (``format``, ``start_date``, ``replications``)."""
    return json.loads(pq.ParquetFile(Path(run_dir) / SPELLS_FILE).metadata.metadata[METADATA_KEY])


def read_event_log(run_dir: Path) -> Iterator[tuple[str, int, EventLog]]:
    """``(scenario, replication, log)`` for every replication kept in a run directory, in order,
    each log rebuilt exactly as the model wrote it (one replication in memory at a time)."""
    run_dir = Path(run_dir)
    for info in event_log_info(run_dir)["replications"]:
        where = [("scenario", "==", info["scenario"]), ("replication", "==", info["replication"])]
        spells = pq.read_table(run_dir / SPELLS_FILE, filters=where, columns=["child", "state", "phase", "start_day", "end_day", "need", "cohort", "birth_day"])
        events = pq.read_table(run_dir / EVENTS_FILE, filters=where, columns=["day", "child", "event", "value"])
        yield info["scenario"], info["replication"], _rebuild(spells, events, info)


def _rebuild(spells: pa.Table, events: pa.Table, info: dict[str, Any]) -> EventLog:
    log = EventLog()
    child = spells["child"].to_numpy()
    log.spell_child = child.tolist()
    log.spell_state = [_STATE_CODES[s] for s in spells["state"].to_pylist()]
    log.spell_phase = [PHASES.index(p) for p in spells["phase"].to_pylist()]
    log.spell_start = spells["start_day"].to_numpy().tolist()
    log.spell_end = spells["end_day"].to_numpy().tolist()
    log.event_day = events["day"].to_numpy().tolist()
    log.event_code = [_EVENT_CODES[e] for e in events["event"].to_pylist()]
    log.event_value = events["value"].to_numpy().tolist()
    log.event_child = events["child"].to_numpy().tolist()
    # a child's attributes ride on its spells; a child with no spell (none so far) counts nowhere
    n = int(info["children"])
    cohort, need, birth = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
    cohort[child] = spells["cohort"].to_numpy()
    need[child] = [NEEDS.index(v) for v in spells["need"].to_pylist()]
    birth[child] = spells["birth_day"].to_numpy()
    log.child_cohort, log.child_need, log.child_birth_day = cohort.tolist(), need.tolist(), birth.tolist()
    log.sim_events = int(info["sim_events"])
    log.pool_schedules = {pool: [(float(day), int(places)) for day, places in schedule] for pool, schedule in info["pool_schedules"].items()}
    log.allocation_transfers = list(info["allocation_transfers"])
    return log.finish()
