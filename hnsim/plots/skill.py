"""Forecast-skill figures: error by horizon, interval coverage against nominal, PIT histograms, and
one authority's fans from every origin against its history. Frames in, figures out."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from hnsim.plots import style

FORECASTER_LABELS = {"hnsim": "hnsim (model)", "last_value": "Last value", "linear_trend": "Linear trend", "compound_growth": "Compound growth",
                     "damped_trend": "Damped trend (ETS)"}
SERIES_LABELS = {"ehcp_total": "EHCPs, January", "new_ehcps_calendar_year": "New EHCPs, calendar year", "assessment_requests_calendar_year": "Requests to assess, calendar year",
                 "ehcp_special": "EHCPs in special schools, January", "ehcp_mainstream": "EHCPs in mainstream, January", "all": "All series pooled",
                 "ehcp_independent": "EHCPs in independent special schools, January", "ehcp_post16": "EHCPs in FE and post-16, January",
                 "ehcp_age_under5": "EHCPs aged under 5, January", "ehcp_age_5_10": "EHCPs aged 5-10, January", "ehcp_age_11_15": "EHCPs aged 11-15, January",
                 "ehcp_age_16_19": "EHCPs aged 16-19, January", "ehcp_age_20_25": "EHCPs aged 20-25, January"}
ORDER = ("hnsim", "last_value", "linear_trend", "compound_growth", "damped_trend")


def _grid(width: float, height: float, rows: int, cols: int, **kwargs) -> tuple[Figure, np.ndarray]:
    """A house-style figure with a rows x cols array of axes (always two-dimensional)."""
    import matplotlib.pyplot as plt

    with plt.rc_context(style.RC):
        fig = Figure(figsize=(width, height), dpi=style.DPI)
        axes = fig.subplots(rows, cols, squeeze=False, **kwargs)
    return fig, axes


def forecaster_label(name: str) -> str:
    """Display label of a forecaster."""
    return FORECASTER_LABELS.get(name, name.replace("_", " ").capitalize())


def series_label(name: str) -> str:
    """Display label of a scored series."""
    return SERIES_LABELS.get(name, style.label(name))


def _forecasters(frame: pd.DataFrame) -> list[str]:
    present = list(dict.fromkeys(frame["forecaster"]))
    return [f for f in ORDER if f in present] + [f for f in present if f not in ORDER]


def _style_of(i: int, name: str) -> dict:
    return {"color": style.colour(i), "linestyle": style.linestyle(i), "marker": style.MARKERS[i % len(style.MARKERS)], "linewidth": 2.0 if name == "hnsim" else 1.1,
            "markersize": 3.5, "zorder": 5 if name == "hnsim" else 3}


def error_by_horizon_chart(summary: pd.DataFrame, series: list[str], value: str = "mean_ape", y_label: str = "mean absolute % error") -> Figure:
    """One panel per series: ``value`` by horizon (years after the origin) for every forecaster.
    ``summary``: ``series, horizon, forecaster, value`` (numeric horizons only are drawn)."""
    frame = summary[summary["series"].isin(series) & (summary["horizon"].astype(str) != "all")].copy()
    frame["horizon"] = frame["horizon"].astype(int)
    names = _forecasters(frame)
    cols = 2 if len(series) > 1 else 1
    rows = -(-len(series) // cols)
    with style.house_style():
        fig, axes = _grid(style.FULL_WIDTH_IN, 2.3 * rows + 0.5, rows, cols)
        for k, name in enumerate(series):
            ax = axes[k // cols][k % cols]
            part = frame[frame["series"] == name]
            for i, forecaster in enumerate(names):
                line = part[part["forecaster"] == forecaster].sort_values("horizon")
                ax.plot(line["horizon"], line[value], **_style_of(i, forecaster))
            ax.set_title(series_label(name))
            ax.set_xlabel("years after the origin")
            ax.set_ylabel(y_label)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(bottom=0)
        for k in range(len(series), rows * cols):
            axes[k // cols][k % cols].set_visible(False)
        handles = [Line2D([], [], **_style_of(i, f)) for i, f in enumerate(names)]
        fig.legend(handles, [forecaster_label(f) for f in names], loc="lower center", ncol=3, frameon=False, bbox_to_anchor=(0.5, 0.0))
        fig.subplots_adjust(left=0.1, right=0.98, top=0.94, bottom=0.27 if rows == 1 else 0.17, hspace=0.6, wspace=0.28)
    return fig


def coverage_chart(summary: pd.DataFrame) -> Figure:
    """Share of published values inside each forecaster's central 50% and 90% intervals, against
    the nominal 50% and 90% (dashed). ``summary``: ``forecaster, coverage_50, coverage_90`` (one row each)."""
    names = _forecasters(summary)
    frame = summary.set_index("forecaster").loc[names]
    x = np.arange(len(names))
    with style.house_style():
        fig, ax = style.new_figure(style.FULL_WIDTH_IN, 3.0)
        for j, (column, nominal) in enumerate((("coverage_50", 0.5), ("coverage_90", 0.9))):
            ax.bar(x + (j - 0.5) * 0.38, frame[column], width=0.36, color=style.colour(j), hatch=style.hatch(j + 1), edgecolor="white", linewidth=0.5,
                   label=f"inside the central {int(100 * nominal)}% interval")
            ax.axhline(nominal, color=style.colour(j), linestyle="--", linewidth=1.0)
            ax.text(len(names) - 0.45, nominal + 0.01, f"nominal {int(100 * nominal)}%", ha="right", va="bottom", fontsize=6.5, color=style.INK, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
        ax.set_xticks(x)
        ax.set_xticklabels([forecaster_label(f).replace(" (", "\n(").replace("Compound growth", "Compound\ngrowth") for f in names])
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel("published values inside")
        ax.set_title("Interval coverage against nominal")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        fig.subplots_adjust(left=0.1, right=0.98, top=0.9, bottom=0.3)
    return fig


def pit_chart(scored: pd.DataFrame, bins: int = 10) -> Figure:
    """Histogram of the PIT of every scored value, one panel per forecaster; a calibrated forecast
    gives a flat histogram at density 1 (dashed); a U shape means intervals too narrow, a slope bias."""
    names = _forecasters(scored)
    with style.house_style():
        fig, axes = _grid(style.FULL_WIDTH_IN, 2.2, 1, len(names), sharey=True)
        edges = np.linspace(0, 1, bins + 1)
        for i, name in enumerate(names):
            ax = axes[0][i]
            values = scored.loc[scored["forecaster"] == name, "pit"].dropna().to_numpy()
            density, _ = np.histogram(values, bins=edges, density=True)
            ax.bar(edges[:-1], density, width=1 / bins, align="edge", color=style.colour(i), hatch=style.hatch(i), edgecolor="white", linewidth=0.5)
            ax.axhline(1.0, color=style.INK, linestyle="--", linewidth=0.8)
            ax.set_title(forecaster_label(name).replace(" (ETS)", ""), fontsize=7)
            ax.set_xlim(0, 1)
            ax.set_xticks([0, 0.5, 1])
            ax.set_xticklabels(["0", "0.5", "1"])
            ax.set_xlabel("PIT")
        axes[0][0].set_ylabel("density")
        fig.subplots_adjust(left=0.08, right=0.98, top=0.85, bottom=0.24, wspace=0.15)
    return fig


def pit_table(scored: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """The numbers :func:`pit_chart` draws: ``forecaster, bin_low, bin_high, density, n``."""
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for name in _forecasters(scored):
        values = scored.loc[scored["forecaster"] == name, "pit"].dropna().to_numpy()
        density, _ = np.histogram(values, bins=edges, density=True)
        rows += [{"forecaster": name, "bin_low": lo, "bin_high": hi, "density": d, "n": len(values)} for lo, hi, d in zip(edges[:-1], edges[1:], density)]
    return pd.DataFrame(rows)


def origin_fans_chart(history: pd.DataFrame, fans: pd.DataFrame, authority: str, series: list[str]) -> Figure:
    """One panel per series: the published history (dots) and the model's fan from every origin
    (median, middle 50% and 90% of its ensemble). ``history``: ``series, year, value``;
    ``fans``: ``series, origin, year, p05, p25, p50, p75, p95``."""
    origins = sorted(fans["origin"].unique())
    with style.house_style():
        fig, axes = _grid(style.FULL_WIDTH_IN, 2.4 * len(series) + 0.4, len(series), 1)
        for k, name in enumerate(series):
            ax = axes[k][0]
            past = history[history["series"] == name].sort_values("year")
            for i, origin in enumerate(origins):
                fan = fans[(fans["series"] == name) & (fans["origin"] == origin)].sort_values("year")
                if fan.empty:
                    continue
                c = style.colour(i)
                if len(fan) == 1:  # one year ahead only: bars instead of bands
                    ax.vlines(fan["year"], fan["p05"], fan["p95"], color=c, alpha=0.5, linewidth=5)
                    ax.vlines(fan["year"], fan["p25"], fan["p75"], color=c, alpha=0.8, linewidth=5)
                ax.fill_between(fan["year"], fan["p05"], fan["p95"], color=c, alpha=style.BAND_ALPHA["p05_p95"], linewidth=0)
                ax.fill_between(fan["year"], fan["p25"], fan["p75"], color=c, alpha=style.BAND_ALPHA["p25_p75"], linewidth=0)
                ax.plot(fan["year"], fan["p50"], color=c, linestyle=style.linestyle(i), linewidth=1.4, marker=style.MARKERS[i], markersize=2.5)
            ax.plot(past["year"], past["value"], color=style.OBSERVED_COLOUR, marker="o", markersize=3.5, markerfacecolor="white", linestyle="none", zorder=6)
            ax.set_title(f"{authority}: {series_label(name)}")
            ax.yaxis.set_major_formatter(style.COUNT)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(bottom=0)
        handles = [Line2D([], [], color=style.colour(i), linestyle=style.linestyle(i), marker=style.MARKERS[i], markersize=2.5) for i in range(len(origins))]
        handles += [Patch(color=style.MUTED, alpha=0.45, linewidth=0), Line2D([], [], color=style.OBSERVED_COLOUR, marker="o", markersize=3.5, markerfacecolor="white", linestyle="none")]
        labels = [f"forecast from January {o} (median)" for o in origins] + ["middle 50% and 90% of the forecast", "published figure"]
        fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
        fig.subplots_adjust(left=0.1, right=0.98, top=0.95, bottom=0.13 if len(series) > 1 else 0.27, hspace=0.45)
    return fig
