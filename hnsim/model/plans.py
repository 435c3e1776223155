"""Life with a plan: competing hazards in a setting, phase transfers, ceasing.

A plan holder's next change depends only on its own random numbers and on deterministic dates
(phase transfers, trends, lever ramps), except when it takes or gives up a special place. So its
process runs ahead of the simulation clock over spells that touch no place, logging each with its
own dates, and waits for the simulation clock only before it takes or gives up a place. The draws
are made in the same order as if every spell were a SimPy event, so the paths are the same.
"""

from __future__ import annotations

from math import log as _log
from typing import Callable, Generator

from hnsim.model import records as R
from hnsim.model.hazard import Clock
from hnsim.model.parameters import FLAT, POST16_OPTIONS, PlacementRules, PlanRates, choose
from hnsim.model.placement import SPECIAL_STATES, PlacementStage
from hnsim.model.streams import compiled
from hnsim.model.world import World

SCHOOL_GROUP = {R.EHCP_SPECIAL: "special", R.EHCP_SEMH_SPECIAL: "special", R.EHCP_INDEPENDENT: "independent"}
MAINSTREAM_LIKE = (R.EHCP_MAINSTREAM, R.EHCP_RESOURCED, R.EHCP_MAINSTREAM_WAITING)
#: Plans held in further education or a specialist college: EHC plans, never statements (continuation
#: at 19 in the transition's years is not scaled for them; see PlacementRules.post19_from_school_by_fy).
IN_COLLEGE = (R.EHCP_POST16_FE, R.EHCP_POST16_SPECIALIST)
CEASING = {"cease": R.EV_CEASED_NEEDS_MET, "move_away": R.EV_CEASED_MOVED_AWAY, "leave": R.EV_CEASED_LEFT_EDUCATION}
#: Outcomes of a plan holder's competing hazards that take a special place.
TAKES_A_PLACE = ("to_special", "independent_to_special")
Option = tuple[str, float, Clock]


class PlanStage:
    """The stages of a child with an EHC plan, from its first placement until it leaves."""

    def __init__(self, world: World, rules: PlacementRules, rates: PlanRates, placement: PlacementStage):
        self.world = world
        self.rules = rules
        self.rates = rates
        self.placement = placement
        self.levers = world.levers
        self.clock_to_special = world.clocks("ehcp.mainstream_to_special")
        self.clock_exclusion = world.clocks("ehcp.exclusion")
        self.clock_ap_return = world.clocks("ehcp.ap_return")
        self.clock_cease = world.clocks("ehcp.ceasing_needs_met")
        self.clock_leave = world.clocks("ehcp.leave_education")
        self._options: dict[tuple[int, int, int], tuple[Option, ...]] = {}

    # ---------------------------------------------------------------- competing hazards
    def options(self, state: int, ph: int, need: int) -> tuple[Option, ...]:
        """The competing options ``(tag, rate per day, clock)`` of a setting, those with a positive rate, in draw order."""
        key = (state, ph, need)
        if key not in self._options:
            r = self.rates
            options = [("cease", r.cease[ph], self.clock_cease[ph]), ("move_away", r.move_away[ph], FLAT), ("leave", r.leave[ph], self.clock_leave[ph])]
            if state in (R.EHCP_MAINSTREAM, R.EHCP_RESOURCED):
                options += [
                    ("to_special", r.to_special[ph] * r.to_special_need[need], self.clock_to_special[ph]),
                    ("exclusion", r.exclusion[ph] * r.exclusion_need[need], self.clock_exclusion[ph]),
                    ("ehe", r.ehe[ph], FLAT),
                ]
            elif state in SPECIAL_STATES:
                options.append(("to_mainstream", r.to_mainstream[ph], FLAT))
            elif state == R.EHCP_INDEPENDENT:
                options.append(("independent_to_special", r.independent_to_special[ph], FLAT))
            elif state == R.EHCP_AP:
                options += [("ap_return", r.ap_return[ph], self.clock_ap_return[ph]), ("ehe", r.ehe[ph], FLAT)]
            self._options[key] = tuple(o for o in options if o[1] > 0.0)
        return self._options[key]

    @staticmethod
    def python_draw(child: R.Child, now: float, options, deadline: float) -> tuple[float, str | None]:
        """Earliest of competing events ``(tag, rate_per_day, clock)`` after ``now``, or ``(deadline, None)``.

        Every option takes the child's next draw (:meth:`~hnsim.model.streams.ChildDraws.exponential`,
        written out here, constants and all, because it is the model's innermost loop), in option order, whatever its
        clock: a lever that changes a clock then moves only that event's time, and the child's other
        draws stay the same across scenarios (common random numbers).
        """
        best_t, best_tag = deadline, None
        draws = child.draws
        key, n = draws.key, draws.n
        for tag, rate, clock in options:
            n += 1
            z = (key + n * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & ((1 << 64) - 1)
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & ((1 << 64) - 1)
            exposure = -_log(1.0 - ((z ^ (z >> 31)) >> 11) * 2.0**-53) / rate
            t = now + exposure if clock is FLAT else clock.time_after(now, exposure)
            if t < best_t:
                best_t, best_tag = t, tag
        draws.n = n
        return best_t, best_tag

    #: The earliest of competing events: :meth:`python_draw`, or its C build where there is one
    #: (:mod:`hnsim.model._draws`, the same draws and arithmetic to the last bit).
    draw = python_draw if compiled is None else staticmethod(compiled.earliest)

    def _seek(self, child: R.Child, phase: int, from_mainstream: bool, may_wait: bool) -> Callable[[], bool]:
        """The part of a transfer that seeks a special place, to run on the simulation clock."""
        def seek() -> bool:
            self.placement.seek_special(child, phase, from_mainstream=from_mainstream, may_wait=may_wait)
            return False
        return seek

    # ---------------------------------------------------------------- the journey
    def life(self, child: R.Child) -> Generator:
        """From the child's placement (its open spell) until it leaves or the horizon."""
        world, placement, env = self.world, self.placement, self.world.env
        horizon = world.horizon
        while True:
            if child.state == R.EHCP_MAINSTREAM_WAITING:
                if child.day > env.now:
                    yield child.day - env.now
                outcome = yield from placement.waiting(child, world.next_transfer(child, env.now), self.draw)
                if outcome == "exit":
                    return
                if outcome == "transfer" and self._transfer_now(child, env.now):
                    return
                continue
            now, ph = child.day, child.phase
            t, tag = self.draw(child, now, self.options(child.state, ph, child.need), world.next_transfer(child, now))
            if t >= horizon:
                return  # still here at the horizon: the open spell is closed there
            if tag is None:
                step = self.transfer(child, t)
                if step is True:
                    return
                if step is not False:  # it takes or gives up a place: on the simulation clock
                    if t > env.now:
                        yield t - env.now
                    if step():
                        return
                continue
            if (child.pool is not None or tag in TAKES_A_PLACE) and t > env.now:
                yield t - env.now
            if tag in CEASING:
                world.leave(child, CEASING[tag], t)
                return
            if tag == "to_special":
                placement.seek_special(child, ph, from_mainstream=True, may_wait=True)
            elif tag == "exclusion":
                world.log.event(t, R.EV_PERMANENT_EXCLUSION, child.id)
                world.set_state(child, R.EHCP_AP, t, ph)
            elif tag == "ehe":
                world.log.event(t, R.EV_EHE_DEREGISTRATION, child.id)
                world.set_state(child, R.EHCP_EHE, t, ph)
            elif tag == "to_mainstream":
                world.release_place(child)
                world.log.event(t, R.EV_SPECIAL_TO_MAINSTREAM, child.id)
                world.set_state(child, R.EHCP_MAINSTREAM, t, ph)
            elif tag == "independent_to_special":
                name = placement.take_place(child, ph)
                if name is not None:
                    world.set_state(child, R.EHCP_SEMH_SPECIAL if name == "semh_secondary" else R.EHCP_SPECIAL, t, ph)
                else:
                    child.day = t  # no place free: stays independent, and draws again from now
            elif tag == "ap_return":
                world.set_state(child, R.EHCP_MAINSTREAM, t, ph)

    def _transfer_now(self, child: R.Child, day: float) -> bool:
        """A transfer on the simulation clock; True if the child left."""
        step = self.transfer(child, day)
        return step if step is True or step is False else step()

    def transfer(self, child: R.Child, day: float) -> bool | Callable[[], bool]:
        """Phase transfer on 1 September (or the 25th birthday): the placement is reconsidered.

        Returns True if the child left, False if it stays; or, where the transfer takes or gives up
        a special place, the rest of the transfer as a function for the caller to run once the
        simulation clock reaches ``day`` (it returns True if the child left). The child's draws are
        made here, in order, either way.
        """
        world, placement, draws, state = self.world, self.placement, child.draws, child.state
        holding = child.pool is not None
        if day >= world.plan_end(child) - 1e-9:
            def leave() -> bool:
                if state == R.EHCP_MAINSTREAM_WAITING:
                    placement.end_wait(child, day)
                world.leave(child, R.EV_CEASED_AGE_25, day)
                return True
            return leave if holding else leave()
        phase = world.phase_of(child, day)
        if phase == R.PHASE_POST16:
            return self._post16(child, day, phase)
        if phase == R.PHASE_POST19:
            return self._post19(child, day, phase)
        if state == R.EHCP_EARLY_YEARS:
            setting = placement.first_setting(child, phase, day)
            if setting == "special":
                return self._seek(child, phase, from_mainstream=False, may_wait=True)
            if setting == "independent":
                placement.place_independent(child, phase, from_mainstream=False, day=day)
            else:
                world.set_state(child, R.SETTING_STATE[setting], day, phase)
        elif state in SPECIAL_STATES:
            return self._seek(child, phase, from_mainstream=False, may_wait=False)
        elif state == R.EHCP_MAINSTREAM_WAITING:
            # the wait goes on, in the new phase's pools, from the day it began
            world.set_state(child, R.EHCP_MAINSTREAM_WAITING, day, phase)
        elif state in MAINSTREAM_LIKE and draws.uniform() < self.rules.transfer_to_special[phase] * (1.0 + self.levers.transfer_to_special(day)):
            return self._seek(child, phase, from_mainstream=True, may_wait=True)
        else:
            world.set_state(child, state, day, phase)
        return False

    def _post16(self, child: R.Child, day: float, phase: int) -> bool | Callable[[], bool]:
        """Year 12: stay in the setting, move to further education or a specialist college, or cease."""
        world, placement, draws, state = self.world, self.placement, child.draws, child.state
        fy = world.timeline.fy_index(day)
        extra_cease = self.rules.post16_cease_by_fy[fy]
        # draw only in the transition years given, so later years keep their random numbers
        leaves = extra_cease > 0.0 and draws.uniform() < extra_cease
        choice = "cease"
        if not leaves:
            shares = self.rules.post16_destinations_by_fy[fy].get(SCHOOL_GROUP.get(state, "school"))
            choice = POST16_OPTIONS[choose(shares, draws.uniform())] if shares else "stay"
            choice = "post16_fe" if choice == "post16_specialist" and self.to_fe_instead(child, day) else choice

        def rest() -> bool:
            if state == R.EHCP_MAINSTREAM_WAITING:
                placement.end_wait(child, day)
            if choice == "cease":
                world.leave(child, R.EV_CEASED_LEFT_EDUCATION, day)
                return True
            if choice != "stay":
                world.release_place(child)
                world.set_state(child, R.SETTING_STATE[choice], day, phase)
            elif state in SPECIAL_STATES:
                placement.seek_special(child, phase, from_mainstream=False, may_wait=False, fallback=R.EHCP_POST16_SPECIALIST)
            elif state in (R.EHCP_AP, R.EHCP_EHE, R.EHCP_EARLY_YEARS):
                world.set_state(child, R.EHCP_POST16_FE if state == R.EHCP_AP else R.EHCP_OTHER, day, phase)
            elif state == R.EHCP_MAINSTREAM_WAITING:
                world.set_state(child, R.EHCP_MAINSTREAM, day, phase)
            else:
                world.set_state(child, state, day, phase)
            return False

        return rest if child.pool is not None else rest()

    def _post19(self, child: R.Child, day: float, phase: int) -> bool | Callable[[], bool]:
        """The year of turning 19: the plan continues (in FE or a specialist college) or ceases."""
        world, state = self.world, child.state
        by_fy = self.rules.post19_continue_by_fy if state in IN_COLLEGE else self.rules.post19_from_school_by_fy
        continues = child.draws.uniform() < by_fy[world.timeline.fy_index(day)]
        specialist = continues and (state in SPECIAL_STATES or state in (R.EHCP_INDEPENDENT, R.EHCP_POST16_SPECIALIST)) and not self.to_fe_instead(child, day)

        def rest() -> bool:
            if not continues:
                world.leave(child, R.EV_CEASED_LEFT_EDUCATION, day)
                return True
            world.release_place(child)
            world.set_state(child, R.EHCP_POST16_SPECIALIST if specialist else R.EHCP_POST16_FE, day, phase)
            return False

        return rest if child.pool is not None else rest()

    def to_fe_instead(self, child: R.Child, day: float) -> bool:
        """Whether a post-16 strategy lever turns a specialist destination into FE (one draw while it acts)."""
        share = self.levers.post16_to_fe_share(day)
        return share > 0.0 and child.draws.uniform() < share


if compiled is not None:
    compiled.set_flat(FLAT)
