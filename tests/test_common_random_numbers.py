"""Common random numbers child by child: what a scenario does not touch stays the same, child by child.

Children are matched by id; the same birth days, cohorts and needs in the same order show that
the ids mean the same children in both runs.
"""

from __future__ import annotations

import numpy as np

import copy
from collections import defaultdict

import pytest

from hnsim.config import validate
from hnsim.model import simulate
from hnsim.model import records as R

from conftest import scaled_data

SEED = 23
#: Events of the way in and of life without a plan, up to the assessment team's decision.
ARRIVALS = (R.EV_IDENTIFIED, R.EV_MOVED_IN, R.EV_POST16_CONVERSION)
ASSESSMENT = (R.EV_REQUEST, R.EV_REFUSED, R.EV_APPEAL, R.EV_TRIBUNAL_FOR_PARENTS, R.EV_ASSESSMENT_START, R.EV_ASSESSED_NO_PLAN, R.EV_NEW_EHCP)


@pytest.fixture(scope="module")
def base_data() -> dict:
    return scaled_data(scale=0.1, end_date="2021-03-31")


def with_lever(data: dict, name: str, **changes) -> dict:
    data = copy.deepcopy(data)
    data["levers"][name].update(enabled=True, start_date="2015-04-01", **changes)
    return data


def run(data: dict):
    return simulate(validate(data, "crn test config"), 0, SEED)


def events(log, codes) -> list[tuple]:
    return sorted((d, c, k, v) for d, c, k, v in zip(log.event_day, log.event_code, log.event_child, log.event_value) if c in codes)


def spells(log, keep=lambda state, phase: True) -> list[tuple]:
    return sorted(s for s in zip(log.spell_child, log.spell_state, log.spell_phase, log.spell_start, log.spell_end) if keep(s[1], s[2]))


def spells_by_child(log) -> dict[int, list[tuple]]:
    out = defaultdict(list)
    for child, state, phase, start, end in sorted(zip(log.spell_child, log.spell_state, log.spell_phase, log.spell_start, log.spell_end)):
        out[child].append((state, phase, start, end))
    return out


@pytest.fixture(scope="module")
def base_log(base_data):
    return run(base_data)


def same_children(a, b) -> None:
    for name in ("child_birth_day", "child_cohort", "child_need"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_a_post16_lever_leaves_everything_before_year_12_alone(base_data, base_log):
    changed = run(with_lever(base_data, "post16_strategy"))
    same_children(base_log, changed)
    assert events(changed, ARRIVALS + ASSESSMENT) == events(base_log, ARRIVALS + ASSESSMENT)
    before_post16 = lambda state, phase: phase < R.PHASE_POST16  # noqa: E731
    assert spells(changed, before_post16) == spells(base_log, before_post16)
    no_plan = lambda state, phase: state < R.EHCP_MAINSTREAM  # noqa: E731
    assert spells(changed, no_plan) == spells(base_log, no_plan)
    # and the lever did act after year 12
    assert spells(changed) != spells(base_log)


def test_a_lever_on_requests_keeps_arrivals_and_the_paths_of_children_who_never_request(base_data, base_log):
    data = copy.deepcopy(base_data)
    data["levers"]["fewer_requests"] = {
        "enabled": True,
        "description": "halves the request hazard and nothing else",
        "start_date": "2015-04-01",
        "ramp_up_years": {"value": 0, "source": "test"},
        "annual_cost_gbp": {"value": 0, "source": "test"},
        "hazard_effects": [{"hazard": "sen_support.request", "change": {"low": -0.5, "high": -0.5, "source": "test"}}],
    }
    changed = run(data)
    same_children(base_log, changed)
    assert events(changed, ARRIVALS) == events(base_log, ARRIVALS)
    requests = events(base_log, (R.EV_REQUEST,))
    assert events(changed, (R.EV_REQUEST,)) != requests and len(requests) > 100
    requested = {k for _, _, k, _ in requests} | {k for _, _, k, _ in events(changed, (R.EV_REQUEST,))}
    before, after = spells_by_child(base_log), spells_by_child(changed)
    # children with plans share special places with the children the lever keeps from a plan
    never = [child for child, path in before.items() if child not in requested and all(state < R.EHCP_MAINSTREAM for state, *_ in path)]
    assert len(never) > 1000
    assert all(before[child] == after[child] for child in never)


def first_requests(log) -> dict[int, float]:
    out: dict[int, float] = {}
    for day, code, child in zip(log.event_day, log.event_code, log.event_child):
        if code == R.EV_REQUEST:
            out.setdefault(child, day)
    return out


def test_more_assessment_capacity_leaves_arrivals_and_first_requests_alone(base_data, base_log):
    """A child's first request ends a path without a plan that no shared resource touched."""
    data = copy.deepcopy(base_data)
    data["assessment"]["team_capacity"]["value"] *= 3
    changed = run(data)
    same_children(base_log, changed)
    assert events(changed, ARRIVALS) == events(base_log, ARRIVALS)
    assert first_requests(changed) == first_requests(base_log)
    assert events(changed, (R.EV_ASSESSMENT_START,)) != events(base_log, (R.EV_ASSESSMENT_START,))
