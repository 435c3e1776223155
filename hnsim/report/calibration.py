"""`hnsim calibrate` and `hnsim backtest` end to end: fit, final run, calibrated config, fit report.

The report is a CSV and a Markdown table of every target (observed, simulated mean, 90% interval of
the replications, error, within tolerance), figures of the published history against the simulated
fan, and plain notes on what fits less well and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import yaml

from hnsim.experiment.calibration import Evaluator, calibrated_data, current_values, from_unit, search, set_parameters, solve_money, today, with_horizon
from hnsim.analysis.calibration_targets import build_targets, simulated_values, target_table
from hnsim.config import ConfigError, validate
from hnsim.data.observed import load_observed
from hnsim.report.atomic import write_atomic

LABELS = {
    "ehcp_total": "EHCPs (January)",
    "assessment_requests_calendar_year": "requests for assessment (calendar year)",
    "new_ehcps_calendar_year": "new EHCPs (calendar year)",
    "ehcps_ceased_calendar_year": "plans ceased (calendar year)",
    "mainstream_to_special_moves_calendar_year": "mainstream to special moves (calendar year)",
    "assessments_refused_calendar_year": "refusals to assess (calendar year)",
    "assessed_no_plan_calendar_year": "assessed, no plan (calendar year)",
    "spend_total": "High Needs spend (£)",
    "spend_ap": "alternative provision spend (£)",
    "cumulative_deficit": "cumulative deficit at 31 March (£)",
    "in_year_balance": "in-year balance (£)",
    "ehcp_post16_specialist": "EHCPs in specialist post-16 institutions (January)",
}
#: Why a series can fit less well: facts about the data and the model's structure.
WHY = {
    "ehcp_total": "SEN2 totals count statements as well as EHCPs until 2018 (650, 633, 588 and 127 statements converted in 2015-2018), and SEN2's own flows do not reconcile with its stocks in the transition: January 2014 (2,496) plus 255 new plans in 2014 gives 2,425 in January 2015 only if about 325 plans ceased in 2014, most of them statements ending when year 11 left school in July 2014 under the old rules. The model follows this only through the extra ceasing at year 12 in 2014-15 and 2015-16 (placement.transfer.post16_cease_probability_by_year), one share per year for every setting.",
    "ehcp_age_16_19": "post-16 plans grew in steps as the 2014 reforms extended plans to 25 and learning difficulty assessments in FE were converted (141 in January 2015 to 634 in January 2017); the model's post-16 destinations are the same every year apart from the extra ceasing in 2014-15 and 2015-16, with conversions by year the other time-varying part.",
    "ehcp_age_20_25": "a small series (0 to 65) that only exists because of the extension to 25; the model's single continuation probability at 19 cannot follow its start from zero.",
    "ehcp_age_under5": "a small series; early years plans depend on the early-years request rate, fitted to all requests together, and on one growth trend shared by all phases.",
    "ehcp_age_11_15": "plans age from 5-10 into 11-15 and stay; with one request trend for all phases the model cannot shift new plans towards primary as fast as SEN2 shows (5-10: 1,049 to 1,417 in 2016-2019; 11-15: 1,124 to 1,288).",
    "ehcp_age_5_10": "as for 11-15: one request trend for all phases.",
    "share_post16": "the FE group in SEN2 starts at 0 in January 2015 (post-16 plans were then in school sixth forms or ceased at 16) and the setting total differs from the age total in 2016 (2,643 vs 2,627) and 2018 (3,210 vs 3,290).",
    "share_other": "'other' mixes educated elsewhere, NEET, early years and unknown settings, and jumps between years (33, 64, 156, 69, 210), a recording effect more than a flow the model can follow.",
    "share_mainstream": "SEN2's setting total differs from its age total in 2016 and 2018, so shares in those years rest on a different count; the 2017 'other' jump (156) takes its share from mainstream.",
    "share_special": "special school plans depend on commissioned places (capacity, an assumption fitted here) as well as the placement shares.",
    "new_ehcps_calendar_year": "SEN2's requests, refusals, no-plan decisions and new plans do not balance within a year (2019: 613 requests, 25 refused, 21 not issued, 484 new plans; 2018: 632, 68, 11, 566): some requests are withdrawn or still open. The model has no withdrawal path, so the plan probability absorbs them as one constant share. Refusal rates are weighted from calendar years onto financial years (9 months and 3), so refusals shift slightly between calendar years.",
    "assessment_requests_calendar_year": "requests follow the request rates times a multiplier for each financial year 2014-15 to 2019-20 (fitted; later years keep the 2019-20 level); calendar years straddle two financial years, so year-to-year steps are followed only approximately.",
    "assessed_no_plan_calendar_year": "not fitted: the fitted plan probability (below SEN2's 96%) stands for requests withdrawn or never concluded as well as assessments without a plan, so the model's 'assessed, no plan' is higher than SEN2's.",
    "assessments_refused_calendar_year": "an input, not fitted: refusal rates by calendar year from SEN2, weighted onto financial years (9 months of one calendar year and 3 of the next), so refusals shift between calendar years.",
    "ehcps_ceased_calendar_year": "SEN2's discontinued plans jump between years (86, 151, 104, 184) and miss statements that lapsed in the transition; the model's inflows include moves in (40 a year) and post-16 conversions (assumptions SEN2 does not count as new plans), so it needs more plans to cease to hold the January totals.",
    "ehcp_post16_specialist": "a small series; specialist post-16 placements follow from the destinations at 16 and 19 and from special places, fitted mainly to totals and money.",
    "mainstream_to_special_moves_calendar_year": "not fitted; moves follow from the transfer probabilities and special places, which the fit moves for the setting shares.",
    "in_year_balance": "only the 2018-19 spend and the March 2019 deficit are fitted; the 2017-18 overspend (£1.8m) is a projection in Schools Forum papers.",
    "spend_ap": "AP spend includes pupils without plans, whose numbers are an assumption; not fitted.",
}


@dataclass
class FitResult:
    """What a fit produced."""

    data: dict[str, Any]  # calibrated config, plain data, full horizon
    table: pd.DataFrame
    annual: pd.DataFrame
    objective: float
    evaluations: int
    notes: list[str]
    history: pd.DataFrame


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically (temporary name, then rename)."""
    write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _label(t: str) -> str:
    if t.startswith("share_"):
        return f"share of plans: {t[6:]} (January)"
    if t.startswith("ehcp_age_"):
        return f"EHCPs aged {t[9:].replace('_', '-').replace('under5', 'under 5')} (January)"
    return LABELS.get(t, t)


def first_financial_year(data: dict[str, Any]) -> str:
    start = validate(data, "config").simulation.start_date
    first = start.year if start.month >= 4 else start.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def fit(
    data: dict[str, Any],
    data_dir: str | Path,
    fit_until: int,
    replications: int,
    max_evaluations: int,
    report_replications: int,
    workers: int,
    start: str = "config",
    report_until: int | None = None,
    progress: Callable[[str], None] | None = None,
    executor=None,
) -> FitResult:
    """Fit the config's free parameters to the observed series up to ``fit_until``; run the result
    ``report_replications`` times and tabulate every target up to ``report_until`` (default: the
    fit's years). ``start``: 'config' (the values in the config) or 'centre' (mid-range)."""
    config = validate(data, "config")
    if config.calibration is None:
        raise ConfigError(["config: no calibration section: list the free parameters under calibration.free (see docs/calibration.md)"])
    spec = config.calibration
    observed = load_observed(data_dir)
    first_fy = first_financial_year(data)
    last_fy = f"{fit_until - 1}-{fit_until % 100:02d}"
    targets = build_targets(observed, first_fy, last_fy, fit_until)
    if not any(t.weight > 0 for t in targets):
        raise ConfigError([f"{data_dir}: no observed figures to fit between {first_fy} and {fit_until}"])
    say = progress or (lambda line: None)
    searched = [p for p in spec.free if p.solve == "search"]
    linear = [p for p in spec.free if p.solve == "linear"]
    fit_data = with_horizon(data, fit_until)
    seed = config.simulation.seed

    def on_evaluation(n: int, objective: float, best: float, values: list[float]) -> None:
        say(f"evaluation {n:>3}/{max_evaluations}: objective {objective:8.3f} (best {best:.3f})")

    evaluator = Evaluator(fit_data, searched, targets, replications, seed, workers, executor, on_evaluation)
    begin = current_values(fit_data, searched) if start == "config" else [from_mid(p) for p in searched]
    say(f"fitting {len(searched)} parameters to {sum(t.weight > 0 and t.how == 'search' for t in targets)} targets up to {fit_until}, {replications} replications per evaluation (common random numbers)")
    values, objective = search(evaluator, begin, max_evaluations)
    fitted = {p.path: v for p, v in zip(searched, values)}
    report_until = report_until or fit_until
    report_targets = build_targets(observed, first_fy, f"{report_until - 1}-{report_until % 100:02d}", report_until)
    final = set_parameters(with_horizon(data, report_until), searched, values)
    say(f"final run: {report_replications} replications")
    annual = evaluator.annual([final], report_replications)[0]
    notes: list[str] = []
    if linear:
        money, notes = solve_money(final, annual, targets, linear)
        if money:
            fitted |= money
            final = set_parameters(final, [p for p in linear if p.path in money], [money[p.path] for p in linear if p.path in money])
            say("money solved exactly: " + ", ".join(f"{k.split('.')[1]} £{v:,.0f}" for k, v in money.items()) + f"; rerun {report_replications} replications")
            annual = evaluator.annual([final], report_replications)[0]
        else:
            notes.append(f"no money figure up to {fit_until}: central spend and opening balance kept as in the config")
    values_table = simulated_values(annual, report_targets)
    table = target_table(values_table, report_targets, fit_until if report_until != fit_until else None)
    table.insert(1, "label", table["target"].map(_label))
    record = {"date": today(), "data_dir": str(data_dir), "fit_until": int(fit_until), "objective": round(float(objective), 4) if math.isfinite(objective) else 0.0,
              "replications": int(replications), "evaluations": int(evaluator.evaluations)}
    first_year = min(t.year for t in targets)
    describe = f"SEN2 and finance figures ({data_dir}) {first_year}-{fit_until}"
    out = calibrated_data(data, spec, fitted, record, describe)
    validate(out, "calibrated config")
    return FitResult(out, table, annual, objective, evaluator.evaluations, notes, pd.DataFrame(evaluator.history))


def from_mid(p) -> float:
    """The middle of a parameter's range (on its own scale)."""
    return from_unit(p, 0.5)


# ------------------------------------------------------------------ writing
def _fmt(value: float, target: str) -> str:
    if not np.isfinite(value):
        return "-"
    if target.startswith("share_"):
        return f"{100 * value:.1f}%"
    if target in ("spend_total", "spend_ap", "cumulative_deficit", "in_year_balance"):
        return f"£{value / 1e6:.2f}m"
    return f"{value:,.0f}"


def markdown_table(table: pd.DataFrame) -> str:
    """The target table as Markdown: observed, simulated mean and 90% interval, error, within."""
    split = "fitted" in table
    head = "| target | year | observed | simulated mean | 90% interval | error | tolerance | within | required |" + (" fitted |" if split else "")
    lines = [head, "|" + "---|" * (9 + split)]
    for r in table.itertuples(index=False):
        err = f"{100 * r.error:+.1f} pp" if r.target.startswith("share_") else (f"{r.error_pct:+.1f}%" if np.isfinite(r.error_pct) else _fmt(r.error, r.target))
        tol = f"{100 * r.tolerance:.0f} pp" if r.target.startswith("share_") else _fmt(r.tolerance, r.target)
        line = (f"| {r.label} | {r.year} | {_fmt(r.observed, r.target)} | {_fmt(r.simulated_mean, r.target)} | {_fmt(r.p05, r.target)} to {_fmt(r.p95, r.target)} "
                f"| {err} | {tol} | {'yes' if r.within_tolerance else '**no**'} | {'yes' if r.required else ''} |")
        lines.append(line + (f" {'yes' if r.fitted else 'test'} |" if split else ""))
    return "\n".join(lines)


def less_well(table: pd.DataFrame) -> list[str]:
    """One line per series with a target outside its tolerance (or, for required ones, beyond half
    of it), with the reason where the data or the model's structure explains it."""
    missed = table[table["required"] & ~table["within_tolerance"]]
    lines = ["Required targets outside tolerance: " + ("; ".join(f"{_label(t)} {', '.join(map(str, rows['year']))}" for t, rows in missed.groupby("target", sort=False)) or "none") + ".", ""]
    loose = table[~table["within_tolerance"] | (table["required"] & (table["error_in_tolerances"].abs() > 0.5))]
    order = loose.groupby("target", sort=False)["required"].any().sort_values(ascending=False, kind="stable").index
    for target in order:
        rows = loose[loose["target"] == target]
        years = ", ".join(f"{y} ({'outside' if not w else 'inside'}, {e:+.1f} tolerances)" for y, w, e in zip(rows["year"], rows["within_tolerance"], rows["error_in_tolerances"]))
        lines.append(f"- **{_label(target)}**{' (required)' if rows['required'].any() else ''}: {years}. {WHY.get(target, 'No structural reason known; the fit traded it against other targets.')}")
    return lines


def write_figures(annual: pd.DataFrame, observed: pd.DataFrame, out_dir: Path) -> list[str]:
    """Fan charts of the simulated history with the published figures on top (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hnsim.plots import fan_chart
    from hnsim.plots.prepare import fan, with_observed

    written = []
    charts = [("ehcp_total", "EHCPs at the January census", False), ("assessment_requests_calendar_year", "Requests for assessment, calendar year", False),
              ("new_ehcps_calendar_year", "New EHCPs, calendar year", False), ("ehcp_special", "EHCPs in special schools (January)", False),
              ("ehcp_post16", "EHCPs in FE and post-16 (January)", False), ("ehcp_age_16_19", "EHCPs aged 16-19 (January)", False),
              ("spend_total", "High Needs spend", True), ("cumulative_deficit", "Cumulative High Needs deficit at 31 March", True)]
    frame = annual.assign(scenario="calibrated")
    for metric, title, money in charts:
        try:
            data = with_observed(fan(frame, metric), observed, metric)
        except ValueError:
            continue
        fig = fan_chart(data, title, "£" if money else "plans", money=money)
        path = out_dir / f"fit_{metric}.png"
        fig.savefig(path, dpi=150)
        plt.close(fig)
        written.append(path.name)
    return written


def write_report(result: FitResult, observed: pd.DataFrame, out_dir: Path, title: str, config_name: str, extra: str = "") -> None:
    """Calibrated config (YAML), fit_report.csv/.md, fit_history.csv and figures in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / config_name, "# Calibrated by hnsim calibrate; every fitted value's source says so.\n" + yaml.safe_dump(result.data, sort_keys=False, allow_unicode=True, width=200))
    write_text(out_dir / "fit_report.csv", result.table.to_csv(index=False))
    result.history.to_csv(out_dir / "fit_history.csv", index=False)
    figures = write_figures(result.annual, observed, out_dir)
    met = result.table[result.table["required"]]
    fit = result.data["calibration"]["fit"]
    lines = [f"# {title}", "",
             f"Fitted {fit['date']} to `{fit['data_dir']}` up to {fit['fit_until']}: {fit['evaluations']} parameter sets of {fit['replications']} replications each "
             f"(common random numbers), objective {fit['objective']:.3f} (mean squared error in tolerances). Simulated values below are from "
             f"{int(result.table['replications'].max())} replications of the calibrated config.", "",
             f"Required targets (issue 3) met: {int(met['within_tolerance'].sum())} of {len(met)}.", "", extra,
             "## Targets", "", markdown_table(result.table), "",
             "Tolerances: January totals 3%; setting shares 3 percentage points of the SEN2 setting total; requests and new plans 10%; "
             "spend 3%; deficit £0.5m; optional series as in `hnsim/analysis/calibration_targets.py`. Money (spend and deficit) is "
             "not searched: central spend and the opening balance are solved exactly from the simulated spend after the demand fit, because "
             "both outcomes are linear in them.", "",
             "## What fits less well, and why", "", *(less_well(result.table) or ["- every target is within its tolerance."]), "",
             *([f"- {n}" for n in result.notes]), "",
             "## Figures", "", *[f"![{f}]({f})" for f in figures], ""]
    write_text(out_dir / "fit_report.md", "\n".join(lines))


def backtest_summary(table: pd.DataFrame, fit_until: int) -> tuple[pd.DataFrame, float]:
    """Test rows (years after ``fit_until``) of the headline series, and their MAPE (%): January
    totals, requests and new plans (shares and money are reported, not averaged)."""
    test = table[table["year"] > fit_until]
    headline = test[test["target"].isin(["ehcp_total", "assessment_requests_calendar_year", "new_ehcps_calendar_year"])]
    mape = float(headline["error_pct"].abs().mean()) if len(headline) else math.nan
    return test, mape

