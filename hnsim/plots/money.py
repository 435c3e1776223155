"""Spend by provision category, placement mix and the scenario comparison.

Spend and plans are drawn in the DSG plan template's seven provision categories, each in one colour
and hatching in every figure (``style.CATEGORY_STYLE``); scenarios in their own style
(``style.scenario_styles``); every legend sits below the axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from hnsim.analysis.dsg import CATEGORY_KEYS
from hnsim.plots import labels, style
from hnsim.plots.prepare import SETTINGS
from hnsim.plots.style import SeriesStyle


def _category_handles(keys: list[str], setting: bool = False) -> tuple[list, list[str]]:
    handles, names = [], []
    for key in keys:
        colour, hatch = style.category_style(key)
        handles.append(Patch(facecolor=colour, hatch=hatch, edgecolor="white", linewidth=0.3))
        names.append(labels.label(key) if setting else labels.category(key, short=True))
    return handles, names


def legend_height(entries: int, ncol: int = 3) -> float:
    """Inches a legend below the axes needs: about 0.14 in a row, plus a margin."""
    return 0.12 + 0.15 * -(-entries // ncol)


def _stacked_spend(ax: Axes, part: pd.DataFrame, years: list[str], width: float = 0.78) -> None:
    """Stacked bars of spend by category in one axes, with the allocation as a dashed line."""
    table = part.pivot_table(index="financial_year", columns="category", values="spend_gbp").reindex(years)
    x = np.arange(len(years))
    bottom = np.zeros(len(years))
    for key in CATEGORY_KEYS:
        values = table[key].to_numpy(dtype=float) if key in table else np.zeros(len(years))
        colour, hatch = style.category_style(key)
        ax.bar(x, values, bottom=bottom, width=width, color=colour, hatch=hatch, edgecolor="white", linewidth=0.3)
        bottom += values
    if "allocation" in table:
        ax.plot(x, table["allocation"], color="black", linewidth=1.4, linestyle="--", marker="o", markersize=2.2, zorder=5)
    ax.yaxis.set_major_formatter(style.MONEY)


def spend_chart(frame: pd.DataFrame, title: str = "High Needs spend by provision category and the allocation", width: float = style.FULL_WIDTH_IN,
                height: float = 3.9, names: dict[str, str] | None = None, base: str | None = None, data_end: str | None = None) -> Figure:
    """Stacked bars of mean spend by DSG provision category by financial year, with the allocation
    as a dashed line; one panel per scenario (shared axes, the base's total for reference) when the
    frame holds several.

    ``frame``: ``scenario, financial_year, category, spend_gbp`` (from ``prepare.spend_by_category``).
    """
    order = list(dict.fromkeys(frame["scenario"]))
    names = names or {s: labels.label(s) for s in order}
    years = sorted(set(frame["financial_year"]))
    n = len(order)
    ncols = 1 if n == 1 else 2 if n <= 6 else 3
    nrows = -(-n // ncols)
    legend_in = legend_height(len(CATEGORY_KEYS) + (2 if n > 1 else 1))
    height = height if n == 1 else nrows * (1.9 if ncols == 2 else 1.6) + 0.3 + legend_in + style.FOOTER_IN
    with style.house_style():
        fig, axes = style.new_figure(width, height, nrows, ncols, sharex=True, sharey=True)
        axes = np.atleast_1d(axes).ravel()
        base_total = frame[(frame["scenario"] == base) & (frame["category"] == "total")].set_index("financial_year")["spend_gbp"].reindex(years) if base in order else None
        for i, name in enumerate(order):
            ax = axes[i]
            _stacked_spend(ax, frame[frame["scenario"] == name], years)
            if data_end in years[:-1]:
                style.data_end_line(ax, years.index(data_end) + 0.5, "data end" if ncols > 1 else "data end \u2192 projection")
            if base_total is not None and name != base:
                ax.plot(np.arange(len(years)), base_total.to_numpy(dtype=float), color=style.BASE_COLOUR, linestyle=(0, (2, 1.5)), linewidth=0.9, zorder=6)
            ax.set_title(title if n == 1 else names.get(name, name), fontsize=8.5 if n == 1 else 7.5, loc="left")
            style.year_ticks(ax, years, rotate=ncols > 2)
            ax.tick_params(labelbottom=True)
            if i % ncols == 0:
                ax.set_ylabel("£ a year (outturn prices)")
        for ax in axes[n:]:
            ax.set_visible(False)
        handles, legend = _category_handles(CATEGORY_KEYS)
        handles.append(Line2D([], [], color="black", linewidth=1.4, linestyle="--", marker="o", markersize=2.2))
        legend.append(labels.legend("allocation"))
        if base_total is not None and n > 1:
            handles.append(Line2D([], [], color=style.BASE_COLOUR, linestyle=(0, (2, 1.5)), linewidth=0.9))
            legend.append(labels.legend("base_total", scenario=names.get(base, base)))
        fig.legend(handles, legend, loc="lower center", bbox_to_anchor=(0.5, style.FOOTER_IN / height), ncol=3, handlelength=1.8, columnspacing=1.0)
        if n > 1:
            fig.suptitle(title, x=0.01, y=1 - 0.06 / height, ha="left", va="top", fontsize=8.5, fontweight="bold")
        fig.tight_layout(rect=style.footer_rect(fig, legend_in))  # room for a suptitle is made by tight_layout
    return fig


def spend_change_chart(frame: pd.DataFrame, title: str, names: dict[str, str], width: float = style.FULL_WIDTH_IN) -> Figure:
    """Each scenario's change in spend against the base by provision category, summed over the key
    years: bars to the left are less spend; a diamond marks the net change.

    ``frame``: ``scenario, category, change_gbp`` (category rows and ``total``).
    """
    order = list(dict.fromkeys(frame["scenario"]))
    y = np.arange(len(order))[::-1]
    legend_in = legend_height(len(CATEGORY_KEYS) + 1)
    height = 1.0 + 0.36 * max(1, len(order)) + legend_in + style.FOOTER_IN
    with style.house_style():
        fig, ax = style.new_figure(width, height)
        ax.grid(axis="x", color="#dddddd", linewidth=0.5)
        ax.grid(axis="y", visible=False)
        table = frame.pivot_table(index="scenario", columns="category", values="change_gbp").reindex(order)
        left_neg, left_pos = np.zeros(len(order)), np.zeros(len(order))
        for key in CATEGORY_KEYS:
            values = table[key].to_numpy(dtype=float) if key in table else np.zeros(len(order))
            colour, hatch = style.category_style(key)
            start = np.where(values < 0, left_neg, left_pos)
            ax.barh(y, values, left=start, height=0.55, color=colour, hatch=hatch, edgecolor="white", linewidth=0.3)
            left_neg += np.minimum(values, 0)
            left_pos += np.maximum(values, 0)
        ax.plot(table["total"], y, "D", color="black", markerfacecolor="white", markersize=4, zorder=5)
        ax.axvline(0, color=style.INK, linewidth=0.7)
        ax.set_yticks(y)
        ax.set_yticklabels([names.get(s, s) for s in order])
        ax.xaxis.set_major_formatter(style.MONEY)
        ax.set_xlabel("£ change in spend against the status quo (negative is less spend)")
        ax.set_title(title)
        handles, legend = _category_handles(CATEGORY_KEYS)
        handles.append(Line2D([], [], color="black", marker="D", markerfacecolor="white", linestyle="none", markersize=4))
        legend.append(labels.legend("net_change"))
        fig.legend(handles, legend, loc="lower center", bbox_to_anchor=(0.5, style.FOOTER_IN / height), ncol=3, handlelength=1.8, columnspacing=1.0)
        fig.tight_layout(rect=style.footer_rect(fig, legend_in))
    return fig


def placement_chart(frame: pd.DataFrame, title: str = "Where children with EHCPs are educated", width: float = style.FULL_WIDTH_IN, height: float = 3.8,
                    data_end: str | None = None) -> Figure:
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
        for setting in settings:
            values = table[setting].to_numpy(dtype=float)
            colour, hatch = style.category_style(setting)
            ax.bar(x, values, bottom=bottom, width=0.85, color=colour, hatch=hatch, edgecolor="white", linewidth=0.3)
            bottom += values
        ax.set_ylim(0, 100)
        ax.set_ylabel("% of all plans (January census)")
        ax.set_title(title)
        ax.grid(False)
        style.year_ticks(ax, years)
        if data_end in years[:-1]:
            ax.axvline(years.index(data_end) + 0.5, color="white", linewidth=2.0)
            style.data_end_line(ax, years.index(data_end) + 0.5, "data end \u2192 projection")
        handles, legend = _category_handles(settings, setting=True)
        fig.legend(handles, legend, loc="lower center", bbox_to_anchor=(0.5, style.FOOTER_IN / height), ncol=3, handlelength=1.8, columnspacing=1.2)
        fig.tight_layout(rect=style.footer_rect(fig, legend_height(len(settings))))
    return fig


def placement_scenarios_chart(frame: pd.DataFrame, title: str, names: dict[str, str], width: float = style.FULL_WIDTH_IN) -> Figure:
    """One bar per scenario: the share (%) of plans by setting at one January census.

    ``frame``: ``scenario, setting, share_pct`` (from ``prepare.placement_by_scenario``).
    """
    order = list(dict.fromkeys(frame["scenario"]))
    table = frame.pivot_table(index="scenario", columns="setting", values="share_pct").reindex(order)
    settings = [s for s in SETTINGS if s in table.columns]
    y = np.arange(len(order))[::-1]
    legend_in = legend_height(len(settings))
    height = 1.0 + 0.34 * max(1, len(order)) + legend_in + style.FOOTER_IN
    with style.house_style():
        fig, ax = style.new_figure(width, height)
        left = np.zeros(len(order))
        for setting in settings:
            values = table[setting].to_numpy(dtype=float)
            colour, hatch = style.category_style(setting)
            ax.barh(y, values, left=left, height=0.6, color=colour, hatch=hatch, edgecolor="white", linewidth=0.3)
            left += values
        ax.set_xlim(0, 100)
        ax.set_yticks(y)
        ax.set_yticklabels([names.get(s, s) for s in order])
        ax.set_xlabel("% of all plans (January census)")
        ax.grid(False)
        ax.set_title(title)
        handles, legend = _category_handles(settings, setting=True)
        fig.legend(handles, legend, loc="lower center", bbox_to_anchor=(0.5, style.FOOTER_IN / height), ncol=3, handlelength=1.8, columnspacing=1.2)
        fig.tight_layout(rect=style.footer_rect(fig, legend_in))
    return fig


#: The comparison's three panels: (column prefix in window_savings, panel title).
EFFECT_PANELS = (
    ("saving", "Saving on spend"),
    ("balance_effect", "Effect on in-year balance"),
    ("deficit_reduction", "Lower deficit"),
)


def comparison_chart(frame: pd.DataFrame, title: str = "Each scenario against the base", width: float = style.FULL_WIDTH_IN,
                     styles: dict[str, SeriesStyle] | None = None, names: dict[str, str] | None = None, deficit_date: str = "") -> Figure:
    """Each scenario's effect on the budget over the key years, in three panels sharing the scenario
    axis: the saving on spend (with the lever's own cost), the net effect on the in-year balance
    (the saving plus money moved into the block) and the lower deficit at the end; each as the mean,
    its 95% interval (thick) and the 5-95% range of replications (dotted).

    ``frame``: from ``hnsim.analysis.compare.window_savings`` (``scenario, years, saving_mean,
    saving_ci95_low, ..., balance_effect_..., deficit_reduction_..., own_cost_mean``).
    """
    order = list(frame["scenario"])
    styles = styles or style.scenario_styles(["__base__", *order], "__base__")
    names = names or {s: s for s in order}
    y = np.arange(len(order))[::-1]
    legend_in = 0.42
    height = 1.1 + 0.36 * max(1, len(order)) + legend_in + style.FOOTER_IN
    has_cost = frame["own_cost_mean"].notna().any() and (frame["own_cost_mean"].fillna(0) != 0).any()
    with style.house_style():
        fig, axes = style.new_figure(width, height, 1, 3, sharey=True)
        for ax, (key, panel) in zip(axes, EFFECT_PANELS):
            ax.grid(axis="x", color="#dddddd", linewidth=0.5)
            ax.grid(axis="y", visible=False)
            for yi, (_, row) in zip(y, frame.iterrows()):
                look = styles.get(row["scenario"], style.SeriesStyle(style.colour(0), "-", "o", ""))
                off = 0.12 if (key == "saving" and has_cost) else 0.0
                ax.hlines(yi + off, row[f"{key}_p05"], row[f"{key}_p95"], color=look.colour, linewidth=0.8, linestyle=":")
                ax.hlines(yi + off, row[f"{key}_ci95_low"], row[f"{key}_ci95_high"], color=look.colour, linewidth=3.0)
                ax.plot(row[f"{key}_mean"], yi + off, look.marker, color="white", markeredgecolor=look.colour, markersize=4.2, markeredgewidth=1.2)
                if key == "saving" and has_cost and pd.notna(row["own_cost_mean"]):
                    ax.barh(yi - 0.16, row["own_cost_mean"], height=0.2, color="#bbbbbb", hatch="///", edgecolor="white", linewidth=0.3)
            ax.axvline(0, color=style.INK, linewidth=0.7)
            ax.set_title(panel + (f"\nat {deficit_date}" if key == "deficit_reduction" and deficit_date else f"\n{frame['years'].iloc[0]}" if len(frame) else ""), fontsize=7, loc="left")
            ax.xaxis.set_major_formatter(style.MONEY)
            ax.tick_params(axis="x", labelsize=6, rotation=30)
        axes[0].set_yticks(y)
        axes[0].set_yticklabels([names.get(s, s) for s in order])
        handles = [Line2D([], [], color=style.MUTED, linewidth=3.0, marker="o", markerfacecolor="white", markersize=4.2), Line2D([], [], color=style.MUTED, linewidth=0.8, linestyle=":")]
        legend = [labels.legend("mean_interval"), labels.legend("replication_range")]
        if has_cost:
            handles.append(Patch(facecolor="#bbbbbb", hatch="///", edgecolor="white"))
            legend.append(labels.legend("own_cost"))
        fig.legend(handles, legend, loc="lower center", bbox_to_anchor=(0.5, style.FOOTER_IN / height), ncol=3, handlelength=2.2, columnspacing=1.2)
        fig.suptitle(title, x=0.01, y=1 - 0.06 / height, ha="left", va="top", fontsize=8.5, fontweight="bold")
        fig.tight_layout(rect=style.footer_rect(fig, legend_in), w_pad=0.8)
    return fig
