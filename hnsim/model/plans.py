"""Life with a plan: the setting named in a new plan, special places, waiting, moves and transfers.

A mixin of :class:`~hnsim.model.pathway.PathwayModel`: its methods use the model's environment,
log, place pools, rates and bookkeeping (``set_state``, ``leave``, ``draw``...).
"""

from __future__ import annotations

import bisect

from typing import Generator

from hnsim.config.schema import NEEDS, PHASES, SETTINGS
from hnsim.model import records as R
from hnsim.model.calendar import DAYS_PER_YEAR
from hnsim.model.parameters import FLAT, choose

SPECIAL_STATES = (R.EHCP_SPECIAL, R.EHCP_SEMH_SPECIAL)
SCHOOL_GROUP = {R.EHCP_SPECIAL: "special", R.EHCP_SEMH_SPECIAL: "special", R.EHCP_INDEPENDENT: "independent"}
POST16_OPTIONS = ("stay", "post16_fe", "post16_specialist", "cease")
SEMH = NEEDS.index("SEMH")


class WithPlan:
    """The stages of a child with an EHC plan (mixin of ``PathwayModel``)."""

    def place_new_plan(self, child: R.Child) -> str:
        """Name a setting in a new plan."""
        phase = self.phase_of(child, self.env.now)
        shares = self.first_setting.get((phase, child.need))
        setting = SETTINGS[choose(shares, child.draws.uniform())] if shares else "mainstream"
        self.enter_setting(child, setting, phase, from_mainstream=False)
        return "continue"

    def enter_setting(self, child: R.Child, setting: str, phase: int, from_mainstream: bool) -> None:
        if setting == "special":
            self.seek_special(child, phase, from_mainstream, may_wait=True)
        elif setting == "independent":
            self.place_independent(child, phase, from_mainstream)
        else:
            self.set_state(child, R.SETTING_STATE[setting], phase)

    def place_independent(self, child: R.Child, phase: int, from_mainstream: bool) -> None:
        """An independent placement, unless a bespoke-packages lever diverts it to a package."""
        now = self.env.now
        share = self.levers.bespoke_share(now)
        # draw only while the lever acts, so that before it starts nothing changes
        if share > 0.0 and child.draws.uniform() < share:
            self.set_state(child, R.EHCP_BESPOKE, phase)
            return
        self.log.event(now, R.EV_INDEPENDENT_PLACEMENT, child.id)
        if from_mainstream:
            self.log.event(now, R.EV_MAINSTREAM_TO_SPECIAL, child.id)
        self.set_state(child, R.EHCP_INDEPENDENT, phase)

    def pools_for(self, child: R.Child, phase: int) -> tuple[str, ...]:
        if phase <= R.PHASE_PRIMARY:
            return ("special_primary",)
        if phase == R.PHASE_SECONDARY:
            return ("semh_secondary", "special_secondary") if child.need == SEMH else ("special_secondary",)
        return ("special_post16",)

    def seek_special(self, child: R.Child, phase: int, from_mainstream: bool, may_wait: bool, fallback: int = R.EHCP_INDEPENDENT) -> bool:
        """Take a special place if free; otherwise ``fallback`` (independent) or a wait in mainstream.

        A child already holding a place of the right kind keeps it. True if placed in special.
        """
        now = self.env.now
        names = self.pools_for(child, phase)
        if child.pool in names:
            self.set_state(child, child.state, phase)
            return True
        for name in names:
            if self.pools[name].take():
                self.release_place(child)
                child.pool = name
                if from_mainstream:
                    self.log.event(now, R.EV_MAINSTREAM_TO_SPECIAL, child.id)
                self.set_state(child, R.EHCP_SEMH_SPECIAL if name == "semh_secondary" else R.EHCP_SPECIAL, phase)
                return True
        self.release_place(child)
        if not may_wait or child.draws.uniform() < self.independent_when_full:
            if fallback == R.EHCP_INDEPENDENT:
                self.place_independent(child, phase, from_mainstream)
            else:
                self.set_state(child, fallback, phase)
            return False
        child.wait_start = now
        self.set_state(child, R.EHCP_MAINSTREAM_WAITING, phase)
        return False

    def waiting(self, child: R.Child) -> Generator:
        """In mainstream with a top-up, queued for a special place."""
        env, ph = self.env, child.phase
        now = env.now
        pool = self.pools[self.pools_for(child, ph)[-1]]
        grant = pool.wait(child)
        deadline = self.next_transfer(child, now)
        max_wait_end = child.wait_start + self.max_wait_days if self.max_wait_days is not None else float("inf")
        options = [("cease", self.e_cease[ph], self.clock_cease[ph]), ("move_away", self.e_move_away[ph], FLAT)]
        when, tag = self.draw(child, options, min(deadline, max_wait_end))
        yield grant | env.timeout(when - now)
        waited = env.now - child.wait_start
        if grant.triggered:
            child.pool = pool.name
            self.log.event(env.now, R.EV_SPECIAL_PLACE_WAIT_END, child.id, waited)
            self.log.event(env.now, R.EV_MAINSTREAM_TO_SPECIAL, child.id)
            self.set_state(child, R.EHCP_SEMH_SPECIAL if pool.name == "semh_secondary" else R.EHCP_SPECIAL)
            return "continue"
        pool.cancel(grant)
        if tag is not None:
            self.log.event(env.now, R.EV_SPECIAL_PLACE_WAIT_END, child.id, waited)
            self.leave(child, R.EV_CEASED_NEEDS_MET if tag == "cease" else R.EV_CEASED_MOVED_AWAY)
            return "exit"
        if env.now >= max_wait_end and env.now < deadline:
            self.log.event(env.now, R.EV_SPECIAL_PLACE_WAIT_END, child.id, waited)
            self.place_independent(child, ph, from_mainstream=True)
            return "continue"
        return self.transfer(child)

    def with_plan(self, child: R.Child) -> Generator:
        """Life with a plan in one setting until a move, a cessation or a phase transfer."""
        env, state, ph, need = self.env, child.state, child.phase, child.need
        now = env.now
        deadline = self.next_transfer(child, now)
        options = [("cease", self.e_cease[ph], self.clock_cease[ph]), ("move_away", self.e_move_away[ph], FLAT), ("leave", self.e_leave[ph], self.clock_leave[ph])]
        if state in (R.EHCP_MAINSTREAM, R.EHCP_RESOURCED):
            options += [
                ("to_special", self.e_to_special[ph] * self.m_to_special[need], self.clock_to_special[ph]),
                ("exclusion", self.e_exclusion[ph] * self.m_e_exclusion[need], self.clock_e_exclusion[ph]),
                ("ehe", self.e_ehe[ph], FLAT),
            ]
        elif state in SPECIAL_STATES:
            options.append(("to_mainstream", self.e_to_mainstream[ph], FLAT))
        elif state == R.EHCP_INDEPENDENT:
            options.append(("independent_to_special", self.e_independent_to_special[ph], FLAT))
        elif state == R.EHCP_AP:
            options += [("ap_return", self.e_ap_return[ph], self.clock_ap_return[ph]), ("ehe", self.e_ehe[ph], FLAT)]
        when, tag = self.draw(child, options, deadline)
        yield env.timeout(when - now)
        now = env.now
        if tag is None:
            return self.transfer(child)
        if tag in ("cease", "move_away", "leave"):
            code = {"cease": R.EV_CEASED_NEEDS_MET, "move_away": R.EV_CEASED_MOVED_AWAY, "leave": R.EV_CEASED_LEFT_EDUCATION}[tag]
            self.leave(child, code)
            return "exit"
        if tag == "to_special":
            self.seek_special(child, ph, from_mainstream=True, may_wait=True)
        elif tag == "exclusion":
            self.log.event(now, R.EV_PERMANENT_EXCLUSION, child.id)
            self.set_state(child, R.EHCP_AP)
        elif tag == "ehe":
            self.log.event(now, R.EV_EHE_DEREGISTRATION, child.id)
            self.set_state(child, R.EHCP_EHE)
        elif tag == "to_mainstream":
            self.release_place(child)
            self.log.event(now, R.EV_SPECIAL_TO_MAINSTREAM, child.id)
            self.set_state(child, R.EHCP_MAINSTREAM)
        elif tag == "independent_to_special":
            for name in self.pools_for(child, ph):
                if self.pools[name].take():
                    child.pool = name
                    self.set_state(child, R.EHCP_SEMH_SPECIAL if name == "semh_secondary" else R.EHCP_SPECIAL)
                    break
        elif tag == "ap_return":
            self.set_state(child, R.EHCP_MAINSTREAM)
        return "continue"

    def transfer(self, child: R.Child) -> str:
        """Phase transfer on 1 September (or the 25th birthday): the placement is reconsidered."""
        now, draws, state = self.env.now, child.draws, child.state
        if now >= child.birth_day + 25 * DAYS_PER_YEAR - 1e-9:
            self.leave(child, R.EV_CEASED_AGE_25)
            return "exit"
        phase = self.phase_of(child, now)
        mainstream_like = state in (R.EHCP_MAINSTREAM, R.EHCP_RESOURCED, R.EHCP_MAINSTREAM_WAITING)
        if phase in (R.PHASE_PRIMARY, R.PHASE_SECONDARY):
            if state == R.EHCP_EARLY_YEARS:
                shares = self.first_setting.get((phase, child.need))
                setting = SETTINGS[choose(shares, draws.uniform())] if shares else "mainstream"
                self.enter_setting(child, setting, phase, from_mainstream=False)
            elif state in SPECIAL_STATES or state == R.EHCP_MAINSTREAM_WAITING:
                waiting = state == R.EHCP_MAINSTREAM_WAITING
                self.seek_special(child, phase, from_mainstream=waiting, may_wait=waiting)
            elif mainstream_like and draws.uniform() < self.transfer_to_special.get(PHASES[phase], 0.0) * (1.0 + self.levers.transfer_to_special(now)):
                self.seek_special(child, phase, from_mainstream=True, may_wait=True)
            else:
                self.set_state(child, state, phase)
            return "continue"
        if phase == R.PHASE_POST16:
            extra_cease = self.post16_cease_by_fy[min(max(bisect.bisect_right(self._fy_starts, now) - 1, 0), len(self._fy_starts) - 1)]
            # draw only in the transition years given, so later years keep their random numbers
            if extra_cease > 0.0 and draws.uniform() < extra_cease:
                self.leave(child, R.EV_CEASED_LEFT_EDUCATION)
                return "exit"
            group = SCHOOL_GROUP.get(state, "school")
            shares = self.post16_destinations.get(group)
            choice = POST16_OPTIONS[choose(shares, draws.uniform())] if shares else "stay"
            choice = "post16_fe" if choice == "post16_specialist" and self.to_fe_instead(child) else choice
            if choice == "cease":
                self.leave(child, R.EV_CEASED_LEFT_EDUCATION)
                return "exit"
            if choice == "stay":
                if state in SPECIAL_STATES:
                    self.seek_special(child, phase, from_mainstream=False, may_wait=False, fallback=R.EHCP_POST16_SPECIALIST)
                elif state in (R.EHCP_AP, R.EHCP_EHE, R.EHCP_EARLY_YEARS):
                    self.set_state(child, R.EHCP_POST16_FE if state == R.EHCP_AP else R.EHCP_OTHER, phase)
                elif state == R.EHCP_MAINSTREAM_WAITING:
                    self.set_state(child, R.EHCP_MAINSTREAM, phase)
                else:
                    self.set_state(child, state, phase)
            else:
                self.release_place(child)
                self.set_state(child, R.SETTING_STATE[choice], phase)
            return "continue"
        # age 19: adult phase
        if draws.uniform() >= self.post19_continue:
            self.leave(child, R.EV_CEASED_LEFT_EDUCATION)
            return "exit"
        self.release_place(child)
        specialist = state in SPECIAL_STATES or state in (R.EHCP_INDEPENDENT, R.EHCP_POST16_SPECIALIST)
        specialist = specialist and not self.to_fe_instead(child)
        self.set_state(child, R.EHCP_POST16_SPECIALIST if specialist else R.EHCP_POST16_FE, phase)
        return "continue"

    def to_fe_instead(self, child: R.Child) -> bool:
        """Whether a post-16 strategy lever turns a specialist destination into FE."""
        share = self.levers.post16_to_fe_share(self.env.now)
        return share > 0.0 and child.draws.uniform() < share
