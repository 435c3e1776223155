"""Goal-seek: the level of one parameter at which an outcome meets a target with stated confidence.

At each level tried, the same replications 0..R-1 run with the same root seed (common random
numbers), and the one-sided Student-t bound of the outcome's mean is compared with the target: for
``at_least`` the lower bound must reach it, for ``at_most`` the upper bound must stay under it.
Bisection then narrows the bracket between a level that meets the target and one that does not.
Bisection needs only the sign at each level, which suits a simulated bound that moves in small
steps (whole children, whole places) where a secant or Brent step could stall.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from hnsim.analysis.intervals import mean_interval, one_sided_bound
from hnsim.config import ConfigError, apply_overrides, validate
from hnsim.experiment.outcomes import check_outcomes
from hnsim.experiment.runner import run_tasks
from hnsim.experiment.sweep_file import lookup


#: Which way a target must be met: the outcome at least, or at most, the target.
DIRECTIONS = ("at_least", "at_most")


@dataclass(frozen=True)
class SeekProblem:
    """What to search, and the target to meet."""

    path: str
    low: float
    high: float
    metric: str
    year: str
    target: float
    direction: str = "at_least"  # one of DIRECTIONS
    confidence: float = 0.95
    integer: bool = False
    tolerance: float | None = None

    @property
    def side(self) -> str:
        """Which one-sided bound is compared with the target."""
        return "lower" if self.direction == "at_least" else "upper"

    def step(self) -> float:
        """Stop when the bracket is narrower than this."""
        if self.integer:
            return max(1.0, self.tolerance or 1.0)
        return self.tolerance or (self.high - self.low) / 100

    def level(self, x: float) -> float | int:
        return int(round(x)) if self.integer else float(x)

    def check(self, config_data: dict[str, Any]) -> None:
        """Raise ConfigError if the path, the end levels or the outcome do not fit the config."""
        try:
            lookup(config_data, self.path)
        except KeyError as missing:
            raise ConfigError([f"--parameter: '{self.path}' is not in the config (no key {missing})"]) from None
        problems = []
        for option, x in (("--low", self.low), ("--high", self.high)):
            try:
                validate(apply_overrides(config_data, {self.path: self.level(x)}), "")
            except ConfigError as exc:
                problems += [f"{option} {x:g}: {line.split(': ', 1)[-1]}" for line in exc.problems]
        problems += check_outcomes(config_data, [("--metric", self.metric, None), ("--year", None, self.year)], "seek")
        if problems:
            raise ConfigError(problems)


@dataclass
class SeekResult:
    """The level found (None if the target is met nowhere or everywhere in the range), every
    evaluation made, a summary for seek.json and a sentence for the terminal."""

    status: str  # found | met_throughout | not_met
    level: float | int | None
    evaluations: pd.DataFrame
    summary: dict[str, Any]
    message: str
    out_dir: Path | None = None  # where seek.json and seek_evaluations.csv were written, if anywhere


def evaluate(config_data: dict[str, Any], problem: SeekProblem, level: float | int, replications: int, seed: int,
             executor: Executor | None = None) -> dict[str, Any]:
    """Run replications 0..R-1 at one level and compare the confidence bound with the target."""
    config = validate(apply_overrides(config_data, {problem.path: level}), f"{problem.path} = {level}")
    tasks = [("seek", config, rep) for rep in range(replications)]
    results = run_tasks(tasks, seed, executor=executor) if executor is not None else run_tasks(tasks, seed)
    values = []
    for result in results:
        table = result.table
        chosen = table[(table["metric"] == problem.metric) & (table["financial_year"] == problem.year)]["value"]
        values.append(float(chosen.iloc[0]) if len(chosen) else math.nan)
    mean, sd, low, high = mean_interval(values)
    bound = one_sided_bound(values, problem.confidence, problem.side)
    meets = bound >= problem.target if problem.direction == "at_least" else bound <= problem.target
    return {"level": level, "mean": mean, "sd": sd, "ci95_low": low, "ci95_high": high, "bound_side": problem.side,
            "bound": bound, "target": problem.target, "meets": bool(meets), "n": int(sum(not math.isnan(v) for v in values))}


def seek(config_data: dict[str, Any], problem: SeekProblem, replications: int, seed: int, executor: Executor | None = None,
         on_evaluation: Callable[[dict[str, Any]], None] | None = None, max_evaluations: int = 60) -> SeekResult:
    """Bisect between ``problem.low`` and ``problem.high`` for the level nearest the boundary that
    still meets the target. Assumes the bound crosses the target once inside the range."""
    evaluations: list[dict[str, Any]] = []

    def at(x: float) -> dict[str, Any]:
        level = problem.level(x)
        for done in evaluations:  # integer levels can repeat near the end of the search
            if done["level"] == level:
                return done
        result = evaluate(config_data, problem, level, replications, seed, executor)
        evaluations.append(result)
        if on_evaluation:
            on_evaluation(result)
        return result

    low, high = at(problem.low), at(problem.high)
    if low["meets"] and high["meets"]:
        status, level = "met_throughout", None
        message = f"the target is met at both ends ({low['level']} and {high['level']}): the boundary lies outside the range"
    elif not low["meets"] and not high["meets"]:
        status, level = "not_met", None
        message = f"the target is not met at either end ({low['level']} or {high['level']}): widen the range or add replications"
    else:
        good, bad = (low, high) if low["meets"] else (high, low)
        while abs(good["level"] - bad["level"]) > problem.step() and len(evaluations) < max_evaluations:
            middle = (good["level"] + bad["level"]) / 2
            if problem.integer:
                middle = math.floor(middle) if good["level"] < bad["level"] else math.ceil(middle)
                if middle in (good["level"], bad["level"]):
                    break
            trial = at(middle)
            good, bad = (trial, bad) if trial["meets"] else (good, trial)
        status, level = "found", good["level"]
        word = "at least" if problem.direction == "at_least" else "at most"
        message = (f"{problem.path} = {level}: {problem.metric} in {problem.year} is {word} {problem.target:,.6g} with "
                   f"{problem.confidence:.0%} confidence ({good['bound_side']} bound {good['bound']:,.6g}, mean {good['mean']:,.6g}); "
                   f"{bad['level']} does not meet it")
    table = pd.DataFrame(evaluations)
    table.insert(0, "evaluation", range(1, len(table) + 1))
    summary = {"status": status, "level": level, "message": message, **asdict(problem), "replications": replications,
               "seed": seed, "evaluations": len(table)}
    return SeekResult(status, level, table, summary, message)
