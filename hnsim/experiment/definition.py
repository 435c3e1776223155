"""Experiment files (``experiments/*.yaml``): a question of the strategy and the run that answers it.

An experiment names its kind (``run``, ``compare``, ``sweep`` or ``seek``), the files it uses
(paths relative to the experiment file), its replications and output directory, and whether to
write the report. ``hnsim experiment FILE`` runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hnsim.config.load import ConfigError, read_yaml, validation_problems
from hnsim.experiment.seek import DIRECTIONS

#: What an experiment runs, and the keys each kind needs.
KINDS = {"run": ("base",), "compare": ("base",), "sweep": ("sweep",), "seek": ("base", "seek")}


class Seek(BaseModel):
    """The goal-seek of a ``seek`` experiment (see ``hnsim seek``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    parameter: str
    low: float
    high: float
    metric: str
    year: str
    target: float
    direction: Literal[DIRECTIONS] = "at_least"
    confidence: float = Field(0.95, ge=0.5, lt=1.0)
    integer: bool = False


class Experiment(BaseModel):
    """One runnable experiment."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    question: str = Field(min_length=10, description="the question of the strategy it answers, in plain words")
    kind: Literal[tuple(KINDS)]
    base: str | None = Field(None, description="base config (run, compare, seek)")
    scenarios: list[str] = Field(default_factory=list, description="scenario overlays (compare), or overlays applied to the base (run, seek)")
    sweep: str | None = Field(None, description="sweep file (sweep)")
    seek: Seek | None = None
    replications: int | None = Field(None, ge=1)
    out: str = Field(description="output directory")
    report: bool = Field(True, description="write the figures, tables and appendix afterwards (run, compare, sweep)")
    year: str | None = Field(None, pattern=r"^\d{4}-\d{2}$", description="first of the report's five key years, like 2020-21 (default: the year the run finished in)")


def load_experiment(path: str | Path) -> tuple[Experiment, Path]:
    """Validate an experiment file; returns it and its folder (for relative paths)."""
    path = Path(path)
    data = read_yaml(path)
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, str(path))) from None
    needs = KINDS[experiment.kind]
    missing = [key for key in needs if getattr(experiment, key) is None]
    if experiment.kind == "compare" and not experiment.scenarios:
        missing.append("scenarios")
    if missing:
        raise ConfigError([f"{path}: a {experiment.kind} experiment needs {', '.join(missing)}"])
    folder = path.parent
    for name in [experiment.base, experiment.sweep, *experiment.scenarios]:
        if name is not None and not (folder / name).exists():
            raise ConfigError([f"{path}: {name}: file not found (paths are relative to the experiment file)"])
    return experiment, folder
