"""Writing the figures of a results directory: PNG (300 dpi), SVG, the CSV of the numbers drawn,
a plain-English caption, and on each figure its provenance, data vantage and funding assumption.

A run gets the status quo's figures; a comparison also sets the scenarios beside the base (a fan
panel per scenario, spend by provision category per scenario, the change in spend, the placement
mix of each scenario, the effects on the budget) with one label and one style per scenario in
every figure. Key-year figures and captions use the report's key years (from ``--year``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
from matplotlib.figure import Figure

from hnsim.analysis.compare import window_savings
from hnsim.plots import fans, flow, money, prepare, style
from hnsim.report.context import ReportContext
from hnsim.report.sweep_figures import sweep_figures
from hnsim.results import store

Spec = tuple[str, str, Callable[[], tuple[Figure, pd.DataFrame]], Callable[[pd.DataFrame], str]]


@dataclass
class WrittenFigure:
    """One figure on disk: its name, title, caption and files (relative to the output directory)."""

    name: str
    title: str
    caption: str
    png: str
    svg: str
    csv: str


def _save_image(fig: Figure, path: Path, fmt: str) -> None:
    """Save a figure atomically (temporary name, then rename), exactly figsize x 300 dpi, in the house
    style's settings (SVG text kept as text, so it can be edited and searched)."""
    def save(tmp: Path) -> None:
        with style.house_style():
            fig.savefig(tmp, format=fmt, dpi=style.DPI, metadata={"Date": None} if fmt == "svg" else None)

    store.write_atomic(path, save)


def write_figure(fig: Figure, data: pd.DataFrame, name: str, title: str, caption: str, out_dir: Path, provenance: str, note: str = "") -> WrittenFigure:
    """Draw the provenance line (and ``note`` above it), then write ``name``.png/.svg/.csv into ``out_dir/figures``."""
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    style.provenance(fig, provenance, note)
    _save_image(fig, fig_dir / f"{name}.png", "png")
    _save_image(fig, fig_dir / f"{name}.svg", "svg")
    store.write_csv(data, fig_dir / f"{name}.csv")
    rel = f"figures/{name}"
    return WrittenFigure(name, title, caption, f"{rel}.png", f"{rel}.svg", f"{rel}.csv")


def _m(v: float) -> str:
    return style.money_text(v)


def _mean_sentence(frame: pd.DataFrame, what: str, fmt: Callable[[float], str]) -> str:
    last = frame.iloc[-1]
    return f"In {last['financial_year']} the mean is {fmt(last['mean'])} {what}; 90% of replications lie between {fmt(last['p05'])} and {fmt(last['p95'])}."


def _observed_sentence(ctx: ReportContext, frame: pd.DataFrame) -> str:
    if "observed" in frame and frame["observed"].notna().any():
        return f" Open circles are the published figures ({ctx.observed_from})."
    return ""


def _end_sentence(ctx: ReportContext) -> str:
    return f" The dashed vertical line marks the end of the data the model was fitted to ({ctx.data_end}); later years are projections." if ctx.data_end in ctx.run.years[:-1] else ""


def _fans(ctx: ReportContext) -> list[Spec]:
    """EHCPs and the cumulative deficit: one fan, or a panel per scenario."""
    base, names, specs = ctx.base, ctx.names, []
    chosen = None if ctx.comparison else base

    def ehcp():
        data = prepare.with_observed(prepare.fan(ctx.run.annual, "ehcp_total", chosen), ctx.observed, "ehcp_total")
        if ctx.comparison:
            return fans.fan_panels(data, "Children and young people with an EHCP, January census", "plans", money=False, styles=ctx.styles, names=names,
                                   base=base, data_end=ctx.data_end, zero_line=False), data
        return fans.fan_chart(data, "Children and young people with an EHCP", "plans (January census)", data_end=ctx.data_end), data

    def ehcp_caption(d: pd.DataFrame) -> str:
        if ctx.comparison:
            ends = "; ".join(f"{names[s]}: {style.count(g.iloc[-1]['mean'])}" for s, g in d.groupby("scenario", sort=False))
            head = (f"Number of EHCPs at each January census, one panel per scenario on the same axes, the {names[base]} mean dashed in every panel "
                    f"for reference. {ctx.band(ctx.scenarios)} In {d['financial_year'].max()}, the mean: {ends}.")
        else:
            head = f"Number of EHCPs at each January census ({names[base]}). {ctx.band([base])} {_mean_sentence(d, 'plans', style.count)}"
        return head + _observed_sentence(ctx, d) + _end_sentence(ctx)

    specs.append(("ehcp_fan", "EHCP numbers", ehcp, ehcp_caption))

    def deficit():
        data = prepare.with_observed(prepare.fan(ctx.run.annual, "cumulative_deficit", chosen), ctx.observed, "cumulative_deficit")
        return fans.fan_panels(data, "Cumulative High Needs deficit at 31 March", "£ (above zero is a deficit)", styles=ctx.styles, names=names,
                               base=base, data_end=ctx.data_end), data

    def deficit_caption(d: pd.DataFrame) -> str:
        parts = [f"{names[s]}: {_m(g.iloc[-1]['mean'])} (90% of replications {_m(g.iloc[-1]['p05'])} to {_m(g.iloc[-1]['p95'])})" for s, g in d.groupby("scenario", sort=False)]
        where = "one panel per scenario on the same axes" if ctx.comparison else names[base]
        return (f"The DSG High Needs deficit carried at 31 March (above zero is a deficit; {where}). {ctx.band(list(d['scenario'].unique()))} "
                f"At 31 March {int(d['financial_year'].max()[:4]) + 1}, the mean: " + "; ".join(parts) + "." + _observed_sentence(ctx, d) + _end_sentence(ctx))

    specs.append(("deficit_fan", "Cumulative deficit", deficit, deficit_caption))
    return specs


def _money(ctx: ReportContext) -> list[Spec]:
    """Spend by provision category (per scenario), the change in spend and the effects on the budget."""
    base, names, specs = ctx.base, ctx.names, []

    def spend():
        data = prepare.spend_by_category(ctx.run.annual, ctx.scenarios)
        return money.spend_chart(data, names=names, base=base, data_end=ctx.data_end), data

    def spend_caption(d: pd.DataFrame) -> str:
        total = d[(d["scenario"] == base) & (d["category"] == "total")].set_index("financial_year")["spend_gbp"]
        alloc = d[(d["scenario"] == base) & (d["category"] == "allocation")].set_index("financial_year")["spend_gbp"]
        first, last = total.index[0], total.index[-1]
        where = "one panel per scenario, the status quo's total dashed for reference" if ctx.comparison else names[base]
        return (f"High Needs spend in the DSG management plan's seven provision categories in each financial year ({where}; means of {ctx.replications} "
                f"replications, outturn prices), with the High Needs Block allocation as a dashed line. {names[base]}: spend goes from {_m(total[first])} "
                f"in {first} to {_m(total[last])} in {last}, against an allocation of {_m(alloc[last])}. {ctx.funding}")

    specs.append(("spend_by_line", "High Needs spend by provision category", spend, spend_caption))
    if not ctx.comparison:
        return specs

    def change():
        data = _spend_change(ctx)
        return money.spend_change_chart(data, f"Change in High Needs spend against {names[base]}, {ctx.span}", names), data

    def change_caption(d: pd.DataFrame) -> str:
        net = d[d["category"] == "total"].set_index("scenario")["change_gbp"]
        return (f"Each scenario's change in High Needs spend against {names[base]} by provision category, summed over {ctx.span} (means of paired replications). "
                "Bars left of zero are less spend; the diamond is the net change, including the levers' own running costs (in Other). "
                + "; ".join(f"{names[s]}: {_m(v)}" for s, v in net.items()) + ".")

    specs.append(("spend_change", "Change in spend by provision category", change, change_caption))

    def comparison():
        data = window_savings(ctx.run.annual, base, ctx.years)
        return money.comparison_chart(data, f"Each scenario against {names[base]}, {ctx.span}", styles=ctx.styles, names=names, deficit_date=ctx.end_date), data

    def comparison_caption(d: pd.DataFrame) -> str:
        rows = "; ".join(f"{names[r['scenario']]}: saving {_m(r['saving_mean'])}, balance {_m(r['balance_effect_mean'])}, deficit {_m(r['deficit_reduction_mean'])} lower"
                         for _, r in d.iterrows())
        return (f"Each scenario against {names[base]} over {ctx.span}, paired replication by replication (scenarios share random numbers). Left: the saving on "
                "High Needs spend (base spend less scenario spend, net of the levers' own cost, drawn hatched). Middle: the net effect on the in-year balance, "
                "the saving plus any money moved into the block (a block transfer saves no spend but improves the balance). Right: how much lower the "
                f"cumulative deficit is at {ctx.end_date}, counting every year since the levers started. Thick bars: 95% interval of the mean; dotted: "
                f"5-95% of replications. {rows}.")

    specs.append(("scenario_comparison", "Effects on the budget", comparison, comparison_caption))
    return specs


def _spend_change(ctx: ReportContext) -> pd.DataFrame:
    """Scenario minus base spend by category summed over the key years: ``scenario, category, change_gbp``."""
    data = prepare.spend_by_category(ctx.run.annual, ctx.scenarios, ctx.years)
    data = data[~data["category"].isin(["allocation"])]
    summed = data.groupby(["scenario", "category"], sort=False)["spend_gbp"].sum().unstack("category")
    change = summed.drop(index=ctx.base).sub(summed.loc[ctx.base], axis=1)
    return change.stack().rename("change_gbp").reset_index()


def _children(ctx: ReportContext) -> list[Spec]:
    base, names, specs = ctx.base, ctx.names, []

    def mix():
        data = prepare.placement_mix(ctx.run.annual, base)
        return money.placement_chart(data, f"Where children with EHCPs are educated ({names[base]})", data_end=ctx.data_end), data

    def mix_caption(d: pd.DataFrame) -> str:
        last = d[d["financial_year"] == d["financial_year"].max()].set_index("setting")["share_pct"]
        return (f"Share of all EHCPs by setting at each January census ({names[base]}, means of replications), in the DSG plan's categories. "
                f"In {d['financial_year'].max()}: mainstream {last['ehcp_mainstream']:.0f}%, special schools {last['ehcp_special']:.0f}%, "
                f"independent {last['ehcp_independent']:.0f}%.")

    specs.append(("placement_mix", "Placement mix", mix, mix_caption))
    if ctx.comparison:
        def mix_by():
            data = prepare.placement_by_scenario(ctx.run.annual, ctx.scenarios, ctx.years[-1])
            return money.placement_scenarios_chart(data, f"Where children with EHCPs are educated, {ctx.end_census}", names), data

        def mix_by_caption(d: pd.DataFrame) -> str:
            share = d[d["setting"].isin(["ehcp_independent"])].set_index("scenario")["share_pct"]
            return (f"Share of all EHCPs by setting at the {ctx.end_census} census under each scenario (means of replications). Independent special "
                    "schools: " + "; ".join(f"{names[s]} {v:.1f}%" for s, v in share.items()) + ".")

        specs.append(("placement_by_scenario", "Placement mix by scenario", mix_by, mix_by_caption))

    def timeliness():
        data = prepare.timeliness(ctx.run.annual, None if ctx.comparison else base)
        return fans.timeliness_chart(data, styles=ctx.styles, names=names, base=base, data_end=ctx.data_end), data

    def timeliness_caption(d: pd.DataFrame) -> str:
        who = "each scenario, the status quo's 90% band shaded" if ctx.comparison else f"{names[base]}, the middle 90% of replications shaded"
        return ("Assessment timeliness and waiting: the share of plans issued within 20 weeks of the request; mean weeks from request to final plan "
                "and waiting for a caseworker; children with plans waiting in mainstream for a special school place at the January census. "
                f"Lines are means of replications ({who})." + _end_sentence(ctx))

    specs.append(("timeliness", "Assessment timeliness and waiting", timeliness, timeliness_caption))

    def pathway():
        data = prepare.pathway_flows(ctx.run.annual, base, ctx.year)
        return flow.flow_diagram(data, ctx.year, names[base] if ctx.comparison else ""), data

    def pathway_caption(d: pd.DataFrame) -> str:
        return (f"The graduated pathway in {ctx.year} ({names[base]}, means of replications): boxes are children counted at the January census, "
                "arrows the numbers moving in the financial year. The dashed box is a process, not a stock.")

    specs.append(("pathway_flow", f"Pathway flows {ctx.year}", pathway, pathway_caption))
    return specs


def figure_specs(ctx: ReportContext) -> list[Spec]:
    """(name, title, draw -> (figure, numbers drawn), caption from the numbers) for this directory."""
    if ctx.run.kind == "sweep":
        return sweep_figures(ctx.run)
    fan_specs = _fans(ctx)
    money_specs = _money(ctx)
    ordered = [fan_specs[0], money_specs[0], fan_specs[1], *money_specs[1:]]
    return ordered + _children(ctx)


def write_figures(ctx: ReportContext, out_dir: Path) -> list[WrittenFigure]:
    """Write every figure this directory supports, and captions.json / captions.md beside them."""
    run = ctx.run
    note = ctx.note if run.kind != "sweep" or run.manifest.get("data_vantage") else ""
    written = []
    for name, title, draw, caption in figure_specs(ctx):
        fig, data = draw()
        text = caption(data)
        written.append(write_figure(fig, data, name, title, text, out_dir, run.provenance(), note))
    store.write_json({f.name: {"title": f.title, "caption": f.caption, "png": f.png, "svg": f.svg, "csv": f.csv} for f in written}, out_dir / "figures" / "captions.json")
    md = "\n".join(f"## {f.title}\n\n![{f.title}]({Path(f.png).name})\n\n{f.caption}\n\nNumbers: [{Path(f.csv).name}]({Path(f.csv).name})\n" for f in written)
    head = f"{run.provenance()}\n\n{ctx.vantage} {ctx.funding}\n\n" if note else f"{run.provenance()}\n\n"
    store.write_text(f"# Figures: {run.run_id}\n\n{head}{md}", out_dir / "figures" / "captions.md")
    return written

