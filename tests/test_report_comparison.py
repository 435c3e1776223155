"""A Schools Forum paper from a real comparison: the key years follow --year everywhere, the appendix
describes the base and every scenario, every scenario has its DSG plan sheet in the template's
categories, and every figure is labelled from the label table."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from conftest import scaled_data
from hnsim import api
from hnsim.analysis.dsg import CATEGORY_KEYS
from hnsim.config import validate
from hnsim.experiment.compare import compare
from hnsim.plots import labels
from hnsim.report import build_report

SCENARIOS = {"linc_funding": ["linc_funding"], "block_transfer": ["block_transfer"], "whole_strategy": ["linc_funding", "block_transfer", "special_school_expansion"]}
YEAR = "2018-19"  # not the default (the year the run finished in, past the run's end): the key years must follow it
KEY_YEARS = ["2018-19", "2019-20", "2020-21", "2021-22", "2022-23"]
SVG = "{http://www.w3.org/2000/svg}"
IDENTIFIER = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    """A comparison of a small Gloucestershire (a twentieth, to March 2024) with three scenarios, two
    replications, and its report with --year 2018-19."""
    root = tmp_path_factory.mktemp("paper")
    data = scaled_data(0.05, "2024-03-31")
    configs = {"baseline": validate(data)}
    for name, levers in SCENARIOS.items():
        changed = copy.deepcopy(data)
        for lever in levers:
            changed["levers"][lever]["enabled"] = True
        configs[name] = validate(changed, name)
    result = compare(configs, 2, 7, 1, root / "cmp")
    report = build_report(root / "cmp", formats=("md", "html"), year=YEAR)
    return result, report


def _texts(svg_path, legend_only: bool = False) -> list[str]:
    """The text of an SVG figure (kept as text), optionally only its legends; without the footer lines."""
    root = ET.parse(svg_path).getroot()
    groups = [g for g in root.iter(f"{SVG}g") if (g.get("id") or "").startswith("legend")] if legend_only else [root]
    found = []
    for group in groups:
        for node in group.iter(f"{SVG}text"):
            text = "".join(node.itertext()).strip()
            if text and not text.startswith(("hnsim ", "Data to January", "Not fitted")):
                found.append(text)
    return found


def test_key_tables_figures_and_console_follow_the_year(paper):
    result, report = paper
    assert report.key_years == KEY_YEARS
    summary = pd.read_csv(report.out_dir / "tables" / "scenario_summary.csv")
    assert set(summary["years"]) == {"2018-19 to 2022-23"}
    text = (report.out_dir / "appendix.md").read_text(encoding="utf-8")
    assert "EHCPs, January 2023 (5-95%)" in text and "Cumulative deficit, 31 March 2023 (95% CI)" in text
    assert "High Needs spend 2018-19 to 2022-23" in text and "Net effect on in-year balance 2018-19 to 2022-23 (95% CI)" in text
    assert "|  | 2018-19 | 2019-20 | 2020-21 | 2021-22 | 2022-23 |" in text  # the DSG plan view: the key years
    captions = json.loads((report.out_dir / "figures" / "captions.json").read_text())
    assert "over 2018-19 to 2022-23" in captions["scenario_comparison"]["caption"]
    assert "2018-19 to 2022-23" in captions["spend_change"]["caption"]
    assert "January 2023" in captions["placement_by_scenario"]["caption"] and "2018-19" in captions["pathway_flow"]["title"]
    drawn = pd.read_csv(report.out_dir / "figures" / "scenario_comparison.csv")
    assert set(drawn["years"]) == {"2018-19 to 2022-23"}
    head = api.comparison_headline(result, YEAR)  # what hnsim compare --year prints
    assert head.years == KEY_YEARS
    table = summary.set_index("scenario")
    for _, row in head.effects.iterrows():
        assert row["saving_mean"] == pytest.approx(table.loc[row["scenario"], "saving_gbp"])
        assert row["balance_effect_mean"] == pytest.approx(table.loc[row["scenario"], "balance_effect_gbp"])


def test_money_in_is_reported_as_its_effect_on_balance_and_deficit(paper):
    _, report = paper
    effects = pd.read_csv(report.out_dir / "figures" / "scenario_comparison.csv").set_index("scenario")
    transfer = effects.loc["block_transfer"]
    assert transfer["saving_mean"] == pytest.approx(0.0, abs=1e-6)  # a block transfer changes no spend ...
    assert transfer["balance_effect_mean"] > 0 and transfer["balance_effect_mean"] == pytest.approx(transfer["money_in_mean"])  # ... but brings money in
    # it starts in 2020-21, inside the key years, so by their end the deficit is lower by all the money brought in
    assert transfer["deficit_reduction_mean"] == pytest.approx(transfer["balance_effect_mean"], rel=1e-9)


def test_the_appendix_describes_the_base_and_every_scenario_without_placeholders(paper):
    _, report = paper
    text = (report.out_dir / "appendix.md").read_text(encoding="utf-8")
    unknown = re.compile(r"(^|[\s(:])\?([\s.,;)]|$)")  # a value shown as '?'
    assert not [line for line in text.splitlines() if unknown.search(line)]
    for placeholder in ("(none)", "(0 entries)", "see the scenario overlay", "Config: .", "Simulated from  to", "not recorded"):
        lines = [line for line in text.splitlines() if placeholder in line and not line.startswith("| ")]
        assert not lines, f"placeholder {placeholder!r} in: {lines[:2]}"
    assert "capacity 5 concurrent assessments" in text  # the base config's own figures
    assert "Simulated from 2014-04-01 to 2024-03-31" in text
    assert "Fitted to published data up to the January 2019 census" in text and "Funding: the High Needs Block allocation" in text
    for name in SCENARIOS:
        assert f"{labels.SCENARIO_LABELS[name]} ({name}): switches on" in text
    assert "Local Inclusion Clusters (LINCs)" in text and "up to 0.5% of a schools block" in text  # each lever, its effect range and source
    assert "replication noise" in text and "uncertainty in the fitted parameters (a posterior ensemble" in text  # the shipped members


def test_every_scenario_has_a_dsg_plan_sheet_in_the_template_categories(paper):
    from openpyxl import load_workbook

    result, report = paper
    book = load_workbook(report.out_dir / "tables" / "dsg_plan.xlsx")
    expected = [labels.SCENARIO_LABELS[s] for s in ["baseline", *SCENARIOS]]
    assert book.sheetnames == ["Summary of differences", *expected]
    for sheet in expected:
        column = [c.value for c in book[sheet]["A"]]
        for key in CATEGORY_KEYS:
            assert f"Spend: {labels.CATEGORY_LABELS[key]}" in column and f"EHCPs: {labels.CATEGORY_LABELS[key]}" in column
    summary = [c.value for c in book["Summary of differences"]["A"]]
    assert all(labels.SCENARIO_LABELS[s] in summary for s in SCENARIOS)
    plans = pd.read_csv(report.out_dir / "tables" / "dsg_plan.csv")
    assert list(dict.fromkeys(plans["scenario"])) == ["baseline", *SCENARIOS]
    diffs = pd.read_csv(report.out_dir / "tables" / "dsg_differences.csv")
    transfer = diffs[diffs["scenario"] == "block_transfer"].set_index("row")
    assert transfer.loc["total_spend", "2021-22"] == pytest.approx(0.0, abs=1e-6) and transfer.loc["allocation_transfers", "2021-22"] > 0


def test_every_figure_is_labelled_from_the_label_table(paper):
    result, report = paper
    names = [labels.SCENARIO_LABELS[s] for s in ["baseline", *SCENARIOS]]
    known = labels.all_labels(names)
    for figure in report.figures:
        svg = report.out_dir / figure.svg
        texts = _texts(svg)
        raw = [t for t in texts if IDENTIFIER.search(t)]
        assert not raw, f"{figure.name} shows identifiers: {raw}"
        strangers = [t for t in _texts(svg, legend_only=True) if t not in known]
        assert not strangers, f"{figure.name}: legend entries not in the label table: {strangers}"
        if figure.name in ("ehcp_fan", "deficit_fan", "spend_by_line", "scenario_comparison", "spend_change", "placement_by_scenario", "timeliness"):
            shown = set(texts)
            wanted = names if figure.name not in ("scenario_comparison", "spend_change") else names[1:]
            assert set(wanted) <= shown, f"{figure.name} lacks {set(wanted) - shown}"


def test_figures_carry_the_vantage_and_the_bands_say_what_they_hold(paper):
    _, report = paper
    for figure in report.figures:
        root = ET.parse(report.out_dir / figure.svg).getroot()
        footer = ["".join(n.itertext()) for n in root.iter(f"{SVG}text")]
        assert any(t.startswith("Data to January 2019 (fitted)") and "Funding:" in t for t in footer), figure.name
    captions = json.loads((report.out_dir / "figures" / "captions.json").read_text())
    for name in ("ehcp_fan", "deficit_fan"):
        caption = captions[name]["caption"]
        for held in ("The bands hold the randomness of children's paths (replication noise)", "uncertainty in the fitted parameters (a posterior ensemble",
                     "uncertain future trends", "funding (HNB allocation growth", "the levers' uncertain effect sizes"):
            assert held in caption, held
        assert "data the model was fitted to (2018-19)" in captions[name]["caption"]
        assert "the mean" in captions[name]["caption"]  # the number quoted is the line drawn, as on the command line


def test_the_manifest_lists_what_the_bands_hold(paper):
    result, _ = paper
    m = result.manifest
    baseline = m["uncertainty_by_scenario"]["baseline"]
    assert baseline[:3] == ["replication noise", "parameters", "future trends"] and baseline[3].startswith("funding (HNB allocation growth")
    assert m["uncertainty_by_scenario"]["linc_funding"][:3] == ["replication noise", "lever effect ranges", "parameters"]
    assert m["data_end_year"] == "2018-19" and m["warnings"] == []
