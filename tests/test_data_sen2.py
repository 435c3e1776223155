"""The SEN2 reader on DfE's published files: geography levels, DfE symbols, authorities across code
changes and reorganisations, files with missing columns, and the national total."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hnsim.data import DataError, sen2

from conftest import SEN2_DIR

pytestmark = pytest.mark.sen2


def test_national_regional_and_local_authority_rows_add_up():
    data = sen2.read_file(SEN2_DIR, "age_caseload")
    assert set(data["geographic_level"]) == {"National", "Regional", "Local authority"}
    total = data[(data["year"] == 2019) & (data["characteristic_age"] == "Total")]
    south_west = total[(total["geographic_level"] == "Regional") & (total["region_name"] == "South West")]["Total_all"].item()
    las = total[(total["geographic_level"] == "Local authority") & (total["region_name"] == "South West")]["Total_all"].sum()
    assert south_west == las == 33098
    england = sen2.caseload_by_age(SEN2_DIR, "England")
    assert england.query("year == 2019 and characteristic_age == 'Total'")["plans"].item() == 353995
    region = sen2.caseload_by_age(SEN2_DIR, "E12000009")
    assert region.query("year == 2019 and characteristic_age == 'Total'")["plans"].item() == 33098


def test_la_caseloads_sum_to_england_january_2019():
    """The sum of every local authority's January 2019 caseload is England's published 353,995."""
    for key in ("age_caseload", "estab_caseload"):
        data = sen2.read_file(SEN2_DIR, key)
        total = data[(data["year"] == 2019) & (data[sen2.FILES[key].filters[-1]] == "Total")]
        if key == "estab_caseload":
            total = total[total["establishment_group"] == "Total"]
        las = total[total["geographic_level"] == "Local authority"]
        assert las["Total_all"].notna().all(), las[las["Total_all"].isna()]["la_name"].tolist()
        assert len(las) == 152
        assert las["Total_all"].sum() == total[total["geographic_level"] == "National"]["Total_all"].item() == 353995


def test_z_is_missing_not_zero():
    england = sen2.caseload_by_age(SEN2_DIR, "England").query("year == 2019 and characteristic_age == 'Total'")
    assert pd.isna(england["statements"].item())  # published as z: no statements after 2018
    glos = sen2.assessment_activity(SEN2_DIR, "Gloucestershire").set_index("year")
    assert pd.isna(glos.loc[2015, "InreqEHC"]) and glos.loc[2016, "InreqEHC"] == 505
    assert glos.loc[2018, "AssRefusedEHC"] == 68


def _copy_with(tmp_path: Path, key: str, edit) -> Path:
    spec = sen2.FILES[key]
    frame = pd.read_csv(SEN2_DIR / spec.filename, dtype=str, keep_default_na=False, nrows=30)
    edit(frame)
    frame.to_csv(tmp_path / spec.filename, index=False)
    return tmp_path


def test_dfe_symbols_are_missing_and_other_text_is_an_error(tmp_path):
    symbols = ["c", "x", "..", ":", "u", "~", "low", "z"]

    def suppress(frame):
        frame.loc[: len(symbols) - 1, "Total_all"] = symbols

    data = sen2.read_file(_copy_with(tmp_path, "age_caseload", suppress), "age_caseload")
    assert data["Total_all"].iloc[: len(symbols)].isna().all()
    assert data["Total_all"].iloc[len(symbols):].notna().all()

    def corrupt(frame):
        frame.loc[4, "Total_ehc"] = "12a"

    bad = tmp_path / "bad"
    bad.mkdir()
    with pytest.raises(DataError) as err:
        sen2.read_file(_copy_with(bad, "age_caseload", corrupt), "age_caseload")
    assert "sen2_age_caseload.csv: line 6, column Total_ehc: '12a'" in err.value.problems[0]


def test_file_with_missing_columns_is_rejected_clearly(tmp_path):
    def drop(frame):
        del frame["InreqEHC"], frame["la_name"]

    _copy_with(tmp_path, "mi", drop)
    with pytest.raises(DataError) as err:
        sen2.read_file(tmp_path, "mi")
    message = err.value.problems[0]
    assert "sen2_mi.csv" in message and "missing column(s) la_name, InreqEHC" in message
    assert "expected DfE's SEN2 'sen2_mi.csv'" in message and "NewallEHC" in message


def test_missing_directory_and_file_are_named(tmp_path):
    with pytest.raises(DataError, match="SEN2 directory not found"):
        sen2.list_authorities(tmp_path / "nowhere")
    with pytest.raises(DataError, match="sen2_age_caseload.csv: file not found"):
        sen2.list_authorities(tmp_path)


@pytest.mark.parametrize("query", ["Gloucestershire", "gloucestershire ", "E10000013", "e10000013", "916"])
def test_authority_by_name_new_code_and_old_code(query):
    auth = sen2.find_authority(SEN2_DIR, query)
    assert (auth.name, auth.old_la_code, auth.new_la_code, auth.region_name) == ("Gloucestershire", "916", "E10000013", "South West")


def test_city_of_names_and_unknown_names():
    assert sen2.find_authority(SEN2_DIR, "Bristol").name == "Bristol, City of"
    with pytest.raises(DataError) as err:
        sen2.find_authority(SEN2_DIR, "Gloucestershir")
    assert "no local authority, region or England matches 'Gloucestershir'" in err.value.problems[0]
    assert "did you mean 'Gloucestershire'" in err.value.problems[0]


def test_authority_followed_across_a_code_change():
    """Gateshead's new_la_code changed in 2014 (E08000020 -> E08000037); the old code 390 did not."""
    old, new = sen2.find_authority(SEN2_DIR, "E08000020"), sen2.find_authority(SEN2_DIR, "E08000037")
    assert old == new == sen2.find_authority(SEN2_DIR, "Gateshead")
    assert {c[1] for c in old.codes} == {"E08000020", "E08000037"}
    totals = sen2.caseload_by_age(SEN2_DIR, "E08000020").query("characteristic_age == 'Total'")
    assert totals["year"].tolist() == list(range(2010, 2020))
    assert totals.set_index("year").loc[2013, "source_la"] == "Gateshead (390, E08000020)"
    assert totals.set_index("year").loc[2019, "plans"] == 1231


def test_merged_authority_bournemouth_christchurch_and_poole():
    """BCP (839, E06000058) reports activity from 2019; before that it is Bournemouth + Poole
    (Christchurch, part of Dorset county, cannot be separated and is left out, saying so)."""
    by_name = sen2.find_authority(SEN2_DIR, "Bournemouth, Christchurch and Poole")
    assert by_name == sen2.find_authority(SEN2_DIR, "E06000058") == sen2.find_authority(SEN2_DIR, "839")
    caseload = sen2.caseload_by_age(SEN2_DIR, by_name).query("characteristic_age == 'Total'").set_index("year")
    bournemouth = sen2.caseload_by_age(SEN2_DIR, "Bournemouth").query("characteristic_age == 'Total'").set_index("year")
    poole = sen2.caseload_by_age(SEN2_DIR, "E06000029").query("characteristic_age == 'Total'").set_index("year")
    assert caseload.loc[2019, "plans"] == bournemouth.loc[2019, "plans"] + poole.loc[2019, "plans"] == 1891
    assert "Bournemouth (837) + Poole (836)" in caseload.loc[2019, "source_la"] and "left out: Dorset (835), part" in caseload.loc[2019, "source_la"]
    activity = sen2.assessment_activity(SEN2_DIR, by_name).set_index("year")
    assert activity.loc[2019, "InreqEHC"] == 541 and activity.loc[2019, "source_la"].startswith("Bournemouth, Christchurch and Poole (839")
    parts = [sen2.assessment_activity(SEN2_DIR, name).set_index("year").loc[2018, "InreqEHC"] for name in ("Bournemouth", "Poole")]
    assert activity.loc[2018, "InreqEHC"] == sum(parts) == 326


def test_renamed_dorset_county_and_council():
    """'Dorset' is two authorities: the county (835, E10000009) to 2019 and Dorset Council (838, E06000059) after."""
    council, county = sen2.find_authority(SEN2_DIR, "Dorset"), sen2.find_authority(SEN2_DIR, "835")
    assert (council.old_la_code, council.new_la_code) == ("838", "E06000059")
    assert (county.new_la_code, set(county.successors)) == ("E10000009", {"838", "839"})
    activity = sen2.assessment_activity(SEN2_DIR, council).set_index("year")
    assert activity.loc[2019, "InreqEHC"] == 688 and activity.loc[2018, "InreqEHC"] == 600
    assert activity.loc[2018, "source_la"] == "predecessors: Dorset (835), most"


def test_list_authorities_covers_every_old_code():
    authorities = sen2.list_authorities(SEN2_DIR)
    assert len(authorities) == 154  # 152 in every year, plus the 2019 Dorset Council and BCP
    assert len({a.old_la_code for a in authorities}) == 154
