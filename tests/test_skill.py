"""Forecast skill: nothing after the origin reaches a task, a synthetic authority scores near nominal
coverage while a biased model scores worse than the naive forecasters, and a resumed run equals an
uninterrupted one."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from hnsim import api
from hnsim.analysis.discrepancy import DRAWS_PER_MEMBER
from hnsim.analysis.scores import score_ensembles, summary_table
from hnsim.analysis.skill import SERIES, ACTIVITY_SERIES, model_ensembles, naive_ensembles, scales
from hnsim.cli import main
from hnsim.config import validate
from hnsim.data.starter import TEMPLATE, starter_config
from hnsim.data.vantage import observed_at, write_vantage
from hnsim.experiment.runner import combine, run_tasks
from hnsim.experiment.national import FREE_PARAMETERS
from hnsim.experiment.skill import SkillDesign, Vantages, prepare
from hnsim.experiment.skill_task import Calibration, SkillTask
from hnsim.results.skill import read_outcome

from conftest import ROOT, scaled_data

FIXTURE = ROOT / "tests" / "data" / "sen2"  # national rows, Gloucestershire, Rutland, City of London
SHARED = ROOT.parent / "shared" / "data" / "sen2"
TINY = ["--replications", "2", "--max-evaluations", "2", "--fit-replications", "1", "--naive-draws", "50", "--quiet"]


def _sources(node, path=""):
    if isinstance(node, dict):
        if "source" in node:
            yield path, str(node["source"])
        for key, value in node.items():
            yield from _sources(value, f"{path}.{key}".strip("."))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _sources(value, f"{path}.{i}")


def _years_named(text: str) -> list[int]:
    return [int(y) for y in re.findall(r"(?<!\d)(20\d\d)(?!\d)", text)]


MONEY_AND_LEVERS = ("costs", "finance", "levers")  # never reach the caseload and activity series


def test_the_starter_template_holds_no_value_fitted_to_a_year_after_2015():
    data = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    assert "calibration" not in data and "request_multiplier_by_year" not in data["sen_support"]
    for path, source in _sources(data):
        if path.split(".")[0] in MONEY_AND_LEVERS:
            continue
        assert "calibrated" not in source, path
        assert all(y <= 2015 for y in _years_named(source)), (path, source)
    validate(data, str(TEMPLATE))


def test_a_task_prepared_from_the_full_files_equals_one_prepared_from_files_cut_at_the_origin(tmp_path):
    origin = 2016
    cut = write_vantage(FIXTURE, origin, tmp_path / "cut")
    tasks = []
    for directory, work in ((FIXTURE, "a"), (cut, "b")):
        design = SkillDesign(directory, origins=(origin,), last_year=2019).resolved()
        tasks.append(prepare(design, "916", origin, Vantages(directory, tmp_path / work)))
    full, truncated = tasks
    for name in ("config", "key", "origin", "last_year", "plans", "seed", "observed_from", "la_name", "la_code", "region_name"):
        assert getattr(full, name) == getattr(truncated, name), name
    pd.testing.assert_frame_equal(full.observed, truncated.observed)
    pd.testing.assert_frame_equal(full.training, truncated.training)
    # and what the task holds is of the origin: no later census, no activity of the origin's own year,
    # no source (the starter's derived values included) naming a later year
    census = full.observed[full.observed["kind"] == "census"]["year"].astype(int)
    activity = full.observed[full.observed["kind"] == "calendar_year"]["year"].astype(int)
    assert census.max() == origin and activity.max() == origin - 1
    for path, source in _sources(full.config):
        if path == "placement.transfer.leaving_school_ehcp_share_by_year":
            # the Januaries after the origin are named only as assumed (linear to the transition's statutory end)
            published, assumed = source.split("; January ", 1)
            assert "assumption: linear" in assumed and all(y <= origin for y in _years_named(published)), source
        elif path.split(".")[0] not in MONEY_AND_LEVERS:
            assert all(y <= origin for y in _years_named(source)), (path, source)
    assert str(full.config["trends"]["data_end"]) == f"{origin - 1}-12-31"  # damped from the last year known
    free = {p["path"] for p in full.config["calibration"]["free"]}
    assert free == {path for path, *_ in FREE_PARAMETERS}
    assert full.config["calibration"]["method"] == "history_matching" and full.config["calibration"]["uncertain"]
    growth = next(p for p in full.config["calibration"]["free"] if p["path"] == "trends.requests.growth_per_year.value")
    assert all(y <= origin for y in _years_named(growth["prior_source"]))  # the pooled prior knows only the years to the origin
    # the cut matters: the starter made from every year differs
    everything, _ = starter_config(FIXTURE, "916")
    assert everything["assessment"]["refusal_probability"] != full.config["assessment"]["refusal_probability"]


def test_the_calibration_budget_is_spent_across_the_waves(tmp_path):
    """--max-evaluations sets each task's design points (split across three waves), so a larger
    budget buys more points rather than being only a cap on the default 24 a wave."""
    for budget, points in ((72, 24), (144, 48), (30, 10), (2, 4)):  # at least the 4 points a wave the schema asks; the budget still caps them
        design = SkillDesign(FIXTURE, origins=(2016,), last_year=2019, max_evaluations=budget).resolved()
        task = prepare(design, "916", 2016, Vantages(FIXTURE, tmp_path / str(budget)))
        ensemble = task.config["calibration"]["ensemble"]
        assert (ensemble["design_points"], ensemble["waves"]) == (points, 3)


def test_the_design_hash_changes_with_the_inputs_drawn_across_members(monkeypatch):
    """A resumed run must not mix tasks drawn with another damping range or request-growth fallback."""
    import hnsim.experiment.national as national
    import hnsim.experiment.skill as skill
    from hnsim.experiment.skill_task import fit_calibration

    design = SkillDesign(FIXTURE, origins=(2016,), last_year=2019).resolved()
    template = Path(design.template).read_bytes()
    before = design.design_hash(template, fit_calibration)
    national_before = national.NationalDesign(FIXTURE).resolved().design_hash()
    wider = ({**national.UNCERTAIN[0], "low": 0.5},)
    monkeypatch.setattr(skill, "UNCERTAIN", wider)
    monkeypatch.setattr(national, "UNCERTAIN", wider)
    assert design.design_hash(template, fit_calibration) != before
    assert national.NationalDesign(FIXTURE).resolved().design_hash() != national_before


def test_the_design_hash_changes_with_the_calibration_targets(monkeypatch):
    """A resumed skill, national or rolling run must not mix tasks fitted to other targets."""
    import hnsim.analysis.calibration_targets as targets
    import hnsim.experiment.national as national
    from hnsim.experiment.rolling import RollingDesign
    from hnsim.experiment.skill_task import fit_calibration

    design = SkillDesign(FIXTURE, origins=(2016,), last_year=2019).resolved()
    template = Path(design.template).read_bytes()
    rolling = RollingDesign(Path("configs/gloucestershire.yaml"), Path("data/gloucestershire"), origins=(2016,))
    before = (design.design_hash(template, fit_calibration), national.NationalDesign(FIXTURE).resolved().design_hash(),
              rolling.design_hash(b"config", fit_calibration))
    rules = dict(targets.RULES)
    rules["new_ehcps_age_under5_calendar_year"] = targets.Rule(0.15, 10.0, 1.0)  # another weight
    monkeypatch.setattr(targets, "RULES", rules)
    after = (design.design_hash(template, fit_calibration), national.NationalDesign(FIXTURE).resolved().design_hash(),
             rolling.design_hash(b"config", fit_calibration))
    assert all(a != b for a, b in zip(after, before))


def test_observed_tables_are_cut_at_the_origin_by_kind():
    observed = pd.DataFrame({"financial_year": ["2016-17", "2017-18", "2016-17", "2017-18", "2016-17", "2017-18"],
                             "metric": ["ehcp_total", "ehcp_total", "new_ehcps_calendar_year", "new_ehcps_calendar_year", "spend_total", "spend_total"],
                             "value": 1.0, "source": "test", "year": ["2017", "2018", "2017", "2018", "2016-17", "2017-18"],
                             "kind": ["census", "census", "calendar_year", "calendar_year", "financial_year", "financial_year"]})
    known = observed_at(observed, 2018)
    assert known[["metric", "year"]].values.tolist() == [["ehcp_total", "2017"], ["ehcp_total", "2018"], ["new_ehcps_calendar_year", "2017"], ["spend_total", "2016-17"]]


@pytest.fixture(scope="module")
def synthetic():
    """21 replications of a small config to March 2020: each in turn is an authority's published
    series, the other 20 the model's forecast of it."""
    config = validate(scaled_data(0.1, "2020-03-31"), "small config to 2020")
    annual = combine(run_tasks([("synthetic", config, r) for r in range(21)], 20190101, workers=1)).rename(columns={"replication": "member"})
    years = {s: list(range(2015, 2020)) for s in SERIES}
    return model_ensembles(annual, years, 2017)


@pytest.fixture(scope="module")
def synthetic_scores(synthetic):
    """Scores of the model (the other 20 replications), the model biased up by 25% and the naive
    forecasters fitted to the synthetic authority's own history, origin 2017."""
    origin, series = 2017, ["ehcp_total", "ehcp_mainstream", "ehcp_special", "ehcp_age_5_10", "ehcp_age_11_15", "new_ehcps_calendar_year", "assessment_requests_calendar_year"]
    ensembles = synthetic[synthetic["series"].isin(series)]
    later_year = ensembles["year"] > ensembles["series"].map(lambda s: origin - 1 if s in ACTIVITY_SERIES else origin)
    frames = []
    for k in range(21):
        own = ensembles["member"] == k
        training = ensembles[own & ~later_year][["series", "year", "value"]]
        later = ensembles[own & later_year][["series", "year", "value"]].rename(columns={"value": "observed"})
        model = ensembles[~own & later_year]
        years = {s: sorted(later.loc[later["series"] == s, "year"]) for s in series}
        naive, _ = naive_ensembles(training, years, origin, 200, [k])
        forecasts = pd.concat([model, model.assign(forecaster="biased", value=model["value"] * 1.25), naive])
        frames.append(score_ensembles(forecasts, later, ["series", "year", "horizon", "forecaster"], scales(training), seed=k).assign(all="all"))
    return pd.concat(frames, ignore_index=True)


def test_a_synthetic_authority_scores_near_nominal_coverage_and_a_biased_model_worse_than_naive(synthetic_scores):
    scored = synthetic_scores
    model = scored[scored["forecaster"] == "hnsim"]
    assert len(model) == 21 * (5 * 2 + 2 * 3)  # five census series in 2018-2019, two activity series in 2017-2019
    assert model["inside_90"].mean() == pytest.approx(0.90, abs=0.06)
    assert model["inside_50"].mean() == pytest.approx(0.50, abs=0.10)
    assert model["pit"].mean() == pytest.approx(0.5, abs=0.06)
    honest = summary_table(scored[scored["forecaster"] != "biased"], ["all"]).set_index("forecaster")
    assert honest.loc["hnsim", "crps_skill"] > 0  # the model that made the data beats the naive forecasters on it
    biased = summary_table(scored[scored["forecaster"] != "hnsim"], ["all"], model="biased").set_index("forecaster")
    assert biased.loc["biased", "mean_crps"] > biased.drop(index="biased")["mean_crps"].max()  # worse than every naive forecaster
    assert biased.loc["biased", "crps_skill"] < 0 and biased.loc["biased", "coverage_90"] < 0.5


def _skill(out: Path, las: list[str], workers: int, extra: list[str] | None = None):
    args = ["skill", "--data", str(FIXTURE), "--origins", "2018", "--out", str(out), "--workers", str(workers), *TINY, *(extra or [])]
    for la in las:
        args += ["--la", la]
    return CliRunner().invoke(main, args)


def test_a_resumed_skill_run_equals_an_uninterrupted_one(tmp_path):
    # uninterrupted: one local process; resumed: two local processes, then the rest on a local Dask cluster
    distributed = importlib.util.find_spec("distributed") is not None
    whole = _skill(tmp_path / "whole", ["Rutland", "City of London"], 1)
    assert whole.exit_code == 0, whole.output
    assert "horizon 1: hnsim mean APE" in whole.output
    first = _skill(tmp_path / "resumed", ["Rutland"], 2, ["--no-figures"])
    assert first.exit_code == 0, first.output
    stamp = (tmp_path / "resumed" / "tasks" / "857-rutland-2018.parquet").stat().st_mtime_ns
    second = _skill(tmp_path / "resumed", ["Rutland", "City of London"], 1, ["--no-figures", *(["--local-dask"] if distributed else [])])
    assert second.exit_code == 0, second.output
    assert (tmp_path / "resumed" / "tasks" / "857-rutland-2018.parquet").stat().st_mtime_ns == stamp  # not recomputed
    manifest = json.loads((tmp_path / "resumed" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["sessions"] == 2 and manifest["tasks_done"] == 2
    a, b = pd.read_parquet(tmp_path / "whole" / "skill.parquet"), pd.read_parquet(tmp_path / "resumed" / "skill.parquet")
    pd.testing.assert_frame_equal(a, b)
    for name in ("skill_summary.csv",):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "resumed" / name).read_bytes()
    assert set(a["forecaster"]) == {"hnsim", "last_value", "linear_trend", "compound_growth", "damped_trend"}
    assert set(a["authority"]) == {"Rutland", "City of London"} and (a["origin"] == 2018).all()
    assert a["observed"].eq(0).any() and a.loc[a["observed"].eq(0), "abs_pct_error"].isna().all()  # published zeros: scored, with no percentage
    assert a.loc[a["forecaster"] == "hnsim", "members"].eq(2 * DRAWS_PER_MEMBER).all() and a.loc[a["forecaster"] != "hnsim", "members"].eq(50).all()
    assert {"error_by_horizon.png", "coverage.svg", "pit_histogram.csv", "origin_fans.png", "figures.md"} <= {p.name for p in (tmp_path / "whole" / "figures").iterdir()}
    other = _skill(tmp_path / "whole", ["Rutland"], 1, ["--naive-draws", "60", "--no-figures"])
    assert other.exit_code == 2 and "another design" in other.output


def test_bad_origins_are_refused(tmp_path):
    for origins, message in (("2014", "origin 2014: must be between 2015 and 2018"), ("20x6", "--origins '20x6'")):
        result = CliRunner().invoke(main, ["skill", "--data", str(FIXTURE), "--la", "Rutland", "--origins", origins, "--out", str(tmp_path / origins), "--quiet"])
        assert result.exit_code == 2 and message in result.output, result.output
    unknown = CliRunner().invoke(main, ["skill", "--data", str(FIXTURE), "--la", "Atlantis", "--out", str(tmp_path / "x"), "--quiet"])
    assert unknown.exit_code == 2 and "Atlantis" in unknown.output


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"DfE SEN2 files not found at {SHARED}")
def test_the_quick_sample_follows_its_rule():
    from hnsim.analysis.skill import quick_sample
    from hnsim.experiment.national import census_caseloads, national_authorities
    from hnsim.experiment.skill import QUICK_SAMPLE

    sizes = census_caseloads(SHARED)
    table = pd.DataFrame([{"old_la_code": a.old_la_code, "region_name": a.region_name, "plans": sizes[a.old_la_code]} for a in national_authorities(SHARED)])
    assert tuple(quick_sample(table)) == QUICK_SAMPLE
    chosen = table.set_index("old_la_code").loc[list(QUICK_SAMPLE)]
    assert chosen["region_name"].nunique() == 9 and chosen["plans"].min() < 700 < 5000 < chosen["plans"].max()



def starter_as_it_is(task: SkillTask) -> Calibration:
    """A calibration step that fits nothing: the task's starter config, twice, 2 replications each."""
    return Calibration([task.config, task.config], replications=2, info={"method": "starter as it is"})


def test_the_calibration_step_is_replaceable(tmp_path):
    design = api.SkillDesign(FIXTURE, origins=(2018,), replications=2, naive_draws=50)
    result = api.skill(design, tmp_path / "starter", ["Rutland"], workers=1, calibrate=starter_as_it_is, figures=False)
    assert result.manifest["calibrate"] == f"{__name__}.starter_as_it_is" and result.manifest["status"] == "complete"
    model = result.scored[result.scored["forecaster"] == "hnsim"]
    assert len(model) and model["members"].eq(4 * DRAWS_PER_MEMBER).all()  # two configs x two replications, each forecast with its discrepancy
    assert result.tasks["objective"].isna().all()  # nothing was fitted
    # the same config twice with the same seed: the second set's replications repeat the first's
    outcome = read_outcome(tmp_path / "starter" / "tasks" / "857-rutland-2018.parquet")
    simulated = pd.DataFrame(outcome.info["simulated"])
    model_draws = simulated.pivot_table(index=["series", "year"], columns="member", values="value")
    assert (model_draws[0] == model_draws[2]).all() and (model_draws[1] == model_draws[3]).all()
    assert simulated["horizon"].min() < 0 and (simulated["horizon"] == 0).any()  # the fitted years (the growth error) and the last year known (the anchor)
    refused = CliRunner().invoke(main, ["skill", "--data", str(FIXTURE), "--la", "Rutland", "--origins", "2018", "--out", str(tmp_path / "starter"), *TINY])
    assert refused.exit_code == 2 and "another design" in refused.output  # another calibration step: another design
