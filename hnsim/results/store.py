"""Writing results: every file atomically (a temporary name beside it, then a rename), so a reader
never sees half a file, and an output directory checked before any work starts."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from hnsim.errors import InputError


class OutputError(InputError):
    """An output path that cannot be written; one line per problem."""


def writable_directory(path: str | Path, option: str = "--out") -> Path:
    """Create ``path`` (and its parents) and check that a file can be written in it.

    Raises :class:`OutputError` naming the directory and the ``option`` that chose it, so a run
    refuses a bad output directory before it simulates anything.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".hnsim-write-check.", dir=path)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError([f"{path}: cannot write there ({exc.strerror or exc}); choose another {option}"]) from None
    return path


def file_mode() -> int:
    """The permissions a plain ``open(path, "w")`` would give a new file: 0666 less the umask
    (0644 under the usual umask 022; 0664 where a shared drive's umask 002 lets the group write)."""
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux), since
    setting it to read it back races with any thread creating a file meanwhile."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` for a temporary file beside ``path``, then rename it over ``path``.

    For files the helpers below do not cover (images, workbooks, documents). The file gets the
    permissions a plain write would give it (:func:`file_mode`), not the private 0600 of a
    temporary file, so colleagues who can read the directory can read the results.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_parquet(frame: pd.DataFrame, path: Path, metadata: dict[str, str] | None = None) -> Path:
    """Write a table as Parquet, atomically; ``metadata`` (text by key) goes into the file's schema."""
    if not metadata:
        return write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **{k.encode(): v.encode() for k, v in metadata.items()}})
    return write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def write_csv(frame: pd.DataFrame, path: Path, **options: Any) -> Path:
    """Write a table as CSV, atomically; ``options`` go to :meth:`pandas.DataFrame.to_csv`."""
    return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False, **options))


def write_json(data: Any, path: Path) -> Path:
    """Write JSON, atomically."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str)
    return write_atomic(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


def write_text(text: str, path: Path) -> Path:
    """Write text, atomically."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of a run directory."""
    return json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
