"""Reading what a report is built from: a run, comparison or sweep directory, and observed history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hnsim.errors import InputError
from hnsim.results import store


class ReportInputError(InputError, ValueError):
    """The directory or a file in it cannot be reported on; ``problems`` lists why, one per line."""

    separator = "; "


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
    ``ReportInputError`` when the directory is missing, unfinished or lacks its tables.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise ReportInputError([f"{path}: no such directory"])
    if not (path / "manifest.json").is_file():
        raise ReportInputError([f"{path}: no manifest.json (not a run directory written by hnsim)"])
    manifest = store.read_manifest(path)
    if manifest.get("status") != "complete":
        raise ReportInputError([f"{path}: run status is '{manifest.get('status')}', not 'complete'; a directory that is not complete holds no results"])
    if (path / "design.csv").is_file():
        return _load_sweep(path, manifest)
    problems = [f"{path}: missing {name}" for name in ("annual.parquet", "summary.csv") if not (path / name).is_file()]
    if problems:
        raise ReportInputError(problems)
    annual = pd.read_parquet(path / "annual.parquet")
    summary = pd.read_csv(path / "summary.csv")
    missing = {"scenario", "replication", "financial_year", "metric", "value"} - set(annual.columns)
    if missing:
        raise ReportInputError([f"{path / 'annual.parquet'}: missing columns {', '.join(sorted(missing))}"])
    extra = {p.stem: pd.read_csv(p) for p in sorted(path.glob("*.csv")) if p.name != "summary.csv"}
    kind = "comparison" if manifest.get("kind") == "comparison" or annual["scenario"].nunique() > 1 else "run"
    return RunData(path, kind, manifest, annual, summary, extra)


def _load_sweep(path: Path, manifest: dict[str, Any]) -> RunData:
    """A sweep directory: design.csv, outcomes.csv and tornado.csv when present (no annual table)."""
    if not (path / "outcomes.csv").is_file():
        raise ReportInputError([f"{path}: sweep directory without outcomes.csv"])
    extra = {name: pd.read_csv(path / f"{name}.csv") for name in ("design", "outcomes", "tornado", "sensitivity") if (path / f"{name}.csv").is_file()}
    empty = pd.DataFrame(columns=["scenario", "replication", "financial_year", "metric", "value"])
    return RunData(path, "sweep", manifest, empty, pd.DataFrame(), extra)


OBSERVED_COLUMNS = ("financial_year", "metric", "value")


def load_observed(directory: str | Path) -> pd.DataFrame:
    """Published history: every CSV under ``directory`` with columns financial_year, metric, value.

    Extra columns are ignored (``source`` is kept when present); CSVs without the three columns are
    skipped; rows with no value are dropped. Returns ``financial_year, metric, value, source``.
    Raises ``ReportInputError`` when the directory is missing or holds no such CSV.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ReportInputError([f"{root}: no such directory (--observed)"])
    frames = []
    for csv in sorted(root.rglob("*.csv")):
        frame = pd.read_csv(csv)
        if not set(OBSERVED_COLUMNS) <= set(frame.columns):
            continue
        frame = frame[[*OBSERVED_COLUMNS, *(["source"] if "source" in frame.columns else [])]].copy()
        if "source" not in frame.columns:
            frame["source"] = csv.name
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
        frames.append(frame.dropna(subset=["value"]))
    if not frames:
        raise ReportInputError([f"{root}: no CSV with columns {', '.join(OBSERVED_COLUMNS)}"])
    out = pd.concat(frames, ignore_index=True)
    out["financial_year"] = out["financial_year"].astype(str)
    return out
