"""Forecast skill: rolling-origin backtests of local authorities against naive forecasters.

For every authority and origin ``Y`` a task (:mod:`hnsim.experiment.skill_task`) is prepared in the
parent from a *vantage* of the SEN2 files (:func:`hnsim.data.vantage.write_vantage`: censuses up to
``Y``, activity up to ``Y - 1``, later rows physically removed): the starter config from the
starter template, the national run's free parameters around the starter's values, and the
observed series. The worker calibrates it from the middle of every range, projects it to the last
year in the files and fits the naive forecasters to the same series. Layout of a skill directory::

    manifest.json            design hash, budget, seed, origins, authorities, versions, status, timings
    tasks/916-gloucestershire-2016.parquet
                             forecast ensembles (series, year, horizon, forecaster, member, value) of one
                             authority and origin; the task's record (fit, methods, times) in its metadata
    skill.parquet            one row per scored value (analysis/scores.SCORE_COLUMNS)
    skill_summary.csv        scores by series, horizon and forecaster, with CRPS skill
    tasks.csv                one row per task: fit, members, wall and CPU seconds
    notes.md, failures.csv (if any)

A task is done when its Parquet exists and the manifest's design hash matches; rerunning runs only
the others. The design hash covers the SEN2 files, the template, the budget, seed, the free
parameters, the naive forecasters' settings and the calibration function, not which authorities or
origins are run: a run of two authorities and a later run of twenty can share a directory.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd
import yaml

from hnsim.analysis import naive as naive_module
from hnsim.analysis.calibration_targets import rules_settings
from hnsim.analysis.discrepancy import settings as discrepancy_settings
from hnsim.analysis.skill import SERIES, later_values, series_table
from hnsim.config import apply_overrides, validate
from hnsim.data import sen2
from hnsim.data.series import activity_series, caseload_series
from hnsim.data.starter import TEMPLATE, starter_config
from hnsim.data.vantage import write_vantage
from hnsim.errors import InputError
from hnsim.experiment.discrepancy import discrepancy_known_at
from hnsim.experiment.executors import Pool
from hnsim.experiment.national import FALLBACK_GROWTH, FREE_PARAMETERS, POST19_LEAVING, UNCERTAIN, census_caseloads, national_authorities, starter_calibration
from hnsim.experiment.skill_run import SkillResult, TaskSpec, run_specs
from hnsim.experiment.skill_task import Calibrate, SkillTask, fit_calibration, slug
from hnsim.results import store
from hnsim.results.manifest import new_manifest, now

DEFAULT_ORIGINS = (2016, 2017, 2018)
#: The quick sample (``--quick``): Gloucestershire and one authority from each of 19 strata of equal
#: count by January 2019 caseload, each stratum taking the region least represented so far
#: (``analysis.skill.quick_sample`` on the 2019 SEN2 release; old codes).
QUICK_SAMPLE = ("916", "207", "342", "869", "806", "381", "334", "821", "310", "358", "831", "332", "933", "370", "856", "341", "840", "825", "935", "936")


class SkillMismatch(InputError):
    """The output directory holds a skill run of another design; one line per problem."""


@dataclass(frozen=True)
class SkillDesign:
    """What every (authority, origin) task shares: the data, the budget and the projection."""

    sen2_dir: Path
    origins: tuple[int, ...] = DEFAULT_ORIGINS
    replications: int = 20  # members of the model's ensemble (replications of the calibrated config)
    fit_replications: int = 2  # per calibration evaluation (common random numbers)
    max_evaluations: int = 72  # the national run's budget: three waves of 24 design points
    naive_draws: int = naive_module.NAIVE_DRAWS
    seed: int | None = None  # root seed shared by every task (default: the template's)
    template: Path = TEMPLATE
    last_year: int | None = None  # the last census and calendar year scored (default: the latest census in the files)

    def resolved(self) -> "SkillDesign":
        """The design with the template's seed and the files' last year filled in, origins sorted."""
        template = yaml.safe_load(Path(self.template).read_text(encoding="utf-8"))["simulation"]
        last = self.last_year or int(sen2.read_file(self.sen2_dir, "age_caseload")["year"].max())
        return replace(self, sen2_dir=Path(self.sen2_dir), origins=tuple(sorted(set(int(o) for o in self.origins))), seed=self.seed or int(template["seed"]), last_year=last)

    def problems(self) -> list[str]:
        """What is wrong with the origins (empty when nothing); on a resolved design."""
        first = 2015  # the starter's initial caseload is the January 2015 census
        return [f"origin {o}: must be between {first} and {self.last_year - 1} (the starter's population is January 2015's; the last year scored is {self.last_year})"
                for o in self.origins if not first <= o < self.last_year]

    def design_hash(self, template_text: bytes, calibrate: Calibrate) -> str:
        """sha256 of what fixes every task's result (not which authorities or origins are run)."""
        digest = hashlib.sha256()
        for key in sorted(sen2.FILES):
            digest.update((Path(self.sen2_dir) / sen2.FILES[key].filename).read_bytes())
        digest.update(template_text)
        fields = {k: v for k, v in asdict(self).items() if k not in ("sen2_dir", "template", "origins")}
        naive = {k: getattr(naive_module, k) for k in ("NAIVE_FORECASTERS", "MIN_STEP_SD", "FALLBACK_RELATIVE_SD", "MIN_OLS_VALUES", "MIN_ETS_VALUES")}
        spec = {"design": fields, "free": FREE_PARAMETERS, "uncertain": UNCERTAIN, "fallback_growth": FALLBACK_GROWTH, "post19_leaving": POST19_LEAVING, "series": SERIES, "naive": naive,
                "calibrate": f"{calibrate.__module__}.{calibrate.__qualname__}", "discrepancy": discrepancy_settings(),
                "targets": rules_settings()}
        digest.update(json.dumps(spec, sort_keys=True, default=str).encode())
        return digest.hexdigest()


class Vantages:
    """The SEN2 files of a directory as known at each origin, written once per origin under ``root``."""

    def __init__(self, sen2_dir: Path, root: Path):
        self.sen2_dir, self.root, self.written, self.discrepancies = Path(sen2_dir), Path(root), {}, {}

    def at(self, origin: int) -> Path:
        """The directory of the files as known at ``origin`` (censuses to it, activity to the year before)."""
        if origin not in self.written:
            self.written[origin] = write_vantage(self.sen2_dir, origin, self.root / str(origin))
        return self.written[origin]

    def discrepancy(self, origin: int) -> dict:
        """The model discrepancy's steps known at ``origin`` (plain data), from the files cut there."""
        if origin not in self.discrepancies:
            self.discrepancies[origin] = discrepancy_known_at(self.at(origin), origin).to_records()
        return self.discrepancies[origin]


def prepare(design: SkillDesign, old_la_code: str, origin: int, vantages: Vantages) -> SkillTask:
    """The task of one authority at one origin (``design`` resolved), read from the vantage at
    ``origin`` only (the SEN2 files cut there): starter config with the national free parameters,
    seed and horizon, and the observed series. Raises DataError or ConfigError when the files
    cannot give one."""
    vantage_dir = vantages.at(origin)
    auth = sen2.find_authority(vantage_dir, old_la_code)
    data, _warnings = starter_config(vantage_dir, auth.old_la_code, design.template)
    starter_calibration(data, vantage_dir, auth.old_la_code, origin, origin, design.replications, design.max_evaluations)
    data = apply_overrides(data, {"simulation.seed": design.seed, "simulation.end_date": f"{design.last_year + 1}-03-31"})
    validate(data, f"starter config for {auth.label} at origin {origin}")
    observed = pd.concat([caseload_series(vantage_dir, auth), activity_series(vantage_dir, auth)], ignore_index=True)
    plans = census_caseloads(vantage_dir, origin).get(auth.old_la_code, 0.0)  # 0 for an authority counted only through its predecessors
    return SkillTask(f"{auth.old_la_code}-{slug(auth.name)}-{origin}", auth.old_la_code, auth.new_la_code, auth.name, auth.region_name, origin, design.last_year,
                     data, observed, series_table(observed), design.replications, design.fit_replications, design.max_evaluations, design.naive_draws,
                     int(design.seed), float(plans), f"SEN2 files as known in January {origin} (censuses to {origin}, activity to {origin - 1}), {auth.label}, by hnsim skill",
                     discrepancy=vantages.discrepancy(origin))


def skill_authorities(sen2_dir: Path, wanted: list[str] | None = None, quick: bool = False) -> list[sen2.Authority]:
    """The authorities of a skill run: the quick sample, those named, or every authority with its
    own January caseload in the latest census (as ``hnsim national``), largest first."""
    if quick:
        wanted = [*QUICK_SAMPLE, *(wanted or [])]
    return national_authorities(sen2_dir, wanted)


def run_skill(design: SkillDesign, authorities: list[sen2.Authority], out_dir: str | Path, pool: Pool, progress: bool = False,
              calibrate: Calibrate = fit_calibration) -> SkillResult:
    """Run the (authority, origin) tasks not already done in ``out_dir`` and write the tables.

    ``calibrate`` is the calibration step of every task (:mod:`hnsim.experiment.skill_task`): pass
    another function (importable by name, so that workers can load it) to judge another method
    with the same harness. Raises :class:`SkillMismatch` if ``out_dir`` holds a run of another
    design. A task whose preparation or run raises is recorded in ``failures.csv``; the others go
    on. On Ctrl-C the manifest says ``interrupted`` and the tasks written so far are kept.
    """
    design = design.resolved()
    problems = design.problems()
    if problems:
        raise SkillMismatch(problems)
    out_dir = Path(out_dir)
    template_text = Path(design.template).read_bytes()  # one snapshot: the template may be edited while the run goes on
    design_hash = design.design_hash(template_text, calibrate)
    previous = store.read_manifest(out_dir) if (out_dir / "manifest.json").exists() else None
    if previous and previous.get("design_hash") != design_hash:
        raise SkillMismatch([f"{out_dir}: holds a skill run of another design (the SEN2 files, the template, the budget, seed, free parameters, naive "
                             f"forecasters or calibration changed: design hash {str(previous.get('design_hash'))[:12]}, now {design_hash[:12]}); "
                             "use another --out, or delete the directory to start again"])
    if previous is None and any((out_dir / "tasks").glob("*.parquet")):
        raise SkillMismatch([f"{out_dir}: holds task results but no manifest.json; use another --out"])
    store.writable_directory(out_dir)
    store.write_text(template_text.decode("utf-8"), out_dir / "template.yaml")
    design = replace(design, template=out_dir / "template.yaml")
    sizes = census_caseloads(design.sen2_dir)
    manifest = new_manifest(
        kind="skill", design_hash=design_hash, sen2_dir=str(design.sen2_dir), template=str(design.template), origins=list(design.origins),
        last_year=design.last_year, seed=design.seed, replications=design.replications, fit_replications=design.fit_replications,
        max_evaluations=design.max_evaluations, naive_draws=design.naive_draws, calibrate=f"{calibrate.__module__}.{calibrate.__qualname__}",
        free_parameters=[{"path": p, "range": k, "low": lo, "high": hi, "log_scale": lg} for p, k, lo, hi, lg in FREE_PARAMETERS],
        authorities=[a.label for a in authorities], executor=pool.description,
        sessions=(previous or {}).get("sessions", 0) + 1, first_started_at=(previous or {}).get("first_started_at") or now(),
    )
    with tempfile.TemporaryDirectory(prefix="hnsim-vantage-") as vantage_root:
        vantages = Vantages(design.sen2_dir, Path(vantage_root))  # each origin's files written once, in the parent, before its first task
        truths: dict[str, pd.DataFrame] = {}

        def truth(auth: sen2.Authority, origin: int) -> pd.DataFrame:
            if auth.old_la_code not in truths:  # the published series to the end of the files: read in the parent only, to score
                truths[auth.old_la_code] = pd.concat([caseload_series(design.sen2_dir, auth), activity_series(design.sen2_dir, auth)], ignore_index=True)
            return later_values(truths[auth.old_la_code], origin)

        specs = [TaskSpec(f"{a.old_la_code}-{slug(a.name)}-{o}", a.label, max(sizes.get(a.old_la_code, 0.0), 1.0),
                          (lambda a=a, o=o: prepare(design, a.old_la_code, o, vantages)), (lambda a=a, o=o: truth(a, o)))
                 for a in authorities for o in design.origins]
        return run_specs(specs, out_dir, pool, manifest, calibrate, progress)
