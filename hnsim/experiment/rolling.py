"""The rolling-origin backtest of one config (``hnsim backtest CONFIG --data DIR --origins ...``).

For each origin ``Y`` the config is calibrated on the observed values known then (censuses up to
``Y``, calendar years and financial years ending up to ``Y - 1``: :func:`hnsim.data.vantage.observed_at`),
from the middle of every free parameter's range, with the config's own ``calibration:`` section;
projected to the last census in the data; and scored, with the naive forecasters fitted to the same
values, exactly as ``hnsim skill`` scores an authority (same tables, same figures).

What the config holds by financial year is cut at the origin too (:func:`config_known_at`): free
parameters of financial years that start in or after ``Y`` are dropped (those years keep the last
known year's level, as the model does for a year not listed), and inputs by year taken from later
publications (refusals to assess) carry the last known year's value forward. Values the config
fixes without freeing them stay as they are, even where they were chosen knowing the later years:
:func:`fixed_after` lists those whose source says they were calibrated.
"""

from __future__ import annotations

import copy
import re
import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from hnsim.analysis import naive as naive_module
from hnsim.analysis.calibration_targets import rules_settings
from hnsim.analysis.discrepancy import settings as discrepancy_settings
from hnsim.analysis.skill import SERIES, later_values, series_table
from hnsim.config import apply_overrides, validate
from hnsim.data import sen2
from hnsim.data.observed import load_observed
from hnsim.data.vantage import observed_at
from hnsim.errors import InputError
from hnsim.experiment.discrepancy import discrepancy_known_at
from hnsim.experiment.executors import Pool
from hnsim.experiment.national import FALLBACK_GROWTH
from hnsim.experiment.skill_run import SkillResult, TaskSpec, run_specs
from hnsim.experiment.skill_task import Calibrate, SkillTask, fit_calibration, slug
from hnsim.experiment.sweep_file import lookup
from hnsim.results import store
from hnsim.results.manifest import new_manifest, now


class RollingMismatch(InputError):
    """The output directory holds a rolling backtest of another design; one line per problem."""


def _fy_start(label: str) -> int | None:
    return int(label[:4]) if len(label) == 7 and label[4] == "-" and label[:4].isdigit() else None


def config_known_at(data: dict[str, Any], origin: int) -> dict[str, Any]:
    """The config as it could have been written at ``origin``: free parameters of financial years
    starting in or after ``origin`` dropped with their entries; ``assessment.refusal_probability_by_year``
    entries of those years set to the last earlier year's value."""
    data = copy.deepcopy(data)
    kept = []
    for free in (data.get("calibration") or {}).get("free", []):
        parent, label = free["path"].rsplit(".", 1)
        start = _fy_start(label)
        if start is not None and start >= origin:
            lookup(data, parent).pop(label, None)
            continue
        kept.append(free)
    if data.get("calibration"):
        data["calibration"]["free"] = kept
        known_at_origin(data, origin)
    by_year = (data.get("assessment", {}).get("refusal_probability_by_year") or {}).get("value")
    if by_year:
        known = {k: v for k, v in by_year.items() if (_fy_start(k) or 0) < origin}
        if known:
            last = known[max(known)]
            data["assessment"]["refusal_probability_by_year"]["value"] = {k: (v if k in known else last) for k, v in by_year.items()}
            data["assessment"]["refusal_probability_by_year"]["source"] += f"; at origin {origin}: years from {origin}-{(origin + 1) % 100:02d} on carry {max(known)}'s value forward"
    return data


def known_at_origin(data: dict[str, Any], origin: int) -> None:
    """In place: what a config's trends, priors and ensemble may know at ``origin``. The trends'
    data end moves to 31 December before the origin (damping starts there); a posterior ensemble
    fitted to later years is dropped (the fit at the origin draws its own); a prior whose source
    cites years from the origin on is replaced by a wide stated one."""
    trends = data.get("trends")
    if isinstance(trends, dict) and trends.get("data_end"):
        trends["data_end"] = f"{origin - 1}-12-31"
    calibration = data["calibration"]
    if isinstance(calibration.get("ensemble"), dict):
        calibration["ensemble"].update(table=None, file=None)
    for free in calibration.get("free", []):
        source = str(free.get("prior_source") or "")
        years = [int(y) for y in re.findall(r"(?<!\d)(20[12]\d)(?!\d)", source)]
        if free.get("prior_mean") is not None and any(y >= origin for y in years):
            mean, sd = FALLBACK_GROWTH  # the national run's fallback: modest growth, wide, citing no year
            free["prior_mean"], free["prior_sd"] = mean, sd
            free["prior_source"] = f"assumption: {mean:+.0%} ± {sd:.0%} a year at origin {origin}, modest growth with a wide spread (the config's own prior cites later years)"


def fixed_after(data: dict[str, Any]) -> list[str]:
    """Paths of values whose source says they were calibrated but which the calibration section
    does not free: a rolling backtest keeps them as fitted, years after the origin included."""
    free = {p["path"].rsplit(".value", 1)[0] for p in (data.get("calibration") or {}).get("free", [])}

    def walk(node: dict[str, Any], prefix: str) -> list[str]:
        found = []
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                if str(value.get("source", "")).startswith("calibrated:") and path not in free:
                    found.append(path)
                found += walk(value, f"{path}.")
        return found

    return walk(data, "")


@dataclass(frozen=True)
class RollingDesign:
    """One config's rolling backtest: the config file, the observed directory, origins and budget."""

    config: Path
    data_dir: Path
    origins: tuple[int, ...] = (2016, 2017, 2018)
    replications: int = 20
    fit_replications: int = 6
    max_evaluations: int = 120
    naive_draws: int = naive_module.NAIVE_DRAWS
    sen2_dir: Path | None = None  # every authority's SEN2 files, for the model discrepancy's steps; None: forecasts anchored only

    def design_hash(self, config_text: bytes, calibrate: Calibrate) -> str:
        """sha256 of what fixes every origin's result: the config, the observed files, the budget,
        the naive forecasters' settings, the discrepancy's files and settings and the calibration
        function (not which origins)."""
        digest = hashlib.sha256(config_text)
        for path in sorted(Path(self.data_dir).glob("*.csv")):
            digest.update(path.name.encode() + path.read_bytes())
        if self.sen2_dir is not None:
            for key in sorted(sen2.FILES):
                digest.update((Path(self.sen2_dir) / sen2.FILES[key].filename).read_bytes())
        digest.update(json.dumps(discrepancy_settings(), sort_keys=True).encode())
        fields = {k: v for k, v in asdict(self).items() if k not in ("config", "data_dir", "origins", "sen2_dir")}
        naive = {k: getattr(naive_module, k) for k in ("NAIVE_FORECASTERS", "MIN_STEP_SD", "FALLBACK_RELATIVE_SD", "MIN_OLS_VALUES", "MIN_ETS_VALUES")}
        digest.update(json.dumps({"design": fields, "series": SERIES, "naive": naive, "fallback_growth": FALLBACK_GROWTH,
                                  "calibrate": f"{calibrate.__module__}.{calibrate.__qualname__}", "targets": rules_settings()}, sort_keys=True).encode())
        return digest.hexdigest()


def run_rolling(design: RollingDesign, out_dir: str | Path, pool: Pool, progress: bool = False, calibrate: Calibrate = fit_calibration) -> SkillResult:
    """Calibrate, project and score the config at every origin not already done in ``out_dir``."""
    out_dir = Path(out_dir)
    config_text = Path(design.config).read_bytes()
    data = yaml.safe_load(config_text.decode("utf-8"))
    validate(data, str(design.config))
    observed = load_observed(design.data_dir)
    last_year = int(observed.loc[observed["kind"] == "census", "year"].astype(int).max())
    bad = [f"origin {o}: must be between 2015 and {last_year - 1} (the observed census years in {design.data_dir} end in {last_year})" for o in design.origins if not 2015 <= o < last_year]
    if bad:
        raise RollingMismatch(bad)
    design = replace(design, origins=tuple(sorted(set(design.origins))))
    design_hash = design.design_hash(config_text, calibrate)
    previous = store.read_manifest(out_dir) if (out_dir / "manifest.json").exists() else None
    if previous and previous.get("design_hash") != design_hash:
        raise RollingMismatch([f"{out_dir}: holds a rolling backtest of another design (the config, the observed files, the budget or the calibration changed); "
                               "use another --out, or delete the directory to start again"])
    meta = data.get("meta", {})
    name = str(meta.get("local_authority") or meta.get("name") or Path(design.config).stem)
    seed = int(data["simulation"]["seed"])
    manifest = new_manifest(
        kind="rolling backtest", design_hash=design_hash, config=str(design.config), data_dir=str(design.data_dir), origins=list(design.origins),
        last_year=last_year, seed=seed, replications=design.replications, fit_replications=design.fit_replications,
        max_evaluations=design.max_evaluations, naive_draws=design.naive_draws, calibrate=f"{calibrate.__module__}.{calibrate.__qualname__}",
        discrepancy_sen2_dir=str(design.sen2_dir) if design.sen2_dir is not None else None, fixed_after_origin=fixed_after(data), executor=pool.description,
        sessions=(previous or {}).get("sessions", 0) + 1, first_started_at=(previous or {}).get("first_started_at") or now(),
    )
    store.writable_directory(out_dir)

    def prepare(origin: int) -> SkillTask:
        config = apply_overrides(config_known_at(data, origin), {"simulation.end_date": f"{last_year + 1}-03-31"})
        validate(config, f"{design.config} at origin {origin}")
        known = observed_at(observed, origin)
        plans = known[(known["metric"] == "ehcp_total") & (known["kind"] == "census")]
        return SkillTask(f"{slug(name)}-{origin}", str(meta.get("old_la_code") or ""), str(meta.get("new_la_code") or ""), name, "", origin, last_year,
                         config, known, series_table(known), design.replications, design.fit_replications, design.max_evaluations, design.naive_draws,
                         seed, float(plans["value"].iloc[-1]) if len(plans) else 0.0,
                         f"observed series in {design.data_dir} as known in January {origin}", [],
                         discrepancy_known_at(design.sen2_dir, origin).to_records() if design.sen2_dir is not None else {})

    census = observed[(observed["metric"] == "ehcp_total") & (observed["kind"] == "census")]
    totals = pd.Series(census["value"].to_numpy(), index=census["year"].astype(int))  # January totals: each origin's weight on the progress bar
    specs = [TaskSpec(f"{slug(name)}-{o}", f"{name} at {o}", float(totals.get(o, 1.0)), (lambda o=o: prepare(o)), (lambda o=o: later_values(observed, o)))
             for o in design.origins]
    return run_specs(specs, out_dir, pool, manifest, calibrate, progress)
