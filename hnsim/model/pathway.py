"""The graduated pathway: one replication, assembled from its stages.

A child's journey is a chain of stages: no plan (early intervention, SEN support, AP, EHE), EHC
needs assessment, placement, life with a plan. Each stage is an object that receives the
replication's :class:`~hnsim.model.world.World` (clock, log, resources, children) and its group of
the compiled :class:`~hnsim.model.parameters.Parameters`. Nothing ticks: a child meets the
simulation clock only when it touches something shared (a decision, the assessment team, a special
place). What touches nothing shared runs in numpy for whole batches: the no-plan stage, the plan
holders on roll at the start, and the plans foreseen for the requests known at the start
(:mod:`hnsim.model.speculation`); a request is a chain of events; other plan holders run ahead of
the clock between places. The model writes spells and flow events to an
:class:`~hnsim.model.records.EventLog`; stocks, flows and money are derived from the log afterwards.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np

from hnsim.config.schema import Config
from hnsim.model import records as R
from hnsim.model.arrivals import Arrivals
from hnsim.model.assessment import AssessmentStage
from hnsim.model.council import Council
from hnsim.model.levers import allocation_transfers_by_year, compile_levers
from hnsim.model.no_plan import Entrants, NoPlanStage
from hnsim.model.parameters import Parameters, compile_parameters
from hnsim.model.placement import PlacementStage
from hnsim.model.plan_batch import Outcome, PlanBatch, PlanHolders, Rows
from hnsim.model.plans import PlanStage
from hnsim.model.speculation import foresee
from hnsim.model.world import World


class PathwayModel:
    """One replication of the pathway for one config."""

    def __init__(self, config: Config, replication: int = 0, seed: int | None = None, params: Parameters | None = None, batches: bool = True):
        self.params = params if params is not None else compile_parameters(config)
        self.seed = config.simulation.seed if seed is None else seed
        self.replication = replication
        levers = compile_levers(config, self.params.calendar, self.seed, replication)
        self.world = World(self.params, levers, self.seed, replication)
        self.world.log.allocation_transfers = list(allocation_transfers_by_year(levers, self.params.calendar))
        p = self.params
        if p.status_quo is not None:
            self.world.council = Council(self.world, p.status_quo, p.assessment.team_capacity)
        self.no_plan = NoPlanStage(self.world, p.no_plan)
        self.placement = PlacementStage(self.world, p.placement, p.plan)
        self.plans = PlanStage(self.world, p.placement, p.plan, self.placement)
        self.assessment = AssessmentStage(self.world, p.assessment, self.no_plan, self.placement, self.start_with_plan_now)
        self.arrivals = Arrivals(self.world, p.arrivals, self.placement)
        # batches=False follows every plan holder on the simulation clock (the reference the batches are tested against)
        self.batches = PlanBatch(self.plans, p.placement) if batches else None
        self.assessment.resume = self.resume

    @property
    def log(self) -> R.EventLog:
        return self.world.log

    def start_with_plan(self, child: R.Child) -> None:
        """Start a placed plan holder's journey once the current step of the simulation is over."""
        self.world.start(self.plans.life(child))

    def start_with_plan_now(self, child: R.Child) -> None:
        """Start a placed plan holder's journey at once: for a caller whose step of the simulation ends here."""
        self.world.start_now(self.plans.life(child))

    def enter_without_plan(self, entrants: Entrants) -> None:
        """Fast-forward a batch through the no-plan stage; schedule each request's decision and,
        with batches, foresee the plans that follow."""
        world = self.world
        requests = self.no_plan.fast_forward(entrants)
        who = entrants.subset(requests.index)
        if self.batches is not None and len(who):
            self.assessment.foresight = foresee(world, self.params, self.batches, who.ids, who.keys, who.cohorts, who.births, who.needs,
                                                requests.days, requests.counters)
        records = zip(who.ids.tolist(), who.keys.tolist(), who.cohorts.tolist(), who.births.tolist(), who.needs.tolist(),
                      requests.states.tolist(), requests.phases.tolist(), requests.starts.tolist(), requests.days.tolist(), requests.counters.tolist())
        children = []
        for child_id, key, cohort, birth, need, state, phase, start, day, counter in records:
            child = R.Child(child_id, key, cohort, birth, need)
            child.state, child.phase, child.spell_start, child.request_day = state, phase, start, day
            child.day, child.draws.n = day, counter
            world.alive[child_id] = child
            children.append(child)
        self.assessment.requests_at_start(children, who.keys, requests.counters)

    def start_on_roll(self, children: list[R.Child]) -> None:
        """Plan holders on roll at the start: in numpy up to the first place they touch, then on the clock."""
        if self.batches is None:
            for child in children:
                self.start_with_plan(child)
            return
        columns = list(zip(*[(c.id, c.cohort, c.birth_day, c.need, c.state, c.phase, c.spell_start, c.day, c.draws.n) for c in children]))
        keys = np.array([c.draws.key for c in children], dtype=np.uint64)  # 64-bit keys: never through float
        ids, cohorts, births, needs, states, phases, starts, days, counters = (np.array(c) for c in columns)
        holders = PlanHolders(ids, keys, cohorts, births, needs, states, phases, starts, days, counters)
        rows = Rows.empty()
        outcome = self.batches.run(holders, rows)
        rows.commit(self.world.log)
        for i, child in enumerate(children):
            self._continue(child, outcome, i, self.start_with_plan)

    def resume(self, child: R.Child, foreseen: int) -> None:
        """A child whose final plan came as foreseen: keep the foreseen journey, continue from where it
        stopped (at once: the final plan's step ends here)."""
        foresight = self.assessment.foresight
        foresight.used[foreseen] = True
        self._continue(child, foresight.outcome, foreseen, self.start_with_plan_now)

    def _continue(self, child: R.Child, outcome: Outcome, i: int, start: Callable[[R.Child], None]) -> None:
        if not outcome.stopped[i]:  # left, or still there at the horizon: every spell is written
            del self.world.alive[child.id]
            return
        child.state, child.phase, child.spell_start = int(outcome.states[i]), int(outcome.phases[i]), float(outcome.starts[i])
        child.day, child.draws.n = float(outcome.days[i]), int(outcome.counters[i])
        start(child)

    def run(self) -> R.EventLog:
        """Simulate from the start date to the horizon; return the log with every spell closed."""
        with cyclic_gc_paused():
            return self._run()

    def _run(self) -> R.EventLog:
        world, arrivals = self.world, self.arrivals
        on_roll: list[R.Child] = []
        without_plan = [arrivals.initial_population(on_roll.append), arrivals.identified(), arrivals.ap_direct_entries()]
        if on_roll:
            self.start_on_roll(on_roll)
        self.enter_without_plan(Entrants.concat(without_plan))
        for child in arrivals.post16_requests():
            self.assessment.request_from_fe(child)
        world.env.process(arrivals.moves_in(self.start_with_plan))
        world.env.process(arrivals.post16_conversions(self.start_with_plan))
        if world.council is not None:
            world.env.process(world.council.reviews())
        horizon = world.horizon
        world.env.run(until=horizon)
        if self.assessment.foresight is not None:
            self.assessment.foresight.commit(world.log)
        for child in world.alive.values():
            world.split_at_transfers(child, horizon)
            if child.state >= 0:  # a request from further education still open at the horizon has no spell
                world.log.spell(child.id, child.state, child.phase, child.spell_start, horizon)
        world.log.sim_events = world.env.scheduled()
        log = world.log.finish()
        self._release()
        return log

    def _release(self) -> None:
        """Drop what the finished run still holds: the events scheduled past the horizon, the
        children still alive there and the queues they wait in. Their journeys, the stages and the
        world refer to one another, so without this they wait for the cycle collector (about 20 ms
        of a full replication's 0.7 s); dropped, they are freed at once."""
        world = self.world
        world.env._queue.clear()
        world.alive.clear()
        world.team.queue.clear()  # requests still waiting for a caseworker
        for pool in world.pools.values():
            pool.queue.clear()  # children still waiting for a special place


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a replication: its passes over the run's hundred thousand
    live objects cost about a quarter of the run, and the model makes almost no reference cycles
    (those few are collected when it resumes, or by :func:`hnsim.experiment.runner.release_memory`)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def simulate(config: Config, replication: int = 0, seed: int | None = None, params: Parameters | None = None) -> R.EventLog:
    """Run one replication and return its event log."""
    return PathwayModel(config, replication, seed, params).run()
