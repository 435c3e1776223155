"""Writing the figures of a results directory: PNG (300 dpi), SVG, the CSV of the numbers drawn,
a plain-English caption, and a provenance line on each figure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
from matplotlib.figure import Figure

from hnsim.analysis.compare import window_savings
from hnsim.plots import fans, flow, money, prepare, style, sweeps
from hnsim.results import store
from hnsim.results.rundir import RunData
from hnsim.results.schemas import fy_label, fy_start_year


@dataclass
class WrittenFigure:
    """One figure on disk: its name, title, caption and files (relative to the output directory)."""

    name: str
    title: str
    caption: str
    png: str
    svg: str
    csv: str


def default_year(run: RunData) -> str:
    """The financial year the run finished in, if simulated, else the last simulated year."""
    stamp = str(run.manifest.get("finished_at") or "")[:10]
    if len(stamp) == 10:
        y, m = int(stamp[:4]), int(stamp[5:7])
        fy = fy_label(y if m >= 4 else y - 1)
        if fy in run.years:
            return fy
    return run.years[-1]


def _save_image(fig: Figure, path: Path, fmt: str) -> None:
    """Save a figure atomically (temporary name, then rename), exactly figsize x 300 dpi."""
    store.write_atomic(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=style.DPI, metadata={"Date": None} if fmt == "svg" else None))


def write_figure(fig: Figure, data: pd.DataFrame, name: str, title: str, caption: str, out_dir: Path, provenance: str) -> WrittenFigure:
    """Draw the provenance line, then write ``name``.png/.svg/.csv into ``out_dir/figures``."""
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    style.provenance(fig, provenance)
    _save_image(fig, fig_dir / f"{name}.png", "png")
    _save_image(fig, fig_dir / f"{name}.svg", "svg")
    store.write_csv(data, fig_dir / f"{name}.csv")
    rel = f"figures/{name}"
    return WrittenFigure(name, title, caption, f"{rel}.png", f"{rel}.svg", f"{rel}.csv")


def _m(v: float) -> str:
    return style.money(v)


def _fan_sentence(frame: pd.DataFrame, what: str, fmt: Callable[[float], str]) -> str:
    last = frame.iloc[-1]
    return f"In {last['financial_year']} the median is {fmt(last['p50'])} {what}; 90% of replications lie between {fmt(last['p05'])} and {fmt(last['p95'])}."


def _figures(run: RunData, observed: pd.DataFrame | None, year: str) -> list[tuple[str, str, Callable[[], tuple[Figure, pd.DataFrame]], Callable[[pd.DataFrame], str]]]:
    """(name, title, draw -> (figure, numbers drawn), caption from the numbers) for this directory."""
    if run.kind == "sweep":
        return _sweep_figures(run)
    base = run.base
    reps = run.manifest.get("replications", "?")
    band = f"The line is the median of {reps} replications; the darker band holds the middle 50% and the lighter band the middle 90% of replications."
    specs = []

    def ehcp():
        data = prepare.with_observed(prepare.fan(run.annual, "ehcp_total", base), observed, "ehcp_total")
        return fans.fan_chart(data, "Children and young people with an EHCP", "plans (January census)"), data

    def ehcp_caption(d: pd.DataFrame) -> str:
        obs = " Circles are the published January census counts." if d["observed"].notna().any() else ""
        return f"Number of EHCPs at each January census ({base}). {band}{obs} {_fan_sentence(d, 'plans', style.count)}"

    specs.append(("ehcp_fan", "EHCP numbers", ehcp, ehcp_caption))

    def spend():
        data = prepare.spend_by_line(run.annual, base)
        return money.spend_chart(data), data

    def spend_caption(d: pd.DataFrame) -> str:
        first, last = d.iloc[0], d.iloc[-1]
        return (
            f"High Needs spend by budget line in each financial year ({base}, mean of {reps} replications, outturn prices), "
            f"with the High Needs Block allocation as a dashed line. Spend goes from {_m(first['spend_total'])} in {first['financial_year']} "
            f"to {_m(last['spend_total'])} in {last['financial_year']}, against an allocation of {_m(last['hnb_allocation'])}."
        )

    specs.append(("spend_by_line", "High Needs spend and allocation", spend, spend_caption))

    def deficit():
        data = prepare.fan(run.annual, "cumulative_deficit")
        return fans.fan_panels(data, "Cumulative High Needs deficit at 31 March", "£ (above zero is a deficit)"), data

    def deficit_caption(d: pd.DataFrame) -> str:
        parts = [f"{s}: {_m(g.iloc[-1]['p50'])} (90% of replications {_m(g.iloc[-1]['p05'])} to {_m(g.iloc[-1]['p95'])})" for s, g in d.groupby("scenario", sort=False)]
        return f"The DSG High Needs deficit carried at 31 March (above zero is a deficit), one panel per scenario on the same axes. {band} At 31 March {fy_start_year(d['financial_year'].max()) + 1}: " + "; ".join(parts) + "."

    specs.append(("deficit_fan", "Cumulative deficit", deficit, deficit_caption))

    if len(run.scenarios) > 1:
        start = prepare.first_divergent_year(run.annual, base) or year
        span = prepare.window(run.years, start)

        def comparison():
            data = window_savings(run.annual, base, span)
            return money.comparison_chart(data, f"Saving on High Needs spend against {base}"), data

        def comparison_caption(d: pd.DataFrame) -> str:
            return (
                f"Each scenario's saving on High Needs spend against {base}, summed over {span[0]} to {span[-1]}, paired replication by replication "
                "(scenarios share random numbers). Thick bar: 95% interval of the mean saving; dotted line: 5-95% of replications; "
                "hatched bar: the lever's own cost where the run records it. A negative saving is extra spend."
            )

        specs.append(("scenario_comparison", "Scenario comparison", comparison, comparison_caption))

    def mix():
        data = prepare.placement_mix(run.annual, base)
        return money.placement_chart(data), data

    def mix_caption(d: pd.DataFrame) -> str:
        last = d[d["financial_year"] == d["financial_year"].max()].set_index("setting")["share_pct"]
        return f"Share of all EHCPs by setting at each January census ({base}, mean of replications). In {d['financial_year'].max()}: mainstream {last['ehcp_mainstream']:.0f}%, special schools {last['ehcp_special']:.0f}%, independent {last['ehcp_independent']:.0f}%."

    specs.append(("placement_mix", "Placement mix", mix, mix_caption))

    def timeliness():
        data = prepare.timeliness(run.annual, base)
        return fans.timeliness_chart(data), data

    def timeliness_caption(d: pd.DataFrame) -> str:
        return (
            f"Assessment timeliness and waiting ({base}): the share of plans issued within 20 weeks of the request; mean weeks from request to final plan "
            "and waiting for a caseworker; children with plans waiting in mainstream for a special school place at the January census. "
            "Lines are medians of replications, shading the middle 90%."
        )

    specs.append(("timeliness", "Assessment timeliness and waiting", timeliness, timeliness_caption))

    def pathway():
        data = prepare.pathway_flows(run.annual, base, year)
        return flow.flow_diagram(data, year, base if len(run.scenarios) > 1 else ""), data

    def pathway_caption(d: pd.DataFrame) -> str:
        return f"The graduated pathway in {year} ({base}, means of replications): boxes are children counted at the January census, arrows the numbers moving in the financial year. The dashed box is a process, not a stock."

    specs.append(("pathway_flow", f"Pathway flows {year}", pathway, pathway_caption))

    return specs


MONEY_METRICS = ("spend", "hnb_allocation", "in_year_balance", "cumulative_deficit", "cost_per_ehcp")


def _sweep_figures(run: RunData) -> list:
    """A tornado per outcome (one-at-a-time designs) and a heat map per outcome (two-parameter designs)."""
    specs = []
    tornado = run.extra.get("tornado")
    if tornado is not None and not tornado.empty:
        for (metric, fy), _ in tornado.groupby(["metric", "financial_year"], sort=True):
            label = f"{style.label(metric)} {fy}"
            data = prepare.tornado_from_sweep(tornado, metric, str(fy))
            money_ = metric.startswith(MONEY_METRICS)
            specs.append((
                f"tornado_{metric}_{fy}", f"Tornado: {label}",
                lambda d=data, lb=label, m=money_: (sweeps.tornado_chart(d, lb, m), d),
                lambda d, lb=label: f"{lb}: the mean over replications with each parameter at its lowest and highest level and the others at base; the vertical line is the base point; widest swing on top.",
            ))
    design, outcomes = run.extra.get("design"), run.extra.get("outcomes")
    params = [c for c in design.columns if c not in ("point", "varied")] if design is not None else []
    if len(params) == 2 and outcomes is not None:
        x, y = params
        for (metric, fy), _ in outcomes.groupby(["metric", "financial_year"], sort=True):
            label = f"{style.label(metric)} {fy}"
            data = prepare.heatmap_from_sweep(outcomes, x, y, metric, str(fy))
            money_ = metric.startswith(MONEY_METRICS)
            specs.append((
                f"heatmap_{metric}_{fy}", f"Heat map: {label}",
                lambda d=data, lb=label, m=money_: (sweeps.heatmap_chart(d, x, y, "mean", lb, m), d),
                lambda d, lb=label: f"{lb}: the mean over replications at each combination of {x} and {y}.",
            ))
    return specs


def write_figures(run: RunData, out_dir: Path, observed: pd.DataFrame | None = None, year: str | None = None) -> list[WrittenFigure]:
    """Write every figure this directory supports, and captions.json / captions.md beside them."""
    year = year or default_year(run)
    if year not in run.years:
        raise ValueError(f"financial year {year} is not in the run ({run.years[0]} to {run.years[-1]})")
    written = []
    for name, title, draw, caption in _figures(run, observed, year):
        fig, data = draw()
        written.append(write_figure(fig, data, name, title, caption(data), out_dir, run.provenance()))
    store.write_json({f.name: {"title": f.title, "caption": f.caption, "png": f.png, "svg": f.svg, "csv": f.csv} for f in written}, out_dir / "figures" / "captions.json")
    md = "\n".join(f"## {f.title}\n\n![{f.title}]({Path(f.png).name})\n\n{f.caption}\n\nNumbers: [{Path(f.csv).name}]({Path(f.csv).name})\n" for f in written)
    store.write_text(f"# Figures: {run.run_id}\n\n{run.provenance()}\n\n{md}", out_dir / "figures" / "captions.md")
    return written
