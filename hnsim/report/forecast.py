"""The forecast of published figures from a run: one fan panel per series, the published history on
top, a caption that says what the bands carry, and the table drawn (``forecast.csv``).

The forecast itself is made by :func:`hnsim.api.forecast` (:mod:`hnsim.analysis.discrepancy`); this
module only draws and writes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hnsim.analysis.skill import financial_year_label
from hnsim.plots import fans, style
from hnsim.plots.skill import series_label
from hnsim.report.figures import WrittenFigure, write_figure
from hnsim.results import store

#: Series drawn, in panel order (the forecast table holds every series scored by the skill harness).
FIGURE_SERIES = ("ehcp_total", "ehcp_special", "ehcp_independent", "ehcp_post16", "assessment_requests_calendar_year", "new_ehcps_calendar_year")


def fan_frame(table: pd.DataFrame, published: pd.DataFrame, anchors: dict[str, int], series: tuple[str, ...] = FIGURE_SERIES) -> pd.DataFrame:
    """``scenario`` (the series), ``financial_year, mean, p05, p25, p75, p95, observed``: the
    forecast from each series' anchor year (its published value there, so the fan starts on it) and
    the published history (``published``: ``series, year, value``), by the financial year each
    census or calendar year is reported against."""
    frames = []
    for name in series:
        rows = table[table["series"] == name]
        history = published[published["series"] == name]
        if rows.empty:
            continue
        anchor = anchors.get(name)
        start = history[history["year"] == anchor]["value"]
        head = pd.DataFrame([{"year": anchor, **{c: float(start.iloc[0]) for c in ("mean", "p05", "p25", "p75", "p95")}}]) if len(start) else pd.DataFrame()
        fan = pd.concat([head, rows[["year", "mean", "p05", "p25", "p75", "p95"]]], ignore_index=True)
        years = sorted(set(fan["year"]) | set(history["year"]))
        frame = pd.DataFrame({"year": years}).merge(fan, on="year", how="left").merge(history[["year", "value"]].rename(columns={"value": "observed"}), on="year", how="left")
        frame.insert(0, "scenario", name)
        frame.insert(1, "financial_year", [financial_year_label(int(y)) for y in frame["year"]])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def write_forecast(table: pd.DataFrame, published: pd.DataFrame, anchors: dict[str, int], out_dir: Path, provenance: str, note: str,
                   carried: list[str], members: int, draws: int, origin: int, sources: dict[str, str]) -> list[WrittenFigure]:
    """``forecast.csv`` and the forecast figure (PNG, SVG, the CSV drawn) in ``out_dir``, with its
    caption (also in ``figures.md``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    store.write_csv(table, out_dir / "forecast.csv")
    frame = fan_frame(table, published, anchors)
    if frame.empty:
        return []
    names = {s: series_label(s) for s in frame["scenario"].unique()}
    styles = {s: fans.SINGLE for s in names}
    fig = fans.fan_panels(frame, f"Forecast of the published figures from the January {origin} census", "", money=False, styles=styles, names=names,
                          zero_line=False, sharey=False, forecast=True)
    last = table.sort_values("year").groupby("series").tail(1).set_index("series")
    ends = "; ".join(f"{names[s]} {int(last.loc[s, 'year'])}: {style.count(last.loc[s, 'mean'])} ({style.count(last.loc[s, 'p05'])} to {style.count(last.loc[s, 'p95'])})"
                     for s in names if s in last.index)
    caption = (f"Forecast of the figures DfE publishes (SEN2), from the data known in January {origin}: January censuses from {origin + 1}, "
               f"calendar-year activity from {origin}. Each of the run's {members} replications is anchored on the last published value and "
               f"given {draws} draws of a model discrepancy (a random walk of yearly steps drawn from every authority's published changes to "
               f"{origin}, and for January caseloads a damped growth error as large as the replications' miss in growth over the fitted years, "
               f"docs/validation.md). Bands hold the middle 50% and 90% of the {members * draws:,} draws; they carry "
               f"{', '.join(carried)} and the model's structural error (the discrepancy). The line is the mean; open circles are the published "
               f"figures. Mean and 90% band in the last year: {ends}.")
    written = [write_figure(fig, frame, "forecast", "Forecast of the published figures", caption, out_dir, provenance, note)]
    steps = "\n".join(f"- {series_label(s)}: {v}" for s, v in sorted(sources.items()))
    store.write_text(f"# Forecast of the published figures\n\n![{written[0].title}]({written[0].png})\n\n{caption}\n\nDiscrepancy steps:\n\n{steps}\n", out_dir / "figures.md")
    return written


def headline(table: pd.DataFrame, series: str = "ehcp_total", years: int = 6) -> str:
    """One line: the series' mean and 90% band in each of the first ``years`` forecast years."""
    rows = table[table["series"] == series].sort_values("year").head(years)
    return "; ".join(f"{int(r.year)}: {r.mean:,.0f} ({r.p05:,.0f} to {r.p95:,.0f})" for r in rows.itertuples() if np.isfinite(r.mean))
