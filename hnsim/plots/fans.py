"""Fan charts: the mean of the replications with bands holding their middle 50% and 90%, the
published figures on top, and a marked line where the data end (frames from ``prepare.fan``).

Every chart keeps its legend below the axes (never on the data) and, with several scenarios, one
panel per scenario on shared axes, each scenario in its own style and the base's mean drawn in
every panel for reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from hnsim.plots import labels as label_table
from hnsim.plots import style
from hnsim.plots.style import SeriesStyle

SINGLE = SeriesStyle(style.colour(0), "-", "o", "")


def draw_fan(ax: Axes, frame: pd.DataFrame, x_years: list[str], look: SeriesStyle = SINGLE) -> None:
    """Draw one fan (bands and mean line) of a single-scenario, single-metric fan frame on ``ax``."""
    pos = {y: k for k, y in enumerate(x_years)}
    x = frame["financial_year"].map(pos).to_numpy(dtype=float)
    ax.fill_between(x, frame["p05"], frame["p95"], color=look.colour, alpha=style.BAND_ALPHA["p05_p95"], linewidth=0)
    ax.fill_between(x, frame["p25"], frame["p75"], color=look.colour, alpha=style.BAND_ALPHA["p25_p75"], linewidth=0)
    ax.plot(x, frame["mean"], color=look.colour, linestyle=look.linestyle, linewidth=1.5)


def draw_observed(ax: Axes, frame: pd.DataFrame, x_years: list[str]) -> bool:
    """Published figures (``observed``, NaN where none) as open circles; whether any were drawn."""
    if "observed" not in frame or not frame["observed"].notna().any():
        return False
    rows = frame.dropna(subset=["observed"]).drop_duplicates("financial_year")
    x = rows["financial_year"].map({y: k for k, y in enumerate(x_years)}).to_numpy(dtype=float)
    ax.plot(x, rows["observed"], color=style.OBSERVED_COLOUR, marker="o", markersize=3.2, markerfacecolor="white", linestyle="none", zorder=5)
    return True


def mark_data_end(ax: Axes, x_years: list[str], data_end: str | None) -> bool:
    """The dashed line after the last financial year fitted (``data_end``), if it is drawn."""
    if data_end is None or data_end not in x_years or data_end == x_years[-1]:
        return False
    style.data_end_line(ax, x_years.index(data_end) + 0.5, "data end \u2192 projection")
    return True


def _legend_handles(look: SeriesStyle, observed: bool, data_end: bool, base_reference: str = "", forecast: bool = False) -> tuple[list, list[str]]:
    handles = [
        Line2D([], [], color=look.colour, linestyle=look.linestyle, linewidth=1.5),
        Patch(color=look.colour, alpha=style.BAND_ALPHA["p25_p75"] + style.BAND_ALPHA["p05_p95"] * 0.5, linewidth=0),
        Patch(color=look.colour, alpha=style.BAND_ALPHA["p05_p95"], linewidth=0),
    ]
    keys = ("forecast_mean", "forecast_50", "forecast_90") if forecast else ("mean", "middle_50", "middle_90")
    names = [label_table.legend(k) for k in keys]
    if base_reference:
        handles.append(Line2D([], [], color=style.BASE_COLOUR, linestyle=(0, (2, 1.5)), linewidth=0.9))
        names.append(label_table.legend("base_reference", scenario=base_reference))
    if observed:
        handles.append(Line2D([], [], color=style.OBSERVED_COLOUR, marker="o", markersize=3.5, linestyle="none", markerfacecolor="white"))
        names.append(label_table.legend("observed"))
    if data_end:
        handles.append(Line2D([], [], color=style.DATA_END_COLOUR, linestyle=(0, (4, 2)), linewidth=0.8))
        names.append(label_table.legend("data_end"))
    return handles, names


def fan_chart(frame: pd.DataFrame, title: str, y_label: str = "", money: bool = False, width: float = style.FULL_WIDTH_IN, height: float = 3.2,
              data_end: str | None = None) -> Figure:
    """Fan chart of one metric for one scenario, with published values on top.

    ``frame``: ``financial_year, mean, p05, p25, p75, p95`` and optionally ``observed`` (NaN where
    nothing is published), one row per financial year. ``data_end``: the last financial year fitted.
    """
    with style.house_style():
        fig, ax = style.new_figure(width, height)
        x_years = list(frame["financial_year"])
        draw_fan(ax, frame, x_years)
        has_obs = draw_observed(ax, frame, x_years)
        has_end = mark_data_end(ax, x_years, data_end)
        ax.set_title(title)
        ax.set_ylabel(y_label)
        ax.yaxis.set_major_formatter(style.MONEY if money else style.COUNT)
        style.year_ticks(ax, x_years)
        ax.set_ylim(bottom=min(0, float(frame["p05"].min())))
        handles, labels = _legend_handles(SINGLE, has_obs, has_end)
        fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, style.FOOTER_IN / height), ncol=3, handlelength=1.8, columnspacing=1.2)
        fig.tight_layout(rect=style.footer_rect(fig, 0.42))
    return fig


def _grid(n: int) -> tuple[int, int, float]:
    """Columns, rows and panel height (inches) for ``n`` panels on a page."""
    ncols = 1 if n == 1 else 2 if n <= 6 else 3
    nrows = -(-n // ncols)
    return ncols, nrows, 2.9 if n == 1 else 1.9 if ncols == 2 else 1.6


def fan_panels(frame: pd.DataFrame, title: str, y_label: str = "", money: bool = True, width: float = style.FULL_WIDTH_IN,
               styles: dict[str, SeriesStyle] | None = None, names: dict[str, str] | None = None, base: str | None = None,
               data_end: str | None = None, zero_line: bool = True, sharey: bool = True, forecast: bool = False) -> Figure:
    """One fan panel per scenario on shared axes (the cumulative deficit, EHCPs under each scenario),
    or per series on axes of their own (``sharey=False``); ``forecast`` labels the bands as a
    forecast's (draws of the discrepancy too), not the replications'.

    ``frame``: ``scenario, financial_year, mean, p05, p25, p75, p95`` (from ``prepare.fan``) and
    optionally ``observed``. ``styles`` and ``names`` give each scenario its style and label (from
    ``style.scenario_styles`` and the label table); ``base``'s mean is drawn in every other panel.
    """
    order = list(dict.fromkeys(frame["scenario"]))
    styles = styles or style.scenario_styles(order, base or order[0])
    names = names or {s: s for s in order}
    x_years = sorted(set(frame["financial_year"]))
    n = len(order)
    ncols, nrows, panel_h = _grid(n)
    title_in, legend_in = 0.3, 0.42
    height = nrows * panel_h + title_in + legend_in + style.FOOTER_IN
    base_frame = frame[frame["scenario"] == base] if base in order else None
    with style.house_style():
        fig, axes = style.new_figure(width, height, nrows, ncols, sharex=True, sharey=sharey)
        axes = np.atleast_1d(axes).ravel()
        has_obs = has_end = False
        for i, name in enumerate(order):
            ax = axes[i]
            part = frame[frame["scenario"] == name]
            draw_fan(ax, part, x_years, styles[name])
            if base_frame is not None and name != base:
                x = base_frame["financial_year"].map({y: k for k, y in enumerate(x_years)}).to_numpy(dtype=float)
                ax.plot(x, base_frame["mean"], color=style.BASE_COLOUR, linestyle=(0, (2, 1.5)), linewidth=0.9, zorder=4)
            has_obs = draw_observed(ax, part, x_years) or has_obs
            has_end = mark_data_end(ax, x_years, data_end) or has_end
            if zero_line:
                ax.axhline(0, color=style.INK, linewidth=0.6)
            ax.set_title(names.get(name, name), fontsize=7.5, fontweight="bold", loc="left")
            ax.yaxis.set_major_formatter(style.MONEY if money else style.COUNT)
            style.year_ticks(ax, x_years, rotate=ncols > 2)
            ax.tick_params(labelbottom=True)
            if i % ncols == 0 or not sharey:
                ax.set_ylabel(y_label)
        for ax in axes[n:]:
            ax.set_visible(False)
        reference = names.get(base, base) if base_frame is not None and n > 1 else ""
        handles, labels = _legend_handles(SeriesStyle(style.MUTED, "-", "o", ""), has_obs, has_end, reference, forecast)
        fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, style.FOOTER_IN / height), ncol=3, handlelength=1.8, columnspacing=1.2)
        fig.suptitle(title, x=0.01, y=1 - 0.06 / height, ha="left", va="top", fontsize=8.5, fontweight="bold")
        fig.tight_layout(rect=style.footer_rect(fig, legend_in), h_pad=0.8)  # tight_layout makes room for the suptitle
    return fig


TIMELINESS_TITLES = {
    "timeliness": ("Plans within 20 weeks", "% of plans issued"),
    "weeks": ("Weeks waited (mean)", "weeks"),
    "special_wait": ("Waiting for a special place", "children (January census)"),
}


def timeliness_chart(frame: pd.DataFrame, width: float = style.FULL_WIDTH_IN, height: float = 3.0,
                     styles: dict[str, SeriesStyle] | None = None, names: dict[str, str] | None = None, base: str | None = None,
                     data_end: str | None = None) -> Figure:
    """Three panels: % of plans within 20 weeks; weeks from request to plan and waiting for a
    caseworker; children waiting for a special place. Mean lines; the base's 90% band.

    ``frame``: ``panel, scenario, metric, financial_year, mean, p05, p95`` (from
    ``prepare.timeliness``). With one scenario, each metric has its own style; with several, each
    scenario has its style (``styles``) and the metrics of the weeks panel differ by marker.
    """
    x_years = sorted(set(frame["financial_year"]))
    order = list(dict.fromkeys(frame["scenario"]))
    several = len(order) > 1
    styles = styles or style.scenario_styles(order, base or order[0])
    names = names or {s: s for s in order}
    entries = len(order) + 2 if several else frame["metric"].nunique()
    legend_in = 0.12 + 0.15 * -(-entries // 3)
    height = max(height, 2.3 + legend_in)
    handles: dict[str, object] = {}
    with style.house_style():
        fig, axes = style.new_figure(width, height, 1, 3)
        for ax, (panel, (title, unit)) in zip(axes, TIMELINESS_TITLES.items()):
            part = frame[frame["panel"] == panel]
            for j, metric in enumerate(dict.fromkeys(part["metric"])):
                for name in order:
                    rows = part[(part["metric"] == metric) & (part["scenario"] == name)]
                    if rows.empty:
                        continue
                    x = rows["financial_year"].map({y: k for k, y in enumerate(x_years)}).to_numpy(dtype=float)
                    look = styles[name] if several else SeriesStyle(style.colour(j), style.linestyle(j), style.MARKERS[j], "")
                    if not several or name == (base or order[0]):
                        ax.fill_between(x, rows["p05"], rows["p95"], color=look.colour, alpha=style.BAND_ALPHA["p05_p95"], linewidth=0)
                    marker = style.MARKERS[j] if (several and panel == "weeks") else None
                    line = ax.plot(x, rows["mean"], color=look.colour, linestyle=look.linestyle, marker=marker, markersize=2.2, markevery=3)[0]
                    key = names.get(name, name) if several else style.label(metric)
                    handles.setdefault(key, line)
                    if several and panel == "weeks":
                        handles.setdefault(f"marker:{style.label(metric)}", Line2D([], [], color=style.MUTED, marker=style.MARKERS[j], linestyle="none", markersize=3))
            ax.set_title(title, fontsize=7.5, loc="left")
            ax.set_ylabel(unit)
            ax.set_ylim(bottom=0)
            if panel == "timeliness":
                ax.set_ylim(0, 105)
            if panel == "special_wait":
                ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            style.year_ticks(ax, x_years, rotate=True)
            if data_end in x_years[:-1]:
                style.data_end_line(ax, x_years.index(data_end) + 0.5, "")
        keys = list(handles)
        shown = [label_table.legend("weeks_marker", metric=k.removeprefix("marker:")) if k.startswith("marker:") else k for k in keys]
        fig.legend([handles[k] for k in keys], shown, loc="lower center", bbox_to_anchor=(0.5, style.FOOTER_IN / height), ncol=3, handlelength=2.0, columnspacing=1.2)
        fig.tight_layout(rect=style.footer_rect(fig, legend_in), w_pad=1.0)
    return fig
