"""Pooled trend priors read from a directory of SEN2 files, fitted once per origin for every authority.

:func:`growth_prior` loads one series (:func:`hnsim.data.trend_tables.trend_table`), fits the pooled
model once (:func:`hnsim.analysis.trends.fit_pooled`) and gives any authority's
:class:`~hnsim.analysis.trends.GrowthPrior`. The fit is kept, per directory (and version of its
files), series, window and method, for the life of the process: a national run asks for 150
authorities at one origin and the fit is the same for all of them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from hnsim.analysis.trends import GrowthPrior, PooledFit, fit_pooled
from hnsim.data import sen2
from hnsim.data.trend_tables import SERIES, trend_table


def _version(sen2_dir: str | Path, series: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    files = [SERIES[series].file] + ([SERIES[SERIES[series].share_of].file] if SERIES[series].share_of else [])
    paths = [Path(sen2_dir) / sen2.FILES[key].filename for key in files]
    return str(Path(sen2_dir).resolve()), tuple((p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else (0, 0) for p in paths)


@lru_cache(maxsize=32)
def _fit(directory: str, _version: tuple, series: str, first_year: int | None, last_year: int, method: str) -> PooledFit:
    return fit_pooled(trend_table(directory, series), series, first_year, last_year, method=method)


def pooled_fit(sen2_dir: str | Path, series: str, last_year: int, first_year: int | None = None, method: str = "auto") -> PooledFit:
    """The pooled fit of ``series`` over every authority of ``sen2_dir``, years ``first_year``
    (None: the first in the files) to ``last_year``; fitted once per process for each set of arguments."""
    if series not in SERIES:
        raise KeyError(f"unknown trend series '{series}'; allowed: {', '.join(SERIES)}")
    directory, version = _version(sen2_dir, series)
    return _fit(directory, version, series, first_year, int(last_year), method)


def growth_prior(sen2_dir: str | Path, authority: str, series: str, last_year: int, first_year: int | None = None,
                 method: str = "auto") -> GrowthPrior:
    """One authority's pooled growth prior of ``series`` (a key of
    :data:`hnsim.data.trend_tables.SERIES`) from the years up to ``last_year``.

    ``authority`` is a name or code as ``hnsim observed --la`` takes it. At a forecast origin ``Y``
    (January ``Y``), ``last_year`` is ``Y - 1`` for calendar-year series (requests, new plans) and
    ``Y`` for January caseloads (:func:`hnsim.data.vantage.last_year_seen`).
    """
    auth = sen2.find_authority(sen2_dir, authority)
    if auth.level != sen2.LEVEL_LA:
        raise ValueError(f"'{authority}' is {auth.level.lower()} ({auth.name}); a growth prior is for a local authority")
    return pooled_fit(sen2_dir, series, last_year, first_year, method).prior(auth.old_la_code)


def request_growth_prior(sen2_dir: str | Path, authority: str, last_year: int) -> GrowthPrior:
    """The pooled prior of an authority's growth per year in requests for EHC needs assessment
    (``sen2_mi.csv`` InreqEHC, calendar years from the first published, 2016, to ``last_year``): the
    prior mean and sd of ``sen_support.request_trend.growth_per_year`` when calibrating that council."""
    return growth_prior(sen2_dir, authority, "requests", last_year)
