"""The child record, state codes and the compact event log the model writes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hnsim.model.streams import ChildDraws

# Where a child is: one code per spell. Codes below FIRST_PLAN_STATE hold no plan; the others hold an EHCP.
FIRST_PLAN_STATE = 10
EARLY_INTERVENTION = 0
SEN_SUPPORT = 1
SEN_SUPPORT_ENHANCED = 2
AP_NO_PLAN = 3
EHE_NO_PLAN = 4
EHCP_MAINSTREAM = 10
EHCP_MAINSTREAM_WAITING = 11
EHCP_RESOURCED = 12
EHCP_SPECIAL = 13
EHCP_SEMH_SPECIAL = 14
EHCP_INDEPENDENT = 15
EHCP_AP = 16
EHCP_POST16_FE = 17
EHCP_POST16_SPECIALIST = 18
EHCP_EHE = 19
EHCP_EARLY_YEARS = 20
EHCP_OTHER = 21
EHCP_BESPOKE = 22

STATE_NAMES: dict[int, str] = {
    EARLY_INTERVENTION: "early_intervention",
    SEN_SUPPORT: "sen_support",
    SEN_SUPPORT_ENHANCED: "sen_support_enhanced",
    AP_NO_PLAN: "ap_no_plan",
    EHE_NO_PLAN: "ehe_no_plan",
    EHCP_MAINSTREAM: "mainstream",
    EHCP_MAINSTREAM_WAITING: "mainstream_waiting",
    EHCP_RESOURCED: "resourced",
    EHCP_SPECIAL: "special",
    EHCP_SEMH_SPECIAL: "semh_special",
    EHCP_INDEPENDENT: "independent",
    EHCP_AP: "ap",
    EHCP_POST16_FE: "post16_fe",
    EHCP_POST16_SPECIALIST: "post16_specialist",
    EHCP_EHE: "ehe",
    EHCP_EARLY_YEARS: "early_years",
    EHCP_OTHER: "other",
    EHCP_BESPOKE: "bespoke",
}
STATE_CODES = {name: code for code, name in STATE_NAMES.items()}
#: Every state in which a child holds a plan.
PLAN_STATES = tuple(code for code in STATE_NAMES if code >= FIRST_PLAN_STATE)
NO_PLAN_STATES = tuple(code for code in STATE_NAMES if code < FIRST_PLAN_STATE)


def has_plan(state: int) -> bool:
    """Whether a state code holds an EHC plan."""
    return state >= FIRST_PLAN_STATE

#: Setting named in a plan (config vocabulary) -> state code.
SETTING_STATE = {
    "mainstream": EHCP_MAINSTREAM,
    "resourced": EHCP_RESOURCED,
    "special": EHCP_SPECIAL,
    "independent": EHCP_INDEPENDENT,
    "ap": EHCP_AP,
    "post16_fe": EHCP_POST16_FE,
    "post16_specialist": EHCP_POST16_SPECIALIST,
    "early_years": EHCP_EARLY_YEARS,
    "other": EHCP_OTHER,
}

PHASE_EARLY_YEARS, PHASE_PRIMARY, PHASE_SECONDARY, PHASE_POST16, PHASE_POST19 = range(5)

# Flow events: (day, code, value). Value carries a duration in days where one is meaningful.
EV_IDENTIFIED = 1
EV_REQUEST = 2
EV_REFUSED = 3
EV_APPEAL = 4
EV_TRIBUNAL_FOR_PARENTS = 5
EV_ASSESSED_NO_PLAN = 6
EV_NEW_EHCP = 7  # value: days from request to final plan
EV_CEASED_NEEDS_MET = 8
EV_CEASED_MOVED_AWAY = 9
EV_CEASED_LEFT_EDUCATION = 10
EV_CEASED_AGE_25 = 11
EV_MAINSTREAM_TO_SPECIAL = 12
EV_SPECIAL_TO_MAINSTREAM = 13
EV_PERMANENT_EXCLUSION = 14
EV_EHE_DEREGISTRATION = 15
EV_MOVED_IN = 16
EV_POST16_CONVERSION = 17
EV_INDEPENDENT_PLACEMENT = 18  # a new independent placement starts
EV_SPECIAL_PLACE_WAIT_END = 19  # value: days waited in mainstream
EV_NO_PLAN_EXIT = 20  # a child without a plan leaves the model
EV_INITIAL = 21
EV_ASSESSMENT_START = 22  # value: days waited for a caseworker
EV_POST16_REQUEST = 23  # a young person in further education without a plan requests an assessment (with EV_REQUEST)
# The council's own actions (status_quo), of no one child (child -1):
EV_PLACES_COMMISSIONED = 24  # on the review day; value: special places commissioned
EV_PLACES_OPENED = 25  # on the opening day; value: special places opened
EV_TEAM_CAPACITY = 26  # on the day it starts; value: the assessment team's new capacity

EVENT_NAMES = {
    EV_IDENTIFIED: "identified",
    EV_REQUEST: "assessment_request",
    EV_REFUSED: "assessment_refused",
    EV_APPEAL: "tribunal_appeal",
    EV_TRIBUNAL_FOR_PARENTS: "tribunal_for_parents",
    EV_ASSESSED_NO_PLAN: "assessed_no_plan",
    EV_NEW_EHCP: "new_ehcp",
    EV_CEASED_NEEDS_MET: "ceased_needs_met",
    EV_CEASED_MOVED_AWAY: "ceased_moved_away",
    EV_CEASED_LEFT_EDUCATION: "ceased_left_education",
    EV_CEASED_AGE_25: "ceased_age_25",
    EV_MAINSTREAM_TO_SPECIAL: "mainstream_to_special",
    EV_SPECIAL_TO_MAINSTREAM: "special_to_mainstream",
    EV_PERMANENT_EXCLUSION: "permanent_exclusion",
    EV_EHE_DEREGISTRATION: "ehe_deregistration",
    EV_MOVED_IN: "moved_in",
    EV_POST16_CONVERSION: "post16_conversion",
    EV_INDEPENDENT_PLACEMENT: "independent_placement",
    EV_SPECIAL_PLACE_WAIT_END: "special_place_wait_end",
    EV_NO_PLAN_EXIT: "no_plan_exit",
    EV_INITIAL: "initial",
    EV_ASSESSMENT_START: "assessment_start",
    EV_POST16_REQUEST: "post16_request",
    EV_PLACES_COMMISSIONED: "special_places_commissioned",
    EV_PLACES_OPENED: "special_places_opened",
    EV_TEAM_CAPACITY: "assessment_team_capacity",
}


class Child:
    """One child or young person: who they are and where they are now.

    ``day`` is the child's own clock: the day its current spell's next change is looked for from. A
    plan holder who touches no shared resource runs ahead of the simulation clock (its spells are
    logged with their own dates) and waits for the clock only before taking or giving up a place.
    """

    __slots__ = ("id", "draws", "cohort", "birth_day", "need", "state", "phase", "spell_start", "day", "pool", "request_day", "wait_start", "transfers")

    def __init__(self, child_id: int, key: int, cohort: int, birth_day: float, need: int):
        self.id = child_id
        self.draws = ChildDraws(key)
        self.cohort = cohort  # calendar year of the September the child starts reception
        self.birth_day = birth_day
        self.need = need
        self.state = -1
        self.phase = 0
        self.spell_start = 0.0
        self.day = 0.0
        self.pool: str | None = None  # the special place pool the child holds a place in
        self.request_day = 0.0
        self.wait_start = 0.0  # first day of the current wait for a special place
        self.transfers: tuple[float, ...] | None = None  # phase transfer days and the 25th birthday (see World.next_transfer)


SPELL_FIELDS = ("spell_child", "spell_state", "spell_phase", "spell_start", "spell_end")
EVENT_FIELDS = ("event_day", "event_code", "event_value", "event_child")
CHILD_FIELDS = ("child_cohort", "child_need", "child_birth_day")
_DTYPES = {"spell_child": np.int64, "spell_state": np.int64, "spell_phase": np.int64, "spell_start": float, "spell_end": float,
           "event_day": float, "event_code": np.int64, "event_value": float, "event_child": np.int64,
           "child_cohort": np.int64, "child_need": np.int64, "child_birth_day": float}


@dataclass
class EventLog:
    """Spells (child, state, phase, start, end), flow events (day, code, value, child) and children
    (cohort, need, birth day): one column each.

    During a run, single rows go to plain lists and whole batches to numpy chunks;
    :meth:`finish` makes every column one numpy array (events in order of day). A log returned by
    the model is finished.
    """

    spell_child: list[int] = field(default_factory=list)
    spell_state: list[int] = field(default_factory=list)
    spell_phase: list[int] = field(default_factory=list)
    spell_start: list[float] = field(default_factory=list)
    spell_end: list[float] = field(default_factory=list)
    event_day: list[float] = field(default_factory=list)
    event_code: list[int] = field(default_factory=list)
    event_value: list[float] = field(default_factory=list)
    event_child: list[int] = field(default_factory=list)
    child_cohort: list[int] = field(default_factory=list)
    child_need: list[int] = field(default_factory=list)
    child_birth_day: list[float] = field(default_factory=list)
    sim_events: int = 0
    pool_schedules: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # commissioned places, levers included
    allocation_transfers: list[float] = field(default_factory=list)  # money moved in by levers, per financial year
    _chunks: dict[str, list[np.ndarray]] = field(default_factory=lambda: {name: [] for name in SPELL_FIELDS + EVENT_FIELDS})

    def event(self, day: float, code: int, child: int = -1, value: float = 0.0) -> None:
        """Record a flow event."""
        self.event_day.append(day)
        self.event_code.append(code)
        self.event_value.append(value)
        self.event_child.append(child)

    def spell(self, child: int, state: int, phase: int, start: float, end: float) -> None:
        """Record a closed spell."""
        self.spell_child.append(child)
        self.spell_state.append(state)
        self.spell_phase.append(phase)
        self.spell_start.append(start)
        self.spell_end.append(end)

    def event_rows(self, days: list[float], code: int, children: list[int]) -> None:
        """Record flow events of one code (value 0) as :meth:`event` would one by one, in order."""
        self.event_day.extend(days)
        self.event_code.extend([code] * len(days))
        self.event_value.extend([0.0] * len(days))
        self.event_child.extend(children)

    def events(self, days: np.ndarray, codes: int | np.ndarray, children: np.ndarray) -> None:
        """Record a batch of flow events (value 0); ``codes`` may be one code for all."""
        chunks = self._chunks
        chunks["event_day"].append(np.asarray(days, dtype=float))
        chunks["event_code"].append(np.broadcast_to(np.asarray(codes, dtype=np.int64), len(days)))
        chunks["event_value"].append(np.zeros(len(days)))
        chunks["event_child"].append(np.asarray(children, dtype=np.int64))

    def spells(self, children: np.ndarray, states: np.ndarray, phases: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        """Record a batch of closed spells."""
        for name, column in zip(SPELL_FIELDS, (children, states, phases, starts, ends)):
            self._chunks[name].append(np.asarray(column, dtype=_DTYPES[name]))

    def finish(self) -> "EventLog":
        """Make every column one numpy array, the events in order of day (stable); return the log.

        The batches log ahead of the clock; each child's own spells and events are still in time order.
        """
        for name in SPELL_FIELDS + EVENT_FIELDS + CHILD_FIELDS:
            parts = self._chunks.get(name, [])
            setattr(self, name, np.concatenate([np.asarray(getattr(self, name), dtype=_DTYPES[name]), *parts]) if parts else np.asarray(getattr(self, name), dtype=_DTYPES[name]))
        self._chunks = {name: [] for name in SPELL_FIELDS + EVENT_FIELDS}
        order = np.argsort(self.event_day, kind="stable")
        for name in EVENT_FIELDS:
            setattr(self, name, getattr(self, name)[order])
        return self
