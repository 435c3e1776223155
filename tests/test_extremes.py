"""Extremes: zero and huge capacities, probabilities 0 and 1. Each has an answer known without the model."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from hnsim.config import validate
from hnsim.model import annual_metrics, compile_parameters, simulate
from hnsim.model import records as R

from conftest import scaled_data

POOLS = ("special_primary", "special_secondary", "special_post16", "semh_secondary")
SPECIAL = (R.EHCP_SPECIAL, R.EHCP_SEMH_SPECIAL)


def data_with(**places) -> dict:
    data = scaled_data(scale=0.1, end_date="2018-03-31")
    if places:
        data["capacity"]["places"]["value"] = {pool: places.get(pool, 0) for pool in POOLS}
        data["capacity"]["expansions"] = []
    return data


def in_special_only_from_the_start(log) -> bool:
    """Every child ever in a special school was there at the start (and kept its place)."""
    special = np.isin(log.spell_state, SPECIAL)
    on_roll = set(log.spell_child[special & (log.spell_start == 0.0)].tolist())
    return set(log.spell_child[special].tolist()) <= on_roll


def run(data: dict):
    config = validate(data, "extreme test config")
    params = compile_parameters(config)
    log = simulate(config, 0, 31, params)
    return log, annual_metrics(log, params), Counter(log.event_code)


def test_no_special_places_and_all_go_independent():
    data = data_with(**dict.fromkeys(POOLS, 0))
    data["placement"]["when_special_full"] = {"independent_probability": {"value": 1.0, "source": "test"}}
    log, metrics, counts = run(data)
    # pupils on roll at the start keep their places; nobody is admitted after it
    assert in_special_only_from_the_start(log)
    assert R.EHCP_MAINSTREAM_WAITING not in log.spell_state
    assert counts[R.EV_INDEPENDENT_PLACEMENT] > 50 and counts[R.EV_SPECIAL_PLACE_WAIT_END] == 0
    assert (metrics["special_places"] == 0).all() and (metrics["spend_special_place_funding"] == 0).all()
    assert (np.diff(metrics["ehcp_special"]) <= 0).all()


def test_no_special_places_and_none_go_independent_means_waiting():
    data = data_with(**dict.fromkeys(POOLS, 0))
    data["placement"]["when_special_full"] = {"independent_probability": {"value": 0.0, "source": "test"}}
    log, metrics, _ = run(data)
    assert in_special_only_from_the_start(log)
    assert (metrics["waiting_for_special_place"][1:] > 10).all()
    # with no longest wait, a wait ends only when the child leaves or moves up a phase, never in an independent school
    order = sorted(zip(log.spell_child, log.spell_start, log.spell_state))
    after_wait = [b[2] for a, b in zip(order, order[1:]) if a[0] == b[0] and a[2] == R.EHCP_MAINSTREAM_WAITING]
    assert after_wait and R.EHCP_INDEPENDENT not in after_wait and not set(after_wait) & set(SPECIAL)


def test_unlimited_special_places_mean_nobody_waits_or_goes_independent_for_want_of_one():
    data = data_with(**dict.fromkeys(POOLS, 1_000_000))
    data["placement"]["when_special_full"] = {"independent_probability": {"value": 0.0, "source": "test"}}
    for table in (data["placement"]["first_setting_shares"]["value"], data["initial_population"]["ehcp_setting_shares"]["value"]):
        for row in table.values():
            row["mainstream"] = row.get("mainstream", 0.0) + row.pop("independent", 0.0)
    log, metrics, counts = run(data)
    assert R.EHCP_MAINSTREAM_WAITING not in log.spell_state and counts[R.EV_SPECIAL_PLACE_WAIT_END] == 0
    assert counts[R.EV_INDEPENDENT_PLACEMENT] == 0 and R.EHCP_INDEPENDENT not in log.spell_state
    assert (metrics["ehcp_special"] > 50).all()


def assessment(**values) -> dict:
    data = data_with()
    a = data["assessment"]
    a.pop("refusal_probability_by_year", None)
    for key, value in values.items():
        a[key] = {"value": value, "source": "test"}
    return data


def test_an_unlimited_team_means_no_wait_for_a_caseworker():
    log, metrics, _ = run(assessment(team_capacity=100_000))
    waits = np.asarray(log.event_value)[np.asarray(log.event_code) == R.EV_ASSESSMENT_START]
    assert len(waits) > 100 and (waits == 0).all()
    assert np.nanmax(metrics["mean_weeks_waiting_for_assessment"]) == 0


def test_a_team_of_one_assesses_one_child_at_a_time():
    data = assessment(team_capacity=1)
    data["assessment"]["assessment_days"] = {"dist": "fixed", "value": 30, "source": "test"}
    log, _, _ = run(data)
    starts = np.sort(np.asarray(log.event_day)[np.asarray(log.event_code) == R.EV_ASSESSMENT_START])
    gaps = np.diff(starts)
    assert len(starts) > 20 and (gaps >= 30 - 1e-9).all()
    # requests outrun one caseworker, so each assessment starts the moment the last one ends
    assert np.isclose(gaps, 30).mean() > 0.9


@pytest.mark.parametrize("plan_probability", [0.0, 1.0])
def test_every_assessment_ends_in_a_plan_or_none(plan_probability):
    log, _, counts = run(assessment(refusal_probability=0.0, plan_probability=plan_probability))
    assert counts[R.EV_REFUSED] == 0 and counts[R.EV_ASSESSMENT_START] > 100
    decided = counts[R.EV_NEW_EHCP] + counts[R.EV_ASSESSED_NO_PLAN]
    # every assessment started ends in one or the other, but for those still running at the horizon
    assert counts[R.EV_ASSESSMENT_START] - 60 <= decided <= counts[R.EV_ASSESSMENT_START]
    assert (counts[R.EV_NEW_EHCP] == 0) == (plan_probability == 0.0)
    assert (counts[R.EV_ASSESSED_NO_PLAN] == 0) == (plan_probability == 1.0)


def test_refused_and_never_appealed_means_no_assessment():
    log, metrics, counts = run(assessment(refusal_probability=1.0, appeal_probability=0.0))
    assert counts[R.EV_ASSESSMENT_START] == counts[R.EV_APPEAL] == counts[R.EV_NEW_EHCP] == 0
    assert counts[R.EV_REQUEST] - 60 <= counts[R.EV_REFUSED] <= counts[R.EV_REQUEST]
    assert counts[R.EV_REFUSED] > 100 and (metrics["new_ehcps"] == 0).all()


def test_refused_always_appealed_and_always_won_means_every_assessment_goes_through_tribunal():
    _, _, counts = run(assessment(refusal_probability=1.0, appeal_probability=1.0, tribunal_finds_for_parents=1.0))
    assert counts[R.EV_REFUSED] == counts[R.EV_APPEAL] > 100
    assert counts[R.EV_APPEAL] - 60 <= counts[R.EV_TRIBUNAL_FOR_PARENTS] <= counts[R.EV_APPEAL]
    assert counts[R.EV_TRIBUNAL_FOR_PARENTS] - 60 <= counts[R.EV_ASSESSMENT_START] <= counts[R.EV_TRIBUNAL_FOR_PARENTS]


def test_a_rare_path_to_alternative_provision_past_19_is_costed():
    """Replication 151 of the shipped baseline has a young person without a plan still
    in AP at 19; every per-phase cost table must cover the phases the model places children in."""
    from hnsim.config.load import load_config
    from hnsim.experiment.runner import run_replication

    from conftest import ROOT

    config = load_config(ROOT / "configs" / "gloucestershire.yaml")
    table = run_replication(config, 151, config.simulation.seed).table
    assert (table.loc[table["metric"] == "spend_total", "value"] > 0).all()
