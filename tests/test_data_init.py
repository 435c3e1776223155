"""`hnsim init`: a starter config for any authority from its SEN2 figures validates and runs."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from hnsim.cli import main
from hnsim.config import apply_overrides, validate
from hnsim.data import sen2
from hnsim.data.starter import NOT_GIVEN, rake, starter_config
from hnsim.experiment.run import run

from conftest import SEN2_DIR

pytestmark = pytest.mark.sen2


def _sources(node, path=""):
    if isinstance(node, dict):
        if "source" in node:
            yield path, node["source"]
        for key, value in node.items():
            yield from _sources(value, f"{path}.{key}".strip("."))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _sources(value, f"{path}.{i}")


@pytest.mark.parametrize("la", ["Gateshead", "E06000058"])
def test_starter_config_validates_and_runs(la, tmp_path):
    data, warnings = starter_config(SEN2_DIR, la)
    auth = sen2.find_authority(SEN2_DIR, la)
    config = validate(data, f"starter for {la}")
    january = sen2.caseload_by_age(SEN2_DIR, auth).query("year == 2015").set_index("characteristic_age")["plans"]
    assert sum(config.initial_population.ehcp_by_age_band.value.values()) == january["Total"]
    assert config.meta.new_la_code == auth.new_la_code
    for key in ("hnb_allocation_gbp", "opening_cumulative_deficit_gbp"):
        assert getattr(config.finance, key).source.startswith(NOT_GIVEN)
    assert len(warnings) == 3 and all("NOT GIVEN" in w for w in warnings)
    for path, source in _sources(data):  # every value says whose figure it is
        assert source.startswith(("SEN2 ", "derived: SEN2", "derived: the template's rates", "assumption:", "national default:", "template default")), (path, source)
        assert not path.startswith("costs.settings") or source.startswith("national default:"), path
    short = validate(apply_overrides(data, {"simulation.end_date": "2016-03-31"}), "short")
    result = run(short, replications=1, workers=1)
    totals = result.summary.query("metric == 'ehcp_total'")["mean"]
    assert len(totals) == 2 and (totals > 0).all()


def test_starter_uses_the_authoritys_own_activity():
    data, _ = starter_config(SEN2_DIR, "Gateshead")
    activity = sen2.assessment_activity(SEN2_DIR, "Gateshead").query("2016 <= year <= 2019")
    expected = activity["AssRefusedEHC"].sum() / activity["InreqEHC"].sum()
    assert data["assessment"]["refusal_probability"]["value"] == pytest.approx(expected, abs=1e-4)
    assert data["assessment"]["refusal_probability_by_year"]["value"]["2018-19"] == pytest.approx(
        activity.set_index("year").loc[2018, "AssRefusedEHC"] / activity.set_index("year").loc[2018, "InreqEHC"], abs=1e-4)
    shares = data["initial_population"]["ehcp_setting_shares"]["value"]
    assert all(abs(sum(v.values()) - 1) < 1e-6 for v in shares.values())


def test_raking_matches_both_margins():
    seed = {"a": {"x": 1, "y": 1}, "b": {"x": 1, "y": 3, "z": 1}}
    shares = rake(seed, {"a": 10, "b": 30}, {"x": 15, "y": 20, "z": 5})
    cells = {r: {c: s * {"a": 10, "b": 30}[r] for c, s in row.items()} for r, row in shares.items()}
    assert sum(row.get("x", 0) for row in cells.values()) == pytest.approx(15, rel=1e-3)
    assert cells["b"]["z"] == pytest.approx(5, rel=1e-3) and "z" not in cells["a"]


def test_init_command_writes_warns_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "glos.yaml"
    runner = CliRunner()
    result = runner.invoke(main, ["init", "--la", "916", "--data", str(SEN2_DIR), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "NOT GIVEN" in result.output and "finance.hnb_allocation_gbp" in result.output
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["meta"]["local_authority"] == "Gloucestershire"
    again = runner.invoke(main, ["init", "--la", "916", "--data", str(SEN2_DIR), "--out", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output
    unknown = runner.invoke(main, ["init", "--la", "Atlantis", "--data", str(SEN2_DIR), "--out", str(tmp_path / "x.yaml")])
    assert unknown.exit_code == 2 and "no local authority, region or England matches 'Atlantis'" in unknown.output


def test_observed_command_writes_tidy_files(tmp_path):
    result = CliRunner().invoke(main, ["observed", "--la", "Dorset", "--data", str(SEN2_DIR), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    from hnsim.data.observed import load_observed

    data = load_observed(tmp_path).set_index(["metric", "financial_year"])["value"]
    assert data[("assessment_requests_calendar_year", "2018-19")] == 688


def test_leaving_school_ehcp_share_from_the_16_19_band_and_linear_to_the_end_of_the_transition():
    import pandas as pd

    from hnsim.data.starter import leaving_school_ehcp_share

    ages = pd.DataFrame({"year": [2014, 2015, 2016, 2016], "characteristic_age": ["Age 16 to 19", "Age 16 to 19", "Age 16 to 19", "Total"],
                         "plans": [100.0, 200.0, 400.0, 1000.0], "ehc": [float("nan"), 20.0, 100.0, 300.0]})
    value, source = leaving_school_ehcp_share(ages)
    # January 2015 and 2016 as published; 2017 and 2018 a third and two thirds of the way from 0.25 to 1 in January 2019
    assert value == {"2014-15": 0.1, "2015-16": 0.25, "2016-17": 0.5, "2017-18": 0.75}
    assert "2015 20 of 200" in source and "January 2017, 2018: assumption" in source
    assert leaving_school_ehcp_share(ages[ages["year"] == 2014]) is None  # no split published from 2015


def test_starter_sets_the_leaving_school_ehcp_share_from_the_authoritys_own_band():
    data, _ = starter_config(SEN2_DIR, "916")
    transfer = data["placement"]["transfer"]
    share = transfer["leaving_school_ehcp_share_by_year"]
    assert "post16_cease_probability_by_year" not in transfer  # the template's round figures give way to the authority's own
    assert share["value"] == {"2014-15": 0.156, "2015-16": 0.8683, "2016-17": 0.9858, "2017-18": 0.9955}  # 22/141, 310/357, 625/634, 664/667
    assert "Gloucestershire" in share["source"]
    validate(data)


def test_leaving_school_ehcp_share_fills_missing_januaries_between_their_neighbours():
    import pandas as pd

    from hnsim.data.starter import leaving_school_ehcp_share

    ages = pd.DataFrame({"year": [2016, 2018], "characteristic_age": ["Age 16 to 19"] * 2, "plans": [100.0, 100.0], "ehc": [10.0, 50.0]})
    value, source = leaving_school_ehcp_share(ages)
    # 2015 before the first published: 2016's share; 2017 halfway between 2016 and 2018
    assert value == {"2014-15": 0.1, "2015-16": 0.1, "2016-17": 0.3, "2017-18": 0.5}
    assert "January 2015, 2017: assumption" in source
