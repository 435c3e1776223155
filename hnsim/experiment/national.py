"""The national run: every local authority in DfE's SEN2 files built, calibrated and projected.

One task per authority: its starter config (:mod:`hnsim.data.starter`) and observed series
(:mod:`hnsim.data.series`) are made here, in the parent, and travel with the task (so Dask workers
need no shared disk); the worker calibrates it with a modest budget (:func:`hnsim.experiment.calibrate.fit`) and
runs the calibrated config to the horizon. Layout of a national directory::

    manifest.json                      design hash, budget, seed, versions, status, failed authorities
    template.yaml                      the template config as read at the start (every starter's base)
    notes.md                           what the tables are and which inputs are assumptions
    authorities/916-gloucestershire.parquet
                                       annual long table (replication, financial_year, metric, value)
                                       of METRICS; the fit table and fit record in its metadata
    projections.csv, england.csv, fit_by_authority.csv, caseload_check.csv, failures.csv (if any)

An authority is done when its Parquet exists and the manifest's design hash matches; rerunning runs
only the others, like a sweep. Every authority uses the same root seed and replications 0..R-1, so
England's total is summed replication by replication.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import yaml
from hnsim.experiment.progress import progress_bar

from hnsim.analysis import national as tables
from hnsim.analysis.calibration_targets import RULES, rules_settings
from hnsim.analysis.leaving import BOUNDS as LEAVING_BOUNDS
from hnsim.analysis.leaving import FIRST_YEAR as LEAVING_FIRST_YEAR
from hnsim.analysis.leaving import leaving_past_19
from hnsim.config import apply_overrides, validate
from hnsim.data import sen2
from hnsim.data.errors import DataError
from hnsim.data.series import activity_series, caseload_series, every_authority
from hnsim.data.starter import NOT_GIVEN, TEMPLATE, starter_config
from hnsim.errors import InputError
from hnsim.experiment.calibrate import fit
from hnsim.experiment.executors import Pool, as_finished, describe_error
from hnsim.experiment.sweep_file import lookup
from hnsim.results import store
from hnsim.results.manifest import mark_failed, mark_finished, new_manifest, now

#: Metrics kept for every authority (all additive, so England's total is their sum).
METRICS = ("ehcp_total", "ehcp_mainstream", "ehcp_special", "ehcp_independent", "assessment_requests", "new_ehcps",
           "spend_total", "spend_independent", "hnb_allocation", "in_year_balance", "cumulative_deficit")
#: An authority's annual table: the run directory's, without the scenario column.
ANNUAL_COLUMNS = ["replication", "financial_year", "metric", "value"]
METADATA_KEY = "hnsim.national"


class NationalMismatch(InputError):
    """The output directory holds a national run of another design; one line per problem."""


@dataclass(frozen=True)
class NationalDesign:
    """What every authority's task shares: the data, the calibration budget and the projection."""

    sen2_dir: Path
    replications: int = 10  # of the projection (and of the fit table), numbered 0..R-1 everywhere
    fit_replications: int = 2  # per calibration evaluation (common random numbers)
    max_evaluations: int = 72  # history matching: three waves of 24 design points
    horizon: int | None = None  # project to 31 March of this year (default: the template's end)
    seed: int | None = None  # root seed shared by every authority (default: the template's)
    template: Path = TEMPLATE  # the config starter configs are made from

    def resolved(self) -> "NationalDesign":
        """The design with the template's horizon and seed filled in."""
        template = yaml.safe_load(Path(self.template).read_text(encoding="utf-8"))["simulation"]
        end = dt.date.fromisoformat(str(template["end_date"]))
        return replace(self, sen2_dir=Path(self.sen2_dir), horizon=self.horizon or (end.year if end.month <= 3 else end.year + 1),
                       seed=self.seed or int(template["seed"]))

    def fit_until(self) -> int:
        """The latest January census in the files: calibration fits up to it, and it is checked."""
        return int(sen2.read_file(self.sen2_dir, "age_caseload")["year"].max())

    def design_hash(self, template_text: bytes | None = None) -> str:
        """sha256 of what fixes every authority's result: the SEN2 files, the template config (its
        ``template_text`` if given), the free parameters, the budget, seed, horizon and metrics (not
        which authorities are run, nor where the files are)."""
        digest = hashlib.sha256()
        for key in sorted(sen2.FILES):
            digest.update((Path(self.sen2_dir) / sen2.FILES[key].filename).read_bytes())
        digest.update(template_text if template_text is not None else Path(self.template).read_bytes())
        fields = {k: v for k, v in asdict(self).items() if k not in ("sen2_dir", "template")}
        spec = {"design": fields, "metrics": METRICS, "free": FREE_PARAMETERS, "uncertain": UNCERTAIN, "fallback_growth": FALLBACK_GROWTH, "post19_leaving": POST19_LEAVING,
                "targets": rules_settings(), "fit_until": self.fit_until()}
        digest.update(json.dumps(spec, sort_keys=True, default=str).encode())
        return digest.hexdigest()


#: Free parameters of every authority's calibration: (path, range as multiples of the starter's value
#: or absolute, log scale). Scale-free, so one list serves Rutland and Kent. The request growth's
#: prior comes from the pooled SEN2 trends (:func:`demand_growth_prior`).
FREE_PARAMETERS: tuple[tuple[str, str, float, float, bool], ...] = (
    ("sen_support.request_rate.value.early_years", "times", 0.4, 2.5, True),
    ("sen_support.request_rate.value.primary", "times", 0.4, 2.5, True),
    ("sen_support.request_rate.value.secondary", "times", 0.4, 2.5, True),
    ("trends.requests.growth_per_year.value", "absolute", -0.1, 0.45, False),
    ("trends.request_transition.start_multiplier.value", "absolute", 0.3, 1.5, False),
    ("assessment.plan_probability.value", "absolute", 0.5, 0.99, False),  # requests withdrawn or still open too: new plans per request
    ("ehcp.leave_education_rate.value.post16", "absolute", 0.005, 0.3, True),
    ("placement.transfer.post19_continue_probability.value", "absolute", 0.05, 0.8, False),
)
GROWTH_PATH = "trends.requests.growth_per_year.value"
#: Inputs no SEN2 figure informs, drawn across each authority's members.
UNCERTAIN: tuple[dict[str, Any], ...] = (
    {"path": "trends.damping.value", "low": 0.6, "high": 1.0,
     "source": "assumption: growth carried past the data loses between 0% and 40% of its rate each year (from undamped to a plateau within about five years); no published figure says which"},
)
#: Prior of the request growth where SEN2 has too few years to pool: modest growth, wide (it
#: must not borrow from later years, so it cites none).
FALLBACK_GROWTH = (0.05, 0.10)


def demand_growth_prior(sen2_dir: Path, old_la_code: str, origin: int) -> tuple[float, float, str]:
    """Prior (mean, sd, source) of an authority's request growth per year at forecast origin
    ``origin`` (activity known to calendar year ``origin - 1``): the pooled SEN2 trend of requests
    when two or more years are published, else of new plans since 2014, else a stated fallback."""
    from hnsim.experiment.trend_priors import growth_prior

    for series, first in (("requests", None), ("new_plans", 2014)):
        try:
            prior = growth_prior(sen2_dir, old_la_code, series, origin - 1, first_year=first)
        except (ValueError, KeyError, LookupError):
            continue
        if math.isfinite(prior.mean) and math.isfinite(prior.sd) and prior.sd > 0:
            return float(prior.mean), float(prior.sd), prior.source + ("" if series == "requests" else " (new plans stand in for requests: fewer than two years of requests published)")
    mean, sd = FALLBACK_GROWTH
    return mean, sd, f"assumption: {mean:+.0%} ± {sd:.0%} a year, modest growth with a wide spread; too few years of requests or new plans to pool"


#: The starter's yearly leaving rate of plans past 19, set from every authority's SEN2 age bands
#: known at the origin (:func:`with_post19_leaving`); the template's value is its prior mean.
POST19_LEAVING_PATH = "ehcp.leave_education_rate.value.post19"
#: The prior sd of that rate: the template's value is an assumption, not a measurement.
POST19_LEAVING_PRIOR_SD = 0.2
#: What fixes that estimate given the files (for the design hashes).
POST19_LEAVING = {"path": POST19_LEAVING_PATH, "prior_sd": POST19_LEAVING_PRIOR_SD, "first_year": LEAVING_FIRST_YEAR, "bounds": LEAVING_BOUNDS, "interval": 0.9}


def every_authority_series(sen2_dir: str | Path) -> pd.DataFrame:
    """``authority, series, year, value`` of every authority of :func:`national_authorities` in the
    SEN2 files of ``sen2_dir``; read once per directory for the life of the process."""
    return _every_authority_series(str(Path(sen2_dir).resolve()))


@functools.lru_cache(maxsize=8)
def _every_authority_series(directory: str) -> pd.DataFrame:
    return every_authority(directory, national_authorities(Path(directory))).rename(columns={"metric": "series"})


def with_post19_leaving(data: dict[str, Any], sen2_dir: str | Path, last_year: int) -> dict[str, Any] | None:
    """Set the starter ``data``'s leaving rate past 19 to the estimate from every authority's age
    bands in ``sen2_dir`` up to January ``last_year`` (:func:`hnsim.analysis.leaving.leaving_past_19`,
    the template's value as prior mean) and return the calibration's ``uncertain`` entry that draws
    it across members over its 90% interval; None for a template without the rate."""
    try:
        prior = float(lookup(data, POST19_LEAVING_PATH))
    except KeyError:
        return None
    estimate = leaving_past_19(every_authority_series(sen2_dir), last_year, (prior, POST19_LEAVING_PRIOR_SD))
    rates = data["ehcp"]["leave_education_rate"]
    rates["value"]["post19"] = round(estimate.rate, 6)
    rates["source"] = f"{rates['source']}; post19: {estimate.source}, known in January {last_year}"
    low = max(LEAVING_BOUNDS[0], estimate.rate - 1.645 * estimate.sd)
    high = min(LEAVING_BOUNDS[1], estimate.rate + 1.645 * estimate.sd)
    return {"path": POST19_LEAVING_PATH, "low": round(low, 6), "high": round(high, 6),
            "source": f"the estimate's 90% interval (sd {estimate.sd:.3f}): {estimate.source}"}


def calibration_section(data: dict[str, Any], growth_prior: tuple[float, float, str] | None = None, members: int = 20,
                        design_points: int | None = None, waves: int = 3, uncertain_extra: tuple[dict[str, Any], ...] = (),
                        max_evaluations: int = 72) -> dict[str, Any]:
    """The ``calibration:`` section for a starter config: FREE_PARAMETERS around its own values,
    the request growth with its pooled prior, the UNCERTAIN inputs (and ``uncertain_extra``), and a
    history-matched posterior ensemble of ``members`` parameter sets, ``waves`` waves of
    ``design_points`` each (default: the budget ``max_evaluations`` split across the waves, at least
    the schema's 4, so a larger budget is spent, not only capped).

    Replaces any section inherited from the template, whose ranges are Gloucestershire's.
    """
    free = []
    for path, kind, low, high, log in FREE_PARAMETERS:
        try:
            value = float(lookup(data, path))
        except KeyError:  # a template without this part of the model
            continue
        if kind == "times":
            if value <= 0:  # no requests at all in the files: nothing to scale
                continue
            low, high = value * low, value * high
        else:  # an absolute range must still hold the starter's value
            low, high = min(low, value), max(high, value)
        entry: dict[str, Any] = {"path": path, "low": round(low, 8), "high": round(high, 8), "log_scale": log}
        if path == GROWTH_PATH and growth_prior is not None:
            mean, sd, source = growth_prior
            entry |= {"prior_mean": round(min(max(mean, low), high), 6), "prior_sd": round(max(sd, 0.01), 6), "prior_source": source}
        free.append(entry)
    uncertain = []
    for u in UNCERTAIN:
        try:
            lookup(data, u["path"])
        except KeyError:
            continue
        uncertain.append(dict(u))
    uncertain.extend(dict(u) for u in uncertain_extra)
    return {"free": free, "method": "history_matching", "uncertain": uncertain,
            "ensemble": {"members": members, "design_points": design_points or max(4, max_evaluations // waves), "waves": waves}}


def starter_calibration(data: dict[str, Any], sen2_dir: str | Path, old_la_code: str, last_census: int, growth_origin: int,
                        members: int, max_evaluations: int) -> dict[str, Any]:
    """Make ``data`` (a starter config) ready to calibrate as every national and skill task is: the
    leaving rate past 19 estimated from the age bands to January ``last_census``, and the
    calibration section with the request-growth prior known at ``growth_origin``
    (:func:`demand_growth_prior`), ``members`` members and the budget ``max_evaluations``."""
    leaving = with_post19_leaving(data, sen2_dir, last_census)
    data["calibration"] = calibration_section(data, demand_growth_prior(Path(sen2_dir), old_la_code, growth_origin), members=members,
                                              max_evaluations=max_evaluations, uncertain_extra=(leaving,) if leaving else ())
    return data


@dataclass
class AuthorityTask:
    """Everything a worker needs for one authority (plain data: it crosses processes)."""

    old_la_code: str
    la_code: str
    la_name: str
    region_name: str
    config: dict[str, Any]
    observed: pd.DataFrame
    fit_until: int
    replications: int
    fit_replications: int
    max_evaluations: int
    observed_from: str = ""  # where the observed series came from, for the calibrated config's sources
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def file_name(auth: sen2.Authority) -> str:
    """The authority's result file name: '916-gloucestershire.parquet'."""
    return f"{auth.old_la_code}-{auth.slug}.parquet"


def national_authorities(sen2_dir: Path, wanted: list[str] | None = None) -> list[sen2.Authority]:
    """The authorities of the national run: those with their own rows in the latest January census
    (152 in the 2019 files; Bournemouth, Christchurch and Poole and Dorset Council, formed in April
    2019, are counted there as Bournemouth, Poole and Dorset county), largest caseload first; or the
    ones named in ``wanted`` (names or codes). Raises DataError on an unknown name or a region."""
    if wanted:
        found = [sen2.find_authority(sen2_dir, w) for w in wanted]
        bad = [f"'{w}' is {a.level.lower()} ({a.name}); hnsim national runs local authorities" for w, a in zip(wanted, found) if a.level != sen2.LEVEL_LA]
        if bad:
            raise DataError(bad)
        chosen = list({a.old_la_code: a for a in found}.values())
    else:
        chosen = list(sen2.list_authorities(sen2_dir))
    sizes = census_caseloads(sen2_dir)
    if not wanted:
        chosen = [a for a in chosen if a.old_la_code in sizes]
    return sorted(chosen, key=lambda a: (-sizes.get(a.old_la_code, 0.0), a.old_la_code))


def census_caseloads(sen2_dir: Path, year: int | None = None) -> dict[str, float]:
    """January caseload (statements and plans, ``Total_all``) by old_la_code as published for the
    latest census (or ``year``): each authority's own row only, never a predecessor's."""
    data = sen2.read_file(sen2_dir, "age_caseload")
    year = year or int(data["year"].max())
    rows = data[(data["year"] == year) & (data["characteristic_age"] == "Total") & (data["geographic_level"] == sen2.LEVEL_LA)]
    return {str(c): float(v) for c, v in zip(rows["old_la_code"], rows["Total_all"]) if pd.notna(v)}


def prepare(design: NationalDesign, auth: sen2.Authority) -> AuthorityTask:
    """The authority's task: starter config with the national calibration section, seed and horizon,
    and its observed series. Raises DataError or ConfigError when the files cannot give one."""
    data, _warnings = starter_config(design.sen2_dir, auth.old_la_code, design.template)
    fit_until = design.fit_until()
    starter_calibration(data, design.sen2_dir, auth.old_la_code, fit_until, fit_until + 1, design.replications, design.max_evaluations)
    data = apply_overrides(data, {"simulation.seed": design.seed, "simulation.end_date": f"{design.horizon}-03-31"})
    validate(data, f"starter config for {auth.label}")
    observed = pd.concat([caseload_series(design.sen2_dir, auth), activity_series(design.sen2_dir, auth)], ignore_index=True)
    # A published zero has no tolerance in the calibration targets (relative tolerance, no floor):
    # leave it out rather than divide by zero, and say so in the record.
    zero = observed["value"].eq(0) & observed["metric"].map(lambda m: m in RULES and RULES[m].floor == 0)
    notes = [f"observed zero left out (no tolerance for it): {r.metric} {r.year}" for r in observed[zero].itertuples()]
    return AuthorityTask(auth.old_la_code, auth.new_la_code, auth.name, auth.region_name, data, observed[~zero].reset_index(drop=True),
                         design.fit_until(), design.replications, design.fit_replications, design.max_evaluations,
                         f"SEN2 files in {design.sen2_dir}, {auth.label}, by hnsim national", not_given(data), notes)


def not_given(data: dict[str, Any], prefix: str = "") -> list[str]:
    """Paths of the values whose source marks them NOT GIVEN (money the SEN2 files do not hold)."""
    found = []
    for key, value in data.items():
        if isinstance(value, dict):
            if str(value.get("source", "")).startswith(NOT_GIVEN):
                found.append(f"{prefix}{key}")
            found += not_given(value, f"{prefix}{key}.")
    return found


@dataclass
class AuthorityOutcome:
    """A worker's result: the projection (long table of METRICS), the fit table and its record."""

    annual: pd.DataFrame
    fit_table: pd.DataFrame
    info: dict[str, Any]


def run_authority(task: AuthorityTask) -> AuthorityOutcome:
    """Calibrate one authority's starter config and run the calibrated config to its horizon.

    Runs in a worker, single-threaded. The fit's final run goes to the horizon, so the projection
    and the fit table come from the same ``task.replications`` replications.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    end = dt.date.fromisoformat(str(task.config["simulation"]["end_date"]))
    result = fit(task.config, task.observed_from, task.fit_until, task.fit_replications, task.max_evaluations, task.replications,
                 workers=1, start="config", report_until=end.year - 1, observed=task.observed)
    calibrated = yaml.safe_dump(result.data, sort_keys=False, allow_unicode=True, width=200)
    annual = result.annual[result.annual["metric"].isin(METRICS)]
    annual = annual[ANNUAL_COLUMNS].sort_values(["metric", "financial_year", "replication"], kind="stable").reset_index(drop=True)
    free = [p["path"] for p in task.config["calibration"]["free"]]
    info = {"old_la_code": task.old_la_code, "la_code": task.la_code, "la_name": task.la_name, "region_name": task.region_name,
            "fit": result.data["calibration"]["fit"], "objective": result.objective, "evaluations": result.evaluations,
            "free": task.config["calibration"]["free"], "fitted": {p: lookup(result.data, p) for p in free}, "started_from": {p: lookup(task.config, p) for p in free},
            "assumptions": task.assumptions, "notes": task.notes + list(result.notes), "seconds": round(time.perf_counter() - started, 2),
            "cpu_seconds": round(time.process_time() - cpu_started, 2),
            "calibrated_config": calibrated}
    return AuthorityOutcome(annual, result.table.reset_index(drop=True), info)


def write_authority(outcome: AuthorityOutcome, path: Path) -> None:
    """One file per authority, atomically: the projection as Parquet, the fit table and record in
    the file's metadata (JSON), so an authority is either wholly written or not at all."""
    extra = json.dumps({"info": outcome.info, "fit_table": json.loads(outcome.fit_table.to_json(orient="records"))}, default=str)
    store.write_parquet(outcome.annual, path, {METADATA_KEY: extra})


def read_authority(path: Path) -> AuthorityOutcome:
    """An authority's stored projection, fit table and record."""
    table = pq.read_table(path)
    extra = json.loads(table.schema.metadata[METADATA_KEY.encode()])
    return AuthorityOutcome(table.to_pandas(), pd.DataFrame(extra["fit_table"]), extra["info"])


@dataclass
class NationalResult:
    """What a national run left on disk, and its tables."""

    out_dir: Path
    projections: pd.DataFrame
    england: pd.DataFrame
    fit_by_authority: pd.DataFrame
    check: pd.DataFrame
    failures: pd.DataFrame
    manifest: dict[str, Any]


def run_national(design: NationalDesign, authorities: list[sen2.Authority], out_dir: str | Path, pool: Pool, progress: bool = False) -> NationalResult:
    """Run the authorities not already done in ``out_dir`` and write the national tables.

    Raises :class:`NationalMismatch` if ``out_dir`` holds a run of another design. An authority
    whose preparation or run raises is recorded in ``failures.csv`` and the others go on. On
    Ctrl-C the manifest says ``interrupted`` and the authorities written so far are kept.
    """
    design = design.resolved()
    out_dir = Path(out_dir)
    template_text = Path(design.template).read_bytes()  # one snapshot: the template may be edited while the run goes on
    design_hash = design.design_hash(template_text)
    previous = store.read_manifest(out_dir) if (out_dir / "manifest.json").exists() else None
    if previous and previous.get("design_hash") != design_hash:
        raise NationalMismatch([f"{out_dir}: holds a national run of another design (the SEN2 files, the template config, the budget, seed, "
                                f"horizon or hnsim's free parameters changed: design hash {str(previous.get('design_hash'))[:12]}, now {design_hash[:12]}); "
                                "use another --out, or delete the directory to start again"])
    if previous is None and any((out_dir / "authorities").glob("*.parquet")):
        raise NationalMismatch([f"{out_dir}: holds authority results but no manifest.json; use another --out"])
    sizes = census_caseloads(design.sen2_dir)
    manifest = new_manifest(
        design_hash=design_hash, sen2_dir=str(design.sen2_dir), template=str(design.template), fit_until=design.fit_until(),
        horizon=f"{design.horizon}-03-31", seed=design.seed, replications=design.replications, fit_replications=design.fit_replications,
        max_evaluations=design.max_evaluations,
        free_parameters=[{"path": p, "range": k, "low": lo, "high": hi, "log_scale": lg} for p, k, lo, hi, lg in FREE_PARAMETERS],
        metrics=list(METRICS), authorities=len(authorities), authorities_done=0, authorities_failed=[],
        assumptions={"note": tables.ASSUMPTIONS_NOTE}, executor=pool.description,
        sessions=(previous or {}).get("sessions", 0) + 1, first_started_at=(previous or {}).get("first_started_at") or now(),
    )
    store.writable_directory(out_dir)
    store.write_json(manifest, out_dir / "manifest.json")
    store.write_text(template_text.decode("utf-8"), out_dir / "template.yaml")
    design = replace(design, template=out_dir / "template.yaml")
    paths = {a.old_la_code: out_dir / "authorities" / file_name(a) for a in authorities}
    todo = [a for a in authorities if not paths[a.old_la_code].exists()]
    failures: dict[str, tuple[sen2.Authority, str, str]] = {}
    started = time.perf_counter()
    weight = {a.old_la_code: max(sizes.get(a.old_la_code, 0.0), 1.0) for a in authorities}  # work is about caseload
    done_before = [a for a in authorities if a not in todo]
    bar = progress_bar(total=round(sum(weight.values())), initial=round(sum(weight[a.old_la_code] for a in done_before)), unit=" plans", disable=not progress,
               desc="national", bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} plans{postfix} [{elapsed}<{remaining}]")
    count = {"done": len(done_before)}

    def finished(auth: sen2.Authority) -> None:
        count["done"] += 1
        bar.set_postfix_str(f"authorities {count['done']}/{len(authorities)}", refresh=False)
        bar.update(round(weight[auth.old_la_code]))

    bar.set_postfix_str(f"authorities {count['done']}/{len(authorities)}")
    try:
        _run_authorities(design, todo, pool, paths, failures, finished)
    except BaseException as exc:
        mark_failed(manifest, out_dir, exc, authorities_done=sum(p.exists() for p in paths.values()))
        raise
    finally:
        bar.close()
    result = _write_tables(design, authorities, paths, failures, out_dir, manifest)
    mark_finished(manifest, started, "complete" if not failures else "failed", authorities_done=len(authorities) - len(failures),
                  authorities_failed=[f"{a.label}" for a, _, _ in failures.values()], check=json.loads(result.check.to_json(orient="records")))
    store.write_json(manifest, out_dir / "manifest.json")
    result.manifest = manifest
    return result


def _run_authorities(design: NationalDesign, todo: list[sen2.Authority], pool: Pool, paths: dict[str, Path],
                     failures: dict[str, tuple[sen2.Authority, str, str]], finished) -> None:
    """Prepare a few authorities ahead of the workers, submit them, write each as it completes."""

    def jobs():
        for auth in todo:  # largest first: the long tasks do not finish last
            try:
                task = prepare(design, auth)
            except Exception as exc:  # the files cannot give this authority a config: record, go on
                failures[auth.old_la_code] = (auth, "prepare", describe_error(exc))
                finished(auth)
                continue
            yield auth, run_authority, (task,)

    # one prepared ahead keeps every worker busy
    for auth, future in as_finished(pool.executor, jobs(), pool.workers + 1):
        error = future.exception()
        if error is not None:
            failures[auth.old_la_code] = (auth, "calibrate and run", describe_error(error))
        else:
            write_authority(future.result(), paths[auth.old_la_code])
        finished(auth)


def _write_tables(design: NationalDesign, authorities: list[sen2.Authority], paths: dict[str, Path],
                  failures: dict[str, tuple[sen2.Authority, str, str]], out_dir: Path, manifest: dict[str, Any]) -> NationalResult:
    """projections.csv, england.csv, fit_by_authority.csv, caseload_check.csv, failures.csv, notes.md
    from the stored files of the authorities run (never from memory, so a resumed run's tables are
    the same as an uninterrupted one's)."""
    outcomes = [read_authority(paths[a.old_la_code]) for a in authorities if paths[a.old_la_code].exists() and a.old_la_code not in failures]
    projections = tables.projection_table(outcomes)
    england = tables.england_table(outcomes)
    fit_until = design.fit_until()
    fits = tables.fit_by_authority(outcomes, fit_until)
    given = sorted({path for o in outcomes for path in o.info["assumptions"]})
    manifest["assumptions"] = {"note": tables.ASSUMPTIONS_NOTE, "not_given": given}
    published = float(sen2.caseload_by_age(design.sen2_dir, "England").query(f"year == {fit_until} and characteristic_age == 'Total'")["plans"].item())
    observed = census_caseloads(design.sen2_dir, fit_until)
    check = tables.caseload_check(outcomes, {a.old_la_code: observed.get(a.old_la_code) for a in authorities}, published, fit_until)
    failed = pd.DataFrame([{"la_code": a.new_la_code, "old_la_code": a.old_la_code, "la_name": a.name, "stage": stage, "error": error}
                           for a, stage, error in failures.values()], columns=["la_code", "old_la_code", "la_name", "stage", "error"])
    for name, frame in (("projections.csv", projections), ("england.csv", england), ("fit_by_authority.csv", fits), ("caseload_check.csv", check)):
        store.write_csv(frame, out_dir / name)
    if failures:
        store.write_csv(failed, out_dir / "failures.csv")
    else:
        (out_dir / "failures.csv").unlink(missing_ok=True)
    store.write_text(tables.notes(manifest, check, fits, len(outcomes), len(authorities), failed), out_dir / "notes.md")
    return NationalResult(out_dir, projections, england, fits, check, failed, manifest)
