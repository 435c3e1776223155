"""Stacked spend by budget line, placement mix and the scenario comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from hnsim.plots import style
from hnsim.plots.prepare import SETTINGS, SPEND_LINES


def spend_chart(frame: pd.DataFrame, title: str = "High Needs spend by budget line and the allocation", width: float = style.FULL_WIDTH_IN, height: float = 3.4) -> Figure:
    """Stacked bars of mean spend per budget line by financial year, with the allocation as a line.

    ``frame``: ``financial_year``, the six ``spend_*`` line columns and ``hnb_allocation`` (pounds).
    """
    years = list(frame["financial_year"])
    x = np.arange(len(years))
    with style.house_style():
        fig, ax = style.new_figure(width, height)
        bottom = np.zeros(len(years))
        handles, labels = [], []
        for i, line in enumerate(SPEND_LINES):
            values = frame[line].to_numpy(dtype=float)
            bars = ax.bar(x, values, bottom=bottom, width=0.78, color=style.colour(i), hatch=style.hatch(i), edgecolor="white", linewidth=0.3)
            bottom += values
            handles.append(bars[0])
            labels.append(style.label(line))
        alloc = ax.plot(x, frame["hnb_allocation"], color="black", linewidth=1.6, linestyle="--", marker="o", markersize=2.5, zorder=5)[0]
        handles.append(alloc)
        labels.append("High Needs Block allocation")
        ax.set_title(title)
        ax.yaxis.set_major_formatter(style.MONEY)
        ax.set_ylabel("£ a year (outturn prices)")
        style.year_ticks(ax, years)
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=4, handlelength=1.8, columnspacing=1.2)
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def placement_chart(frame: pd.DataFrame, title: str = "Where children with EHCPs are educated", width: float = style.FULL_WIDTH_IN, height: float = 3.4) -> Figure:
    """Stacked share (%) of plans by setting over time.

    ``frame``: ``financial_year, setting, share_pct`` (long, from ``prepare.placement_mix``).
    """
    table = frame.pivot_table(index="financial_year", columns="setting", values="share_pct").sort_index()
    settings = [s for s in SETTINGS if s in table.columns]
    years = list(table.index)
    x = np.arange(len(years))
    with style.house_style():
        fig, ax = style.new_figure(width, height)
        bottom = np.zeros(len(years))
        handles = []
        for i, setting in enumerate(settings):
            values = table[setting].to_numpy(dtype=float)
            bars = ax.bar(x, values, bottom=bottom, width=0.85, color=style.colour(i), hatch=style.hatch(i), edgecolor="white", linewidth=0.3)
            bottom += values
            handles.append(bars[0])
        ax.set_ylim(0, 100)
        ax.set_ylabel("% of all plans (January census)")
        ax.set_title(title)
        ax.grid(False)
        style.year_ticks(ax, years)
        ax.legend(handles, [style.label(s) for s in settings], loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=4, handlelength=1.8, columnspacing=1.2)
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def comparison_chart(frame: pd.DataFrame, title: str = "Saving on High Needs spend against the base", width: float = style.FULL_WIDTH_IN) -> Figure:
    """Each scenario's saving (mean, 95% CI of the mean and 5-95% range of replications) with its own cost.

    ``frame``: ``scenario, years, saving_mean, saving_ci95_low, saving_ci95_high, saving_p05,
    saving_p95, own_cost_mean`` (from ``hnsim.analysis.compare.window_savings``); own cost is drawn where it is not NaN.
    """
    names = list(frame["scenario"])
    y = np.arange(len(names))[::-1]
    height = 1.3 + 0.42 * max(1, len(names))
    has_cost = frame["own_cost_mean"].notna().any()
    with style.house_style():
        fig, ax = style.new_figure(width, height)
        ax.grid(axis="x", color="#dddddd", linewidth=0.5)
        ax.grid(axis="y", visible=False)
        off = 0.13 if has_cost else 0.0
        ax.hlines(y + off, frame["saving_p05"], frame["saving_p95"], color=style.colour(0), linewidth=0.8, linestyle=":")
        ax.hlines(y + off, frame["saving_ci95_low"], frame["saving_ci95_high"], color=style.colour(0), linewidth=3.2)
        ax.plot(frame["saving_mean"], y + off, "o", color="white", markeredgecolor=style.colour(0), markersize=4.5, markeredgewidth=1.2)
        handles = [Line2D([], [], color=style.colour(0), linewidth=3.2, marker="o", markerfacecolor="white", markersize=4.5), Line2D([], [], color=style.colour(0), linewidth=0.8, linestyle=":")]
        labels = ["Saving: mean and 95% interval of the mean", "Saving: 5-95% of replications"]
        if has_cost:
            ax.barh(y - 0.15, frame["own_cost_mean"].fillna(0), height=0.22, color=style.colour(1), hatch="///", edgecolor="white", linewidth=0.3)
            handles.append(Patch(facecolor=style.colour(1), hatch="///", edgecolor="white"))
            labels.append("The lever's own cost")
        ax.axvline(0, color=style.INK, linewidth=0.7)
        ax.set_yticks(y)
        ax.set_yticklabels(names)
        ax.xaxis.set_major_formatter(style.MONEY)
        ax.set_xlabel(f"£, total over {frame['years'].iloc[0]}" if len(frame) else "£")
        ax.set_title(title)
        fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.04), ncol=3, handlelength=2.2, columnspacing=1.2)
        fig.tight_layout(rect=(0, 0.05 + 0.3 / height, 1, 1))
    return fig
