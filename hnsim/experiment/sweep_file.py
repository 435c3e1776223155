"""Sweep files: which parameters to vary (levers and uncertainties), the design, replications, seed
and outcomes; validated before anything runs, with every problem named by file and key."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hnsim.config.paths import normalise
from hnsim.config.ensemble import attach_members, drop_member_paths, leaf_paths
from hnsim.config.load import ConfigError, apply_overrides, deep_merge, read_yaml, validate, validation_problems
from hnsim.experiment.outcomes import Outcome, check_outcomes

DESIGNS = ("grid", "one_at_a_time", "latin_hypercube", "sobol", "morris")
RANGE_DESIGNS = ("latin_hypercube", "sobol", "morris")  # sample a continuous range: need low and high
FY_PATTERN = r"^\d{4}-\d{2}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(_Strict):
    """A config value to vary: a list of values, or a range from low to high."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="short name used as a column of the design table")
    path: str = Field(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+|\[\d+\])*$", description="config path (docs/config.md, Paths), e.g. assessment.team_capacity.value or capacity.expansions[0].places")
    values: list[int | float | bool | str] | None = Field(None, min_length=1, description="the levels to run (grid, one-at-a-time)")
    low: float | None = Field(None, description="lowest level")
    high: float | None = Field(None, description="highest level")
    steps: int | None = Field(None, ge=2, description="grid only: evenly spaced levels from low to high (default 2)")
    integer: bool = Field(False, description="round sampled levels to whole numbers (places, caseworkers)")

    @model_validator(mode="after")
    def _levels(self) -> "Parameter":
        has_range = self.low is not None or self.high is not None
        if self.values is not None and has_range:
            raise ValueError("give either values or low and high, not both")
        if self.values is None and (self.low is None or self.high is None):
            raise ValueError("give values, or both low and high")
        if has_range and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.steps is not None and self.values is not None:
            raise ValueError("steps goes with low and high, not with values")
        return self


class Parameters(_Strict):
    """Parameters in two groups: levers the council controls, uncertainties it does not."""

    levers: list[Parameter] = Field(default_factory=list)
    uncertainties: list[Parameter] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> "Parameters":
        every = self.levers + self.uncertainties
        if not every:
            raise ValueError("give at least one parameter under levers or uncertainties")
        for kind in ("name", "path"):
            seen = [getattr(p, kind) for p in every]
            doubled = sorted({v for v in seen if seen.count(v) > 1})
            if doubled:
                raise ValueError(f"each parameter {kind} must be used once; repeated: {', '.join(doubled)}")
        return self


class Design(_Strict):
    """How points are chosen from the parameters."""

    kind: Literal[DESIGNS] = Field(description="the design")
    n: int | None = Field(None, ge=1, description="latin_hypercube: points; sobol: base sample (a power of 2); morris: trajectories")
    seed: int = Field(0, ge=0, description="seed of the design's own sampler (not the simulation's)")
    levels: int = Field(4, ge=2, description="morris only: grid levels")
    second_order: bool = Field(False, description="sobol only: also estimate second-order indices")

    @model_validator(mode="after")
    def _n(self) -> "Design":
        if self.kind in RANGE_DESIGNS and self.n is None:
            raise ValueError(f"a {self.kind} design needs n")
        if self.kind not in RANGE_DESIGNS and self.n is not None:
            raise ValueError(f"n is not used by a {self.kind} design")
        if self.kind == "sobol" and self.n & (self.n - 1):
            raise ValueError(f"sobol n must be a power of 2 (got {self.n})")
        return self


class Outcomes(_Strict):
    """Metrics and financial years of interest: every metric in every year."""

    metrics: list[str] = Field(min_length=1)
    years: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _years(self) -> "Outcomes":
        bad = [y for y in self.years if not re.match(FY_PATTERN, y)]
        if bad:
            raise ValueError(f"financial years are written like '2025-26'; got {', '.join(bad)}")
        return self


class SweepSchema(_Strict):
    """A sweep file."""

    name: str | None = Field(None, description="name of the sweep (default: the file name)")
    base: str = Field(description="base config, relative to the sweep file")
    overlays: list[str] = Field(default_factory=list, description="scenario overlays applied to the base, in order")
    parameters: Parameters
    design: Design
    replications: int = Field(ge=1, description="replications per point, numbered 0..R-1 at every point")
    seed: int | None = Field(None, ge=0, description="root seed shared by every point (default: the base config's)")
    outcomes: Outcomes

    @model_validator(mode="after")
    def _design_fits(self) -> "SweepSchema":
        every = self.parameters.levers + self.parameters.uncertainties
        if self.design.kind in RANGE_DESIGNS:
            listed = [p.name for p in every if p.values is not None]
            if listed:
                raise ValueError(f"a {self.design.kind} design samples ranges: give low and high (not values) for {', '.join(listed)}")
        if self.design.kind != "grid" and any(p.steps is not None for p in every):
            raise ValueError("steps is only used by a grid design")
        return self


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the schema, the resolved base config (plain data) and where it came from."""

    path: Path
    spec: SweepSchema
    base_data: dict[str, Any]
    seed: int

    @property
    def name(self) -> str:
        return self.spec.name or self.path.stem

    @property
    def parameters(self) -> list[Parameter]:
        """Levers first, then uncertainties, in file order."""
        return list(self.spec.parameters.levers) + list(self.spec.parameters.uncertainties)

    def group(self, name: str) -> str:
        """``lever`` or ``uncertainty``."""
        return "lever" if any(p.name == name for p in self.spec.parameters.levers) else "uncertainty"

    @property
    def outcomes(self) -> list[Outcome]:
        return [Outcome(m, y) for m in self.spec.outcomes.metrics for y in self.spec.outcomes.years]

    def base_value(self, parameter: Parameter) -> Any:
        """The parameter's value in the base config."""
        return lookup(self.base_data, parameter.path)

    def point_data(self, values: dict[str, Any]) -> dict[str, Any]:
        """Plain config data for one point: the base with each parameter set."""
        return apply_overrides(self.base_data, {p.path: values[p.name] for p in self.parameters if p.name in values})

    def design_hash(self, design_rows: list[dict[str, Any]]) -> str:
        """Hash of everything that decides a point's results: base config, seed, replications, points.

        Outcomes are left out: they are read from the stored points, so changing them needs no rerun.
        """
        payload = {
            "base": self.base_data,
            "seed": self.seed,
            "replications": self.spec.replications,
            "parameters": [(p.name, p.path) for p in self.parameters],
            "points": design_rows,
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def lookup(data: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path in plain config data; KeyError naming the missing key."""
    node: Any = data
    for key in normalise(dotted).split("."):
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            raise KeyError(key)
    return node


def load_sweep(path: str | Path, check_metrics: bool = True) -> Sweep:
    """Read and validate a sweep file and its base config, or raise :class:`ConfigError`.

    Checks: the schema; the base config and overlays; that each path exists in the base; that the
    base config stays valid at each parameter's levels one at a time (combinations are checked as
    the points run); outcome years inside the simulation; outcome metrics known to the model.
    """
    path = Path(path)
    raw = read_yaml(path)
    try:
        spec = SweepSchema.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, str(path))) from None
    folder = path.parent
    base_path = folder / spec.base
    data = attach_members(read_yaml(base_path), base_path)
    for overlay in spec.overlays:
        body = read_yaml(folder / overlay)
        data = drop_member_paths(deep_merge(data, body), leaf_paths(body))
    source = " + ".join([str(base_path)] + [str(folder / o) for o in spec.overlays])
    base_config = validate(data, source)
    seed = base_config.simulation.seed if spec.seed is None else spec.seed
    sweep = Sweep(path, spec, data, seed)
    problems = []
    for group in ("levers", "uncertainties"):
        for i, parameter in enumerate(getattr(spec.parameters, group)):
            where = f"{path}: parameters.{group}[{i}]"
            try:
                lookup(data, parameter.path)
            except KeyError as missing:
                problems.append(f"{where}.path: '{parameter.path}' is not in the base config (no key {missing})")
                continue
            levels = parameter.values if parameter.values is not None else [parameter.low, parameter.high]
            for level in levels:
                level = round(level) if parameter.integer and isinstance(level, float) else level
                try:
                    validate(apply_overrides(data, {parameter.path: level}), "")
                except ConfigError as exc:
                    reasons = "; ".join(line.split(": ", 1)[-1] for line in exc.problems)
                    problems.append(f"{where}: level {level!r} makes the config invalid: {reasons}")
    if problems:
        raise ConfigError(problems)
    wanted = [(f"outcomes.years[{i}]", None, y) for i, y in enumerate(spec.outcomes.years)]
    if check_metrics:
        wanted += [(f"outcomes.metrics[{i}]", m, None) for i, m in enumerate(spec.outcomes.metrics)]
    problems = check_outcomes(copy.deepcopy(data), wanted, str(path))
    if problems:
        raise ConfigError(problems)
    return sweep
