"""The Python API for notebooks and scripts: load a config, run it, read results.

>>> from hnsim import api
>>> config = api.load_config("configs/gloucestershire.yaml")
>>> result = api.run(config, replications=3, workers=1)      # doctest: +SKIP
>>> result.summary.query("metric == 'ehcp_total'")          # doctest: +SKIP
"""

from __future__ import annotations

from hnsim.analysis.summary import summarise, wide
from hnsim.config import ConfigError, load_config
from hnsim.experiment.run import RunResult, read_run, run
from hnsim.model import PathwayModel, annual_metrics, compile_parameters, simulate

__all__ = [
    "ConfigError",
    "PathwayModel",
    "RunResult",
    "annual_metrics",
    "compile_parameters",
    "load_config",
    "read_run",
    "run",
    "simulate",
    "summarise",
    "wide",
]
