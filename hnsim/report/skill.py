"""The figures of a forecast-skill directory (``hnsim skill`` or a rolling ``hnsim backtest``):
PNG (300 dpi), SVG, the CSV drawn and a caption each, indexed in ``figures/figures.md``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hnsim.analysis.discrepancy import DRAWS_PER_MEMBER
from hnsim.analysis.scores import MODEL, common_rows
from hnsim.analysis.skill import HEADLINE_SERIES
from hnsim.plots import skill as charts
from hnsim.report.figures import WrittenFigure, write_figure
from hnsim.results import store
from hnsim.results.skill import task_outcomes


def _history(out_dir: Path, scored: pd.DataFrame, authority_code: str, authority: str) -> pd.DataFrame:
    """The published series of one authority: the values known at each of its origins (from the
    tasks' records) and every value published after them (from the scored table)."""
    part = scored[(scored["old_la_code"] == authority_code) & (scored["authority"] == authority)]
    later = part[["series", "year", "observed"]].drop_duplicates().rename(columns={"observed": "value"})
    known = []
    for origin in sorted(part["origin"].unique()):
        for _, outcome in task_outcomes(out_dir, int(origin)):
            info = outcome.info
            if info["old_la_code"] == authority_code and info["la_name"] == authority:
                known.append(pd.DataFrame(info["training"], columns=["series", "year", "value"]))
    history = pd.concat([*known, later], ignore_index=True)
    return history.drop_duplicates(["series", "year"]).sort_values(["series", "year"]).reset_index(drop=True)


def _pick(scored: pd.DataFrame, authority: str | None) -> tuple[str, str]:
    names = scored[["old_la_code", "authority"]].drop_duplicates()
    if authority:
        hit = names[(names["authority"].str.lower() == authority.lower()) | (names["old_la_code"] == authority)]
        if len(hit):
            return str(hit["old_la_code"].iloc[0]), str(hit["authority"].iloc[0])
    glos = names[names["old_la_code"] == "916"]
    row = (glos if len(glos) else names).iloc[0]
    return str(row["old_la_code"]), str(row["authority"])


def write_skill_figures(out_dir: str | Path, authority: str | None = None) -> list[WrittenFigure]:
    """Error by horizon, coverage against nominal, PIT histograms and one authority's fans from
    every origin (``authority``: name or old code; default Gloucestershire if present, else the
    first) into ``out_dir/figures``; returns what was written."""
    out_dir = Path(out_dir)
    scored = pd.read_parquet(out_dir / "skill.parquet")
    summary = pd.read_csv(out_dir / "skill_summary.csv", dtype={"horizon": str})
    manifest = store.read_manifest(out_dir)
    if scored.empty:
        return []
    common = common_rows(scored, ["old_la_code", "origin", "series", "year"])
    tasks = scored[["old_la_code", "origin"]].drop_duplicates()
    reps = manifest.get("replications")
    prov = f"hnsim {manifest.get('hnsim_version')} · {manifest.get('kind', 'skill')} · origins {', '.join(map(str, manifest.get('origins', [])))} · {len(tasks)} tasks · design {str(manifest.get('design_hash'))[:12]}"
    written = []

    series = [s for s in (*HEADLINE_SERIES, "all") if s in set(summary["series"])]
    drawn = summary[summary["series"].isin(series) & (summary["horizon"] != "all")][["series", "horizon", "forecaster", "n", "mean_ape", "median_ape", "mean_crps_pct"]]
    model = drawn[(drawn["forecaster"] == MODEL) & (drawn["series"] == "all")]
    text = "; ".join(f"{int(r.horizon)} year{'s' if int(r.horizon) > 1 else ''} ahead {r.mean_ape:.1f}%" for r in model.itertuples()) if len(model) else ""
    written.append(write_figure(charts.error_by_horizon_chart(drawn, series), drawn, "error_by_horizon", "Forecast error by horizon",
                                "Mean absolute percentage error of each forecaster's ensemble mean, by years after the forecast origin (a January census), "
                                "for the headline series and for all scored series pooled, on the published values every forecaster forecast. "
                                f"hnsim, all series: {text}.", out_dir, prov))

    pooled = summary[(summary["series"] == "all") & (summary["horizon"] == "all")][["forecaster", "n", "coverage_50", "coverage_90", "mean_interval_score_90"]]
    m = pooled[pooled["forecaster"] == MODEL]
    sentence = (f" hnsim's forecast ({reps} members, each with {DRAWS_PER_MEMBER} draws of the model discrepancy) holds {100 * m['coverage_50'].iloc[0]:.0f}% "
                f"and {100 * m['coverage_90'].iloc[0]:.0f}% of them.") if len(m) else ""
    written.append(write_figure(charts.coverage_chart(pooled), pooled, "coverage", "Interval coverage against nominal",
                                f"Share of the {int(pooled['n'].max()) if len(pooled) else 0} published values (all series, origins and horizons) inside each forecaster's central 50% "
                                f"and 90% intervals (Weibull quantiles of its ensemble); dashed lines are the nominal 50% and 90%.{sentence} Its bands carry the "
                                "calibrated parameters' uncertainty (history-matched members), the trends' (growth and damping), children's paths and the "
                                "model's structural error (the discrepancy, docs/validation.md).",
                                out_dir, prov))

    pits = charts.pit_table(common)
    written.append(write_figure(charts.pit_chart(common), pits, "pit_histogram", "PIT histograms",
                                "Probability integral transform (randomised rank of the published value among the ensemble's members) of every scored value, "
                                "by forecaster. A calibrated forecaster's histogram is flat at 1 (dashed); mass at both ends means intervals too narrow, "
                                "mass at one end a bias (at the right: the published value above the forecast).", out_dir, prov))

    code, name = _pick(scored, authority)
    history = _history(out_dir, scored, code, name)
    fans = scored[(scored["old_la_code"] == code) & (scored["authority"] == name) & (scored["forecaster"] == MODEL)][["series", "origin", "year", "p05", "p25", "p50", "p75", "p95"]]
    fan_series = [s for s in HEADLINE_SERIES if s in set(fans["series"])]
    drawn = fans.merge(history.rename(columns={"value": "observed"}), on=["series", "year"], how="left")
    written.append(write_figure(charts.origin_fans_chart(history, fans, name, fan_series), drawn.sort_values(["series", "origin", "year"]), "origin_fans",
                                f"{name}: forecasts from every origin", f"{name}'s published January totals, new plans and requests (dots) and hnsim's forecast from each "
                                f"origin: median (line), middle 50% and 90% of its forecast ({reps} members x {DRAWS_PER_MEMBER} draws of the model discrepancy; bands).", out_dir, prov))
    index = ["# Figures", ""] + [f"## {w.title}\n\n![{w.title}]({Path(w.png).name})\n\n{w.caption}\n\nFiles: `{w.png}`, `{w.svg}`, `{w.csv}`.\n" for w in written]
    store.write_text("\n".join(index), out_dir / "figures" / "figures.md")
    return written
