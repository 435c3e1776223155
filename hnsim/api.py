"""The Python API: every operation of the command line, for notebooks and scripts.

>>> from hnsim import api
>>> config = api.load_config("configs/gloucestershire.yaml")
>>> result = api.run(config, replications=3, workers=1)      # doctest: +SKIP
>>> result.summary.query("metric == 'ehcp_total'")          # doctest: +SKIP

Bad input raises an :class:`~hnsim.errors.InputError` (``problems`` holds one line per problem);
the command line prints those lines and exits with code 2. Functions that write take ``out_dir``;
where it is None they write to the command line's default directory under ``results/`` (``run``
alone writes nothing then and only returns the tables).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hnsim.analysis.compare import financial_year_of, key_years, window_savings
from hnsim.analysis.discrepancy import DRAWS_PER_MEMBER, Discrepancy, forecast_quantiles
from hnsim.analysis.skill import ACTIVITY_SERIES, last_known, model_ensembles, published_forecast, series_table, simulated_years
from hnsim.analysis.skill import SERIES as PUBLISHED_SERIES
from hnsim.analysis.summary import summarise, wide
from hnsim.config import Config, ConfigError, config_dict, load_config
from hnsim.config.load import apply_overrides, read_yaml
from hnsim.config import json_schema
from hnsim.config.outlook import data_vantage, enabled_levers, funding_assumption
from hnsim.config.paths import lever_quantity
from hnsim.data import sen2
from hnsim.data.observed import load_observed
from hnsim.data.series import activity_series, caseload_series
from hnsim.data.vantage import observed_at
from hnsim.errors import InputError
from hnsim.experiment import calibrate as calibration
from hnsim.experiment.adaptive import DifferenceTarget, Precision
from hnsim.experiment.compare import ComparisonResult, load_scenarios
from hnsim.experiment.compare import compare as compare_configs
from hnsim.experiment.discrepancy import discrepancy_known_at
from hnsim.experiment.definition import Experiment, load_experiment
from hnsim.experiment.executors import ExecutorError, open_pool
from hnsim.experiment.national import NationalDesign, NationalResult, national_authorities, run_national
from hnsim.experiment.outcomes import check_outcomes, financial_years
from hnsim.experiment.recost import recost as recost_run
from hnsim.experiment.rolling import RollingDesign, run_rolling
from hnsim.experiment.run import run as run_config
from hnsim.experiment.runner import default_workers, member_config
from hnsim.experiment.seek import DIRECTIONS, SeekProblem, SeekResult
from hnsim.experiment.seek import seek as seek_level
from hnsim.experiment.skill import DEFAULT_ORIGINS, QUICK_SAMPLE, SkillDesign, run_skill, skill_authorities
from hnsim.experiment.skill_run import SkillResult
from hnsim.experiment.skill_task import Calibrate, Calibration, SkillTask, fit_calibration, project, run_task
from hnsim.experiment.sweep import SweepResult, run_sweep
from hnsim.experiment.sweep_file import load_sweep
from hnsim.model import Parameters, annual_metrics, compile_parameters
from hnsim.model.records import EventLog
from hnsim.model import simulate as _simulate_config
from hnsim.plots.labels import lever_label, scenario_label
from hnsim.plots.style import money_text as _money_text
from hnsim.report import FORMATS, Report, build_report
from hnsim.report.calibration import write_backtest, write_report
from hnsim.report.forecast import headline as forecast_headline
from hnsim.report.forecast import write_forecast
from hnsim.report.skill import write_skill_figures
from hnsim.results import store
from hnsim.results.event_log import read_event_log
from hnsim.results.manifest import annotate
from hnsim.results.rundir import RunResult, read_run

__all__ = [
    "DEFAULT_ORIGINS", "DIRECTIONS", "FORMATS", "QUICK_SAMPLE", "ConfigError", "InputError", "ExecutorError", "RunResult", "Precision",
    "DifferenceTarget", "difference_target",
    "Calibrate", "Calibration", "RollingDesign", "SkillDesign", "SkillResult", "SkillTask",
    "Forecast", "forecast", "forecast_headline", "annual_metrics", "backtest", "backtest_rolling", "calibrate", "compare", "compile_parameters", "default_run_dir", "default_workers",
    "fit_calibration", "init_config", "list_authorities", "load_config", "load_experiment", "national", "origins", "precision", "project",
    "read_event_log", "read_run", "recost", "report", "member_config", "run", "run_experiment", "run_task", "seek", "simulate", "skill", "summarise", "sweep",
    "sweep_rankings", "wide", "write_observed",
    "Headline", "comparison_headline", "config_schema", "money_text", "scenario_levers",
]


def simulate(config: Config, replication: int = 0, seed: int | None = None, params: Parameters | None = None) -> EventLog:
    """One replication's event log, exactly as a run simulates it: with a posterior ensemble, on
    member ``replication`` (:func:`member_config`; pass ``compile_parameters(member_config(config,
    replication))`` as ``params`` to cost it as the run does)."""
    member = member_config(config, replication)
    return _simulate_config(member, replication, seed, params)

RESULTS = Path("results")
#: Where the fit search may start: the config's own values, or the middle of each range.
STARTS = ("config", "centre")


def _name(config_path: str | Path, overlays: Sequence[str | Path] = ()) -> str:
    return Path(config_path).stem + "".join(f"+{Path(o).stem}" for o in overlays)


def default_run_dir(config_path: str | Path, overlays: Sequence[str | Path] = ()) -> Path:
    """Where ``hnsim run`` writes by default: ``results/<config>[+<overlay>...]``."""
    return RESULTS / _name(config_path, overlays)


# ---------------------------------------------------------------- runs
def precision(text: str, config: Config, max_replications: int = 100) -> Precision:
    """A precision target ``METRIC:YEAR:HALFWIDTH`` for :func:`run`, checked against the config."""
    try:
        target = Precision.parse(text, max_replications)
    except ValueError as exc:
        raise ConfigError([f"--until-half-width {exc}"]) from None
    problems = check_outcomes(config_dict(config), [("--until-half-width", target.metric, target.financial_year)], "run")
    if problems:
        raise ConfigError(problems)
    return target


def run(config: Config | str | Path, overlays: Sequence[str | Path] = (), replications: int | None = None, seed: int | None = None,
        workers: int = 1, out_dir: str | Path | None = None, progress: bool = False, precision: Precision | None = None,
        keep_log: bool = False, scenario: str | None = None) -> RunResult:
    """Run replications of a config (a :class:`~hnsim.config.Config`, or a file with scenario
    ``overlays``), in ``workers`` local processes; write the run directory if ``out_dir`` is given.

    ``replications`` and ``seed`` default to the config's. ``precision`` adds replications until
    an interval is narrow enough (see :func:`precision`). ``keep_log`` also writes every child's
    spells and events (``spells.parquet``, ``events.parquet``), which :func:`recost` can re-price.
    The scenario is called ``baseline``, or after the overlays.
    """
    path = None
    if isinstance(config, Config) and overlays:
        raise ValueError("overlays go with a config file; apply them before validating a Config")
    if not isinstance(config, Config):
        path = str(config)
        config = load_config(config, overlays)
        scenario = scenario or (_name(path, overlays) if overlays else "baseline")
    return run_config(config, replications, seed, workers, out_dir, scenario or "baseline", progress, path, precision, keep_log)


def recost(run_dir: str | Path, config: Config | str | Path, out_dir: str | Path | None = None) -> RunResult:
    """Re-cost a run made with ``keep_log``: its children's spells priced with ``config``'s costs
    and finance, without re-simulating. Refuses a config that differs from the run's in anything
    else. Writes ``out_dir`` (default ``<run_dir>-recost-<config>``)."""
    path = None if isinstance(config, Config) else str(config)
    if path is not None:
        config = load_config(path)
    name = Path(path).stem if path else "config"
    out = Path(out_dir) if out_dir is not None else Path(f"{Path(run_dir)}-recost-{name}")
    return recost_run(run_dir, config, out, path)


def difference_target(half_width: float, config: Config | str | Path, metric: str = "spend_total", years: str = "2020-21:2024-25",
                      max_replications: int = 100, to_last_year: bool = False) -> DifferenceTarget:
    """A precision target for :func:`compare`: every scenario's paired 95% half-width of the
    difference from the base in ``metric`` summed over ``years`` (``FIRST:LAST``, financial years,
    both included) at most ``half_width``, with at most ``max_replications``; checked against the
    base ``config``. ``to_last_year`` simulates only to the end of the last of ``years``."""
    data = config_dict(config if isinstance(config, Config) else load_config(config))
    if not half_width > 0:
        raise ConfigError([f"--until-half-width {half_width}: must be above 0 (pounds)"])
    if max_replications < 2:
        raise ConfigError([f"--max-replications {max_replications}: must be at least 2"])
    first, _, last = years.partition(":")
    simulated = financial_years(data)
    problems = check_outcomes(data, [("--metric", metric, None)] + [("--years", None, y) for y in dict.fromkeys((first, last or first))], "compare")
    if problems:
        raise ConfigError(problems)
    chosen = simulated[simulated.index(first): simulated.index(last or first) + 1]
    if not chosen:
        raise ConfigError([f"--years {years}: the first year must not be after the last (write FIRST:LAST, like 2020-21:2024-25)"])
    return DifferenceTarget(float(half_width), tuple(chosen), metric, max_replications, to_last_year)


def compare(base: str | Path, scenarios: Sequence[str | Path], replications: int = 20, seed: int | None = None, workers: int = 1,
            out_dir: str | Path | None = None, progress: bool = False, target: DifferenceTarget | None = None,
            on_batch: Callable[[dict[str, Any]], None] | None = None) -> ComparisonResult:
    """Run the ``base`` config and each scenario overlay with common random numbers and compare them
    (paired differences, savings, decomposition, outcomes); writes ``out_dir`` (default
    ``results/compare-<base>``). ``seed`` defaults to the base config's.

    With ``target`` (see :func:`difference_target`), ``replications`` is the first batch and more
    are added until every scenario's paired half-width is narrow enough or the cap is reached; the
    tables are those of a comparison of the final number of replications, and the manifest's
    ``precision`` records the batches. ``on_batch`` receives each batch's record as it ends
    (``replications``, ``half_width``: the worst, ``scenarios``: each one's ``difference_mean`` and
    ``half_width``)."""
    configs = load_scenarios(base, scenarios)
    seed = configs["baseline"].simulation.seed if seed is None else seed
    out = Path(out_dir) if out_dir is not None else RESULTS / f"compare-{Path(base).stem}"
    return compare_configs(configs, replications, seed, workers, out, progress, target, on_batch)


def sweep(sweep_file: str | Path, out_dir: str | Path | None = None, workers: int = 1, scheduler: str | None = None,
          local_dask: bool = False, progress: bool = False) -> SweepResult:
    """Run (or finish) every point of a sweep file on local processes, a local Dask cluster or the
    Dask ``scheduler`` at an address; writes ``out_dir`` (default ``results/sweeps/<name>``)."""
    spec = load_sweep(sweep_file)
    out = Path(out_dir) if out_dir is not None else RESULTS / "sweeps" / spec.name
    with open_pool(workers, scheduler, local_dask) as pool:
        return run_sweep(spec, out, pool, progress)


def sweep_rankings(sweep_dir: str | Path) -> list[tuple[str, pd.DataFrame]]:
    """The parameters of a finished sweep ranked for its first outcome: ``(column ranked by, rows)``
    from ``tornado.csv`` (by swing) and ``sensitivity.csv`` (Sobol ST or Morris mu_star), where present."""
    found = []
    for name, column in (("tornado.csv", "swing"), ("sensitivity.csv", None)):
        path = Path(sweep_dir) / name
        if not path.exists():
            continue
        table = pd.read_csv(path)
        first = table[(table["metric"] == table["metric"].iloc[0]) & (table["financial_year"] == table["financial_year"].iloc[0])]
        found.append((column or ("ST" if "ST" in table else "mu_star"), first))
    return found


def seek(config: str | Path, parameter: str, low: float, high: float, metric: str, year: str, target: float,
         direction: str = "at_least", confidence: float = 0.95, replications: int | None = None, seed: int | None = None,
         integer: bool = False, tolerance: float | None = None, workers: int = 1, scheduler: str | None = None,
         out_dir: str | Path | None = None, overlays: Sequence[str | Path] = (),
         on_evaluation: Callable[[dict[str, Any]], None] | None = None) -> SeekResult:
    """The level of ``parameter`` between ``low`` and ``high`` at which ``metric`` in ``year`` is at
    least (or at most) ``target`` with ``confidence``, by bisection over common random numbers;
    writes ``seek.json`` and ``seek_evaluations.csv`` into ``out_dir`` (default ``results/<config>-seek``).

    ``parameter`` is a lever quantity by default: a path whose first key names a lever
    (``special_school_expansion.extra_places[0].places``) is read inside ``levers:``, and that lever
    is switched on for the search; any other path is a config path (:mod:`hnsim.config.paths`)."""
    cfg = load_config(config, overlays)
    if not low < high:
        raise ConfigError([f"--low ({low}) must be below --high ({high})"])
    if direction not in DIRECTIONS:
        raise ConfigError([f"--direction {direction}: allowed: {', '.join(DIRECTIONS)}"])
    data = config_dict(cfg)
    path, lever = lever_quantity(data, parameter)
    note = ""
    if lever is not None and not data["levers"][lever].get("enabled"):
        data = apply_overrides(data, {f"levers.{lever}.enabled": True})
        note = f"lever {lever} switched on for the search"
    elif lever is None and path.split(".")[0] not in ("levers", "finance", "costs", "simulation"):
        note = (f"{path} changes that input from the first simulated day ({cfg.simulation.start_date}); to seek a quantity a lever adds "
                "from its own date, give the lever's path (e.g. special_school_expansion.extra_places[0].places; docs/config.md, Paths)")
    problem = SeekProblem(path, low, high, metric, year, target, direction, confidence, integer, tolerance)
    problem.check(data)
    out = store.writable_directory(Path(out_dir) if out_dir is not None else RESULTS / f"{Path(config).stem}-seek")
    reps = max(2, replications or cfg.simulation.replications)
    with open_pool(workers, scheduler) as pool:
        result = seek_level(data, problem, reps, cfg.simulation.seed if seed is None else seed, pool.executor, on_evaluation=on_evaluation)
    result.summary.update(asked=parameter, lever=lever, note=note, data_vantage=data_vantage(data), funding_assumption=funding_assumption(data))
    if note:
        result.message += f" ({note})"
    store.write_csv(result.evaluations, out / "seek_evaluations.csv")
    store.write_json(result.summary, out / "seek.json")
    result.out_dir = out
    return result


# ---------------------------------------------------------------- calibration
@dataclass
class Calibrated:
    """A fit, or a backtest (``backtest`` set), and the directory its report was written to."""

    fit: calibration.FitResult
    out_dir: Path
    backtest: calibration.BacktestResult | None = None


def _calibration_input(config: str | Path) -> dict[str, Any]:
    cfg = load_config(config)
    if cfg.calibration is None:
        raise ConfigError([f"{config}: no calibration section; list the free parameters under calibration.free (see docs/calibration.md)"])
    return read_yaml(Path(config))  # as written, sources and all, for the calibrated copy


CALIBRATION_METHODS = ("least_squares", "history_matching")


def calibrate(config: str | Path, data_dir: str | Path, fit_until: int = 2019, replications: int = 8, max_evaluations: int = 250,
              report_replications: int = 100, workers: int = 1, scheduler: str | None = None, local_dask: bool = False,
              start: str = "config", out_dir: str | Path | None = None, say: Callable[[str], None] | None = None,
              method: str | None = None, members: int | None = None) -> Calibrated:
    """Fit the config's free parameters (its ``calibration:`` section) to the observed series in
    ``data_dir`` up to ``fit_until``, each evaluation on the executor chosen as for :func:`sweep`;
    write the calibrated config and the fit report to ``out_dir`` (default
    ``results/<config>-calibrated``). ``say`` receives a line per evaluation.

    ``method`` (default: the config's): ``least_squares`` or ``history_matching``, which writes the
    posterior ensemble beside the calibrated config (``<config>.ensemble.csv``) and keeps each
    wave's simulations in ``out_dir/history-matching`` so a killed fit resumes."""
    data = _calibration_input(config)
    observed = load_observed(data_dir)
    out = store.writable_directory(Path(out_dir) if out_dir is not None else RESULTS / f"{Path(config).stem}-calibrated")
    with open_pool(workers, scheduler, local_dask) as pool:
        result = calibration.fit(data, data_dir, fit_until, replications, max_evaluations, report_replications, pool.workers,
                                 start=start, progress=say, executor=pool.executor, observed=observed, method=method, members=members,
                                 cache_dir=out / "history-matching")
    write_report(result, observed, out, f"Fit report: {Path(config).stem} calibrated to {fit_until}", Path(config).name, original=Path(config).read_text(encoding="utf-8"))
    return Calibrated(result, out)


def backtest(config: str | Path, data_dir: str | Path, fit_until: int, replications: int = 8, max_evaluations: int = 250,
             report_replications: int = 100, workers: int = 1, scheduler: str | None = None, local_dask: bool = False,
             out_dir: str | Path | None = None, say: Callable[[str], None] | None = None, method: str | None = None,
             members: int | None = None) -> Calibrated:
    """Calibrate on the observed years up to ``fit_until`` only, then measure the error on the later
    years; write the fit report with its backtest section and ``backtest.csv`` to ``out_dir``
    (default ``results/<config>-backtest-<year>``)."""
    data = _calibration_input(config)
    observed = load_observed(data_dir)
    calibration.check_backtest(observed, data_dir, fit_until)
    out = store.writable_directory(Path(out_dir) if out_dir is not None else RESULTS / f"{Path(config).stem}-backtest-{fit_until}")
    with open_pool(workers, scheduler, local_dask) as pool:
        result = calibration.backtest(data, data_dir, fit_until, replications, max_evaluations, report_replications, pool.workers,
                                      progress=say, executor=pool.executor, observed=observed, method=method, members=members,
                                      cache_dir=out / "history-matching")
    write_backtest(result, observed, out, Path(config).name, Path(config).read_text(encoding="utf-8"))
    return Calibrated(result.fit, out, result)


def national(data_dir: str | Path, out_dir: str | Path | None = None, workers: int = 1, scheduler: str | None = None,
             local_dask: bool = False, authorities: Sequence[str] = (), replications: int = 10, max_evaluations: int = 72,
             fit_replications: int = 2, horizon: int | None = None, progress: bool = False) -> NationalResult:
    """Build, calibrate and project every local authority in the SEN2 files in ``data_dir`` (or
    the ``authorities`` named); resumable; writes ``out_dir`` (default ``results/national``)."""
    design = NationalDesign(Path(data_dir), replications, fit_replications, max_evaluations, horizon).resolved()
    if design.horizon <= design.fit_until():
        raise ConfigError([f"--horizon {horizon}: must be after {design.fit_until()}, the last January census fitted (the projection ends on 31 March)"])
    chosen = national_authorities(design.sen2_dir, list(authorities) or None)
    with open_pool(workers, scheduler, local_dask) as pool:
        return run_national(design, chosen, Path(out_dir) if out_dir is not None else RESULTS / "national", pool, progress)


# ---------------------------------------------------------------- forecast skill
def origins(text: str, option: str = "--origins") -> tuple[int, ...]:
    """Forecast origins from text: ``'2016,2017,2018'`` -> ``(2016, 2017, 2018)`` (January census years)."""
    try:
        years = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise InputError([f"{option} '{text}': give January census years separated by commas, like 2016,2017,2018"]) from None
    if not years:
        raise InputError([f"{option}: give at least one year, like 2016,2017,2018"])
    return years


def skill(design: SkillDesign, out_dir: str | Path | None = None, authorities: Sequence[str] | None = None, quick: bool = False,
          workers: int = 1, scheduler: str | None = None, local_dask: bool = False, calibrate: Calibrate | None = None,
          progress: bool = False, figures: bool = True) -> SkillResult:
    """Forecast skill of the authorities (names or codes; the quick sample with ``quick``; all by
    default) at ``design.origins`` (a :class:`SkillDesign`): each calibrated on the data known at
    the origin, projected, and scored with four naive forecasters on the values published later.
    Resumable; written to ``out_dir`` (default ``results/skill``, or ``results/skill-quick``) with
    its figures; evaluations on the executor chosen as for :func:`sweep`.

    ``calibrate(task) -> Calibration`` is each task's calibration step (default
    :func:`fit_calibration`, the national run's fit): give another (importable) function to judge
    another calibration method with the same harness, e.g.::

        def my_calibration(task: SkillTask) -> Calibration:
            configs = ...  # calibrated configs from task.config and task.observed (nothing after task.origin)
            return Calibration(configs, replications=5, info={"method": "mine"})

        api.skill(api.SkillDesign("../shared/data/sen2"), "results/skill-mine", quick=True, calibrate=my_calibration)
    """
    out = Path(out_dir) if out_dir is not None else RESULTS / ("skill-quick" if quick and not authorities else "skill")
    chosen = skill_authorities(Path(design.sen2_dir), list(authorities) if authorities else None, quick)
    with open_pool(workers, scheduler, local_dask) as pool:
        result = run_skill(design, chosen, out, pool, progress, calibrate or fit_calibration)
    if figures:
        write_skill_figures(out)
    return result


def backtest_rolling(design: RollingDesign, out_dir: str | Path | None = None, workers: int = 1, scheduler: str | None = None,
                     local_dask: bool = False, calibrate: Calibrate | None = None, progress: bool = False, figures: bool = True) -> SkillResult:
    """Rolling-origin backtest of one config (a :class:`RollingDesign`: the config, its observed
    series, origins and budget): at each origin calibrated on the values known then, projected,
    and scored with the naive forecasters as :func:`skill` scores an authority. Resumable; written
    to ``out_dir`` (default ``results/<config>-rolling``) with its figures. ``calibrate`` as for :func:`skill`."""
    _calibration_input(design.config)  # a config that cannot be calibrated is refused before anything is written
    load_observed(design.data_dir)
    out = Path(out_dir) if out_dir is not None else RESULTS / f"{Path(design.config).stem}-rolling"
    with open_pool(workers, scheduler, local_dask) as pool:
        result = run_rolling(design, out, pool, progress, calibrate or fit_calibration)
    if figures:
        write_skill_figures(out)
    return result


# ---------------------------------------------------------------- forecast of published figures
@dataclass
class Forecast:
    """A run's forecast of the published figures: the table (``forecast.csv``), where it was
    written, the census year it starts from, and notes."""

    table: pd.DataFrame
    out_dir: Path
    origin: int
    members: int
    notes: list[str]


def forecast(run_dir: str | Path, data_dir: str | Path, sen2_dir: str | Path | None = None, out_dir: str | Path | None = None,
             scenario: str | None = None) -> Forecast:
    """Forecast the figures DfE publishes (the series ``hnsim skill`` scores) from a finished run:
    each replication of ``scenario`` (default: the run's base) anchored on the last value published
    in ``data_dir`` (observed series, docs/data.md) and given the model discrepancy whose steps come
    from every authority's SEN2 files in ``sen2_dir`` up to the same census
    (:mod:`hnsim.analysis.discrepancy`); without ``sen2_dir`` anchored only (a note says the bands
    then lack the structural error). Writes ``forecast.csv``, the figure and its caption to
    ``out_dir`` (default ``RUN_DIR/forecast``)."""
    run = read_run(run_dir)
    observed = load_observed(data_dir)
    census = observed.loc[observed["kind"] == "census", "year"].astype(int)
    if census.empty:
        raise InputError([f"{data_dir}: no January census figures to anchor a forecast on"])
    origin = int(census.max())
    scenarios = list(dict.fromkeys(run.annual["scenario"]))
    chosen = scenario or str(run.manifest.get("base") or run.manifest.get("scenario") or scenarios[0])
    if chosen not in scenarios:
        raise InputError([f"--scenario {chosen!r}: not in {run_dir} (it holds {', '.join(scenarios)})"])
    annual = run.annual[run.annual["scenario"] == chosen].rename(columns={"replication": "member"})
    training = series_table(observed_at(observed, origin))
    last_start = max(int(str(fy)[:4]) for fy in annual["financial_year"].unique())  # the run's last financial year starts in April of this year
    last_year = {s: (last_start if s in ACTIVITY_SERIES else last_start + 1) for s in PUBLISHED_SERIES}  # a calendar year must end inside the run
    known = set(training["series"])
    years = {s: list(range(last_known(s, origin), last_year[s] + 1)) for s in PUBLISHED_SERIES if s in known and last_known(s, origin) < last_year[s]}
    simulated = model_ensembles(annual, simulated_years(training, years, origin), origin)
    notes = []
    if sen2_dir is not None:
        steps = discrepancy_known_at(sen2_dir, origin)
    else:
        steps = Discrepancy({}, {})
        notes.append("no --sen2: the forecast is anchored on the last published values only; its bands lack the model's structural error")
    seed = int(run.manifest.get("seed") or 0)
    ensembles = published_forecast(simulated, training, origin, steps, [seed, origin, 1_000], growth_error=sen2_dir is not None)
    anchors = {s: last_known(s, origin) for s in years}  # where each fan starts
    table = forecast_quantiles(ensembles)
    members = int(annual["member"].nunique())
    out = Path(out_dir) if out_dir is not None else Path(run_dir) / "forecast"
    carried = [u for u in run.manifest.get("uncertainty", ["replication noise"]) if not str(u).startswith("funding")]
    provenance = f"hnsim forecast of {Path(run_dir).name} ({chosen}), seed {seed}"
    note = f"Data to the January {origin} census and calendar {origin - 1} activity ({data_dir}); discrepancy steps from " + (str(sen2_dir) if sen2_dir else "none")
    write_forecast(table, training, anchors, out, provenance, note, carried, members, DRAWS_PER_MEMBER, origin, steps.sources)
    return Forecast(table, out, origin, members, notes)


# ---------------------------------------------------------------- data
def list_authorities(data_dir: str | Path) -> list[sen2.Authority]:
    """Every local authority in DfE's SEN2 files, with its codes and years."""
    return sen2.list_authorities(data_dir)


@dataclass
class StarterConfig:
    """A starter config written for an authority: where, the money inputs to replace, and any
    problems validating it (none, unless the starter itself is wrong)."""

    path: Path
    authority: sen2.Authority
    warnings: list[str]
    problems: list[str]


def init_config(la: str, data_dir: str | Path, out: str | Path | None = None, force: bool = False) -> StarterConfig:
    """Write a starter config for a local authority (name, new or old code) from its SEN2 figures,
    to ``out`` (default ``configs/<authority>.yaml``); refuses to overwrite unless ``force``."""
    from hnsim.data.starter import write_starter

    auth = sen2.find_authority(data_dir, la)
    path = Path(out) if out else Path("configs") / f"{auth.slug}.yaml"
    if path.exists() and not force:
        raise InputError([f"{path}: already exists; choose another --out or add --force to overwrite it"])
    path, warnings = write_starter(data_dir, la, path)
    try:
        load_config(path)
    except ConfigError as exc:
        return StarterConfig(path, auth, warnings, exc.problems)
    return StarterConfig(path, auth, warnings, [])


@dataclass
class ObservedSeries:
    """The observed series files written for an authority."""

    authority: sen2.Authority
    paths: list[Path]


def write_observed(data_dir: str | Path, la: sen2.Authority | str, out_dir: str | Path | None = None) -> ObservedSeries:
    """Write an authority's observed caseload and activity series (``caseload.csv``,
    ``activity.csv``, docs/data.md) from the SEN2 files into ``out_dir`` (default ``data/<authority>``)."""
    auth = la if isinstance(la, sen2.Authority) else sen2.find_authority(data_dir, la)
    out = Path(out_dir) if out_dir is not None else Path("data") / auth.slug
    if out.exists() and not out.is_dir():
        raise InputError([f"{out}: is a file; --out must be a directory"])
    out = store.writable_directory(out)
    tables = (("caseload.csv", caseload_series(data_dir, auth)), ("activity.csv", activity_series(data_dir, auth)))
    return ObservedSeries(auth, [store.write_csv(table, out / name, lineterminator="\n", float_format="%.10g") for name, table in tables])


# ---------------------------------------------------------------- reports and experiments
def report(run_dir: str | Path, out_dir: str | Path | None = None, formats: Sequence[str] | None = None, observed_dir: str | Path | None = None,
           year: str | None = None) -> Report:
    """Figures (PNG, SVG, CSV, captions), DSG-plan tables and the appendix (``formats``: md, html,
    docx; default md, html and docx when python-docx is installed) for a run, comparison or sweep
    directory, into ``out_dir`` (default ``<run_dir>/report``). ``year`` is the first of the five key
    years (the medium-term financial plan) of every key table, figure and caption."""
    return build_report(run_dir, out_dir, tuple(formats) if formats is not None else None, observed_dir, year)


@dataclass
class ExperimentResult:
    """An experiment file, what its run, comparison, sweep or seek returned, and its report (if written)."""

    experiment: Experiment
    out_dir: Path
    result: RunResult | ComparisonResult | SweepResult | SeekResult
    report: Report | None = None


def run_experiment(path: str | Path, replications: int | None = None, workers: int = 1, progress: bool = False,
                   on_evaluation: Callable[[dict[str, Any]], None] | None = None) -> ExperimentResult:
    """Run an experiment file (``experiments/*.yaml``): its run, comparison, sweep or goal-seek, then
    its report unless the file says ``report: false`` (or the sweep has failed points, whose
    directory is not complete). ``replications`` overrides the file's."""
    experiment, folder = load_experiment(path)
    n = replications or experiment.replications
    out = folder / experiment.out
    base = folder / experiment.base if experiment.base else None
    overlays = [folder / s for s in experiment.scenarios]
    if experiment.kind == "run":
        result = run(base, overlays, n, workers=workers, out_dir=out, progress=progress)
    elif experiment.kind == "compare":
        result = compare(base, overlays, max(n or 20, 2), workers=workers, out_dir=out, progress=progress)
    elif experiment.kind == "sweep":
        result = sweep(folder / experiment.sweep, out, workers, progress=progress)
    else:
        s = experiment.seek
        result = seek(base, s.parameter, s.low, s.high, s.metric, s.year, s.target, s.direction, s.confidence, n, integer=s.integer,
                      workers=workers, out_dir=out, overlays=overlays, on_evaluation=on_evaluation)
    finished = experiment.kind != "seek" and result.manifest.get("status") == "complete"  # a sweep with failed points is not
    if finished:  # the experiment's own question heads its report
        annotate(out, question=experiment.question, experiment=str(path))
    made = report(out, year=experiment.year) if experiment.report and finished else None
    return ExperimentResult(experiment, out, result, made)


# ---------------------------------------------------------------- reading what a run stands on
def money_text(value: float) -> str:
    """Pounds as the reports write them: £144.6m, -£1.3m, £250k."""
    return _money_text(value)


def scenario_levers(config: str | Path, overlays: Sequence[str | Path]) -> list[tuple[str, str, str]]:
    """The levers the ``overlays`` switch on that the base ``config`` leaves off: (name, label,
    description), in the config's order."""
    base = config_dict(load_config(config))
    changed = config_dict(load_config(config, overlays))
    return [(name, lever_label(name, changed["levers"][name]), changed["levers"][name].get("description", ""))
            for name in enabled_levers(base, changed)]


@dataclass
class Headline:
    """A comparison's effects on the budget over its key years, for the command line."""

    years: list[str]
    effects: pd.DataFrame  # window_savings, with a ``label`` column
    vantage: str
    funding: str
    warnings: list[str]


def comparison_headline(result: ComparisonResult, year: str | None = None) -> Headline:
    """Each scenario's saving on spend, net effect on the in-year balance and lower deficit over the
    five key years from ``year`` (default the financial year the comparison finished in, as
    :func:`report` chooses), paired by replication."""
    annual = result.tables["annual"]
    years_all = sorted(annual["financial_year"].unique())
    if year is not None and year not in years_all:
        raise ConfigError([f"--year {year}: not a financial year of the run ({years_all[0]} to {years_all[-1]})"])
    start = year or financial_year_of(str(result.manifest.get("finished_at") or "")[:10], years_all)
    span = key_years(years_all, start)
    effects = window_savings(annual, result.manifest.get("base", "baseline"), span)
    configs = result.manifest.get("configs") or {}
    base = configs.get(result.manifest.get("base", "baseline"), {})
    effects.insert(1, "label", [scenario_label(s, configs.get(s), base) for s in effects["scenario"]])
    m = result.manifest
    return Headline(span, effects, m.get("data_vantage", ""), m.get("funding_assumption", ""), list(m.get("warnings") or []))


def config_schema(out: str | Path | None = None, overlay: bool = False) -> dict[str, Any]:
    """The JSON Schema of a config (or, with ``overlay``, of a scenario overlay, where no key is
    required), for editors that complete and check YAML; written to ``out`` if given."""
    schema = json_schema.overlay_schema() if overlay else json_schema.config_schema()
    if out is not None:
        store.write_json(schema, Path(out))
    return schema
