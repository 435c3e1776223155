"""Forecast skill tables: which series are scored, horizons, ensembles from the model's annual
table and the naive forecasters, a stored task's scores, the run's notes, the quick sample's rule
and the run's projected time.

Pure functions of tables (no model runs, no files). At forecast origin ``Y`` the data known are
the January censuses up to ``Y`` and calendar-year activity up to ``Y - 1``; horizon ``h`` of a
census series is the January census ``Y + h``, of an activity series the calendar year
``Y - 1 + h`` (so horizon 1 is the first value not yet published either way).
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd

from hnsim.analysis.calibration_targets import HEADLINE
from hnsim.analysis.discrepancy import Discrepancy, with_discrepancy
from hnsim.analysis.naive import naive_forecasts
from hnsim.analysis.scores import MODEL, SCORE_COLUMNS, common_rows, mase_scale, score_ensembles, summary_table
from hnsim.results.schemas import ENSEMBLE_COLUMNS, fy_label
from hnsim.results.skill import TaskOutcome

#: Series scored (observed metric of :mod:`hnsim.data.series`) -> the model's metrics summed for it.
#: SEN2's "Mainstream school" group includes SEN units and resourced provision.
SERIES: dict[str, tuple[str, ...]] = {
    "ehcp_total": ("ehcp_total",),
    "ehcp_mainstream": ("ehcp_mainstream", "ehcp_resourced"),
    "ehcp_special": ("ehcp_special",),
    "ehcp_independent": ("ehcp_independent",),
    "ehcp_post16": ("ehcp_post16",),
    "ehcp_age_under5": ("ehcp_age_under5",),
    "ehcp_age_5_10": ("ehcp_age_5_10",),
    "ehcp_age_11_15": ("ehcp_age_11_15",),
    "ehcp_age_16_19": ("ehcp_age_16_19",),
    "ehcp_age_20_25": ("ehcp_age_20_25",),
    "assessment_requests_calendar_year": ("assessment_requests_calendar_year",),
    "new_ehcps_calendar_year": ("new_ehcps_calendar_year",),
}
ACTIVITY_SERIES = ("assessment_requests_calendar_year", "new_ehcps_calendar_year")
HEADLINE_SERIES = HEADLINE  # January totals, requests and new plans: the calibration's headline series
#: ``skill.parquet``: who and when (task identity), what was forecast by whom, its scores, the method used.
IDENTITY = ["authority", "old_la_code", "la_code", "region_name", "origin"]
KEYS = ["series", "year", "horizon", "forecaster"]
SKILL_COLUMNS = [*IDENTITY, *KEYS, *SCORE_COLUMNS, "method"]
#: ``tasks.csv``: one row per task.
TASK_COLUMNS = ["key", "authority", "old_la_code", "origin", "plans", "members", "objective", "evaluations", "seconds", "cpu_seconds"]


def last_known(series: str, origin: int) -> int:
    """The latest year of ``series`` known at ``origin``."""
    return origin - 1 if series in ACTIVITY_SERIES else origin


def horizon(series: str, year: int, origin: int) -> int:
    """Years ahead of the origin: 1 for the first value not yet published."""
    return int(year) - last_known(series, origin)


def financial_year_label(year: int) -> str:
    """The financial year a January census or calendar year ``year`` is reported against: 2019 -> '2018-19'."""
    return fy_label(year - 1)


def series_table(observed: pd.DataFrame) -> pd.DataFrame:
    """``series, year, value`` of the scored series in an observed table (``load_observed`` or
    ``caseload_series`` + ``activity_series``)."""
    rows = observed[observed["metric"].isin(list(SERIES))]
    out = pd.DataFrame({"series": rows["metric"].to_numpy(), "year": rows["year"].astype(int).to_numpy(), "value": rows["value"].astype(float).to_numpy()})
    return out.sort_values(["series", "year"], kind="stable").reset_index(drop=True)


def forecast_years(training: pd.DataFrame, origin: int, last_year: int) -> dict[str, list[int]]:
    """The years each series is forecast for: from horizon 1 to ``last_year``, for the series with at
    least one value known at ``origin`` (a series with none has nothing to fit a naive forecaster to)."""
    known = set(training["series"])
    return {s: list(range(last_known(s, origin) + 1, last_year + 1)) for s in SERIES if s in known and last_known(s, origin) < last_year}


def simulated_years(training: pd.DataFrame, wanted: dict[str, list[int]], origin: int) -> dict[str, list[int]]:
    """The years of each series to take from the model's annual table for a forecast: the years
    published at ``origin`` (the fitted years, for the discrepancy's growth error, and horizon 0,
    its anchor) and the ``wanted`` ones after them."""
    published = training.groupby("series")["year"].apply(lambda years: sorted(int(y) for y in years)).to_dict()
    return {s: sorted({*(y for y in published.get(s, []) if y <= last_known(s, origin)), last_known(s, origin), *years})
            for s, years in wanted.items()}


def model_ensembles(annual: pd.DataFrame, years: dict[str, list[int]], origin: int, member: str = "member") -> pd.DataFrame:
    """The model's forecast ensembles (:data:`ENSEMBLE_COLUMNS`, forecaster ``hnsim``) from its
    long annual table (``member`` or ``replication``, ``financial_year, metric, value``)."""
    wide = annual.pivot_table(index=["metric", "financial_year"], columns=member, values="value", aggfunc="first")
    frames = []
    for series, wanted in years.items():
        for year in wanted:
            rows = [(metric, financial_year_label(year)) for metric in SERIES[series]]
            if not all(r in wide.index for r in rows):
                continue
            total = wide.loc[rows].sum(axis=0, min_count=len(rows)).dropna()
            frames.append(pd.DataFrame({"series": series, "year": year, "horizon": horizon(series, year, origin), "forecaster": "hnsim",
                                        "member": total.index.to_numpy(dtype=int), "value": total.to_numpy(dtype=float)}))
    return pd.concat(frames, ignore_index=True)[ENSEMBLE_COLUMNS] if frames else pd.DataFrame(columns=ENSEMBLE_COLUMNS)


def published_forecast(simulated: pd.DataFrame, training: pd.DataFrame, origin: int, discrepancy: Discrepancy, seed: list[int],
                       growth_error: bool = True) -> pd.DataFrame:
    """The model's forecast of the published values (forecaster ``hnsim``) from its simulated
    ensembles (:func:`model_ensembles`, the fitted years and horizon 0 included): each series
    anchored on its last value known at ``origin`` in ``training`` and given the discrepancy's
    steps and growth error (:func:`hnsim.analysis.discrepancy.with_discrepancy`)."""
    anchors = {s: last_known(s, origin) for s in simulated["series"].unique()}
    return with_discrepancy(simulated, training, anchors, discrepancy, seed, growth_error=growth_error)


def discrepancy_seed(seed: int, origin: int, old_la_code: str) -> list[int]:
    """The model discrepancy's seed in a skill task: the root seed, the origin, the authority's code
    (as the naive forecasters') and a tag of its own."""
    return [seed, origin, zlib.crc32(old_la_code.encode()), 1_000]


def naive_ensembles(training: pd.DataFrame, years: dict[str, list[int]], origin: int, draws: int, seed: list[int]) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """Every naive forecaster's ensembles for each series in ``years``, fitted to the ``training``
    values (``series, year, value``), and the method each used by series. Series ``i`` of
    :data:`SERIES` draws from ``seed + [i]``."""
    frames, methods = [], {}
    order = {s: i for i, s in enumerate(SERIES)}
    for series, wanted in years.items():
        rows = training[training["series"] == series]
        methods[series] = {}
        for forecast in naive_forecasts(rows["year"].to_numpy(), rows["value"].to_numpy(), wanted, draws, [*seed, order[series]]):
            methods[series][forecast.forecaster] = forecast.method
            n = forecast.draws.shape[1]
            for year, draw in zip(forecast.years, forecast.draws):
                frames.append(pd.DataFrame({"series": series, "year": year, "horizon": horizon(series, year, origin), "forecaster": forecast.forecaster,
                                            "member": np.arange(n), "value": draw}))
    return (pd.concat(frames, ignore_index=True)[ENSEMBLE_COLUMNS] if frames else pd.DataFrame(columns=ENSEMBLE_COLUMNS)), methods


def scales(training: pd.DataFrame) -> pd.DataFrame:
    """``series, scale``: the MASE scale of each training series (mean absolute one-step change)."""
    rows = [{"series": s, "scale": mase_scale(g["value"].to_numpy(), g["year"].to_numpy())} for s, g in training.groupby("series", sort=True)]
    return pd.DataFrame(rows, columns=["series", "scale"])


def later_values(observed: pd.DataFrame, origin: int) -> pd.DataFrame:
    """``series, year, horizon, observed``: the published values of the scored series not known at ``origin``."""
    table = series_table(observed)
    table = table[table["year"] > table["series"].map(lambda s: last_known(s, origin))]
    return pd.DataFrame({"series": table["series"], "year": table["year"], "horizon": [horizon(s, y, origin) for s, y in zip(table["series"], table["year"])],
                         "observed": table["value"]}).reset_index(drop=True)


def skill_summary(scored: pd.DataFrame) -> pd.DataFrame:
    """The summary table: scores by series and horizon and forecaster (:func:`summary_table`), with
    rows pooled over horizons (``horizon`` 'all'), over series (``series`` 'all') and both, on the
    values every forecaster forecast. ``horizon`` is text ('1', '2', ..., 'all')."""
    common = common_rows(scored, ["old_la_code", "origin", "series", "year"]).assign(horizon=lambda f: f["horizon"].astype(int).astype(str))
    parts = [common, common.assign(horizon="all"), common.assign(series="all"), common.assign(series="all", horizon="all")]
    out = pd.concat([summary_table(p, ["series", "horizon"]) for p in parts], ignore_index=True)
    order = {s: i for i, s in enumerate([*SERIES, "all"])}
    out = out.assign(_s=out["series"].map(order), _h=out["horizon"].map(lambda h: 99 if h == "all" else int(h)))
    return out.sort_values(["_s", "_h", "forecaster"], kind="stable").drop(columns=["_s", "_h"]).reset_index(drop=True)


# ------------------------------------------------------------------ a stored task's scores, the run's notes
def score_task(outcome: TaskOutcome, truth: pd.DataFrame) -> pd.DataFrame:
    """The scored rows (:data:`SKILL_COLUMNS`) of one stored task against ``truth``, the values
    published after its origin (:func:`later_values`); the PIT's randomisation is seeded by the task's key."""
    info = outcome.info
    training = pd.DataFrame(info["training"], columns=["series", "year", "value"])
    scored = score_ensembles(outcome.ensembles, truth, KEYS, scales(training), seed=zlib.crc32(info["key"].encode()))
    methods = info.get("naive_methods", {})
    scored["method"] = [("model" if f == MODEL else methods.get(s, {}).get(f, f)) for s, f in zip(scored["series"], scored["forecaster"])]
    for column, value in zip(IDENTITY, (info["la_name"], info["old_la_code"], info["la_code"], info["region_name"], int(info["origin"]))):
        scored[column] = value
    return scored[SKILL_COLUMNS]


def task_row(key: str, info: dict[str, Any]) -> dict[str, Any]:
    """A stored task's row of ``tasks.csv`` (:data:`TASK_COLUMNS`) from its record."""
    calibration = info.get("calibration", {})
    return {"key": key, "authority": info["la_name"], "old_la_code": info["old_la_code"], "origin": info["origin"], "plans": info["plans"],
            "members": info["members"], "objective": calibration.get("objective"), "evaluations": calibration.get("evaluations"),
            "seconds": info["seconds"], "cpu_seconds": info["cpu_seconds"]}


def _pct(v: float) -> str:
    return "-" if pd.isna(v) else f"{v:.1f}%"


def notes(summary: pd.DataFrame, tasks: int, failures: pd.DataFrame, manifest: dict[str, Any]) -> str:
    """notes.md of a skill directory: what the run was, and the model against the best naive
    forecaster on the headline series (``summary``: :func:`skill_summary`; ``failures``: ``key, stage, error``)."""
    s = summary
    lines = [f"# Forecast skill: {tasks} tasks (authority x origin), origins {', '.join(map(str, manifest.get('origins', [])))}", "",
             f"Model ensemble: {manifest.get('replications')} replications of each task's calibrated config (calibration `{manifest.get('calibrate')}`, "
             f"{manifest.get('max_evaluations')} evaluations of {manifest.get('fit_replications')} replications, from the middle of every range); "
             f"naive forecasters: {manifest.get('naive_draws')} draws each. CRPS: fair estimator (scoringrules). Scores on the values published after each "
             "origin; skill = 1 - mean CRPS of hnsim / mean CRPS of the best naive forecaster of the cell.", ""]
    if len(s):
        lines += ["| series | horizon | hnsim mean APE | best naive | its mean APE | CRPS skill | CRPS skill (% of observed) | hnsim 50% / 90% coverage |", "|---|---|---|---|---|---|---|---|"]
        model = s[s["forecaster"] == MODEL]
        for r in model[model["series"].isin([*HEADLINE_SERIES, "all"])].itertuples(index=False):
            best = s[(s["series"] == r.series) & (s["horizon"] == r.horizon) & (s["forecaster"] == r.best_naive)]
            ape = best["mean_ape"].iloc[0] if len(best) else float("nan")
            lines.append(f"| {r.series} | {r.horizon} | {_pct(r.mean_ape)} | {r.best_naive} | {_pct(ape)} | {r.crps_skill:+.2f} | {r.crps_pct_skill:+.2f} | "
                         f"{100 * r.coverage_50:.0f}% / {100 * r.coverage_90:.0f}% |")
    lines += ["", f"Wall time {manifest.get('wall_seconds')} s this session; CPU seconds in the tasks {manifest.get('task_cpu_seconds')}; executor {manifest.get('executor')}."]
    if len(failures):
        lines += ["", "Failed tasks:", *[f"- {r.key} ({r.stage}): {r.error}" for r in failures.itertuples(index=False)]]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the quick sample
def quick_sample(authorities: pd.DataFrame, size: int = 20, always: tuple[str, ...] = ("916",)) -> list[str]:
    """The quick sample's rule: ``always`` (Gloucestershire, the first user), then one authority from
    each of ``size - len(always)`` strata of equal count by January caseload, each stratum taking
    the authority of the region least represented so far (ties: closest to the stratum's median
    caseload, then the code). ``authorities``: ``old_la_code, region_name, plans``. Returns old codes
    in sample order."""
    table = authorities.sort_values(["plans", "old_la_code"], kind="stable").reset_index(drop=True)
    chosen = [c for c in always if c in set(table["old_la_code"])]
    regions = {r: 0 for r in sorted(table["region_name"].unique())}
    for c in chosen:
        regions[table.loc[table["old_la_code"] == c, "region_name"].iloc[0]] += 1
    rest = table[~table["old_la_code"].isin(chosen)].reset_index(drop=True)
    strata = np.array_split(np.arange(len(rest)), size - len(chosen))
    for stratum in strata:
        part = rest.iloc[stratum]
        median = float(part["plans"].median())
        key = part.assign(seen=part["region_name"].map(regions), gap=(part["plans"] - median).abs())
        pick = key.sort_values(["seen", "gap", "old_la_code"], kind="stable").iloc[0]
        chosen.append(str(pick["old_la_code"]))
        regions[pick["region_name"]] += 1
    return chosen


def projected_seconds(tasks: pd.DataFrame, plans: pd.Series, workers: int, overhead_s: float = 0.0) -> dict[str, float]:
    """Projected wall time of a run from measured tasks: CPU seconds per task fitted as
    ``a + b x plans`` by least squares on ``tasks`` (``plans, cpu_seconds``), summed over every task
    of the run (``plans``, one per task), divided among ``workers`` but never below the longest
    task (tasks run largest first). Returns the fit and the projection in seconds."""
    x, y = tasks["plans"].to_numpy(dtype=float), tasks["cpu_seconds"].to_numpy(dtype=float)
    b, a = np.polyfit(x, y, 1) if len(tasks) > 1 else (y.mean() / max(x.mean(), 1.0), 0.0)
    each = np.maximum(a + b * plans.to_numpy(dtype=float), 0.0) + overhead_s
    total = float(each.sum())
    return {"intercept_s": float(a), "per_1000_plans_s": float(1000 * b), "cpu_seconds": total, "longest_task_s": float(each.max()),
            "wall_seconds": max(total / workers, float(each.max()))}
