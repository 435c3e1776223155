"""The paper appendix as a list of blocks, built once and rendered to Markdown, HTML and Word."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hnsim.report import describe, scenarios
from hnsim.report.context import ReportContext
from hnsim.report.figures import WrittenFigure
from hnsim.report.tables import differences_display, plan_display, scenario_summary_display
from hnsim.results.rundir import RunData


@dataclass
class Block:
    """One piece of the document: ``kind`` is heading, paragraph, bullets, figure or table."""

    kind: str
    text: str = ""
    level: int = 1
    items: list[str] | None = None
    figure: WrittenFigure | None = None
    table: pd.DataFrame | None = None


def question(ctx: ReportContext) -> str:
    """The question the paper answers (the manifest's ``question`` when an experiment set one)."""
    run = ctx.run
    if run.manifest.get("question"):
        return str(run.manifest["question"])
    if run.kind == "sweep":
        return f"Which inputs move the outcomes most, and how do they change across the sweep {run.manifest.get('sweep_name', run.run_id)}?"
    la = ctx.base_data.get("meta", {}).get("local_authority", "the local authority")
    if ctx.comparison:
        return (f"How would numbers of EHCPs, High Needs spend and the DSG deficit in {la} change over {ctx.span} under each scenario "
                f"compared with {ctx.names[ctx.base]}, and what would each do to the in-year balance and the deficit, against its own cost?")
    return f"If nothing changes, how will numbers of EHCPs, High Needs spend and the DSG deficit in {la} develop over {ctx.span} and beyond?"


def _sweep_items(run: RunData) -> list[str]:
    design = run.extra.get("design", pd.DataFrame())
    params = [c for c in design.columns if c not in ("point", "varied")]
    kind = run.manifest.get("design", "sweep")
    return [f"{kind} design of {len(design)} points, {run.manifest.get('replications', 'several')} replications each"] + [
        f"{p}: {describe.format_value(design[p].min())} to {describe.format_value(design[p].max())}" for p in params
    ]


def _basis(ctx: ReportContext) -> list[Block]:
    """What every number stands on: the data vantage, the funding assumption, the bands, warnings."""
    blocks = [
        Block("heading", "What the numbers stand on", 2),
        Block("bullets", items=[ctx.vantage, ctx.funding, ctx.band(), f"Key years: the medium-term financial plan years {ctx.span} (from --year {ctx.year})."]),
    ]
    if ctx.warnings:
        blocks.append(Block("paragraph", "Warnings: " + " ".join(w.rstrip(".") + "." for w in ctx.warnings)))
    return blocks


def build(ctx: ReportContext, figures: list[WrittenFigure], tables: dict[str, pd.DataFrame] | None) -> list[Block]:
    """The appendix: question, what the numbers stand on, scenarios, figures with captions, the key
    tables, the model description of the base and what every scenario changes.

    A sweep has no key tables (``tables`` None): its figures are the results.
    """
    run = ctx.run
    la = ctx.base_data.get("meta", {}).get("local_authority", "")
    blocks = [
        Block("heading", f"Appendix: {la} High Needs simulation \u2014 {run.run_id}".replace("  ", " "), 1),
        Block("paragraph", run.provenance()),
        Block("heading", "The question", 2),
        Block("paragraph", question(ctx)),
    ]
    if run.kind == "sweep":
        blocks += [Block("heading", "Design", 2), Block("bullets", items=_sweep_items(run))]
    else:
        blocks += _basis(ctx)
        blocks += [Block("heading", "Scenarios", 2), Block("bullets", items=scenarios.scenario_items(ctx.names, ctx.scenario_data, ctx.base))]
    blocks.append(Block("heading", "Results", 2))
    for i, fig in enumerate(figures, start=1):
        blocks.append(Block("figure", f"Figure {i}. {fig.title}. {fig.caption}", figure=fig))
    if tables is not None:
        blocks += _key_tables(ctx, tables)
    if run.kind != "sweep" or ctx.base_data:
        blocks.append(Block("heading", "Model description (STRESS-DES)", 2))
        for section in describe.stress_des(run.manifest, [ctx.names.get(s, s) for s in run.scenarios], ctx.base_data, ctx.band() if run.kind != "sweep" else ""):
            blocks.append(Block("heading", section.heading, 3))
            blocks += [Block("paragraph", p) for p in section.paragraphs]
            if section.table is not None:
                blocks.append(Block("paragraph", section.table_caption))
                blocks.append(Block("table", table=section.table))
    if ctx.comparison:
        blocks += _scenario_description(ctx)
    return blocks


def _key_tables(ctx: ReportContext, tables: dict[str, pd.DataFrame]) -> list[Block]:
    base_label = ctx.names[ctx.base]
    plans = tables["dsg_plan"]
    blocks = [
        Block("heading", "Key tables", 2),
        Block("paragraph", f"Table 1. Scenarios over {ctx.span}: EHCPs at the {ctx.end_census} census (mean, 5-95% of replications), High Needs spend over "
              f"the years, the cumulative deficit at {ctx.end_date} (mean and 95% CI of the mean)"
              + (f" and, against {base_label} and paired by replication, the saving on spend, the net effect on the in-year balance (the saving plus any "
                 f"money moved into the block) and how much lower the deficit is at {ctx.end_date}." if ctx.comparison else ".")),
        Block("table", table=scenario_summary_display(tables["scenario_summary"], ctx)),
        Block("paragraph", f"Table 2. DSG deficit management plan, {base_label} (the unmitigated forecast), in the template's seven provision categories; "
              "money in £ thousands, means of replications. The cumulative balance is negative when there is a deficit. Every scenario's plan, for every "
              "year, is a sheet of tables/dsg_plan.xlsx."),
        Block("table", table=plan_display(plans[plans["scenario"] == ctx.base], ctx.years)),
    ]
    if ctx.comparison:
        blocks += [
            Block("paragraph", f"Table 3. Each scenario less {base_label} in the key years (£ thousands, means of paired replications): total spend "
                  "(below zero is a saving), allocation (money moved into the block), the in-year and cumulative balance (above zero is better) "
                  "and EHCPs. The full differences, line by line, are the summary sheet of tables/dsg_plan.xlsx."),
            Block("table", table=differences_display(tables["dsg_differences"], ctx)),
        ]
    return blocks


def _scenario_description(ctx: ReportContext) -> list[Block]:
    """What each scenario changes against the base: its levers, their costs, effect ranges and sources."""
    levers = scenarios.lever_table(ctx.names, ctx.scenario_data, ctx.base)
    changes = scenarios.change_table(ctx.names, ctx.scenario_data, ctx.base)
    blocks = [Block("heading", "The scenarios", 3),
              Block("paragraph", "Each scenario is the base config with an overlay. The levers it switches on, what each costs, the range of each effect "
                    "(drawn once per replication) and the evidence for it:")]
    if not levers.empty:
        blocks += [Block("paragraph", "Table A3. Levers of each scenario."), Block("table", table=levers)]
    if not changes.empty:
        blocks += [Block("paragraph", "Table A4. Other inputs a scenario changes."), Block("table", table=changes)]
    return blocks
