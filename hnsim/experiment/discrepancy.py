"""The model discrepancy's yearly steps as known at a forecast origin, from every authority's SEN2
series (:mod:`hnsim.analysis.discrepancy`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from hnsim.analysis.discrepancy import MIN_STEPS, Discrepancy, discrepancy_at
from hnsim.analysis.skill import SERIES, last_known
from hnsim.data.series import every_authority
from hnsim.experiment.national import national_authorities


@lru_cache(maxsize=8)
def _every_authority(directory: str):
    return every_authority(directory, national_authorities(Path(directory))).rename(columns={"metric": "series"})


def discrepancy_known_at(sen2_dir: str | Path, origin: int, min_steps: int = MIN_STEPS) -> Discrepancy:
    """The steps of every scored series from the SEN2 files in ``sen2_dir``, using only the years
    published at ``origin`` (censuses to it, activity to the year before), over every authority
    with its own rows in the files' latest census."""
    table = _every_authority(str(Path(sen2_dir).resolve()))
    return discrepancy_at(table, {s: last_known(s, origin) for s in SERIES}, list(SERIES), min_steps=min_steps)
