"""The house style: one look for every figure, readable in greyscale and by colour-blind readers.

Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies); every series
also differs by line style, marker or hatching so that a greyscale photocopy still separates them.
Sizes are for an A4 page with 2.5 cm margins: full width 6.3 in, half width 3.1 in.
Display labels for metrics and settings live here, not in column names.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

FULL_WIDTH_IN = 6.3
HALF_WIDTH_IN = 3.1
DPI = 300

#: Okabe-Ito, in the order used for series.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
HATCHES = ["", "///", "...", "\\\\\\", "xx", "--", "oo", "++"]
#: Fan bands: 90% band lighter, 50% band darker, of the series colour.
BAND_ALPHA = {"p05_p95": 0.18, "p25_p75": 0.38}
INK = "#222222"
MUTED = "#6b6b6b"
OBSERVED_COLOUR = "#000000"

METRIC_LABELS: dict[str, str] = {
    "ehcp_total": "EHCPs (January census)",
    "cumulative_deficit": "Cumulative High Needs deficit",
    "spend_total": "High Needs spend",
    "hnb_allocation": "High Needs Block allocation",
    "in_year_balance": "In-year balance",
    "pct_plans_within_20_weeks": "Plans issued within 20 weeks (%)",
    "mean_weeks_request_to_plan": "Request to final plan",
    "mean_weeks_waiting_for_assessment": "Waiting for a caseworker",
    "mean_weeks_waiting_for_special_place": "Mean wait for a special place",
    "waiting_for_special_place": "Children waiting for a special place",
    "assessment_requests": "Assessment requests",
    "new_ehcps": "New plans",
}

SPEND_LINE_LABELS: dict[str, str] = {
    "spend_mainstream_topups": "Mainstream top-ups",
    "spend_special": "Special schools",
    "spend_independent": "Independent special",
    "spend_ap": "Alternative provision",
    "spend_post16": "Post-16",
    "spend_other": "Central and other",
}

SETTING_LABELS: dict[str, str] = {
    "ehcp_mainstream": "Mainstream",
    "ehcp_resourced": "Resourced provision",
    "ehcp_special": "Special school",
    "ehcp_independent": "Independent special",
    "ehcp_ap": "Alternative provision",
    "ehcp_post16": "FE and post-16",
    "ehcp_other": "Early years, EHE and other",
}

RC = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 8,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "lines.linewidth": 1.4,
    "hatch.linewidth": 0.5,
    "hatch.color": "#ffffff",
    "svg.fonttype": "none",
    "savefig.dpi": DPI,
}


@contextmanager
def house_style() -> Iterator[None]:
    """Apply the house rcParams inside a ``with`` block."""
    with plt.rc_context(RC):
        yield


def new_figure(width: float = FULL_WIDTH_IN, height: float = 3.2, nrows: int = 1, ncols: int = 1, **kwargs) -> tuple[Figure, object]:
    """A figure of exactly ``width`` x ``height`` inches in the house style (no pyplot state kept)."""
    with plt.rc_context(RC):
        fig = Figure(figsize=(width, height), dpi=DPI)
        axes = fig.subplots(nrows, ncols, squeeze=True, **kwargs)
    return fig, axes


def colour(i: int) -> str:
    """The i-th series colour."""
    return PALETTE[i % len(PALETTE)]


def linestyle(i: int):
    """The i-th series line style."""
    return LINESTYLES[i % len(LINESTYLES)]


def hatch(i: int) -> str:
    """The i-th fill hatching."""
    return HATCHES[i % len(HATCHES)]


def label(metric: str) -> str:
    """Display label of a metric (the metric name, tidied, when none is defined)."""
    for table in (METRIC_LABELS, SPEND_LINE_LABELS, SETTING_LABELS):
        if metric in table:
            return table[metric]
    return metric.replace("_", " ").capitalize()


def money(value: float, _pos: object = None) -> str:
    """Pounds as £60m, £1.5m, £250k, with a minus sign for negatives."""
    sign = "\u2212" if value < 0 else ""
    v = abs(value)
    if v >= 1e9:
        return f"{sign}£{v / 1e9:.3g}bn"
    if v >= 1e6:
        text = f"{v / 1e6:.1f}".rstrip("0").rstrip(".")
        return f"{sign}£{text}m"
    if v >= 1e3:
        return f"{sign}£{v / 1e3:.0f}k"
    return f"{sign}£{v:.0f}" if v else "£0"


def count(value: float, _pos: object = None) -> str:
    """Whole numbers with thousands separators."""
    return f"{value:,.0f}".replace("-", "\u2212")


MONEY = FuncFormatter(money)
COUNT = FuncFormatter(count)


def year_ticks(ax: Axes, years: Sequence[str], every: int | None = None, rotate: bool = False) -> None:
    """Financial-year tick labels (like 2018-19) at positions 0..n-1, thinned so they never crowd.

    ``every`` defaults to the smallest of 1, 2, 3, 5, 10 years that fits the axis width (about
    0.62 in per label, 0.25 in when rotated); every year keeps a minor tick.
    """
    n = len(years)
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    most = max(2, int(width_in / (0.25 if rotate else 0.62)))
    step = every or next((s for s in (1, 2, 3, 5, 10, 20) if -(-n // s) <= most), max(1, n // 2))
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([years[i] for i in ticks], rotation=45 if rotate else 0, ha="right" if rotate else "center", rotation_mode="anchor" if rotate else "default")
    ax.set_xticks(range(n), minor=True)
    ax.tick_params(axis="x", which="minor", length=2)
    ax.set_xlim(-0.5, n - 0.5)


def provenance(fig: Figure, text: str) -> None:
    """A small grey provenance line at the bottom right of the figure."""
    fig.text(0.995, 0.005, text, ha="right", va="bottom", fontsize=5, color=MUTED, family="sans-serif")
