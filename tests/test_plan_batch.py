"""Plan holders in numpy batches, and plans foreseen at the start, against the same children followed
one by one on the simulation clock: the same paths, child by child."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from hnsim.config import validate
from hnsim.model import compile_parameters
from hnsim.model import records as R
from hnsim.model.pathway import PathwayModel

from conftest import scaled_data


def by_child(log: R.EventLog) -> tuple[dict, dict]:
    spells: dict[int, list] = {}
    for row in zip(log.spell_child.tolist(), log.spell_state.tolist(), log.spell_phase.tolist(), log.spell_start.tolist(), log.spell_end.tolist()):
        spells.setdefault(row[0], []).append(row[1:])
    events: dict[int, list] = {}
    for row in zip(log.event_child.tolist(), log.event_code.tolist(), log.event_day.tolist(), log.event_value.tolist()):
        events.setdefault(row[0], []).append(row[1:])
    return {k: sorted(v) for k, v in spells.items()}, {k: sorted(v) for k, v in events.items()}


def assert_same_paths(a: R.EventLog, b: R.EventLog) -> None:
    # spells: states and phases exactly, then dates; events: codes exactly, then days and values. Days
    # to 1e-6: numpy's log and math.log may differ in the last bit, and so may an event's day
    for (got, expected), exact in zip(zip(by_child(a), by_child(b)), (2, 1)):
        assert got.keys() == expected.keys()
        for child, rows in expected.items():
            assert [r[:exact] for r in got[child]] == [r[:exact] for r in rows], child
            assert np.allclose([r[exact:] for r in got[child]], [r[exact:] for r in rows], rtol=0, atol=1e-6), child


def levers_on(data: dict) -> dict:
    """Every lever that changes plan holders' journeys, from 2016, so the batches meet them."""
    data = copy.deepcopy(data)
    for name in ("bespoke_packages", "post16_strategy", "special_school_outreach", "restorative_practice", "ehcp_rigour"):
        data["levers"][name].update({"enabled": True, "start_date": "2016-04-01"})
    return data


def trends_on(data: dict) -> dict:
    """Every trend read in plan holders' journeys, and requests from further education."""
    data = copy.deepcopy(data)
    for key in ("request_trend", "request_multiplier_by_year"):
        data["sen_support"].pop(key)
    grow = {"growth_per_year": {"value": 0.3, "source": "assumption: test"}, "from_date": "2015-04-01"}
    data["trends"] = {"data_end": "2019-12-31", "damping": {"value": 0.8, "source": "assumption: test"}, "requests": grow,
                      "leave_education": {**grow, "growth_per_year": {"value": -0.2, "source": "assumption: test"}},
                      "post19_continue": grow, "special_first_setting": grow}
    data["assessment"]["post16_requests_per_year"] = {"value": 20, "source": "assumption: test"}
    return data


@pytest.mark.parametrize("variant", ["baseline", "levers", "small_pools", "trends", "transition"])
def test_batches_follow_the_clock_child_by_child(variant):
    data = scaled_data(scale=0.2, end_date="2030-03-31", legacy=True)
    if variant == "levers":
        data = levers_on(data)
    if variant == "trends":
        data = trends_on(data)
    if variant == "transition":  # statements ending on leaving school, year by year
        data["placement"]["transfer"]["leaving_school_ehcp_share_by_year"] = {"value": {"2014-15": 0.1, "2015-16": 0.5, "2016-17": 0.8}, "source": "assumption: test"}
        data["placement"]["transfer"].pop("post16_cease_probability_by_year", None)
    if variant == "small_pools":  # special schools full: waits, independent placements, returns
        data["capacity"]["places"]["value"] = {k: max(v // 3, 1) for k, v in data["capacity"]["places"]["value"].items()}
    config = validate(data, "batch test config")
    params = compile_parameters(config)
    for replication in (0, 1):
        batched = PathwayModel(config, replication, 7, params)
        log = batched.run()
        assert batched.assessment.foresight.used.sum() > 100  # foreseen plans were borne out and kept
        assert_same_paths(log, PathwayModel(config, replication, 7, params, batches=False).run())
