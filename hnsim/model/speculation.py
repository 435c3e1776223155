"""Plans foreseen: the journeys of children whose requests are known at the start, computed ahead
in numpy and used only if the simulation bears them out.

The no-plan stage hands over, at the start, most of the requests of the whole horizon. For each,
:func:`foresee` makes in numpy the draws :class:`~hnsim.model.assessment.AssessmentStage` will make
(decision, refusal, appeal, tribunal, assessment and drafting times, plan or not), assuming a
caseworker is free at once and the refusal rates are the config's; then, for a plan naming a
setting other than a special school, the placement and the journey that follows
(:class:`~hnsim.model.plan_batch.PlanBatch`) up to the first time the child would take a place.

Nothing foreseen is used until the child's final plan is issued in the simulation. There the
assessment stage checks that the plan came on the foreseen day with the foreseen number of draws
used (so: no wait for a caseworker, the same decisions); if so the foreseen journey is kept (its
spells and events are written at the end) and the child continues on the simulation clock from
where the journey stopped; if not, the child is placed and followed on the clock as usual.
``tests/test_speculation.py`` checks that a run with foresight equals a run without.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hnsim.config.schema import SETTINGS
from hnsim.model import records as R
from hnsim.model.distributions import sampler_many
from hnsim.model.levers import LeverPlan
from hnsim.model.no_plan import phases_of
from hnsim.model.parameters import Parameters
from hnsim.model.plan_batch import Outcome, PlanBatch, PlanHolders, Rows
from hnsim.model.streams import uniforms
from hnsim.model.world import World

#: Days by which a plan may differ from its foreseen day and still be the same plan (rounding only).
SAME_DAY = 1e-7
_DRAWS = 10  # at most this many draws from the request to the placement


@dataclass
class Foresight:
    """Foreseen final plans, by child id: the day, the draws used by then, and the journey after."""

    index: dict[int, int]  # child id -> position
    plan_day: np.ndarray
    counter: np.ndarray  # draws used once the plan is issued (before the placement)
    rows: Rows
    outcome: Outcome
    used: np.ndarray  # set when the simulation bears a foreseen plan out

    def lookup(self, child_id: int, day: float, counter: int) -> int | None:
        """The position of the child's foreseen plan if it matches the plan issued on ``day`` after ``counter`` draws."""
        i = self.index.get(child_id)
        if i is None or counter != self.counter[i] or abs(day - self.plan_day[i]) > SAME_DAY:
            return None
        return i

    def commit(self, log: R.EventLog) -> None:
        """Write the spells and events of the journeys the simulation bore out."""
        self.rows.commit(log, self.used)


def foresee(world: World, params: Parameters, batch: PlanBatch, ids: np.ndarray, keys: np.ndarray, cohorts: np.ndarray, births: np.ndarray,
            needs: np.ndarray, request_days: np.ndarray, counters: np.ndarray) -> Foresight:
    """Foresee the plans of requests made on ``request_days`` by children whose draws so far are ``counters``."""
    rules, levers, timeline = params.assessment, world.levers, world.timeline
    config = params.config.assessment
    u = uniforms(keys[:, None], counters[:, None] + np.arange(1, _DRAWS + 1))
    # the decision, and the steps of AssessmentStage in the same arithmetic (each event time is now + (day - now))
    decision = request_days + sampler_many(config.decision_days)(u[:, 0])
    refusal = np.array(rules.refusal_by_fy)[_fy_index(timeline, decision)] + _shift(levers.refusal, decision)
    refused = u[:, 1] < refusal
    appeal = refused & (u[:, 2] < rules.appeal + _shift(levers.appeal, decision))
    tribunal = decision + ((decision + sampler_many(config.tribunal_days)(u[:, 3])) - decision)
    won = appeal & (u[:, 4] < rules.tribunal_for_parents)
    joins = ~refused | won
    join_day = np.where(refused, tribunal, decision)
    k = np.where(refused, 5, 2)  # draws used at the join
    pick = np.arange(len(ids))
    assessment = sampler_many(config.assessment_days)(u[pick, k])
    drafting = sampler_many(config.drafting_days)(u[pick, k + 1])
    plan_day = join_day + ((join_day + assessment + drafting) - join_day)
    planned = joins & (u[pick, k + 2] < rules.plan + _shift(levers.plan_probability, plan_day))
    counter = counters + k + 3
    # the placement: a first setting other than special, then the journey
    chosen = np.flatnonzero(planned & (plan_day < world.horizon))
    day = plan_day[chosen]
    phase = phases_of(timeline, cohorts[chosen], day)
    need = needs[chosen]
    known = batch.has_first_setting[phase, need]
    u_place = u[chosen, k[chosen] + 3]
    setting = np.where(known, batch._choose(batch.first_settings(day, phase, need), u_place), SETTINGS.index("mainstream"))
    used = known.astype(np.int64)
    keep = setting != SETTINGS.index("special")
    chosen, day, phase, need, setting, used = chosen[keep], day[keep], phase[keep], need[keep], setting[keep], used[keep]
    states = np.array([R.SETTING_STATE[s] for s in SETTINGS])[setting]
    rows = Rows.empty()
    independent = np.flatnonzero(setting == SETTINGS.index("independent"))
    if len(independent):
        who = chosen[independent]
        share = levers.bespoke_share.many(day[independent]) if levers.bespoke_share else np.zeros(len(who))
        drawn = share > 0.0
        bespoke = drawn & (uniforms(keys[who], counter[who] + used[independent] + 1) < share)
        used[independent] += drawn
        states[independent[bespoke]] = R.EHCP_BESPOKE
        placed = independent[~bespoke]
        rows.event(placed, day[placed], R.EV_INDEPENDENT_PLACEMENT, ids[chosen[placed]])
    holders = PlanHolders(ids[chosen], keys[chosen], cohorts[chosen], births[chosen], need, states, phase, day, day, counter[chosen] + used)
    outcome = batch.run(holders, rows)
    return Foresight({int(i): j for j, i in enumerate(ids[chosen].tolist())}, plan_day[chosen], counter[chosen], rows, outcome, np.zeros(len(chosen), dtype=bool))


def _fy_index(timeline, days: np.ndarray) -> np.ndarray:
    starts = np.array(timeline.fy_starts)
    return np.clip(np.searchsorted(starts, days, side="right") - 1, 0, len(starts) - 1)


def _shift(shift, days: np.ndarray) -> np.ndarray:
    return shift.many(days) if shift else np.zeros(len(days))


__all__ = ["Foresight", "LeverPlan", "foresee"]
