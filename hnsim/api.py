"""The Python API for notebooks and scripts: load a config, run it, read results.

>>> from hnsim import api
>>> config = api.load_config("configs/gloucestershire.yaml")
>>> result = api.run(config, replications=3, workers=1)      # doctest: +SKIP
>>> result.summary.query("metric == 'ehcp_total'")          # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hnsim.analysis.summary import summarise, wide
from hnsim.config import ConfigError, load_config
from hnsim.experiment.run import RunResult, read_run, run
from hnsim.model import PathwayModel, annual_metrics, compile_parameters, simulate

if TYPE_CHECKING:  # the forecast-skill names below, for type checkers and linters
    from hnsim.experiment.rolling import RollingDesign, run_rolling  # noqa: F401
    from hnsim.experiment.skill import QUICK_SAMPLE, SkillDesign, run_skill, skill_authorities  # noqa: F401
    from hnsim.experiment.skill_run import SkillResult  # noqa: F401
    from hnsim.experiment.skill_task import Calibrate, Calibration, SkillTask, fit_calibration, project, run_task  # noqa: F401

#: Forecast-skill names, imported on first use (the skill modules load the calibration's and the
#: scoring's dependencies, which plain runs do not need).
_SKILL = {
    "QUICK_SAMPLE": "hnsim.experiment.skill", "SkillDesign": "hnsim.experiment.skill", "run_skill": "hnsim.experiment.skill",
    "skill_authorities": "hnsim.experiment.skill", "RollingDesign": "hnsim.experiment.rolling", "run_rolling": "hnsim.experiment.rolling",
    "SkillResult": "hnsim.experiment.skill_run", "Calibrate": "hnsim.experiment.skill_task", "Calibration": "hnsim.experiment.skill_task",
    "SkillTask": "hnsim.experiment.skill_task", "fit_calibration": "hnsim.experiment.skill_task", "project": "hnsim.experiment.skill_task",
    "run_task": "hnsim.experiment.skill_task",
}


def __getattr__(name: str):
    if name in _SKILL:
        import importlib

        return getattr(importlib.import_module(_SKILL[name]), name)
    raise AttributeError(f"module 'hnsim.api' has no attribute {name!r}")


__all__ = [
    "QUICK_SAMPLE",
    "Calibrate",
    "Calibration",
    "RollingDesign",
    "SkillDesign",
    "SkillResult",
    "SkillTask",
    "backtest_rolling",
    "fit_calibration",
    "project",
    "run_task",
    "skill",
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


def skill(
    design,
    out_dir: str | Path,
    authorities: list[str] | None = None,
    quick: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    local_dask: bool = False,
    calibrate=None,
    progress: bool = False,
    figures: bool = True,
):
    """Forecast skill of the authorities (names or codes; the quick sample with ``quick``; all by
    default) at ``design.origins`` (a :class:`SkillDesign`), written to ``out_dir`` (resumable),
    with its figures; returns a :class:`SkillResult`.

    ``calibrate(task) -> Calibration`` is each task's calibration step (default
    :func:`fit_calibration`, the national run's fit): give another (importable)
    function to judge another calibration method with the same harness, e.g.::

        def my_calibration(task: SkillTask) -> Calibration:
            configs = ...  # calibrated configs from task.config and task.observed (nothing after task.origin)
            return Calibration(configs, replications=5, info={"method": "mine"})

        api.skill(api.SkillDesign("../shared/data/sen2"), "results/skill-mine", quick=True, calibrate=my_calibration)
    """
    from hnsim.experiment.executors import open_pool
    from hnsim.experiment.runner import default_workers
    from hnsim.experiment.skill import run_skill, skill_authorities
    from hnsim.experiment.skill_task import fit_calibration
    from hnsim.report.skill import write_skill_figures

    chosen = skill_authorities(Path(design.sen2_dir), authorities, quick)
    with open_pool(workers or default_workers(), scheduler, local_dask) as pool:
        result = run_skill(design, chosen, out_dir, pool, progress, calibrate or fit_calibration)
    if figures:
        write_skill_figures(out_dir)
    return result


def backtest_rolling(design, out_dir: str | Path, workers: int | None = None, calibrate=None, progress: bool = False, figures: bool = True):
    """Rolling-origin backtest of one config (a :class:`RollingDesign`) against the observed series
    in ``design.data_dir``, scored as :func:`skill` scores an authority; written to ``out_dir``
    (resumable); returns a :class:`SkillResult`."""
    from hnsim.experiment.executors import open_pool
    from hnsim.experiment.rolling import run_rolling
    from hnsim.experiment.runner import default_workers
    from hnsim.experiment.skill_task import fit_calibration
    from hnsim.report.skill import write_skill_figures

    with open_pool(workers or default_workers()) as pool:
        result = run_rolling(design, out_dir, pool, progress, calibrate or fit_calibration)
    if figures:
        write_skill_figures(out_dir)
    return result
