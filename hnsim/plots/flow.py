"""Pathway flow diagram: stocks as boxes, a year's flows as labelled arrows between stages."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from hnsim.plots import style

#: Setting boxes inside the EHCP group, top to bottom, with their display names.
EHCP_BOXES = [
    ("ehcp_mainstream", "Mainstream, resourced"),
    ("ehcp_special", "Special school"),
    ("ehcp_independent", "Independent special"),
    ("ehcp_ap", "Alternative provision"),
    ("ehcp_post16", "FE and post-16"),
    ("ehcp_other", "Early years, EHE, other"),
]
GROUP_X, GROUP_W = 6.0, 2.75
BOX_H, BOX_GAP, BOX_TOP = 0.62, 0.2, 5.05


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, dashed: bool = False, fill: str = "#f2f2f2", size: float = 7) -> None:
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", linewidth=0.8, edgecolor=style.INK, facecolor=fill, linestyle="--" if dashed else "-"))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size, color=style.INK)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], text: str, text_xy: tuple[float, float], ha: str = "center", rad: float = 0.0, colour: str = style.INK) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=8, linewidth=1.0, color=colour, connectionstyle=f"arc3,rad={rad}", shrinkA=1, shrinkB=1))
    if text:
        ax.text(*text_xy, text, ha=ha, va="center", fontsize=6.5, color=colour, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.9})


def _n(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:,.0f}"


def flow_diagram(frame: pd.DataFrame, year: str, scenario: str = "", width: float = style.FULL_WIDTH_IN, height: float = 4.0) -> Figure:
    """The graduated pathway for one financial year: January stocks in boxes, the year's flows on arrows.

    ``frame``: ``kind`` (stock/flow), ``key``, ``value`` (from ``prepare.pathway_flows``): stocks
    keyed by stage (``sen_support``, ``early_years``, ``ehcp_*``, ``ap_pupils``), flows by metric.
    """
    stock = frame[frame["kind"] == "stock"].set_index("key")["value"]
    flow = frame[frame["kind"] == "flow"].set_index("key")["value"]
    with style.house_style():
        fig, ax = style.new_figure(width, height)
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 6.2)
        ax.axis("off")
        title = f"The pathway in {year}" + (f" ({scenario})" if scenario else "")
        ax.set_title(title + "\nchildren at the January census (boxes), moves in the year (arrows)", fontsize=8)
        # Without a plan.
        _box(ax, 0.1, 4.3, 2.2, 0.8, f"Early years\n{_n(stock.get('early_years'))} children")
        _box(ax, 0.1, 2.5, 2.2, 1.1, f"SEN support\n(MyPlan and MyPlan+)\n{_n(stock.get('sen_support'))} pupils")
        _arrow(ax, (1.2, 6.1), (1.2, 5.12), f"newly identified {_n(flow.get('children_identified'))}", (1.35, 5.65), ha="left")
        ax.annotate("", xy=(1.2, 3.62), xytext=(1.2, 4.28), arrowprops={"arrowstyle": "-|>", "color": style.MUTED, "linewidth": 0.8, "mutation_scale": 7})
        ax.text(1.35, 3.95, "start school", fontsize=6, color=style.MUTED, va="center")
        # Assessment stage (a process, not a stock: dashed).
        _box(ax, 3.4, 2.5, 1.5, 1.1, "EHC needs\nassessment", dashed=True, fill="white")
        _arrow(ax, (2.32, 3.35), (3.38, 3.35), f"requests\n{_n(flow.get('assessment_requests'))}", (2.85, 3.9))
        refused = f"refused {_n(flow.get('assessments_refused'))}\nno plan {_n(flow.get('assessed_no_plan'))}"
        _arrow(ax, (3.38, 2.75), (2.32, 2.75), refused, (2.85, 2.2))
        # Alternative provision (all pupils, with or without a plan).
        _box(ax, 3.4, 0.25, 1.5, 1.0, f"Alternative\nprovision\n{_n(stock.get('ap_pupils'))} pupils")
        _arrow(ax, (1.2, 2.48), (3.38, 0.75), "", (0, 0))
        ax.text(1.15, 1.45, f"permanent\nexclusions\n{_n(flow.get('permanent_exclusions'))}", ha="center", va="center", fontsize=6.5, color=style.INK)
        # With a plan: a group of setting boxes.
        total = sum(stock.get(k, 0) for k, _ in EHCP_BOXES)
        bottom = BOX_TOP - (len(EHCP_BOXES) - 1) * (BOX_H + BOX_GAP) - 0.12
        gx_left, gx_right = GROUP_X - 0.12, GROUP_X + GROUP_W + 0.12
        ax.add_patch(FancyBboxPatch((gx_left, bottom), gx_right - gx_left, BOX_TOP + BOX_H + 0.42 - bottom, boxstyle="round,pad=0.02,rounding_size=0.12", linewidth=0.9, edgecolor=style.colour(0), facecolor="#eef4fa"))
        ax.text(GROUP_X + GROUP_W / 2, BOX_TOP + BOX_H + 0.18, f"With an EHCP: {_n(total)}", ha="center", va="center", fontsize=7.5, fontweight="bold", color=style.colour(0))
        centre = {}
        for i, (key, name) in enumerate(EHCP_BOXES):
            y = BOX_TOP - i * (BOX_H + BOX_GAP)
            _box(ax, GROUP_X, y, GROUP_W, BOX_H, f"{name}: {_n(stock.get(key))}", fill="white", size=6.8)
            centre[key] = y + BOX_H / 2
        _arrow(ax, (4.92, 3.05), (gx_left - 0.03, 3.05), f"new plans\n{_n(flow.get('new_ehcps'))}", (5.39, 3.6))
        _arrow(ax, (GROUP_X + 0.4, 0.0), (GROUP_X + 0.4, bottom - 0.03), f"moved in from other areas {_n(flow.get('ehcps_moved_in'))}", (GROUP_X + 0.55, bottom / 2 - 0.02), ha="left")
        _arrow(ax, (gx_right + 0.03, 1.0), (9.95, 1.0), f"ceased\n{_n(flow.get('ehcps_ceased'))}", (9.45, 1.5))
        # Moves between mainstream and special: a pair of arrows right of the boxes.
        xr = gx_right + 0.12
        top, low = centre["ehcp_mainstream"], centre["ehcp_special"]
        _arrow(ax, (xr, top), (xr, low), "", (0, 0))
        _arrow(ax, (xr + 0.18, low), (xr + 0.18, top), "", (0, 0))
        ax.text(xr + 0.32, (top + low) / 2, f"\u2193 to special {_n(flow.get('mainstream_to_special_moves'))}\n\u2191 to mainstream {_n(flow.get('special_to_mainstream_moves'))}", fontsize=6.5, va="center", color=style.INK)
        ind = centre["ehcp_independent"]
        _arrow(ax, (xr + 0.5, ind), (gx_right - 0.1, ind), "", (0, 0))
        ax.text(xr + 0.55, ind, f"new placements\n{_n(flow.get('new_independent_placements'))}", fontsize=6.5, va="center", color=style.INK)
        fig.tight_layout(rect=style.footer_rect(fig))
    return fig
