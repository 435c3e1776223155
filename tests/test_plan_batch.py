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
    for got, expected in zip(by_child(a), by_child(b)):
        assert got.keys() == expected.keys()
        for child, rows in expected.items():
            assert [r[:2] for r in got[child]] == [r[:2] for r in rows], child  # states and phases, or codes and days
            assert np.allclose([r[2:] for r in got[child]], [r[2:] for r in rows], rtol=0, atol=1e-6), child


def levers_on(data: dict) -> dict:
    """Every lever that changes plan holders' journeys, from 2016, so the batches meet them."""
    data = copy.deepcopy(data)
    for name in ("bespoke_packages", "post16_strategy", "special_school_outreach", "restorative_practice", "ehcp_rigour"):
        data["levers"][name].update({"enabled": True, "start_date": "2016-04-01"})
    return data


@pytest.mark.parametrize("variant", ["baseline", "levers", "small_pools"])
def test_batches_follow_the_clock_child_by_child(variant):
    data = scaled_data(scale=0.2, end_date="2030-03-31")
    if variant == "levers":
        data = levers_on(data)
    if variant == "small_pools":  # special schools full: waits, independent placements, returns
        data["capacity"]["places"]["value"] = {k: max(v // 3, 1) for k, v in data["capacity"]["places"]["value"].items()}
    config = validate(data, "batch test config")
    params = compile_parameters(config)
    for replication in (0, 1):
        batched = PathwayModel(config, replication, 7, params)
        log = batched.run()
        assert batched.assessment.foresight.used.sum() > 100  # foreseen plans were borne out and kept
        assert_same_paths(log, PathwayModel(config, replication, 7, params, batches=False).run())
