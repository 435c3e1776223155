"""Reading results directories back: a run, comparison or sweep directory, as the tables it holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hnsim.errors import InputError
from hnsim.results import store
from hnsim.results.schemas import ANNUAL_COLUMNS


class RunDirectoryError(InputError, ValueError):
    """The directory or a file in it cannot be read as finished results; ``problems`` lists why, one per line."""

    separator = "; "


@dataclass
class RunResult:
    """The tables of a finished run and where they were written (if anywhere)."""

    annual: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any]
    out_dir: Path | None = None


@dataclass
class RunData:
    """Everything a report needs from one results directory."""

    path: Path
    kind: str  # "run", "comparison" or "sweep"
    manifest: dict[str, Any]
    annual: pd.DataFrame
    summary: pd.DataFrame
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """The run's id: the directory name."""
        return self.path.resolve().name

    @property
    def scenarios(self) -> list[str]:
        """Scenario names in the order they first appear in ``annual``."""
        return list(dict.fromkeys(self.annual["scenario"]))

    @property
    def base(self) -> str:
        """The base scenario of a comparison (the manifest's ``base``, else 'baseline', else the first)."""
        named = self.manifest.get("base") or self.manifest.get("base_scenario")
        if named in self.scenarios:
            return named
        if "baseline" in self.scenarios or not self.scenarios:
            return "baseline"
        return self.scenarios[0]

    @property
    def years(self) -> list[str]:
        """Financial years in the run (a sweep: its outcome years), in order."""
        if self.kind == "sweep":
            return sorted(set(self.extra.get("outcomes", pd.DataFrame({"financial_year": []}))["financial_year"].astype(str)))
        return sorted(set(self.annual["financial_year"]))

    def provenance(self) -> str:
        """The one-line provenance drawn on every figure."""
        m = self.manifest
        when = str(m.get("finished_at") or m.get("started_at") or "")[:10] or dt.date.today().isoformat()
        sha = m.get("config_sha256") or m.get("base_config_sha256") or "unknown"
        if isinstance(sha, dict):  # a comparison: one hash per scenario; show the base's
            sha = sha.get(m.get("base", "baseline")) or next(iter(sha.values()), "unknown")
        sha = str(sha)[:8]
        return f"hnsim {m.get('hnsim_version', '?')} \u00b7 run {self.run_id} \u00b7 config {sha} \u00b7 seed {m.get('seed', '?')} \u00b7 {m.get('replications', '?')} replications \u00b7 {when}"


def load(run_dir: str | Path) -> RunData:
    """Load a finished results directory and tell what kind it is.

    A sweep directory has ``design.csv`` (and ``outcomes.csv``, ``tornado.csv``); a comparison has several scenarios in ``annual.parquet``
    (or ``kind: comparison`` in its manifest); otherwise it is a single run. Raises
    ``RunDirectoryError`` when the directory is missing, unfinished or lacks its tables.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise RunDirectoryError([f"{path}: no such directory"])
    if not (path / "manifest.json").is_file():
        raise RunDirectoryError([f"{path}: no manifest.json (not a run directory written by hnsim)"])
    manifest = store.read_manifest(path)
    if manifest.get("status") != "complete":
        raise RunDirectoryError([f"{path}: run status is '{manifest.get('status')}', not 'complete'; a directory that is not complete holds no results"])
    if (path / "design.csv").is_file():
        return _load_sweep(path, manifest)
    problems = [f"{path}: missing {name}" for name in ("annual.parquet", "summary.csv") if not (path / name).is_file()]
    if problems:
        raise RunDirectoryError(problems)
    annual = pd.read_parquet(path / "annual.parquet")
    summary = pd.read_csv(path / "summary.csv")
    missing = set(ANNUAL_COLUMNS) - set(annual.columns)
    if missing:
        raise RunDirectoryError([f"{path / 'annual.parquet'}: missing columns {', '.join(sorted(missing))}"])
    extra = {p.stem: pd.read_csv(p) for p in sorted(path.glob("*.csv")) if p.name != "summary.csv"}
    kind = "comparison" if manifest.get("kind") == "comparison" or annual["scenario"].nunique() > 1 else "run"
    return RunData(path, kind, manifest, annual, summary, extra)


def _load_sweep(path: Path, manifest: dict[str, Any]) -> RunData:
    """A sweep directory: design.csv, outcomes.csv and tornado.csv when present (no annual table)."""
    if not (path / "outcomes.csv").is_file():
        raise RunDirectoryError([f"{path}: sweep directory without outcomes.csv"])
    extra = {name: pd.read_csv(path / f"{name}.csv") for name in ("design", "outcomes", "tornado", "sensitivity") if (path / f"{name}.csv").is_file()}
    empty = pd.DataFrame(columns=ANNUAL_COLUMNS)
    return RunData(path, "sweep", manifest, empty, pd.DataFrame(), extra)


def read_run(run_dir: str | Path) -> RunResult:
    """Load a finished run or comparison directory (not a sweep): its annual table, summary and manifest.

    Raises :class:`RunDirectoryError` when the directory is missing, unfinished, a sweep or lacks its tables.
    """
    data = load(run_dir)
    if data.kind == "sweep":
        raise RunDirectoryError([f"{data.path}: a sweep directory has no annual table; read its outcomes.csv and points/ instead"])
    return RunResult(data.annual, data.summary, data.manifest, data.path)
