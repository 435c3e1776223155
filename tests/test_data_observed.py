"""Observed series: the shipped Gloucestershire files are the SEN2 figures, and the loader rejects
malformed files naming the file, the line and the column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hnsim.data import DataError
from hnsim.data.observed import COLUMNS, allowed_metrics, financial_year_of, load_observed

from conftest import ROOT, SEN2_DIR

SHIPPED = ROOT / "data" / "gloucestershire"
needs_sen2 = pytest.mark.sen2
HEADER = ",".join(COLUMNS)


def test_census_and_calendar_years_map_to_the_financial_year_they_open():
    assert financial_year_of(2019, "census") == "2018-19"
    assert financial_year_of(2000, "calendar_year") == "1999-00"


def test_shipped_gloucestershire_series_load():
    data = load_observed(SHIPPED)
    assert list(data.columns) == list(COLUMNS)
    value = data.set_index(["metric", "financial_year"])["value"]
    assert value[("ehcp_total", "2018-19")] == 3658
    assert value[("assessment_requests_calendar_year", "2018-19")] == 613
    assert value[("spend_total", "2018-19")] == 63_600_000
    assert value[("hnb_allocation", "2018-19")] - value[("spend_total", "2018-19")] == value[("in_year_balance", "2018-19")]
    assert data["year"].str.fullmatch(r"\d{4}|\d{4}-\d{2}").all()
    assert (data.query("kind != 'financial_year'")["year"].astype(int) <= 2019).all()


@needs_sen2
def test_shipped_caseload_and_activity_are_generated_from_sen2(tmp_path):
    from hnsim.api import write_observed

    write_observed(SEN2_DIR, "Gloucestershire", tmp_path)
    for name in ("caseload.csv", "activity.csv"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (SHIPPED / name).read_text(encoding="utf-8"), f"regenerate: hnsim observed --la Gloucestershire --data {SEN2_DIR} --out data/gloucestershire/"


@needs_sen2
def test_setting_metrics_follow_sen2_groups():
    from hnsim.data.series import caseload_series

    series = caseload_series(SEN2_DIR, "916").query("year == '2019'").set_index("metric")["value"]
    assert series["ehcp_mainstream"] == 1651 and series["ehcp_special"] == 1016 + 106
    assert series["ehcp_independent"] == 129 + 20 and series["ehcp_post16"] == 474 and series["ehcp_post16_specialist"] == 58
    settings = ["ehcp_mainstream", "ehcp_special", "ehcp_independent", "ehcp_ap", "ehcp_post16", "ehcp_other"]
    assert series[settings].sum() == series["ehcp_total"] == 3658


def _write(tmp_path: Path, *lines: str, name: str = "mine.csv") -> Path:
    (tmp_path / name).write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return tmp_path / name


GOOD = "2018-19,ehcp_total,3658,SEN2 sen2_age_caseload.csv Total_all,2019,census"


def _problems(tmp_path: Path) -> list[str]:
    with pytest.raises(DataError) as err:
        load_observed(tmp_path)
    return err.value.problems


def test_another_councils_file_loads(tmp_path):
    _write(tmp_path, GOOD, "2018-19,hnb_allocation,40000000,council budget book,2018-19,financial_year")
    assert len(load_observed(tmp_path)) == 2


def test_unknown_metric_names_file_line_column_and_allowed(tmp_path):
    path = _write(tmp_path, GOOD, "2018-19,ehcps_total,3658,SEN2,2019,census")
    (problem,) = _problems(tmp_path)
    assert problem.startswith(f"{path}: line 3, column metric: unknown metric 'ehcps_total'; allowed: ")
    assert "ehcp_total" in problem and "assessment_requests_calendar_year" in problem


@pytest.mark.parametrize(("line", "column", "says"), [
    ("2018-19,ehcp_total,3,658,SEN2,2019,census", None, "expected 6 fields"),
    ("2018-19,ehcp_total,n/a,SEN2 file,2019,census", "value", "'n/a' is not a number"),
    ("2018/19,ehcp_total,3658,SEN2 file,2019,census", "financial_year", "write it like '2018-19'"),
    ("2018-20,ehcp_total,3658,SEN2 file,2019,census", "financial_year", "write it like '2018-19'"),
    ("2019-20,ehcp_total,3658,SEN2 file,2019,census", "financial_year", "census year 2019 is reported against '2018-19'"),
    ("2018-19,ehcp_total,3658,SEN2 file,2019,snapshot", "kind", "allowed: census, calendar_year, financial_year"),
    ("2018-19,new_ehcps,484,SEN2 file,2019,calendar_year", "metric", "needs a metric ending '_calendar_year'"),
    ("2018-19,spend_total,63600000,the strategy,2019,census", "kind", "kind must be financial_year"),
    ("2018-19,spend_total,63600000,the strategy,2018,financial_year", "year", "year must equal financial_year"),
    ("2018-19,ehcp_total,3658,,2019,census", "source", "say where the figure comes from"),
])
def test_malformed_rows_are_named(tmp_path, line, column, says):
    path = _write(tmp_path, GOOD.replace("2018-19", "2017-18").replace("2019,census", "2018,census"), line)
    problems = _problems(tmp_path)
    where = f"{path}: line 3" + (f", column {column}" if column else "")
    assert any(p.startswith(where) and says in p for p in problems), problems


def test_missing_column_and_duplicates(tmp_path):
    (tmp_path / "a.csv").write_text("financial_year,metric,value,year,kind\n", encoding="utf-8")
    assert _problems(tmp_path) == [f"{tmp_path / 'a.csv'}: line 1: missing column(s) source; expected columns {', '.join(COLUMNS)}"]
    (tmp_path / "a.csv").unlink()
    _write(tmp_path, GOOD, name="one.csv")
    _write(tmp_path, GOOD, name="two.csv")
    (problem,) = _problems(tmp_path)
    assert "metric ehcp_total for 2018-19 is given more than once" in problem and "one.csv: line 2" in problem and "two.csv: line 2" in problem


def test_empty_or_missing_directory(tmp_path):
    assert "no .csv files" in _problems(tmp_path)[0]
    with pytest.raises(DataError, match="not found"):
        load_observed(tmp_path / "absent")


def test_allowed_metrics_cover_the_documented_ones():
    for name in ("ehcp_total", "ehcp_age_20_25", "ehcp_post16_specialist", "tribunal_appeals_calendar_year", "cumulative_deficit", "spend_ap"):
        assert name in allowed_metrics()
    assert "new_ehcps_total" not in allowed_metrics()
    frame = pd.read_csv(SHIPPED / "finance.csv")
    assert set(frame["metric"]) <= set(allowed_metrics())
