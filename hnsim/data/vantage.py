"""The data as it stood at a forecast origin: SEN2 files and observed tables truncated at a year.

A forecast made at origin ``Y`` (in January of year ``Y``) knows the January censuses up to and
including ``Y`` and activity (calendar years, and financial years' money) up to ``Y - 1`` only. A
*vantage* is the data cut there. :func:`write_vantage` writes a copy of a directory of DfE's SEN2
files without the later rows, so that everything derived from it (starter config, observed series,
calibration targets) physically cannot see a later year; :func:`observed_at` does the same for a
tidy observed table (:mod:`hnsim.data.observed`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from hnsim.data import sen2
from hnsim.data.errors import DataError

#: SEN2 files counted at the January census; the others count calendar years of activity.
CENSUS_FILES = ("age_caseload", "estab_caseload")


def last_year_seen(key: str, origin: int) -> int:
    """The latest year of SEN2 file ``key`` known at ``origin``: the census of ``origin`` itself,
    the calendar year before it for activity."""
    return origin if key in CENSUS_FILES else origin - 1


def write_vantage(sen2_dir: str | Path, origin: int, out_dir: str | Path) -> Path:
    """Write the SEN2 files of ``sen2_dir`` as known at ``origin`` into ``out_dir`` and return it.

    Rows are kept exactly as published (text, columns, order), less those of later years; each file
    is written atomically. Raises :class:`DataError` if a file is missing or unreadable.
    """
    source, out = Path(sen2_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for key, spec in sen2.FILES.items():
        path = source / spec.filename
        if not path.is_file():
            raise DataError([f"{path}: file not found (expected DfE's SEN2 file '{spec.filename}': {spec.what})"])
        try:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataError([f"{path}: not a readable CSV file ({exc})"]) from None
        period = next((c for c in raw.columns if c.strip() == "time_period"), None)
        if period is None:
            raise DataError([f"{path}: missing column time_period; expected DfE's SEN2 '{spec.filename}'"])
        years = pd.to_numeric(raw[period].str.strip().str[:4], errors="coerce")
        kept = raw[years.le(last_year_seen(key, origin)).to_numpy()]
        handle, tmp = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".tmp", dir=out)
        os.close(handle)
        try:
            kept.to_csv(tmp, index=False)
            os.replace(tmp, out / spec.filename)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return out


def observed_at(observed: pd.DataFrame, origin: int) -> pd.DataFrame:
    """The rows of an observed table (``load_observed``) known at ``origin``: census years up to
    ``origin``, calendar years and financial years ending up to ``origin - 1`` (a financial year
    ending in March ``origin`` is not over at the January census)."""
    kind, year = observed["kind"], observed["year"].astype(str)
    fy_end = pd.to_numeric(observed["financial_year"].astype(str).str[:4], errors="coerce") + 1
    numeric = pd.to_numeric(year.where(kind != "financial_year"), errors="coerce")
    keep = ((kind == "census") & (numeric <= origin)) | ((kind == "calendar_year") & (numeric <= origin - 1)) | ((kind == "financial_year") & (fy_end <= origin - 1))
    return observed[keep.to_numpy()].reset_index(drop=True)
