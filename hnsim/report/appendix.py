"""The paper appendix as a list of blocks, built once and rendered to Markdown, HTML and Word."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hnsim.plots import style
from hnsim.report import describe
from hnsim.report.figures import WrittenFigure
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


def question(run: RunData) -> str:
    """The question the paper answers (the manifest's ``question`` when an experiment set one)."""
    if run.manifest.get("question"):
        return str(run.manifest["question"])
    if run.kind == "sweep":
        return f"Which inputs move the outcomes most, and how do they change across the sweep {run.manifest.get('sweep_name', run.run_id)}?"
    la = run.manifest.get("config", {}).get("meta", {}).get("local_authority", "the local authority")
    if len(run.scenarios) > 1:
        return (
            f"How would numbers of EHCPs, High Needs spend and the DSG deficit in {la} change under each scenario "
            f"compared with {run.base}, and how much would each save against its own cost?"
        )
    return f"If nothing changes, how will numbers of EHCPs, High Needs spend and the DSG deficit in {la} develop, year by year?"


def scenario_items(run: RunData) -> list[str]:
    """One line per scenario: its name and description (from the manifest where given)."""
    if run.kind == "sweep":
        design = run.extra.get("design", pd.DataFrame())
        params = [c for c in design.columns if c not in ("point", "varied")]
        kind = run.manifest.get("design", "sweep")
        return [f"{kind} design of {len(design)} points, {run.manifest.get('replications', '?')} replications each"] + [
            f"{p}: {describe.format_value(design[p].min())} to {describe.format_value(design[p].max())}" for p in params
        ]
    meta = run.manifest.get("config", {}).get("meta", {})
    described = run.manifest.get("scenarios") if isinstance(run.manifest.get("scenarios"), dict) else {}
    items = []
    for name in run.scenarios:
        text = described.get(name) if described else None
        if isinstance(text, dict):
            text = text.get("description")
        if not text and name == run.base:
            text = f"{meta.get('name', 'the config')}: {meta.get('description', '')}".strip()
        items.append(f"{name}: {text or 'see the scenario overlay'}")
    return items


def dsg_display(table: pd.DataFrame, years: list[str]) -> pd.DataFrame:
    """The DSG plan rows for the given years, formatted for a page (money in £ thousands)."""
    out = pd.DataFrame({"": [f"{label} ({unit})" for label, unit in zip(table["label"], table["unit"])]})
    for year in years:
        out[year] = [style.count(v) if pd.notna(v) else "" for v in table[year]]
    return out


def build(run: RunData, figures: list[WrittenFigure], dsg: pd.DataFrame | None, summary_display: pd.DataFrame | None, key_years: list[str]) -> list[Block]:
    """The appendix: question, scenarios, figures with captions, the key tables, the model description.

    A sweep has no key tables (``dsg`` and ``summary_display`` None): its figures are the results.
    """
    la = run.manifest.get("config", {}).get("meta", {}).get("local_authority", "")
    blocks = [
        Block("heading", f"Appendix: {la} High Needs simulation \u2014 {run.run_id}".replace("  ", " "), 1),
        Block("paragraph", run.provenance()),
        Block("heading", "The question", 2),
        Block("paragraph", question(run)),
        Block("heading", "Design" if run.kind == "sweep" else "Scenarios", 2),
        Block("bullets", items=scenario_items(run)),
        Block("heading", "Results", 2),
    ]
    for i, fig in enumerate(figures, start=1):
        blocks.append(Block("figure", f"Figure {i}. {fig.title}. {fig.caption}", figure=fig))
    if dsg is not None and summary_display is not None:
        blocks += _key_tables(run, dsg, summary_display, key_years)
    blocks.append(Block("heading", "Model description (STRESS-DES)", 2))
    for section in describe.stress_des(run.manifest, run.scenarios):
        blocks.append(Block("heading", section.heading, 3))
        blocks += [Block("paragraph", p) for p in section.paragraphs]
        if section.table is not None:
            blocks.append(Block("paragraph", section.table_caption))
            blocks.append(Block("table", table=section.table))
    return blocks


def _key_tables(run: RunData, dsg: pd.DataFrame, summary_display: pd.DataFrame, key_years: list[str]) -> list[Block]:
    return [
        Block("heading", "Key tables", 2),
        Block("paragraph", f"Table 1. Scenarios over {key_years[0]} to {key_years[-1]}: EHCPs at the last January census (mean, 5-95% of replications), High Needs spend over the years, the cumulative deficit at the end (mean and 95% CI of the mean)" + (f" and the saving against {run.base}, paired by replication." if len(run.scenarios) > 1 else ".")),
        Block("table", table=summary_display),
        Block("paragraph", f"Table 2. DSG deficit management plan view ({run.base}; money in £ thousands, means of replications; the full table for every year is in tables/dsg_plan.xlsx). The cumulative balance is negative when there is a deficit."),
        Block("table", table=dsg_display(dsg, key_years)),
    ]
