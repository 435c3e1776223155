"""Manifests: what every results directory records about how it was made, and its status.

A manifest says ``running`` from the start, then ``complete`` (or ``failed``, ``interrupted``): a
directory whose manifest does not say ``complete`` holds no finished results. Runs, comparisons,
sweeps and national runs add their own fields to the ones made here.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import hnsim
from hnsim.results import store

#: Packages whose versions every manifest records (results depend on them).
PACKAGES = ("simpy", "numpy", "scipy", "pandas", "pydantic", "pyarrow", "matplotlib")


def now() -> str:
    """The current time in UTC, to the second, as ISO 8601 text."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def software_versions() -> dict[str, str]:
    """Versions of Python and the packages results depend on."""
    versions = {"python": platform.python_version(), "hnsim": hnsim.__version__}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def new_manifest(**fields: Any) -> dict[str, Any]:
    """A manifest with status ``running``: hnsim's version, ``fields`` in order, the start time, the
    command line and the software versions (finish time and wall seconds still empty)."""
    return {
        "hnsim_version": hnsim.__version__,
        "status": "running",
        **fields,
        "started_at": now(),
        "finished_at": None,
        "wall_seconds": None,
        "command": " ".join(sys.argv),
        "software": software_versions(),
    }


def mark_finished(manifest: dict[str, Any], started: float, status: str = "complete", **fields: Any) -> dict[str, Any]:
    """Record the end of the work: ``status``, any ``fields``, the finish time and wall seconds since
    ``started`` (a ``time.perf_counter()`` reading)."""
    manifest.update(status=status, **fields, finished_at=now(), wall_seconds=round(time.perf_counter() - started, 3))
    return manifest


def mark_failed(manifest: dict[str, Any], out_dir: Path | None, error: BaseException, **fields: Any) -> None:
    """Mark a manifest ``interrupted`` (Ctrl-C) or ``failed``, with the error and any ``fields``, and
    write it into ``out_dir`` if given, so no directory looks complete that is not."""
    manifest.update(status="interrupted" if isinstance(error, KeyboardInterrupt) else "failed", error=repr(error), **fields)
    if out_dir is not None:
        store.write_json(manifest, Path(out_dir) / "manifest.json")


def annotate(out_dir: Path, **fields: Any) -> dict[str, Any]:
    """Add ``fields`` to a finished directory's manifest (rewritten atomically), e.g. the question an
    experiment asked of its comparison, so that its report can say so."""
    manifest = store.read_manifest(Path(out_dir))
    manifest.update(fields)
    store.write_json(manifest, Path(out_dir) / "manifest.json")
    return manifest
