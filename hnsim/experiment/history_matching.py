"""Posterior ensembles by history matching with an emulator.

Why history matching rather than ABC-SMC: a replication of the fit period costs a fraction of a
second, but ABC-SMC needs tens of thousands of them for a dozen parameters, and its acceptance
rate collapses with forty figures to match. History matching simulates a few dozen designed
parameter sets per wave, fits a cheap emulator of every figure (:mod:`hnsim.analysis.emulator`),
rules out the parameter sets whose emulated figures are implausibly far from the published ones
(given emulator, observation and model-discrepancy variance), and designs the next wave inside
what remains. The members are then drawn from the last wave's not-implausible candidates by
importance weights (prior times a tempered Gaussian likelihood on the emulated figures) and
systematic resampling.

Each wave's simulations are saved as they finish (``cache_dir``), so a calibration killed
half-way reruns only what it had not finished: designs are drawn from the root seed, so a rerun
asks for the same points.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy.stats import qmc, truncnorm

from hnsim.analysis.calibration_targets import Target, simulated_values
from hnsim.analysis.emulator import fit_emulator, implausibility, second_largest, systematic_resample, tempered_weights
from hnsim.config.calibration import FreeParameter, UncertainInput
from hnsim.experiment.calibration import Evaluator, from_unit, set_parameters, to_unit
from hnsim.experiment.sweep_file import lookup
from hnsim.results import store

THRESHOLD = 3.0
PROPOSALS = 2**14
#: Model discrepancy as a share of each figure, added to its tolerance (assumption: the model's
#: structure misses about 3% of any published count even at the best parameters).
DISCREPANCY = 0.03
CHUNK = 8  # points simulated and saved together


@dataclass
class WaveRecord:
    """What one wave did."""

    wave: int
    design_points: int
    not_implausible_share: float
    emulator_sd: float  # median residual sd of the emulators, in tolerances


@dataclass
class HistoryMatch:
    """The members and how they were found."""

    members: pd.DataFrame  # member, then config paths
    points: pd.DataFrame  # every simulated design point: wave, parameter values, objective
    waves: list[WaveRecord]
    temperature: float
    ess: float
    centre: list[float]  # posterior median of each free parameter
    effective_parameters: float
    data_points: int
    notes: list[str] = field(default_factory=list)
    simulated: int = 0  # design points simulated by this call (the rest read back from the cache)


def emulated(targets: list[Target]) -> list[Target]:
    """The targets history matching emulates: the fitted, non-money figures (money is fitted
    afterwards, linearly, from the members' simulated spend)."""
    return [t for t in targets if t.how == "search" and t.weight > 0 and not t.target.startswith("spend")]


def prior_values(free: list[FreeParameter], q: np.ndarray) -> np.ndarray:
    """Parameter values at prior quantiles ``q`` (n x d): uniform over each range, or a normal
    prior on the search scale truncated to the range."""
    out = np.empty_like(q, dtype=float)
    for j, p in enumerate(free):
        prior = p.prior()
        if prior is None:
            out[:, j] = [from_unit(p, u) for u in q[:, j]]
            continue
        lo, hi = (math.log(p.low), math.log(p.high)) if p.log_scale else (p.low, p.high)
        mean, sd = prior
        a, b = (lo - mean) / sd, (hi - mean) / sd
        s = truncnorm.ppf(np.clip(q[:, j], 1e-9, 1 - 1e-9), a, b, loc=mean, scale=sd)
        out[:, j] = np.exp(s) if p.log_scale else s
    return out


def valid_rows(free: list[FreeParameter], values: np.ndarray) -> np.ndarray:
    """Which parameter sets keep every share row a row of shares (the free entries of a row sum
    to less than 1, leaving room for the others)."""
    ok = np.ones(len(values), dtype=bool)
    rows: dict[str, list[int]] = {}
    for j, p in enumerate(free):
        if p.share:
            rows.setdefault(p.path.rsplit(".", 1)[0], []).append(j)
    for columns in rows.values():
        if len(columns) > 1:
            ok &= values[:, columns].sum(axis=1) < 0.999
    return ok


def unit_positions(free: list[FreeParameter], values: np.ndarray) -> np.ndarray:
    """Positions of parameter values in their ranges (the emulator's inputs)."""
    return np.array([[to_unit(p, v) for p, v in zip(free, row)] for row in values])


def _fingerprint(data: dict[str, Any], targets: list[Target], replications: int, seed: int, design: int, waves: int) -> str:
    blob = json.dumps([data, [t.__dict__ for t in targets], replications, seed, design, waves], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class PointCache:
    """Simulated design points saved as they finish, keyed by wave and chunk."""

    def __init__(self, folder: Path | None, fingerprint: str):
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            stamp = folder / "fingerprint.txt"
            if not stamp.exists() or stamp.read_text().strip() != fingerprint:
                for old in folder.glob("wave*.npy"):
                    old.unlink()
                store.write_text(fingerprint, stamp)

    def get(self, wave: int, chunk: int) -> np.ndarray | None:
        if self.folder is None:
            return None
        path = self.folder / f"wave{wave}-chunk{chunk}.npy"
        return np.load(path) if path.exists() else None

    def put(self, wave: int, chunk: int, values: np.ndarray) -> None:
        if self.folder is None:
            return
        path = self.folder / f"wave{wave}-chunk{chunk}.npy"
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, values)
        tmp.replace(path)


def simulate_points(evaluator: Evaluator, free: list[FreeParameter], values: np.ndarray, targets: list[Target], cache: PointCache, wave: int,
                    say: Callable[[str], None]) -> np.ndarray:
    """Mean simulated value of every target at every point (n x k), chunk by chunk, cached."""
    out = np.full((len(values), len(targets)), np.nan)
    for chunk, start in enumerate(range(0, len(values), CHUNK)):
        rows = values[start:start + CHUNK]
        got = cache.get(wave, chunk)
        if got is None or got.shape != (len(rows), len(targets)):
            datas = [set_parameters(evaluator.data, free, list(row)) for row in rows]
            frames = evaluator.annual(datas)
            got = np.vstack([np.nanmean(simulated_values(frame, targets), axis=1) for frame in frames])
            cache.put(wave, chunk, got)
            evaluator.evaluations += len(rows)
        out[start:start + len(rows)] = got
        say(f"wave {wave}: {min(start + CHUNK, len(values))}/{len(values)} design points simulated")
    return out


def member_columns(data: dict[str, Any], free: list[FreeParameter], values: list[float]) -> dict[str, float]:
    """The config paths one member sets: each free parameter, and every entry of a share row it
    moves (so a member's rows still sum to 1)."""
    out_data = set_parameters(data, free, values)
    columns: dict[str, float] = {}
    for p in free:
        if p.share:
            parent = p.path.rsplit(".", 1)[0]
            for key, share in lookup(out_data, parent).items():
                columns[f"{parent}.{key}"] = float(share)
        else:
            columns[p.path] = float(lookup(out_data, p.path))
    return columns


def latin_hypercube_inputs(uncertain: list[UncertainInput], members: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Uncertain inputs across the members: a Latin hypercube over each range."""
    out = {}
    for u in uncertain:
        strata = (rng.permutation(members) + rng.random(members)) / members
        out[u.path] = u.low + strata * (u.high - u.low)
    return out


def history_match(evaluator: Evaluator, free: list[FreeParameter], uncertain: list[UncertainInput], targets: list[Target], members: int,
                  design_points: int | None = None, waves: int = 3, cache_dir: Path | None = None,
                  progress: Callable[[str], None] | None = None) -> HistoryMatch:
    """History-match the free parameters to the targets and draw ``members`` parameter sets.

    ``evaluator`` simulates points (its replications per point, common random numbers); the
    designs and the resampling are drawn from its root seed, so the result is reproducible.
    """
    say = progress or (lambda line: None)
    matched = emulated(targets)
    if not matched:
        raise ValueError("no fitted figures to history-match")
    d = len(free)
    n_design = design_points or max(24, 4 * d)
    evaluations_before = evaluator.evaluations
    rng = np.random.default_rng([evaluator.seed, 4242])
    observed = np.array([t.observed for t in matched])
    observed_var = np.array([t.tolerance**2 + (DISCREPANCY * abs(t.observed) if not t.is_share else 0.0) ** 2 for t in matched])
    weights = np.array([t.weight for t in matched])
    cache = PointCache(cache_dir, _fingerprint(evaluator.data, matched, evaluator.replications, evaluator.seed, n_design, waves))
    sobol = qmc.Sobol(d=d, scramble=True, rng=np.random.default_rng([evaluator.seed, 7]))
    proposals_q = sobol.random(PROPOSALS)
    proposals = prior_values(free, proposals_q)
    valid = valid_rows(free, proposals)
    proposals_q, proposals = proposals_q[valid], proposals[valid]
    proposals_x = unit_positions(free, proposals)
    design_q = qmc.LatinHypercube(d=d, rng=np.random.default_rng([evaluator.seed, 11])).random(4 * n_design)
    design = prior_values(free, design_q)
    design = design[valid_rows(free, design)][:n_design]
    xs, ys, wave_of, records = [], [], [], []
    keep = np.ones(len(proposals), dtype=bool)
    mean = var = None
    for wave in range(1, waves + 1):
        y = simulate_points(evaluator, free, design, matched, cache, wave, say)
        xs.append(unit_positions(free, design))
        ys.append(y)
        wave_of += [wave] * len(design)
        emulator = fit_emulator(np.vstack(xs), np.vstack(ys))
        mean, var = emulator.predict(proposals_x)
        scores = second_largest(implausibility(mean, var, observed, observed_var))
        keep = scores <= THRESHOLD
        share = float(keep.mean())
        emulator_sd = float(np.median(np.sqrt(emulator.residual_var) / np.sqrt(observed_var)))
        records.append(WaveRecord(wave, len(design), share, emulator_sd))
        say(f"wave {wave}: {len(design)} points, {100 * share:.1f}% of {len(proposals):,} candidates not implausible (emulator sd {emulator_sd:.2f} tolerances)")
        if wave == waves:
            break
        pool = np.flatnonzero(keep)
        if len(pool) < n_design:  # too few left: the least implausible candidates
            pool = np.argsort(scores)[:max(n_design, 10 * n_design)]
        design = proposals[rng.choice(pool, size=n_design, replace=False)]
    notes = []
    assert mean is not None and var is not None
    candidates = np.flatnonzero(keep)
    if len(candidates) < members:
        scores = second_largest(implausibility(mean, var, observed, observed_var))
        candidates = np.argsort(scores)[:max(members * 5, 50)]
        notes.append(f"only {int(keep.sum())} candidates were not implausible at {THRESHOLD:g} sd; members drawn from the {len(candidates)} least implausible (the model misses some figures structurally)")
    z2 = (mean[candidates] - observed) ** 2 / (var[candidates] + observed_var)
    log_likelihood = -0.5 * (z2 * weights).sum(axis=1)
    w, temperature = tempered_weights(log_likelihood, min_ess=max(2.0 * members, 0.05 * len(candidates)))
    ess = float(1.0 / (w**2).sum())
    chosen = candidates[systematic_resample(w, members, rng)]
    chosen = rng.permutation(chosen)  # member order independent of candidate order
    member_values = proposals[chosen]
    rows = [member_columns(evaluator.data, free, list(v)) for v in member_values]
    table = pd.DataFrame(rows)
    for path, values in latin_hypercube_inputs(uncertain, members, rng).items():
        table[path] = values
    table.insert(0, "member", np.arange(members))
    centre = [float(f"{np.median(member_values[:, j]):.6g}") for j in range(d)]  # six significant figures, as a config is written
    # effective parameters: the share of each parameter's prior variance the data removed
    prior_var = proposals_q.var(axis=0)
    post_var = proposals_q[chosen].var(axis=0)
    effective = float(np.clip(1.0 - post_var / prior_var, 0.0, 1.0).sum())
    x_all = np.vstack(xs)
    y_all = np.vstack(ys)
    point_values = [[from_unit(p, u) for p, u in zip(free, row)] for row in x_all]
    points = pd.DataFrame(point_values, columns=[p.path for p in free])
    points.insert(0, "wave", wave_of)
    points["objective"] = np.nanmean(((y_all - observed) ** 2 / observed_var) * weights, axis=1)
    return HistoryMatch(table, points, records, temperature, ess, centre, effective, len(matched), notes, evaluator.evaluations - evaluations_before)

