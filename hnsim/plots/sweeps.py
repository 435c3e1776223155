"""Sweep figures: a tornado chart and a two-lever heat map (pure functions on documented frames)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from hnsim.plots import labels as label_table
from hnsim.plots import style

TORNADO_COLUMNS = ["parameter", "low_value", "high_value", "outcome_low", "outcome_high", "base"]

#: A sequential colour map, monotone in lightness (so it reads in greyscale) and colour-blind safe.
HEAT_CMAP = "cividis"


def level_text(value: object, unit: str) -> str:
    """A parameter level as a reader writes it: 3.0% (growth), 0.45 (share), £1.5m, 1,200."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if unit == "growth":
            return f"{100 * float(value):.1f}% a year"
        if unit == "gbp":
            return style.money(float(value))
    return _short(value)


def tornado_chart(frame: pd.DataFrame, outcome_label: str, money: bool = True, width: float = style.FULL_WIDTH_IN,
                  names: dict[str, tuple[str, str]] | None = None) -> Figure:
    """Tornado chart: the outcome at each parameter's low and high value, widest swing on top.

    ``frame`` columns: ``parameter`` (its name), ``low_value``, ``high_value``, ``outcome_low``,
    ``outcome_high`` (outcome with the parameter at its low / high value, the others at base) and
    ``base`` (the outcome at the base point, the same on every row). ``names`` maps a parameter to
    its (label, unit) from the label table; a parameter without one is shown as its dotted path.
    """
    missing = [c for c in TORNADO_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"tornado frame lacks columns {', '.join(missing)}")
    data = frame.assign(swing=(frame["outcome_high"] - frame["outcome_low"]).abs()).sort_values("swing")
    base = float(data["base"].iloc[0])
    y = np.arange(len(data))
    fmt = style.money if money else style.count
    with style.house_style():
        fig, ax = style.new_figure(width, 1.3 + 0.42 * max(2, len(data)))
        low_c, high_c = style.colour(0), style.colour(1)
        ax.barh(y, data["outcome_low"] - base, left=base, height=0.6, color=low_c, edgecolor="white", linewidth=0.3)
        ax.barh(y, data["outcome_high"] - base, left=base, height=0.6, color=high_c, hatch="///", edgecolor="white", linewidth=0.3)
        ax.axvline(base, color=style.INK, linewidth=0.8)
        names = names or {}
        labels = []
        for p, lo, hi in zip(data["parameter"], data["low_value"], data["high_value"]):
            name, unit = names.get(str(p), (wrap_path(str(p)), "count"))
            labels.append(f"{name}\n{level_text(lo, unit)} to {level_text(hi, unit)}")
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.xaxis.set_major_formatter(style.MONEY if money else style.COUNT)
        ax.set_xlabel(f"{outcome_label} (base {fmt(base)})")
        ax.grid(axis="x", color="#dddddd", linewidth=0.5)
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="y", labelsize=6.5)
        fig.suptitle(f"What moves {outcome_label[:1].lower() + outcome_label[1:]} most", x=0.01, ha="left", fontsize=8.5, fontweight="bold")
        handles = [Patch(facecolor=low_c), Patch(facecolor=high_c, hatch="///", edgecolor="white")]
        fig.legend(handles, [label_table.legend("low_value"), label_table.legend("high_value")], loc="lower center", bbox_to_anchor=(0.5, style.FOOTER_IN / fig.get_figheight()), ncol=2)
        fig.tight_layout(rect=style.footer_rect(fig, 0.3, 0.25))
    return fig


def heatmap_chart(frame: pd.DataFrame, x: str, y: str, value: str, outcome_label: str, money: bool = True, width: float = style.FULL_WIDTH_IN, height: float = 3.6,
                  names: dict[str, tuple[str, str]] | None = None) -> Figure:
    """Heat map of an outcome mean over a grid of two levers, each cell labelled with its value.

    ``frame`` columns: ``x`` and ``y`` (the two parameter columns) and ``value`` (the outcome mean),
    one row per grid point; a missing grid point is left blank. ``names``: (label, unit) of the two
    parameters, from the label table.
    """
    names = names or {}
    x_name, x_unit = names.get(x, (x, "count"))
    y_name, y_unit = names.get(y, (y, "count"))
    grid = frame.pivot_table(index=y, columns=x, values=value, aggfunc="mean").sort_index(ascending=True)
    fmt = style.money if money else style.count
    with style.house_style():
        fig, ax = style.new_figure(width, height)
        image = ax.imshow(grid.to_numpy(dtype=float), cmap=HEAT_CMAP, aspect="auto", origin="lower")
        ax.grid(False)
        ax.set_xticks(range(grid.shape[1]))
        ax.set_xticklabels([level_text(v, x_unit) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]))
        ax.set_yticklabels([level_text(v, y_unit) for v in grid.index])
        ax.set_xlabel(x_name)
        ax.set_ylabel(y_name)
        values = grid.to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0
        if grid.size <= 80:
            for (i, j), v in np.ndenumerate(values):
                if np.isfinite(v):
                    ax.text(j, i, fmt(v), ha="center", va="center", fontsize=6, color="black" if v > mid else "white")
        bar = fig.colorbar(image, ax=ax, shrink=0.9, pad=0.02)
        bar.ax.yaxis.set_major_formatter(style.MONEY if money else style.COUNT)
        bar.set_label(outcome_label)
        bar.outline.set_linewidth(0.4)
        ax.set_title(f"{outcome_label} by {x_name[:1].lower() + x_name[1:]} and {y_name[:1].lower() + y_name[1:]}")
        fig.tight_layout(rect=style.footer_rect(fig))
    return fig


def wrap_path(path: str, width: int = 30) -> str:
    """A dotted config path broken after dots into lines of at most about ``width`` characters."""
    lines, line = [], ""
    for part in path.split("."):
        piece = part if not line else f".{part}"
        if line and len(line) + len(piece) > width:
            lines.append(line + ".")
            line = part
        else:
            line += piece
    lines.append(line)
    return "\n".join(lines)


def _short(v: object) -> str:
    """A compact tick label for a parameter value."""
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    if isinstance(v, (float, np.floating)):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return str(v)
