"""The fit report of `hnsim calibrate` and `hnsim backtest`: the calibrated config, a CSV and a
Markdown table of every target (observed, simulated mean, 90% interval of the replications, error,
within tolerance), figures of the published history against the simulated fan, and plain notes on
what fits less well and why; every file written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hnsim.analysis.calibration_targets import target_label
from hnsim.plots.calibration import fit_charts
from hnsim.report.calibrated_yaml import calibrated_yaml
from hnsim.results import store

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
    "assessment_requests_calendar_year": "requests follow the request rates on one secular trend (trends.requests) with the 2014 reforms bedding in (trends.request_transition): a smooth path through the years, so a year's step up or down (610, 632, 613 in 2017-2019) is followed only on average; calendar years straddle two financial years.",
    "assessed_no_plan_calendar_year": "not fitted: the fitted plan probability (below SEN2's 96%) stands for requests withdrawn or never concluded as well as assessments without a plan, so the model's 'assessed, no plan' is higher than SEN2's.",
    "assessments_refused_calendar_year": "an input, not fitted: refusal rates by calendar year from SEN2, weighted onto financial years (9 months of one calendar year and 3 of the next), so refusals shift between calendar years.",
    "ehcps_ceased_calendar_year": "SEN2's discontinued plans jump between years (86, 151, 104, 184) and miss statements that lapsed in the transition; the model's inflows include moves in (40 a year) and post-16 conversions (assumptions SEN2 does not count as new plans), so it needs more plans to cease to hold the January totals.",
    "ehcp_post16_specialist": "a small series; specialist post-16 placements follow from the destinations at 16 and 19 and from special places, fitted mainly to totals and money.",
    "mainstream_to_special_moves_calendar_year": "not fitted; moves follow from the transfer probabilities and special places, which the fit moves for the setting shares.",
    "in_year_balance": "only the 2018-19 spend and the March 2019 deficit are fitted; the 2017-18 overspend (£1.8m) is a projection in Schools Forum papers.",
    "spend_ap": "AP spend includes pupils without plans, whose numbers are an assumption; not fitted.",
}


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
    lines = ["Required targets outside tolerance: " + ("; ".join(f"{target_label(t)} {', '.join(map(str, rows['year']))}" for t, rows in missed.groupby("target", sort=False)) or "none") + ".", ""]
    loose = table[~table["within_tolerance"] | (table["required"] & (table["error_in_tolerances"].abs() > 0.5))]
    order = loose.groupby("target", sort=False)["required"].any().sort_values(ascending=False, kind="stable").index
    for target in order:
        rows = loose[loose["target"] == target]
        years = ", ".join(f"{y} ({'outside' if not w else 'inside'}, {e:+.1f} tolerances)" for y, w, e in zip(rows["year"], rows["within_tolerance"], rows["error_in_tolerances"]))
        lines.append(f"- **{target_label(target)}**{' (required)' if rows['required'].any() else ''}: {years}. {WHY.get(target, 'No structural reason known; the fit traded it against other targets.')}")
    return lines


MONEY_LABELS = {"spend_mainstream_topups_primary": "primary EHCP top-ups (£)", "hnb_allocation": "High Needs Block allocation (£, an input)",
                "cost_per_ehcp": "spend per EHCP (£)"}


def _m(value: float) -> str:
    return f"£{value / 1e6:.2f}m" if np.isfinite(value) else "-"


def money_section(posterior) -> str:
    """The fit report's money section (:class:`hnsim.analysis.money.MoneyPosterior`): every
    published money figure against the fit, and the parameters' priors and posteriors."""
    fig = posterior.figures
    lines = ["## Money (Bayesian fit of unit costs, central spend and opening balance)", "",
             f"{posterior.data_points} published money figures fitted, {posterior.effective_parameters:.2f} effective parameters "
             f"(trace of the hat matrix) of {len(posterior.names)}; the rest is held by the priors. Fitted interval: 90% of the posterior "
             "and of the replications; z: (observed - fitted) / sd of fit and observation noise; reproduced: |z| <= 3.", "",
             "| figure | year | observed | fitted mean | 90% interval | z | reproduced | fitted |", "|---|---|---|---|---|---|---|---|"]
    for r in fig.itertuples(index=False):
        label = MONEY_LABELS.get(r.metric) or target_label(r.metric)
        z = f"{r.z:+.2f}" if np.isfinite(r.z) else "-"
        lines.append(f"| {label} | {r.financial_year} | {_m(r.observed)} | {_m(r.fitted_mean)} | {_m(r.p05)} to {_m(r.p95)} | {z} "
                     f"| {'yes' if r.reproduced else '**no**'} | {'yes' if r.used else ('reported (derived)' if str(r.source).lower().startswith('derived') else 'reported (an input)')} |")
    lines += ["", "| parameter | prior mean | prior sd | posterior mean | posterior sd | prior source |", "|---|---|---|---|---|---|"]
    for r in posterior.parameter_table().itertuples(index=False):
        money = not r.parameter.startswith("multiplier_")
        f = (lambda v: f"£{v:,.0f}") if money else (lambda v: f"{v:.3f}")
        lines.append(f"| {r.parameter} | {f(r.prior_mean)} | {f(r.prior_sd)} | {f(r.posterior_mean)} | {f(r.posterior_sd)} | {r.prior_source} |")
    lines += ["", "Multipliers scale each line's placement costs (`costs.line_multiplier`), not place funding or central spend. "
              "A figure whose source says `derived:` is arithmetic on the others (spend = allocation + overspend) and is not fitted twice.", ""]
    return "\n".join(lines)


def write_figures(annual: pd.DataFrame, observed: pd.DataFrame, out_dir: Path) -> list[str]:
    """Fan charts of the simulated history with the published figures on top (PNG); their file names."""
    written = []
    for metric, fig in fit_charts(annual, observed):
        path = store.write_atomic(out_dir / f"fit_{metric}.png", lambda tmp, fig=fig: fig.savefig(tmp, format="png", dpi=150))
        written.append(path.name)
    return written


def write_report(result, observed: pd.DataFrame, out_dir: Path, title: str, config_name: str, extra: str = "", original: str | None = None) -> None:
    """Calibrated config (YAML), fit_report.csv/.md, fit_history.csv and figures in ``out_dir``.

    ``result`` is a fit (:class:`hnsim.experiment.calibrate.FitResult`: ``data``, ``table``,
    ``annual``, ``history``, ``notes``); ``extra`` is Markdown put before the targets; ``original``
    the config file's text, whose comments and layout the calibrated copy keeps.
    """
    out_dir = store.writable_directory(out_dir)
    data = result.data
    members = getattr(result, "members", None)
    ensemble = (data.get("calibration") or {}).get("ensemble")
    if members is not None and isinstance(ensemble, dict) and ensemble.get("table"):
        ensemble_name = f"{Path(config_name).stem}.ensemble.csv"
        store.write_csv(members, out_dir / ensemble_name)
        data = dict(data)
        data["calibration"] = dict(data["calibration"])
        data["calibration"]["ensemble"] = {k: v for k, v in data["calibration"]["ensemble"].items() if k != "table"} | {"file": ensemble_name}
    store.write_text(calibrated_yaml(data, original), out_dir / config_name)
    store.write_csv(result.table, out_dir / "fit_report.csv")
    store.write_csv(result.history, out_dir / "fit_history.csv")
    posterior = getattr(result, "money", None)
    if posterior is not None:
        store.write_csv(posterior.figures, out_dir / "money_fit.csv")
        store.write_csv(posterior.parameter_table(), out_dir / "money_parameters.csv")
    if members is not None and not (isinstance(ensemble, dict) and ensemble.get("table")):  # money draws alone (least squares)
        store.write_csv(members.reset_index(), out_dir / "money_members.csv")
    figures = write_figures(result.annual, observed, out_dir)
    met = result.table[result.table["required"]]
    fit = result.data["calibration"]["fit"]
    if fit.get("method") == "history_matching":
        how = (f"Fitted {fit['date']} to `{fit['data_dir']}` up to {fit['fit_until']} by history matching: {fit['evaluations']} design points of "
               f"{fit['replications']} replication(s) each (common random numbers), {fit['members']} members drawn (`{Path(config_name).stem}.ensemble.csv`). "
               f"Effective parameters {fit.get('effective_parameters')} against {fit.get('data_points')} figures fitted. Simulated values below are from "
               f"{int(result.table['replications'].max())} replications, replication r on member r, so the 90% intervals carry parameter and path uncertainty.")
    else:
        how = (f"Fitted {fit['date']} to `{fit['data_dir']}` up to {fit['fit_until']}: {fit['evaluations']} parameter sets of {fit['replications']} replications each "
               f"(common random numbers), objective {fit['objective']:.3f} (mean squared error in tolerances). Simulated values below are from "
               f"{int(result.table['replications'].max())} replications of the calibrated config.")
    lines = [f"# {title}", "", how, "",
             f"Required targets met: {int(met['within_tolerance'].sum())} of {len(met)}.", "", extra,
             "## Targets", "", markdown_table(result.table), "",
             "Tolerances: January totals 3%; setting shares 3 percentage points of the SEN2 setting total; requests and new plans 10%; "
             "spend 3%; deficit £0.5m; optional series as in `hnsim/analysis/calibration_targets.py`. " + (
                 "Money is fitted after the demand search by a Bayesian linear model (below): unit costs by line, central spend and the "
                 "opening balance, each with a prior, because spend is linear in them given the simulated activity." if posterior is not None else
                 "Money (spend and deficit) is not searched: central spend and the opening balance are solved exactly from the simulated "
                 "spend after the demand fit, because both outcomes are linear in them."), "",
             *([money_section(posterior)] if posterior is not None else []),
             "## What fits less well, and why", "", *(less_well(result.table) or ["- every target is within its tolerance."]), "",
             *([f"- {n}" for n in result.notes]), "",
             "## Figures", "", *[f"![{f}]({f})" for f in figures], ""]
    store.write_text("\n".join(lines), out_dir / "fit_report.md")


def backtest_section(test: pd.DataFrame, mape: float, fit_until: int, last_year: int) -> str:
    """The Markdown section a backtest adds to the fit report: the error on the years not fitted."""
    inside = int(test["inside_90"].sum())
    return (f"## Backtest\n\nFitted to {fit_until} and earlier only (search started mid-range); tested on {fit_until + 1}-{last_year}. "
            f"Mean absolute percentage error on the January totals, requests and new plans of the test years: **{mape:.1f}%**. "
            f"Observed value inside the simulated 90% interval: {inside} of {len(test)} test targets.\n\n"
            "Money is only published for 2017-18 and 2018-19: with nothing to fit up to 2017 the central spend and opening balance stay as in the config, "
            "so the money rows are not out of sample if the config was calibrated to 2019.\n\n" + markdown_table(test) + "\n")


def write_backtest(backtest, observed: pd.DataFrame, out_dir: Path, config_name: str, original: str | None = None) -> None:
    """The fit report of a backtest (:class:`hnsim.experiment.calibrate.BacktestResult`) with its
    backtest section, and ``backtest.csv`` (the test rows)."""
    stem = Path(config_name).stem
    title = f"Backtest: {stem} fitted to {backtest.fit_until}, tested on {backtest.fit_until + 1}-{backtest.last_year}"
    write_report(backtest.fit, observed, out_dir, title, config_name, backtest_section(backtest.test, backtest.mape, backtest.fit_until, backtest.last_year), original)
    store.write_csv(backtest.test, Path(out_dir) / "backtest.csv")
