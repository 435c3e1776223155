"""Posterior ensembles on disk and in runs: reading the members' CSV, and the overrides of one
replication's member.

A calibrated config may carry ``calibration.ensemble.file``: a CSV beside it with a ``member``
column and one column per config path (``sen_support.request_rate.value.primary``). When the config
is loaded, the rows are read into ``calibration.ensemble.table``. Replication r of any run uses
member ``r mod members``, the same in every scenario, so differences between scenarios stay paired
(common random numbers and common parameters). A value set explicitly by a scenario overlay or an
override wins over the members' (its column is dropped), so a sweep over a member's path still
sweeps it.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Iterable

from hnsim.config.paths import normalise
from hnsim.errors import InputError


def read_members(path: Path) -> list[dict[str, float]]:
    """The rows of an ensemble CSV as mappings of config path to value, in member order."""
    if not path.exists():
        raise InputError([f"{path}: ensemble file not found (calibration.ensemble.file); rerun hnsim calibrate or remove the key"])
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or reader.fieldnames[0] != "member":
            raise InputError([f"{path}: an ensemble file starts with a 'member' column, then one column per config path"])
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                values = {key: float(value) for key, value in row.items() if key != "member"}
            except (TypeError, ValueError):
                raise InputError([f"{path}: line {line}: every value must be a number"]) from None
            if not all(math.isfinite(v) for v in values.values()):
                raise InputError([f"{path}: line {line}: values must be finite"])
            rows.append(values)
    if len(rows) < 2:
        raise InputError([f"{path}: an ensemble needs at least 2 members, found {len(rows)}"])
    return rows


def attach_members(data: dict[str, Any], config_path: Path) -> dict[str, Any]:
    """Config data with its ensemble file (relative to the config) read into ``ensemble.table``."""
    ensemble = (data.get("calibration") or {}).get("ensemble") if isinstance(data.get("calibration"), dict) else None
    if not isinstance(ensemble, dict) or not ensemble.get("file") or ensemble.get("table"):
        return data
    rows = read_members(config_path.parent / str(ensemble["file"]))
    out = dict(data)
    out["calibration"] = dict(data["calibration"])
    out["calibration"]["ensemble"] = dict(ensemble) | {"table": rows}
    return out


def leaf_paths(overlay: Any, prefix: str = "") -> Iterable[str]:
    """Dotted paths of every leaf an overlay sets."""
    if isinstance(overlay, dict):
        for key, value in overlay.items():
            yield from leaf_paths(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".")


def drop_member_paths(data: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """Config data whose ensemble no longer sets ``paths`` (nor anything below them): an explicit
    value wins over the members'."""
    ensemble = ((data.get("calibration") or {}) if isinstance(data.get("calibration"), dict) else {}).get("ensemble")
    table = ensemble.get("table") if isinstance(ensemble, dict) else None
    if not table:
        return data
    given = [normalise(p) for p in paths]
    columns = set(table[0])
    # members hold a share parameter's whole row (several columns under one parent): an explicit
    # value for one entry takes the row out of the members, so the config's row is used whole
    parents = {p.rsplit(".", 1)[0] for p in given if p in columns and sum(c.rsplit(".", 1)[0] == p.rsplit(".", 1)[0] for c in columns) > 1}

    def overridden(column: str) -> bool:
        return any(column == p or column.startswith(p + ".") for p in given) or column.rsplit(".", 1)[0] in parents

    kept = [{k: v for k, v in row.items() if not overridden(k)} for row in table]
    out = dict(data)
    out["calibration"] = dict(data["calibration"])
    out["calibration"]["ensemble"] = dict(ensemble) | {"table": kept}
    return out


def member_of(replication: int, members: int) -> int:
    """The member a replication uses."""
    return replication % members


def ensemble_table(data: dict[str, Any]) -> list[dict[str, float]] | None:
    """The members of plain config data, or None."""
    calibration = data.get("calibration")
    ensemble = calibration.get("ensemble") if isinstance(calibration, dict) else None
    table = ensemble.get("table") if isinstance(ensemble, dict) else None
    return table or None


def member_data(data: dict[str, Any], replication: int) -> dict[str, Any]:
    """Plain config data as replication ``replication`` runs it: its member's values set (shares
    are set as given; the file holds whole rows) and the table itself left out."""
    from hnsim.config.load import apply_overrides  # load imports this module

    table = ensemble_table(data)
    if table is None:
        return data
    row = table[member_of(replication, len(table))]
    out = dict(data)
    out["calibration"] = dict(data["calibration"])
    out["calibration"]["ensemble"] = dict(data["calibration"]["ensemble"]) | {"table": None}
    return apply_overrides(out, row) if row else out


def without_members(data: dict[str, Any]) -> dict[str, Any]:
    """Config data with no ensemble members (a fit starts from the config's own values)."""
    if ensemble_table(data) is None:
        return data
    out = dict(data)
    out["calibration"] = dict(data["calibration"])
    out["calibration"]["ensemble"] = dict(data["calibration"]["ensemble"]) | {"table": None}
    return out
