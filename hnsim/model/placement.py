"""Placement: the setting a plan names, special school places, independent placements, the wait.

Everything here touches the special place pools, so it runs on the simulation clock: callers bring
the child's own clock to ``env.now`` first.
"""

from __future__ import annotations

from typing import Generator

from hnsim.config.schema import NEEDS, SETTINGS
from hnsim.model import records as R
from hnsim.model.levers import LeverPlan
from hnsim.model.parameters import FLAT, PlacementRules, PlanRates, choose
from hnsim.model.world import World

SPECIAL_STATES = (R.EHCP_SPECIAL, R.EHCP_SEMH_SPECIAL)
SEMH = NEEDS.index("SEMH")
SEMH_POOL = "semh_secondary"


class PlacementStage:
    """Naming a setting, seeking a special place, waiting for one, placing independent."""

    def __init__(self, world: World, rules: PlacementRules, rates: PlanRates):
        self.world = world
        self.rules = rules
        self.rates = rates
        self.levers: LeverPlan = world.levers
        self.clock_cease = world.clocks("ehcp.ceasing_needs_met")
        self.clock_leave = world.clocks("ehcp.leave_education")

    def pools_for(self, child: R.Child, phase: int) -> tuple[str, ...]:
        """The pools a child may take a place in, in order of preference."""
        if phase <= R.PHASE_PRIMARY:
            return ("special_primary",)
        if phase == R.PHASE_SECONDARY:
            return (SEMH_POOL, "special_secondary") if child.need == SEMH else ("special_secondary",)
        return ("special_post16",)

    def first_setting(self, child: R.Child, phase: int, day: float) -> str:
        """The setting named in a new plan on ``day``, by phase, need and financial year (one draw)."""
        shares = self.rules.first_setting_by_fy[self.world.timeline.fy_index(day)].get((phase, child.need))
        return SETTINGS[choose(shares, child.draws.uniform())] if shares else "mainstream"

    def place_new_plan(self, child: R.Child) -> None:
        """Name a setting in a new plan and place the child there (on the simulation clock)."""
        now = self.world.env.now
        phase = self.world.phase_of(child, now)
        self.enter_setting(child, self.first_setting(child, phase, now), phase, from_mainstream=False)

    def place_fe_request(self, child: R.Child) -> None:
        """A plan made on a request from further education: FE or a specialist college, never a school.

        One draw: a specialist college in the proportion the phase's first-setting shares give it
        against FE; a post-16 strategy lever may then turn it into FE (one more draw while it acts).
        """
        world = self.world
        now = world.env.now
        phase = world.phase_of(child, now)
        specialist = child.draws.uniform() < self.rules.fe_request_specialist[phase]
        share = self.levers.post16_to_fe_share(now)
        if specialist and share > 0.0 and child.draws.uniform() < share:
            specialist = False
        world.set_state(child, R.EHCP_POST16_SPECIALIST if specialist else R.EHCP_POST16_FE, now, phase)

    def place_on_roll(self, child: R.Child, setting: str, phase: int) -> None:
        """A plan on roll at the start date: special pupils keep their place, beyond capacity if need be."""
        if setting != "special":
            self.world.set_state(child, R.SETTING_STATE[setting], 0.0, phase)
            return
        names = self.pools_for(child, phase)
        pools = self.world.pools
        name = next((n for n in names if pools[n].take()), None)
        if name is None:  # the census counts more pupils in special schools than the places given
            name = names[-1]
            pools[name].force_take()
        child.pool = name
        self.world.set_state(child, R.EHCP_SEMH_SPECIAL if name == SEMH_POOL else R.EHCP_SPECIAL, 0.0, phase)

    def enter_setting(self, child: R.Child, setting: str, phase: int, from_mainstream: bool) -> None:
        if setting == "special":
            self.seek_special(child, phase, from_mainstream, may_wait=True)
        elif setting == "independent":
            self.place_independent(child, phase, from_mainstream)
        else:
            self.world.set_state(child, R.SETTING_STATE[setting], self.world.env.now, phase)

    def place_independent(self, child: R.Child, phase: int, from_mainstream: bool, day: float | None = None) -> None:
        """An independent placement on ``day`` (default: now), unless a bespoke-packages lever diverts it to a package.

        Touches no pool, so it may be made ahead of the simulation clock.
        """
        world = self.world
        now = world.env.now if day is None else day
        share = self.levers.bespoke_share(now)
        # draw only while the lever acts, so that before it starts nothing changes
        if share > 0.0 and child.draws.uniform() < share:
            world.set_state(child, R.EHCP_BESPOKE, now, phase)
            return
        world.log.event(now, R.EV_INDEPENDENT_PLACEMENT, child.id)
        if from_mainstream:
            world.log.event(now, R.EV_MAINSTREAM_TO_SPECIAL, child.id)
        world.set_state(child, R.EHCP_INDEPENDENT, now, phase)

    def take_place(self, child: R.Child, phase: int) -> str | None:
        """Take a free place in one of the child's pools (keeping one it already holds there); its name."""
        names = self.pools_for(child, phase)
        if child.pool in names:
            return child.pool
        for name in names:
            if self.world.pools[name].take():
                self.world.release_place(child)
                child.pool = name
                return name
        return None

    def seek_special(self, child: R.Child, phase: int, from_mainstream: bool, may_wait: bool, fallback: int = R.EHCP_INDEPENDENT) -> bool:
        """Take a special place if free; otherwise ``fallback`` (independent) or a wait in mainstream.

        A child already holding a place of the right kind keeps it. True if placed in special.
        """
        world = self.world
        now = world.env.now
        name = self.take_place(child, phase)
        if name is not None:
            if from_mainstream:
                world.log.event(now, R.EV_MAINSTREAM_TO_SPECIAL, child.id)
            world.set_state(child, R.EHCP_SEMH_SPECIAL if name == SEMH_POOL else R.EHCP_SPECIAL, now, phase)
            return True
        world.release_place(child)
        if not may_wait or child.draws.uniform() < self.rules.independent_when_full:
            if fallback == R.EHCP_INDEPENDENT:
                if world.council is not None:  # placed out for want of a place: the council counts it
                    world.council.placed_out(self.pools_for(child, phase)[0], now)
                self.place_independent(child, phase, from_mainstream)
            else:
                world.set_state(child, fallback, now, phase)
            return False
        child.wait_start = now
        world.set_state(child, R.EHCP_MAINSTREAM_WAITING, now, phase)
        return False

    def end_wait(self, child: R.Child, day: float) -> None:
        """Record how long a wait for a special place lasted."""
        self.world.log.event(day, R.EV_SPECIAL_PLACE_WAIT_END, child.id, day - child.wait_start)

    def waiting(self, child: R.Child, deadline: float, draw) -> Generator:
        """In mainstream with a top-up, queued for a place in any of the child's pools, until the
        deadline (the next phase transfer), the longest wait, or ceasing, moving away or leaving.

        Returns ``"placed"``, ``"exit"``, ``"independent"`` (placed after the longest wait) or
        ``"transfer"`` (the deadline came first: the wait goes on into the next phase).
        """
        world = self.world
        env, ph = world.env, child.phase
        now = env.now
        pools = [world.pools[name] for name in self.pools_for(child, ph)]
        grants = [pool.wait(child.wait_start) for pool in pools]
        max_wait_end = child.wait_start + self.rules.max_wait_days
        r = self.rates
        options = [("cease", r.cease[ph], self.clock_cease[ph]), ("move_away", r.move_away[ph], FLAT), ("leave", r.leave[ph], self.clock_leave[ph])]
        options = [o for o in options if o[1] > 0.0]
        when, tag = draw(child, now, options, min(deadline, max_wait_end))
        granted = grants[0] if len(grants) == 1 else env.any_of(grants)
        council = world.council
        if council is not None:
            council.waiting += 1
        yield granted | env.timeout(when - now)
        if council is not None:
            council.waiting -= 1
        winner = next((i for i, grant in enumerate(grants) if grant.triggered), None)
        for i, (pool, grant) in enumerate(zip(pools, grants)):
            if i != winner:
                pool.cancel(grant)
        now = env.now
        if winner is not None:
            child.pool = pools[winner].name
            self.end_wait(child, now)
            world.log.event(now, R.EV_MAINSTREAM_TO_SPECIAL, child.id)
            world.set_state(child, R.EHCP_SEMH_SPECIAL if child.pool == SEMH_POOL else R.EHCP_SPECIAL, now)
            return "placed"
        if tag is not None:
            self.end_wait(child, now)
            code = {"cease": R.EV_CEASED_NEEDS_MET, "move_away": R.EV_CEASED_MOVED_AWAY, "leave": R.EV_CEASED_LEFT_EDUCATION}[tag]
            world.leave(child, code, now)
            return "exit"
        if now >= max_wait_end and now < deadline:
            self.end_wait(child, now)
            if council is not None:
                council.placed_out(pools[0].name, now)
            self.place_independent(child, ph, from_mainstream=True)
            return "independent"
        return "transfer"
