"""Tables for the DSG deficit management plan and the paper's main text (CSV and Excel).

The DSG plan comes in the template's seven provision categories (:mod:`hnsim.analysis.dsg`): one
table per scenario, the base being the unmitigated forecast and every other scenario a mitigated
one, and a table of each scenario's differences from the base. Money is in £ thousands in the
plan tables, as councils fill in the template.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hnsim.analysis import dsg
from hnsim.analysis.compare import window_savings
from hnsim.analysis.intervals import t_half_width
from hnsim.plots import labels, prepare, style
from hnsim.report.context import ReportContext
from hnsim.results import store

#: Rows set in bold in the workbook.
BOLD_ROWS = {"allocation", "total_spend", "in_year_balance", "cumulative_balance", "ehcp_total"}


def plan_table(plans: pd.DataFrame) -> pd.DataFrame:
    """DSG plan rows ready to write: ``scenario, row, label, unit`` and the years; money in £ thousands."""
    years = [c for c in plans.columns if c not in dsg.PLAN_COLUMNS]
    out = plans.copy()
    money_rows = out["unit"] == "gbp"
    out.loc[money_rows, years] = out.loc[money_rows, years].astype(float) / 1000.0
    out["unit"] = np.where(money_rows, "£000", "plans")
    out.insert(2, "label", [labels.DSG_ROW_LABELS.get(row, labels.label(row)) for row in out["row"]])
    return out


def scenario_summary(annual: pd.DataFrame, base: str, years_in: list[str]) -> pd.DataFrame:
    """One row per scenario for the paper's main text, over the window ``years_in``.

    Columns: ``scenario, years, ehcp_end, ehcp_end_p05, ehcp_end_p95`` (plans at the last January
    census of the window), ``spend_window_gbp`` (mean spend summed over the window),
    ``deficit_end_gbp, deficit_end_ci95_low, deficit_end_ci95_high`` (cumulative deficit at the
    window's end), and against the base (paired by replication, 0 for the base itself):
    ``saving_gbp`` (spend), ``balance_effect_gbp`` (in-year balance: the saving plus money in),
    ``deficit_reduction_gbp`` (how much lower the deficit is at the end), each with ``_ci95_low/high``.
    """
    end = years_in[-1]
    effects = window_savings(annual, base, years_in).set_index("scenario") if annual["scenario"].nunique() > 1 else pd.DataFrame()
    rows = []
    for name in prepare.scenarios(annual):
        data = annual[annual["scenario"] == name]
        ehcp = data[(data["metric"] == "ehcp_total") & (data["financial_year"] == end)]["value"]
        spend = data[(data["metric"] == "spend_total") & data["financial_year"].isin(years_in)].groupby("replication")["value"].sum()
        deficit = data[(data["metric"] == "cumulative_deficit") & (data["financial_year"] == end)]["value"]
        half = float(t_half_width(deficit.std(ddof=1), deficit.count()))
        row = {
            "scenario": name,
            "years": f"{years_in[0]} to {end}",
            "ehcp_end": ehcp.mean(),
            "ehcp_end_p05": ehcp.quantile(0.05),
            "ehcp_end_p95": ehcp.quantile(0.95),
            "spend_window_gbp": spend.mean(),
            "deficit_end_gbp": deficit.mean(),
            "deficit_end_ci95_low": deficit.mean() - half,
            "deficit_end_ci95_high": deficit.mean() + half,
        }
        for key in ("saving", "balance_effect", "deficit_reduction"):
            if name in effects.index:
                r = effects.loc[name]
                row.update({f"{key}_gbp": r[f"{key}_mean"], f"{key}_ci95_low": r[f"{key}_ci95_low"], f"{key}_ci95_high": r[f"{key}_ci95_high"]})
            else:
                value = 0.0 if name == base else np.nan
                row.update({f"{key}_gbp": value, f"{key}_ci95_low": value, f"{key}_ci95_high": value})
        rows.append(row)
    return pd.DataFrame(rows)


def scenario_summary_display(frame: pd.DataFrame, ctx: ReportContext) -> pd.DataFrame:
    """The scenario summary with formatted text cells, for documents (no effect columns for a single run)."""
    def rng(lo: float, hi: float, fmt) -> str:
        return f"{fmt(lo)} to {fmt(hi)}"

    money = style.money_text
    out = pd.DataFrame(
        {
            "Scenario": [ctx.names.get(s, labels.label(s)) for s in frame["scenario"]],
            f"EHCPs, {ctx.end_census} (5-95%)": [f"{style.count(m)} ({rng(a, b, style.count)})" for m, a, b in zip(frame["ehcp_end"], frame["ehcp_end_p05"], frame["ehcp_end_p95"])],
            f"High Needs spend {ctx.span}": [money(v) for v in frame["spend_window_gbp"]],
            f"Cumulative deficit, {ctx.end_date} (95% CI)": [f"{money(m)} ({rng(a, b, money)})" for m, a, b in zip(frame["deficit_end_gbp"], frame["deficit_end_ci95_low"], frame["deficit_end_ci95_high"])],
        }
    )
    if len(frame) == 1:
        return out
    for key, heading in (("saving", f"Saving on spend {ctx.span} (95% CI)"), ("balance_effect", f"Net effect on in-year balance {ctx.span} (95% CI)"),
                         ("deficit_reduction", f"Lower deficit at {ctx.end_date} (95% CI)")):
        out[heading] = ["base" if name == ctx.base else "\u2014" if pd.isna(m) else f"{money(m)} ({rng(a, b, money)})"
                        for name, m, a, b in zip(frame["scenario"], frame[f"{key}_gbp"], frame[f"{key}_ci95_low"], frame[f"{key}_ci95_high"])]
    return out


def plan_display(table: pd.DataFrame, years: list[str]) -> pd.DataFrame:
    """One scenario's DSG plan rows for the given years, formatted for a page (money in £ thousands)."""
    out = pd.DataFrame({"": [f"{label} ({unit})" for label, unit in zip(table["label"], table["unit"])]})
    for year in years:
        out[year] = [style.count(v) if pd.notna(v) else "" for v in table[year]]
    return out


def differences_display(differences: pd.DataFrame, ctx: ReportContext) -> pd.DataFrame:
    """Each scenario against the base in the key years: spend, the in-year balance and the
    cumulative balance (£ thousands; spend below zero is a saving, balances above zero an improvement)."""
    keep = {"total_spend": "Total spend", "allocation": "Allocation", "in_year_balance": "In-year balance", "cumulative_balance": "Cumulative balance", "ehcp_total": "EHCPs (plans)"}
    rows = differences[differences["row"].isin(keep)]
    out = pd.DataFrame({
        "Scenario": [ctx.names.get(s, s) for s in rows["scenario"]],
        "Change in": [keep[r] + ("" if r == "ehcp_total" else " (£000)") for r in rows["row"]],
    })
    for year in ctx.years:
        out[year] = [style.count(v) for v in rows[year]]
    return out.reset_index(drop=True)


def _sheet_names(titles: list[str]) -> list[str]:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    used: set[str] = set()
    out = []
    for title in titles:
        clean = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31].strip() or "Sheet"
        name, k = clean, 2
        while name.lower() in used:
            name = f"{clean[:28]} {k}"
            k += 1
        used.add(name.lower())
        out.append(name)
    return out


def _import_openpyxl():
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    return Workbook, Alignment, Border, Font, PatternFill, Side, get_column_letter


def _write_sheet(ws, table: pd.DataFrame, title: str, notes: list[str], first_column: str = "") -> None:
    """One DSG plan sheet: a title, notes, then rows by financial year; £ thousands, frozen header and labels."""
    _, Alignment, Border, Font, PatternFill, Side, get_column_letter = _import_openpyxl()
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=12)
    for note in notes:
        ws.append([note])
        ws.cell(ws.max_row, 1).font = Font(italic=True, size=8, color="666666")
    years = [c for c in table.columns if c not in (*dsg.PLAN_COLUMNS, "label")]
    ws.append([first_column, "unit", *years])
    header = ws.max_row
    for rec in table.to_dict("records"):
        ws.append([rec["label"], rec["unit"], *[None if pd.isna(rec[y]) else float(rec[y]) for y in years]])
        r = ws.max_row
        for c in range(3, 3 + len(years)):
            ws.cell(r, c).number_format = '#,##0;[Red]-#,##0' if rec["unit"] == "£000" else "#,##0"
        if rec["row"] in BOLD_ROWS:
            for c in range(1, 3 + len(years)):
                ws.cell(r, c).font = Font(bold=True)
        if rec["row"] == "total_spend":
            for c in range(1, 3 + len(years)):
                ws.cell(r, c).border = Border(top=Side(style="thin"))
    fill = PatternFill("solid", fgColor="DDE7F0")
    for c in range(1, 3 + len(years)):
        cell = ws.cell(header, c)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
    ws.column_dimensions["A"].width = 62
    ws.column_dimensions["B"].width = 7
    for c in range(3, 3 + len(years)):
        ws.column_dimensions[get_column_letter(c)].width = 10
    ws.freeze_panes = ws.cell(header + 1, 3)


def write_dsg_excel(plans: pd.DataFrame, differences: pd.DataFrame, path: Path, ctx: ReportContext, provenance: str) -> Path:
    """The DSG plan workbook: one sheet per scenario (the base first, the unmitigated forecast), then
    a summary sheet of each scenario's differences from the base; £ thousands, means of replications."""
    Workbook, _, _, Font, _, _, _ = _import_openpyxl()
    wb = Workbook()
    wb.remove(wb.active)
    order = list(dict.fromkeys(plans["scenario"]))
    sheet_titles = _sheet_names([ctx.names.get(s, s) for s in order] + ["Summary of differences"])
    notes = [provenance, ctx.vantage, ctx.funding, *ctx.warnings]
    for name, sheet in zip(order, sheet_titles):
        kind = "unmitigated forecast" if name == ctx.base else "mitigated forecast"
        _write_sheet(wb.create_sheet(sheet), plans[plans["scenario"] == name], f"DSG deficit management plan: {ctx.names.get(name, name)} ({kind}; £ thousands, means of replications)", notes)
    if len(order) > 1:
        ws = wb.create_sheet(sheet_titles[-1])
        ws.append([f"Summary of differences: each scenario less {ctx.names.get(ctx.base, ctx.base)} (£ thousands; spend below zero is a saving, a balance above zero an improvement)"])
        ws["A1"].font = Font(bold=True, size=12)
        for name in order[1:]:
            block = differences[differences["scenario"] == name]
            ws.append([])
            ws.append([ctx.names.get(name, name)])
            ws.cell(ws.max_row, 1).font = Font(bold=True, size=11)
            years = [c for c in block.columns if c not in (*dsg.PLAN_COLUMNS, "label")]
            for rec in block.to_dict("records"):
                ws.append([rec["label"], rec["unit"], *[float(rec[y]) for y in years]])
                for c in range(3, 3 + len(years)):
                    ws.cell(ws.max_row, c).number_format = '#,##0;[Red]-#,##0'
        ws.column_dimensions["A"].width = 62
        wb.move_sheet(ws, offset=-(len(wb.sheetnames) - 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    return store.write_atomic(path, wb.save)


def build_tables(ctx: ReportContext) -> dict[str, pd.DataFrame]:
    """The DSG plans of every scenario, their differences and the scenario summary (all years of the run)."""
    annual = ctx.run.annual
    raw = dsg.dsg_plans(annual, ctx.scenarios)
    plans, differences = plan_table(raw), plan_table(dsg.dsg_differences(raw, ctx.base))
    return {"dsg_plan": plans, "dsg_differences": differences, "scenario_summary": scenario_summary(annual, ctx.base, ctx.years)}


def write_tables(built: dict[str, pd.DataFrame], ctx: ReportContext, out_dir: Path) -> dict[str, Path]:
    """Write dsg_plan.csv (every scenario, long), dsg_differences.csv, dsg_plan.xlsx and scenario_summary.csv into ``out_dir/tables``."""
    tables = out_dir / "tables"
    paths = {
        "dsg_plan_csv": store.write_csv(built["dsg_plan"], tables / "dsg_plan.csv"),
        "dsg_plan_xlsx": write_dsg_excel(built["dsg_plan"], built["dsg_differences"], tables / "dsg_plan.xlsx", ctx, ctx.run.provenance()),
        "scenario_summary_csv": store.write_csv(built["scenario_summary"], tables / "scenario_summary.csv"),
    }
    if ctx.comparison:
        paths["dsg_differences_csv"] = store.write_csv(built["dsg_differences"], tables / "dsg_differences.csv")
    return paths
