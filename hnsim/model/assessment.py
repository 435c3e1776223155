"""The EHC needs assessment: request, decision, refusal and appeal, a finite team, plan or not.

Each step of a request is a timed call on the simulation clock (:class:`~hnsim.model.world.Call`):
the decision (where the refusal rate of the day applies), a tribunal's decision and the final
plan; between them a caseworker is granted, at once or from the team's queue, and held to the end
of the assessment (:meth:`~hnsim.model.places.AssessmentTeam.hold`). A request is a chain of such
steps rather than a process because it holds nothing between them. A child refused or assessed without a plan goes
back to the no-plan stage in plain Python and, if it asks again, its next request is scheduled.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import numpy as np

from hnsim.model import records as R
from hnsim.model.no_plan import NoPlanStage
from hnsim.model.parameters import AssessmentRules
from hnsim.model.placement import PlacementStage
from hnsim.model.speculation import Foresight
from hnsim.model.streams import uniforms
from hnsim.model.world import World


class AssessmentStage:
    """Requests for assessment, from the request until a plan is placed or the child leaves."""

    def __init__(self, world: World, rules: AssessmentRules, no_plan: NoPlanStage, placement: PlacementStage, with_plan: Callable[[R.Child], None]):
        self.world = world
        self.rules = rules
        self.no_plan = no_plan
        self.placement = placement
        self.levers = world.levers
        self.with_plan = with_plan  # starts a placed plan holder's journey at once (the final plan's step ends with it)
        self.foresight: Foresight | None = None  # plans foreseen at the start (see hnsim.model.speculation)
        self.resume: Callable[[R.Child, int], None] | None = None  # continues a child from its foreseen journey
        self.from_fe: set[int] = set()  # ids of young people whose request came from further education

    def request_from_fe(self, child: R.Child) -> None:
        """A request from a young person in further education without a plan (no spell of its own until a plan is made)."""
        self.from_fe.add(child.id)
        self.world.log.event(child.request_day, R.EV_POST16_REQUEST, child.id)
        self.request(child)

    def _at(self, day: float, step: Callable[[R.Child], None], child: R.Child) -> None:
        env = self.world.env
        env.call_in(day - env.now, step, child)

    def request(self, child: R.Child) -> None:
        """A request on ``child.request_day`` (now or later; the child's no-plan spell open): its decision is scheduled."""
        self.world.log.event(child.request_day, R.EV_REQUEST, child.id)
        if self.world.council is not None:  # the council's running count of requests
            self.world.council.requested(child.request_day)
        self._at(child.request_day + self.rules.decision_days(child.draws.uniform()), self._decide, child)

    def requests_at_start(self, children: list[R.Child], keys: np.ndarray, counters: np.ndarray) -> None:
        """:meth:`request` for each of ``children`` in turn, before the run (``keys`` and ``counters``:
        their random numbers' keys and draws used): the same log rows, draws and events, with the
        rows and the draws made for the batch at once."""
        world = self.world
        days = [child.request_day for child in children]
        world.log.event_rows(days, R.EV_REQUEST, [child.id for child in children])
        if world.council is not None:
            for day in days:
                world.council.requested(day)
        decision_days, decide = self.rules.decision_days, self._decide
        for child, u in zip(children, uniforms(keys, np.asarray(counters) + 1).tolist()):
            child.draws.n += 1
            self._at(child.request_day + decision_days(u), decide, child)

    def _decide(self, child: R.Child) -> None:
        world, rules, levers, draws = self.world, self.rules, self.levers, child.draws
        now = world.env.now
        refusal = rules.refusal_by_fy[world.timeline.fy_index(now)] + (levers.refusal(now) if levers.refusal else 0.0)
        if world.council is not None:  # gatekeeping under pressure
            refusal = world.council.refusal(refusal)
        if draws.uniform() >= refusal:
            self._join_queue(child)
            return
        world.log.event(now, R.EV_REFUSED, child.id)
        if draws.uniform() < rules.appeal + (levers.appeal(now) if levers.appeal else 0.0):
            world.log.event(now, R.EV_APPEAL, child.id)
            self._at(now + rules.tribunal_days(draws.uniform()), self._tribunal, child)
        else:
            self._without_plan(child)

    def _tribunal(self, child: R.Child) -> None:
        if child.draws.uniform() >= self.rules.tribunal_for_parents:
            self._without_plan(child)
            return
        self.world.log.event(self.world.env.now, R.EV_TRIBUNAL_FOR_PARENTS, child.id)
        self._join_queue(child)

    def _join_queue(self, child: R.Child) -> None:
        queued = self.world.env.now
        grant = self.world.team.request()
        if grant is None:
            self._assess(child, queued, None)
        else:
            grant.callbacks.append(partial(self._assess, child, queued))

    def _assess(self, child: R.Child, queued: float, _event: object) -> None:
        world, rules, draws = self.world, self.rules, child.draws
        now = world.env.now
        world.log.event(now, R.EV_ASSESSMENT_START, child.id, now - queued)
        assessment = rules.assessment_days(draws.uniform())
        drafting = rules.drafting_days(draws.uniform())
        world.team.hold(now + assessment)
        self._at(now + assessment + drafting, self._final_plan, child)

    def _final_plan(self, child: R.Child) -> None:
        world, levers = self.world, self.levers
        now = world.env.now
        if child.draws.uniform() >= self.rules.plan + (levers.plan_probability(now) if levers.plan_probability else 0.0):
            world.log.event(now, R.EV_ASSESSED_NO_PLAN, child.id)
            self._without_plan(child)
            return
        world.split_at_transfers(child, now)
        world.log.event(now, R.EV_NEW_EHCP, child.id, now - child.request_day)
        child.day = now
        foreseen = self.foresight.lookup(child.id, now, child.draws.n) if self.foresight is not None else None
        if foreseen is not None:
            world.log.spell(child.id, child.state, child.phase, child.spell_start, now)  # the no-plan spell ends
            self.resume(child, foreseen)
            return
        if child.id in self.from_fe:
            self.from_fe.discard(child.id)
            self.placement.place_fe_request(child)
        else:
            self.placement.place_new_plan(child)
        self.with_plan(child)

    def _without_plan(self, child: R.Child) -> None:
        """Back without a plan: to the no-plan stage, and perhaps a later request."""
        world = self.world
        now = world.env.now
        world.split_at_transfers(child, now)
        self.from_fe.discard(child.id)
        if child.phase >= R.PHASE_POST16:  # a young person without a plan leaves the model
            world.leave(child, R.EV_NO_PLAN_EXIT, now)
            return
        request_day = self.no_plan.fast_forward_one(child, now)
        if request_day is None:
            del world.alive[child.id]  # left, or still without a plan at the horizon: spells all logged
            return
        child.request_day = request_day
        self.request(child)
