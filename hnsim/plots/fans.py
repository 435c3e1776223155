"""Fan charts: the median of the replications with 50% and 90% bands (frames from ``prepare.fan``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from hnsim.plots import style


def draw_fan(ax: Axes, frame: pd.DataFrame, x_years: list[str], i: int = 0) -> None:
    """Draw one fan (bands and median) of a single-scenario, single-metric fan frame on ``ax``."""
    pos = {y: k for k, y in enumerate(x_years)}
    x = frame["financial_year"].map(pos).to_numpy(dtype=float)
    c = style.colour(i)
    ax.fill_between(x, frame["p05"], frame["p95"], color=c, alpha=style.BAND_ALPHA["p05_p95"], linewidth=0)
    ax.fill_between(x, frame["p25"], frame["p75"], color=c, alpha=style.BAND_ALPHA["p25_p75"], linewidth=0)
    ax.plot(x, frame["p50"], color=c, linestyle=style.linestyle(i), linewidth=1.5)


def _fan_handles(i: int = 0, observed: bool = False) -> tuple[list, list[str]]:
    c = style.colour(i)
    handles = [
        Line2D([], [], color=c, linestyle=style.linestyle(i), linewidth=1.5),
        Patch(color=c, alpha=style.BAND_ALPHA["p25_p75"] + style.BAND_ALPHA["p05_p95"] * 0.5, linewidth=0),
        Patch(color=c, alpha=style.BAND_ALPHA["p05_p95"], linewidth=0),
    ]
    labels = ["Median of replications", "Middle 50% of replications", "Middle 90% of replications"]
    if observed:
        handles.append(Line2D([], [], color=style.OBSERVED_COLOUR, marker="o", markersize=3.5, linestyle="none", markerfacecolor="white"))
        labels.append("Published figure")
    return handles, labels


def fan_chart(frame: pd.DataFrame, title: str, y_label: str = "", money: bool = False, width: float = style.FULL_WIDTH_IN, height: float = 3.0) -> Figure:
    """Fan chart of one metric for one scenario, with published values on top.

    ``frame``: ``financial_year, p05, p25, p50, p75, p95`` and optionally ``observed`` (NaN where
    nothing is published), one row per financial year.
    """
    with style.house_style():
        fig, ax = style.new_figure(width, height)
        x_years = list(frame["financial_year"])
        draw_fan(ax, frame, x_years)
        has_obs = "observed" in frame and frame["observed"].notna().any()
        if has_obs:
            x = np.arange(len(x_years))
            ax.plot(x, frame["observed"], color=style.OBSERVED_COLOUR, marker="o", markersize=3.5, markerfacecolor="white", linestyle="none", zorder=5)
        ax.set_title(title)
        ax.set_ylabel(y_label)
        ax.yaxis.set_major_formatter(style.MONEY if money else style.COUNT)
        style.year_ticks(ax, x_years)
        ax.set_ylim(bottom=min(0, float(frame["p05"].min())))
        handles, labels = _fan_handles(0, has_obs)
        ax.legend(handles, labels, loc="upper left", ncol=1)
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def fan_panels(frame: pd.DataFrame, title: str, y_label: str = "", money: bool = True, width: float = style.FULL_WIDTH_IN) -> Figure:
    """One fan panel per scenario on shared axes (e.g. the cumulative deficit).

    ``frame``: ``scenario, financial_year, p05, p25, p50, p75, p95`` (from ``prepare.fan``).
    """
    names = list(dict.fromkeys(frame["scenario"]))
    x_years = sorted(set(frame["financial_year"]))
    n = len(names)
    ncols = 1 if n == 1 else 2
    nrows = -(-n // ncols)
    height = 2.9 if n == 1 else 0.5 + 2.0 * nrows
    with style.house_style():
        fig, axes = style.new_figure(width, height, nrows, ncols, sharex=True, sharey=True)
        axes = np.atleast_1d(axes).ravel()
        for i, name in enumerate(names):
            ax = axes[i]
            draw_fan(ax, frame[frame["scenario"] == name], x_years, i)
            ax.axhline(0, color=style.INK, linewidth=0.6)
            ax.set_title(name if n > 1 else title, fontsize=8)
            ax.yaxis.set_major_formatter(style.MONEY if money else style.COUNT)
            style.year_ticks(ax, x_years)
            ax.tick_params(labelbottom=True)
            if i % ncols == 0:
                ax.set_ylabel(y_label)
        for ax in axes[n:]:
            ax.set_visible(False)
        handles, labels = _fan_handles(0)
        axes[0].legend(handles, labels, loc="upper left")
        if n > 1:
            fig.suptitle(title, x=0.01, ha="left", fontsize=8.5, fontweight="bold")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


TIMELINESS_TITLES = {
    "timeliness": ("Plans within 20 weeks", "% of plans issued"),
    "weeks": ("Weeks waited (mean)", "weeks"),
    "special_wait": ("Waiting for a special place", "children (January census)"),
}


def timeliness_chart(frame: pd.DataFrame, width: float = style.FULL_WIDTH_IN, height: float = 2.6) -> Figure:
    """Three panels: % of plans within 20 weeks; weeks from request to plan and waiting for a
    caseworker; children waiting for a special place. Median lines with 90% bands.

    ``frame``: ``panel, metric, financial_year, p05, p50, p95`` (from ``prepare.timeliness``).
    """
    x_years = sorted(set(frame["financial_year"]))
    with style.house_style():
        fig, axes = style.new_figure(width, height, 1, 3)
        for ax, (panel, (title, unit)) in zip(axes, TIMELINESS_TITLES.items()):
            part = frame[frame["panel"] == panel]
            for i, metric in enumerate(dict.fromkeys(part["metric"])):
                rows = part[part["metric"] == metric]
                x = rows["financial_year"].map({y: k for k, y in enumerate(x_years)}).to_numpy(dtype=float)
                c = style.colour(i)
                ax.fill_between(x, rows["p05"], rows["p95"], color=c, alpha=style.BAND_ALPHA["p05_p95"], linewidth=0)
                ax.plot(x, rows["p50"], color=c, linestyle=style.linestyle(i), label=style.label(metric))
            ax.set_title(title, fontsize=7.5, loc="left")
            ax.set_ylabel(unit)
            ax.set_ylim(bottom=0)
            if panel == "timeliness":
                ax.set_ylim(0, 105)
            if panel == "special_wait":
                ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            style.year_ticks(ax, x_years, rotate=True)
            if panel == "weeks":
                ax.legend(loc="upper left", fontsize=6)
        fig.tight_layout(rect=(0, 0.03, 1, 1), w_pad=1.0)
    return fig
