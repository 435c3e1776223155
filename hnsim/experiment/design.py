"""Designs: the points of a sweep, from its parameters (samplers never enter the model).

Every design is a pure function of the sweep file (the design has its own seed), so a resumed sweep
rebuilds exactly the same points.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from hnsim.analysis.sensitivity import require_salib
from hnsim.experiment.sweep_file import Parameter, Sweep


@dataclass(frozen=True)
class DesignTable:
    """The points of a sweep.

    ``points``: one row per point: ``point`` (0, 1, ...), one column per parameter with the level
    run, and for one-at-a-time designs ``varied`` (the parameter moved, or ``base``).
    ``sample``: for Sobol and Morris designs, SALib's sample before rounding (the analysis needs it).
    ``problem``: SALib's problem definition (names and bounds), or None.
    """

    points: pd.DataFrame
    sample: np.ndarray | None = None
    problem: dict[str, Any] | None = None

    def rows(self) -> list[dict[str, Any]]:
        """Points as plain dicts (point id, parameter levels) for hashing and config overrides."""
        return [{k: _plain(v) for k, v in row.items()} for row in self.points.to_dict("records")]


def _plain(value: Any) -> Any:
    """numpy scalars as Python values, so that YAML, JSON and pydantic see ints and floats."""
    return value.item() if isinstance(value, np.generic) else value


def _level(parameter: Parameter, value: Any) -> Any:
    if parameter.integer and isinstance(value, (float, np.floating)):
        return int(round(float(value)))
    return _plain(value)


def _levels(parameter: Parameter) -> list[Any]:
    """The levels of a parameter for grid and one-at-a-time designs."""
    if parameter.values is not None:
        return [_level(parameter, v) for v in parameter.values]
    steps = parameter.steps or 2
    return [_level(parameter, float(v)) for v in np.linspace(parameter.low, parameter.high, steps)]


def salib_problem(sweep: Sweep) -> dict[str, Any]:
    """SALib's description of the sampled ranges."""
    params = sweep.parameters
    return {"num_vars": len(params), "names": [p.name for p in params], "bounds": [[p.low, p.high] for p in params]}


def _from_matrix(sweep: Sweep, matrix: np.ndarray) -> pd.DataFrame:
    params = sweep.parameters
    columns = {p.name: [_level(p, x) for x in matrix[:, j]] for j, p in enumerate(params)}
    return pd.DataFrame({"point": np.arange(len(matrix)), **columns})


def build_design(sweep: Sweep) -> DesignTable:
    """The points of a sweep's design."""
    design = sweep.spec.design
    params = sweep.parameters
    names = [p.name for p in params]
    if design.kind == "grid":
        combos = list(itertools.product(*[_levels(p) for p in params]))
        frame = pd.DataFrame(combos, columns=names)
        frame.insert(0, "point", np.arange(len(frame)))
        return DesignTable(frame)
    if design.kind == "one_at_a_time":
        base = {p.name: _plain(sweep.base_value(p)) for p in params}
        rows = [{"varied": "base", **base}]
        for p in params:
            for level in _levels(p):
                rows.append({"varied": p.name, **base, p.name: level})
        frame = pd.DataFrame(rows, columns=["varied", *names])
        frame.insert(0, "point", np.arange(len(frame)))
        return DesignTable(frame)
    if design.kind == "latin_hypercube":
        unit = qmc.LatinHypercube(d=len(params), rng=np.random.default_rng(design.seed)).random(design.n)
        matrix = qmc.scale(unit, [p.low for p in params], [p.high for p in params])
        return DesignTable(_from_matrix(sweep, matrix))
    problem = salib_problem(sweep)
    samplers = require_salib("sample")
    if design.kind == "sobol":
        sample = samplers.sobol.sample(problem, design.n, calc_second_order=design.second_order, seed=design.seed)
    else:
        sample = samplers.morris.sample(problem, design.n, num_levels=design.levels, seed=design.seed)
    return DesignTable(_from_matrix(sweep, sample), sample, problem)
