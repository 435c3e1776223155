"""Tables for the DSG deficit management plan and the paper's main text (CSV and Excel)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hnsim.analysis.compare import window_savings
from hnsim.analysis.intervals import t_half_width
from hnsim.plots import prepare, style
from hnsim.results import store
from hnsim.results.schemas import fy_start_year

#: DSG plan rows: (row id, display label, metric, unit); money in £ thousands.
DSG_ROWS: list[tuple[str, str, str, str]] = [
    ("allocation", "High Needs Block allocation", "hnb_allocation", "£000"),
    *[(m, f"Spend: {style.label(m)}", m, "£000") for m in prepare.SPEND_LINES],
    ("total_spend", "Total High Needs spend", "spend_total", "£000"),
    ("in_year_balance", "In-year balance (allocation less spend)", "in_year_balance", "£000"),
    ("cumulative_balance", "Cumulative balance at 31 March (negative is a deficit)", "cumulative_deficit", "£000"),
    *[(m, f"EHCPs: {style.label(m)}", m, "plans") for m in prepare.SETTINGS],
    ("ehcp_total", "EHCPs: total (January census)", "ehcp_total", "plans"),
]


def dsg_plan(annual: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """The DSG deficit management plan table: rows of money (£ thousands) and EHCPs, financial-year columns.

    Means over replications. The cumulative balance is minus the cumulative deficit, so that money
    rows read as the DSG plan does: allocation minus spend is the in-year balance, and each year's
    cumulative balance is the last one plus the in-year balance.
    """
    metrics = [metric for _, _, metric, _ in DSG_ROWS]
    table = prepare.means(annual, metrics, scenario).set_index("financial_year").T
    rows = []
    for row_id, label, metric, unit in DSG_ROWS:
        values = table.loc[metric].astype(float)
        if metric == "cumulative_deficit":
            values = -values
        if unit == "£000":
            values = values / 1000.0
        rows.append({"row": row_id, "label": label, "unit": unit, **values.to_dict()})
    return pd.DataFrame(rows)


def scenario_summary(annual: pd.DataFrame, base: str, years_in: list[str]) -> pd.DataFrame:
    """One row per scenario for the paper's main text, over the window ``years_in``.

    Columns: ``scenario, ehcp_end, ehcp_end_p05, ehcp_end_p95`` (plans at the last January census
    of the window), ``spend_window_gbp`` (mean spend summed over the window), ``deficit_end_gbp``,
    ``deficit_end_ci95_low``, ``deficit_end_ci95_high`` (cumulative deficit at the window's end),
    ``saving_gbp, saving_ci95_low, saving_ci95_high`` (against the base, paired by replication).
    """
    end = years_in[-1]
    savings = window_savings(annual, base, years_in).set_index("scenario") if len(set(annual["scenario"])) > 1 else pd.DataFrame()
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
            "saving_gbp": np.nan,
            "saving_ci95_low": np.nan,
            "saving_ci95_high": np.nan,
        }
        if name in savings.index:
            s = savings.loc[name]
            row.update(saving_gbp=s["saving_mean"], saving_ci95_low=s["saving_ci95_low"], saving_ci95_high=s["saving_ci95_high"])
        elif name == base:
            row.update(saving_gbp=0.0, saving_ci95_low=0.0, saving_ci95_high=0.0)
        rows.append(row)
    return pd.DataFrame(rows)


def scenario_summary_display(frame: pd.DataFrame, base: str) -> pd.DataFrame:
    """The scenario summary with formatted text cells, for documents (no saving column for a single run)."""
    def rng(lo: float, hi: float, fmt) -> str:
        return f"{fmt(lo)} to {fmt(hi)}"

    end = fy_start_year(frame["years"].iloc[0][-7:]) + 1  # the calendar year of the window's last 31 March
    out = pd.DataFrame(
        {
            "Scenario": frame["scenario"],
            f"EHCPs, January {end} (5-95%)": [f"{style.count(m)} ({rng(a, b, style.count)})" for m, a, b in zip(frame["ehcp_end"], frame["ehcp_end_p05"], frame["ehcp_end_p95"])],
            f"High Needs spend {frame['years'].iloc[0]}": [style.money(v) for v in frame["spend_window_gbp"]],
            f"Cumulative deficit, 31 March {end} (95% CI)": [f"{style.money(m)} ({rng(a, b, style.money)})" for m, a, b in zip(frame["deficit_end_gbp"], frame["deficit_end_ci95_low"], frame["deficit_end_ci95_high"])],
            "Saving against base (95% CI)": ["base" if name == base else "\u2014" if pd.isna(m) else f"{style.money(m)} ({rng(a, b, style.money)})" for name, m, a, b in zip(frame["scenario"], frame["saving_gbp"], frame["saving_ci95_low"], frame["saving_ci95_high"])],
        }
    )
    return out if len(frame) > 1 else out.drop(columns="Saving against base (95% CI)")


def write_dsg_excel(table: pd.DataFrame, path: Path, title: str, provenance: str) -> Path:
    """The DSG plan table as a formatted workbook: £ thousands, frozen header and label column."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "DSG plan"
    ws.append([title])
    ws.append([provenance])
    ws["A1"].font = Font(bold=True, size=12)
    ws["A2"].font = Font(italic=True, size=8, color="666666")
    years = [c for c in table.columns if c not in ("row", "label", "unit")]
    ws.append(["", "unit", *years])
    header = ws.max_row
    bold_rows = {"allocation", "total_spend", "in_year_balance", "cumulative_balance", "ehcp_total"}
    for rec in table.to_dict("records"):
        ws.append([rec["label"], rec["unit"], *[None if pd.isna(rec[y]) else float(rec[y]) for y in years]])
        r = ws.max_row
        for c in range(3, 3 + len(years)):
            ws.cell(r, c).number_format = '#,##0;[Red]-#,##0' if rec["unit"] == "£000" else "#,##0"
        if rec["row"] in bold_rows:
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
    ws.column_dimensions["A"].width = 52
    ws.column_dimensions["B"].width = 7
    for c in range(3, 3 + len(years)):
        ws.column_dimensions[get_column_letter(c)].width = 10
    ws.freeze_panes = ws.cell(header + 1, 3)
    path.parent.mkdir(parents=True, exist_ok=True)
    return store.write_atomic(path, wb.save)


def write_tables(annual: pd.DataFrame, base: str, years_in: list[str], out_dir: Path, provenance: str) -> dict[str, Path]:
    """Write dsg_plan.csv, dsg_plan.xlsx, scenario_summary.csv into ``out_dir/tables``."""
    tables = out_dir / "tables"
    dsg = dsg_plan(annual, base)
    summary = scenario_summary(annual, base, years_in)
    return {
        "dsg_plan_csv": store.write_csv(dsg, tables / "dsg_plan.csv"),
        "dsg_plan_xlsx": write_dsg_excel(dsg, tables / "dsg_plan.xlsx", f"High Needs Block: DSG deficit management plan view ({base}, £ thousands, means of replications)", provenance),
        "scenario_summary_csv": store.write_csv(summary, tables / "scenario_summary.csv"),
    }
