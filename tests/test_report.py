"""`hnsim report` on a small real run: figure files, the numbers behind them, tables and documents."""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import small_config
from hnsim.cli import main
from hnsim.experiment.run import run
from hnsim.analysis.dsg import CATEGORY_KEYS
from hnsim.plots.prepare import SETTINGS
from hnsim.report import build_report, describe

OBSERVED = {"2014-15": 2425.0, "2015-16": 2627.0, "2016-17": 3044.0}
EXPECTED_FIGURES = {"ehcp_fan", "spend_by_line", "deficit_fan", "placement_mix", "timeliness", "pathway_flow"}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A small run (3 replications, 3 years) and its full report, made once for the module."""
    root = tmp_path_factory.mktemp("report")
    run_dir = root / "small_run"
    run(small_config(), replications=3, seed=11, workers=1, out_dir=run_dir)
    obs = root / "observed"
    obs.mkdir()
    pd.DataFrame({"financial_year": list(OBSERVED), "metric": "ehcp_total", "value": list(OBSERVED.values()), "source": "SEN2",
                  "year": [int(fy[:4]) + 1 for fy in OBSERVED], "kind": "census"}).to_csv(obs / "caseload.csv", index=False)
    report = build_report(run_dir, observed_dir=obs, year="2015-16")
    return run_dir, report


def _summary(run_dir: Path, metric: str) -> pd.DataFrame:
    s = pd.read_csv(run_dir / "summary.csv")
    return s[s["metric"] == metric].set_index("financial_year").sort_index()


def _fig_csv(report, name: str) -> pd.DataFrame:
    return pd.read_csv(report.out_dir / "figures" / f"{name}.csv")


def test_every_figure_written_with_png_svg_csv_and_caption(made):
    _, report = made
    assert {f.name for f in report.figures} == EXPECTED_FIGURES
    captions = json.loads((report.out_dir / "figures" / "captions.json").read_text())
    assert set(captions) == EXPECTED_FIGURES
    for f in report.figures:
        for rel in (f.png, f.svg, f.csv):
            assert (report.out_dir / rel).is_file(), rel
        assert len(f.caption) > 60 and captions[f.name]["caption"] == f.caption


def test_png_is_valid_at_300_dpi_and_svg_parses(made):
    _, report = made
    for f in report.figures:
        data = (report.out_dir / f.png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width_px, height_px = struct.unpack(">II", data[16:24])
        root = ET.parse(report.out_dir / f.svg).getroot()
        assert root.tag.endswith("svg")
        width_in = float(root.get("width").removesuffix("pt")) / 72
        height_in = float(root.get("height").removesuffix("pt")) / 72
        assert width_in == pytest.approx(6.3)  # every figure is full A4 text width
        assert (width_px, height_px) == (round(width_in * 300), round(height_in * 300))


def test_fan_csvs_are_the_replication_percentiles(made):
    run_dir, report = made
    annual = pd.read_parquet(run_dir / "annual.parquet")
    for name, metric in (("ehcp_fan", "ehcp_total"), ("deficit_fan", "cumulative_deficit")):
        drawn = _fig_csv(report, name).set_index("financial_year").sort_index()
        summary = _summary(run_dir, metric)
        for col in ("mean", "p05", "p50", "p95"):
            np.testing.assert_allclose(drawn[col], summary[col], rtol=1e-12)
        values = annual[annual["metric"] == metric].pivot(index="financial_year", columns="replication", values="value").sort_index()
        np.testing.assert_allclose(drawn["p25"], np.percentile(values, 25, axis=1))
        np.testing.assert_allclose(drawn["p75"], np.percentile(values, 75, axis=1))
        assert (drawn["n"] == 3).all()
    ehcp = _fig_csv(report, "ehcp_fan").set_index("financial_year")
    assert ehcp["observed"].to_dict() == OBSERVED


def test_mean_based_csvs_match_the_summary(made):
    run_dir, report = made
    spend = _fig_csv(report, "spend_by_line")
    by = spend.pivot_table(index="financial_year", columns="category", values="spend_gbp")
    np.testing.assert_allclose(by["total"], _summary(run_dir, "spend_total")["mean"], rtol=1e-9)
    np.testing.assert_allclose(by["allocation"], _summary(run_dir, "hnb_allocation")["mean"], rtol=1e-9)
    np.testing.assert_allclose(by[CATEGORY_KEYS].sum(axis=1), by["total"], rtol=1e-9)  # the seven categories add up to the total
    mix = _fig_csv(report, "placement_mix")
    for setting in SETTINGS:
        drawn = mix[mix["setting"] == setting].set_index("financial_year")["plans"]
        np.testing.assert_allclose(drawn, _summary(run_dir, setting)["mean"], rtol=1e-9)
    np.testing.assert_allclose(mix.groupby("financial_year")["share_pct"].sum(), 100.0)
    time = _fig_csv(report, "timeliness")
    for metric, rows in time.groupby("metric"):
        summary = _summary(run_dir, metric)
        rows = rows.set_index("financial_year")
        np.testing.assert_allclose(rows["p50"], summary.loc[rows.index, "p50"])
        np.testing.assert_allclose(rows["mean"], summary.loc[rows.index, "mean"])
    flows = _fig_csv(report, "pathway_flow").set_index("key")
    for metric in ("assessment_requests", "new_ehcps", "ehcps_ceased"):
        assert flows.loc[metric, "value"] == pytest.approx(_summary(run_dir, metric).loc["2015-16", "mean"])
    assert flows.loc["ehcp_special", "value"] == pytest.approx(_summary(run_dir, "ehcp_special").loc["2015-16", "mean"])


def test_dsg_table_adds_up(made):
    run_dir, report = made
    dsg = pd.read_csv(report.out_dir / "tables" / "dsg_plan.csv")
    assert set(dsg["scenario"]) == {"baseline"}
    dsg = dsg.set_index("row")
    years = [c for c in dsg.columns if c[:2] == "20"]
    money = dsg.loc[:, years].astype(float)
    spend_rows = [f"spend_{k}" for k in CATEGORY_KEYS]
    plan_rows = [f"ehcp_{k}" for k in CATEGORY_KEYS]
    assert (dsg.loc[spend_rows, "unit"] == "£000").all() and (dsg.loc[plan_rows, "unit"] == "plans").all()
    np.testing.assert_allclose(money.loc[spend_rows].sum(), money.loc["total_spend"], rtol=1e-9)
    np.testing.assert_allclose(money.loc["allocation"] - money.loc["total_spend"], money.loc["in_year_balance"], atol=1e-6)
    cumulative = money.loc["cumulative_balance"].to_numpy()
    np.testing.assert_allclose(np.diff(cumulative), money.loc["in_year_balance"].to_numpy()[1:], atol=1e-6)
    np.testing.assert_allclose(money.loc[plan_rows].sum(), money.loc["ehcp_total"], rtol=1e-9)
    np.testing.assert_allclose(money.loc["total_spend"] * 1000, _summary(run_dir, "spend_total")["mean"], rtol=1e-9)
    assert dsg.loc["spend_independent", "label"] == "Spend: Non-maintained and independent special schools"


def test_excel_workbook_is_formatted(made):
    from openpyxl import load_workbook

    _, report = made
    book = load_workbook(report.out_dir / "tables" / "dsg_plan.xlsx")
    assert book.sheetnames == ["Status quo"]  # one scenario: one sheet, no summary of differences
    ws = book.active
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "unit")
    assert ws.freeze_panes == f"C{header + 1}"
    assert [c.value for c in ws[header]][2:] == ["2014-15", "2015-16", "2016-17"]
    notes = " ".join(str(ws.cell(r, 1).value) for r in range(2, header))
    assert "Fitted to published data up to the January 2019 census" in notes and "Funding:" in notes
    labels = [ws.cell(r, 1).value for r in range(header + 1, ws.max_row + 1)]
    assert labels[0] == "High Needs Block allocation" and "Total High Needs spend" in labels
    assert ws.cell(header + 1, 3).number_format.startswith("#,##0")


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.ths, self.figure_ids, self.links = [], [], [], []
        self._in_th = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag == "figure":
            self.figure_ids.append(attrs.get("id"))
        if tag == "a":
            self.links.append(attrs.get("href", ""))
        self._in_th = tag == "th"

    def handle_data(self, data):
        if self._in_th:
            self.ths.append(data)

    def handle_endtag(self, tag):
        self._in_th = False


def test_html_is_self_contained_with_every_figure_and_the_parameter_table(made):
    run_dir, report = made
    parser = _Collector()
    parser.feed(report.documents["html"].read_text(encoding="utf-8"))
    assert set(parser.figure_ids) == EXPECTED_FIGURES
    assert len(parser.images) == len(EXPECTED_FIGURES) and all(src.startswith("data:image/png;base64,") for src in parser.images)
    assert parser.links and all(href.startswith("data:text/csv;base64,") for href in parser.links)  # nothing that breaks when emailed
    assert {"parameter", "meaning", "value", "source"} <= set(parser.ths)
    text = report.documents["html"].read_text(encoding="utf-8")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for path, _, _ in describe.sourced_entries(manifest["config"]):
        assert f"<td>{path}</td>" in text.replace("&#x27;", "'")


def test_word_document_has_every_figure_and_the_parameter_table(made):
    from docx import Document

    run_dir, report = made
    doc = Document(str(report.documents["docx"]))
    assert len(doc.inline_shapes) == len(EXPECTED_FIGURES)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    params = describe.parameter_table(manifest["config"])
    table = next(t for t in doc.tables if [c.text for c in t.rows[0].cells] == ["parameter", "meaning", "value", "source"])
    assert len(table.rows) == len(params) + 1
    assert {r.cells[0].text for r in table.rows[1:]} == set(params["parameter"])
    text = "\n".join(p.text for p in doc.paragraphs)
    for heading in ("Objectives", "Logic", "Entities and resources", "Input parameters", "Assumptions", "Run length", "Replications", "Random numbers", "Software"):
        assert heading in text


def test_markdown_links_every_figure(made):
    _, report = made
    text = report.documents["md"].read_text(encoding="utf-8")
    for f in report.figures:
        assert f"]({f.png})" in text
    assert "| parameter | meaning | value | source |" in text


def test_parameter_walk_lists_sourced_entries_with_dotted_paths():
    config = {"meta": {"name": "x"}, "a": {"b": {"value": 3, "source": "SEN2"}, "d": {"dist": "fixed", "value": 2, "mean": None, "source": "assumption: z"}}, "e": [{"date": "2020-01-01", "places": 3, "source": "s"}], "f": 5}
    entries = list(describe.sourced_entries(config))
    assert entries == [("a.b", 3, "SEN2"), ("a.d", {"dist": "fixed", "value": 2}, "assumption: z"), ("e[0]", {"date": "2020-01-01", "places": 3}, "s")]
    table = describe.parameter_table(config)
    assert list(describe.assumptions(table)["parameter"]) == ["a.d"]
    assert "f" in set(table["parameter"]) and "meta.name" not in set(table["parameter"])


def test_cli_report_writes_and_refuses_bad_input(made, tmp_path):
    run_dir, _ = made
    runner = CliRunner()
    out = tmp_path / "out"
    ok = runner.invoke(main, ["report", str(run_dir), "--format", "md", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert (out / "appendix.md").is_file() and not (out / "appendix.docx").exists()
    missing = runner.invoke(main, ["report", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such directory" in missing.output
    fmt = runner.invoke(main, ["report", str(run_dir), "--format", "pdf", "--out", str(out)])
    assert fmt.exit_code == 2 and "unknown format 'pdf'" in fmt.output
    year = runner.invoke(main, ["report", str(run_dir), "--year", "2030-31", "--out", str(out)])
    assert year.exit_code == 2 and "2030-31" in year.output
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "manifest.json").write_text(json.dumps({"status": "running"}))
    running = runner.invoke(main, ["report", str(unfinished)])
    assert running.exit_code == 2 and "not 'complete'" in running.output


def test_observed_series_for_a_report_are_checked_like_calibration_data(made, tmp_path):
    run_dir, _ = made
    (tmp_path / "obs").mkdir()
    pd.DataFrame({"financial_year": ["2015-16"], "metric": ["ehcp_totl"], "value": [1.0], "source": ["SEN2"], "year": ["2016"], "kind": ["census"]}).to_csv(
        tmp_path / "obs" / "caseload.csv", index=False)
    bad = CliRunner().invoke(main, ["report", str(run_dir), "--observed", str(tmp_path / "obs"), "--format", "md", "--out", str(tmp_path / "out")])
    assert bad.exit_code == 2 and "caseload.csv: line 2, column metric: unknown metric 'ehcp_totl'" in bad.output
    assert not (tmp_path / "out").exists()
