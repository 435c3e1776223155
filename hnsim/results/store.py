"""Run directories: atomic writes (temporary name, then rename) and the manifest."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import pandas as pd


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write via a temporary file in the same directory, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_parquet(frame: pd.DataFrame, path: Path, metadata: dict[str, str] | None = None) -> Path:
    """Write a table as Parquet, atomically; ``metadata`` (text by key) goes into the file's schema."""
    if not metadata:
        return _atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **{k.encode(): v.encode() for k, v in metadata.items()}})
    return _atomic(path, lambda tmp: pq.write_table(table, tmp))


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table as CSV, atomically."""
    return _atomic(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_json(data: Any, path: Path) -> Path:
    """Write JSON, atomically."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str)
    return _atomic(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


def write_text(text: str, path: Path) -> Path:
    """Write text, atomically."""
    return _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of a run directory."""
    return json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
