"""The model discrepancy's yearly steps as known at a forecast origin, from every authority's SEN2
series (:mod:`hnsim.analysis.discrepancy`)."""

from __future__ import annotations

from pathlib import Path

from hnsim.analysis.discrepancy import MIN_STEPS, Discrepancy, discrepancy_at
from hnsim.analysis.skill import SERIES, last_known
from hnsim.experiment.national import every_authority_series


def discrepancy_known_at(sen2_dir: str | Path, origin: int, min_steps: int = MIN_STEPS) -> Discrepancy:
    """The steps of every scored series from the SEN2 files in ``sen2_dir``, using only the years
    published at ``origin`` (censuses to it, activity to the year before), over every authority
    with its own rows in the files' latest census."""
    table = every_authority_series(sen2_dir)
    return discrepancy_at(table, {s: last_known(s, origin) for s in SERIES}, list(SERIES), min_steps=min_steps)
