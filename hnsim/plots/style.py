"""The house style: one look for every figure, readable in greyscale and by colour-blind readers.

Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies); every series
also differs by line style, marker or hatching so that a greyscale photocopy still separates them.
Sizes are for an A4 page with 2.5 cm margins: full width 6.3 in, half width 3.1 in.
Display labels live in :mod:`hnsim.plots.labels` (the label table), never in column names.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from hnsim.plots import labels  # noqa: E402

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

#: The seven DSG provision categories (and the settings of plans) keep one colour and hatch in
#: every figure: mainstream is always blue, special always green, and so on.
CATEGORY_STYLE: dict[str, tuple[str, str]] = {
    "mainstream": ("#0072B2", ""),
    "resourced": ("#56B4E9", "..."),
    "special": ("#009E73", "///"),
    "independent": ("#D55E00", "xx"),
    "hospital_ap": ("#E69F00", "\\\\\\"),
    "post16": ("#CC79A7", "--"),
    "other": ("#999999", "oo"),
}
#: A plan's setting (ehcp_*) is drawn in its DSG category's style.
SETTING_CATEGORY = {"ehcp_mainstream": "mainstream", "ehcp_resourced": "resourced", "ehcp_special": "special", "ehcp_independent": "independent",
                    "ehcp_ap": "hospital_ap", "ehcp_post16": "post16", "ehcp_other": "other"}
#: The base scenario (the unmitigated forecast) is black in every figure.
BASE_COLOUR = "#000000"
DATA_END_COLOUR = "#555555"

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
    """Display label of a metric, budget line, setting or scenario (from :mod:`hnsim.plots.labels`)."""
    return labels.label(metric)


@dataclass(frozen=True)
class SeriesStyle:
    """How one scenario is drawn in every figure of a report."""

    colour: str
    linestyle: object
    marker: str
    hatch: str


def scenario_styles(names: Sequence[str], base: str) -> dict[str, SeriesStyle]:
    """One style per scenario, fixed for a report: the base black and solid; the others in
    palette order, each with its own colour, line style, marker and hatching (unique for up to 42)."""
    out = {base: SeriesStyle(BASE_COLOUR, "-", "o", "")}
    others = [n for n in names if n != base]
    colours = [c for c in PALETTE if c != BASE_COLOUR]
    for i, name in enumerate(others):
        out[name] = SeriesStyle(colours[i % len(colours)], LINESTYLES[(i + 1) % len(LINESTYLES)], MARKERS[(i + 1) % len(MARKERS)], HATCHES[(i + 1) % len(HATCHES)])
    return out


def category_style(key: str) -> tuple[str, str]:
    """(colour, hatch) of a DSG category, or of a plan setting (``ehcp_special``)."""
    return CATEGORY_STYLE.get(SETTING_CATEGORY.get(key, key), ("#999999", ""))


def money(value: float, _pos: object = None) -> str:
    """Pounds for an axis: £60m, £1.5m, £250k, with a minus sign for negatives (-£2.5m)."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e9:
        return f"{sign}£{v / 1e9:.3g}bn"
    if v >= 1e6:
        text = f"{v / 1e6:.1f}".rstrip("0").rstrip(".")
        return f"{sign}£{text}m"
    if v >= 1e3:
        return f"{sign}£{v / 1e3:.0f}k"
    return f"{sign}£{v:.0f}" if v else "£0"


def money_text(value: float, decimals: int = 1) -> str:
    """Pounds in text and tables: £144.6m, -£1.3m, £250k, £0.0m (the sign before the pound sign)."""
    if value != value:  # NaN
        return "n/a"
    v = abs(value)
    if v >= 1e9:
        text = f"£{v / 1e9:,.{decimals + 1}f}bn"
    elif v >= 1e6 - 0.5 * 10 ** (6 - decimals) or v < 500:
        text = f"£{v / 1e6:,.{decimals}f}m"
    else:
        text = f"£{v / 1e3:,.0f}k"
    zero = not any(ch in "123456789" for ch in text)
    return ("-" if value < 0 and not zero else "") + text


def count(value: float, _pos: object = None) -> str:
    """Whole numbers with thousands separators (-1,234 for negatives; never -0)."""
    return f"{round(value) + 0:,.0f}" if value == value else "n/a"


MONEY = FuncFormatter(money)
COUNT = FuncFormatter(count)


def year_ticks(ax: Axes, years: Sequence[str], every: int | None = None, rotate: bool = False) -> None:
    """Financial-year tick labels (like 2018-19) at positions 0..n-1, thinned so they never crowd;
    the last year is always labelled.

    ``every`` defaults to the smallest of 1, 2, 3, 5, 10 years that fits the axis width (about
    0.62 in per label, 0.25 in when rotated); every year keeps a minor tick.
    """
    n = len(years)
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    most = max(2, int(width_in / (0.25 if rotate else 0.62)))
    step = every or next((s for s in (1, 2, 3, 5, 10, 20) if -(-n // s) <= most), max(1, n // 2))
    # counted back from the last year, so that the last year always has its label
    ticks = sorted(range(n - 1, -1, -step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([years[i] for i in ticks], rotation=45 if rotate else 0, ha="right" if rotate else "center", rotation_mode="anchor" if rotate else "default")
    ax.set_xticks(range(n), minor=True)
    ax.tick_params(axis="x", which="minor", length=2)
    ax.set_xlim(-0.5, n - 0.5)


#: Average width of a character of the 5 pt footer, points (sans-serif, with a margin).
NOTE_CHAR_PT = 2.9


def provenance(fig: Figure, text: str, note: str = "") -> None:
    """A small grey provenance line at the bottom right of the figure; ``note`` (the data vantage
    and funding assumption) on the line above it, at the left."""
    fig.text(0.995, 0.005, text, ha="right", va="bottom", fontsize=5, color=MUTED, family="sans-serif")
    if note:
        # one line across the page: a long note (a funding range, say) is set smaller rather than cut
        fits = fig.get_figwidth() * 72 / NOTE_CHAR_PT
        size = max(3.5, min(5.0, 5.0 * fits / max(len(note), 1)))
        fig.text(0.005, 0.005 + 9 / 72 / fig.get_figheight(), note, ha="left", va="bottom", fontsize=size, color=MUTED, family="sans-serif", wrap=False)


#: Space a figure keeps at its foot for the provenance and data lines, inches.
FOOTER_IN = 0.3


def footer_rect(fig: Figure, bottom_in: float = 0.0, top_in: float = 0.0) -> tuple[float, float, float, float]:
    """The ``rect`` for ``tight_layout`` that leaves the footer (and ``bottom_in`` more, e.g. a
    legend below the axes) and ``top_in`` at the top (a figure title) free."""
    height = fig.get_figheight()
    return (0, (FOOTER_IN + bottom_in) / height, 1, 1 - top_in / height)


def data_end_line(ax: Axes, x: float, text: str = "data end") -> None:
    """A dashed vertical line after the last observed year (at ``x``, half-way to the next year),
    labelled at the top: fit on the left, projection on the right."""
    ax.axvline(x, color=DATA_END_COLOUR, linewidth=0.8, linestyle=(0, (4, 2)), zorder=1)
    ax.annotate(text, xy=(x, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -2), textcoords="offset points",
                ha="left", va="top", fontsize=6, color=DATA_END_COLOUR)
