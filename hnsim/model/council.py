"""The council's annual review: status-quo policies acting on the simulation clock.

With a ``status_quo:`` section the model world gets a :class:`Council`, whose one SimPy process
wakes on each review day and applies the policies given (:mod:`hnsim.config.status_quo`):

- **commissioning**: if more children wait for a special place than ``waiting_threshold``, or more
  were placed independent for want of a place in the 365 days before than ``independent_threshold``,
  ``places_per_step`` places (fewer near the ``ceiling``) are commissioned in the pool with the most
  unmet demand (its waiting list plus its independent placements for want of a place) and open
  ``lag_days`` later, when the pool admits those waiting in the order they began to wait;
- **staffing**: the assessment team's target is the base team x (requests in the 365 days before /
  requests in the reference year) ^ elasticity; a share of the gap to the team already decided on is
  recruited, starting ``lag_days`` later, and the team never shrinks;
- **gatekeeping**: until the next review, the probability of refusing to assess rises by
  ``refusal_per_pressure`` x (pressure - 1), between the rate without pressure and the maximum.

The counts the review reads are kept as the model runs, cheaply: requests by day as the assessment
stage sees each one (requests are known before their day, so the window before a review is
complete when it comes), the children waiting now, and the independent placements made because no
place was free. The actions are written to the event log (``special_places_commissioned``,
``special_places_opened``, ``assessment_team_capacity``) and the pools' schedules in the log include
the new places, so money and ``special_places`` count them.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Generator

import numpy as np

from hnsim.model import records as R
from hnsim.model.parameters import Parameters, StatusQuoRules

if TYPE_CHECKING:  # the world holds the council; the council only reads the world
    from hnsim.model.world import World

#: Days in the window of "the last 12 months" before a review.
WINDOW_DAYS = 365


class Council:
    """The council's reviews and the running counts they read."""

    def __init__(self, world: "World", rules: StatusQuoRules, base_capacity: int):
        self.world = world
        self.rules = rules
        self.base_capacity = base_capacity
        self.requests = [0] * (int(world.horizon) + 2)  # requests by day (whole days since the start)
        self.waiting = 0  # children waiting in mainstream for a special place, now
        self.placed_out_log: deque[tuple[float, str]] = deque()  # (day, pool wanted) of independent placements for want of a place
        self.commissioned = 0  # places commissioned so far (against the ceiling)
        self.team = base_capacity  # the team decided on, recruits not yet started included
        self.refusal_rise = 0.0  # gatekeeping: added to the refusal probability until the next review
        self.max_refusal = 1.0

    # ---------------------------------------------------------------- counts kept as the model runs
    def requested(self, day: float) -> None:
        """A request for assessment on ``day`` (now or later)."""
        i = int(day)
        if i < len(self.requests):
            self.requests[i] += 1

    def placed_out(self, pool: str, day: float) -> None:
        """An independent placement made on ``day`` because no place in ``pool`` (first choice) was free."""
        self.placed_out_log.append((day, pool))

    def refusal(self, probability: float) -> float:
        """The refusal probability with gatekeeping: raised by the pressure, never above the maximum
        (nor lowered if already above it)."""
        rise = self.refusal_rise
        if rise <= 0.0 or probability >= self.max_refusal:
            return probability
        return min(probability + rise, self.max_refusal)

    def pressure(self, day: float) -> float:
        """Requests in the 365 days before ``day`` over those of the reference year (1 if it had none)."""
        rules = self.rules
        reference = sum(self.requests[int(rules.reference_first_day):int(rules.reference_last_day)])
        if reference == 0:
            return 1.0
        end = int(day)
        return sum(self.requests[max(end - WINDOW_DAYS, 0):end]) / reference

    # ---------------------------------------------------------------- the review
    def reviews(self) -> Generator:
        """The SimPy process: one review on each review day."""
        env = self.world.env
        for day in self.rules.review_days:
            if day > env.now:
                yield env.timeout(day - env.now)
            self.review(day)

    def review(self, day: float) -> None:
        """Apply each policy in force on ``day``."""
        rules = self.rules
        while self.placed_out_log and self.placed_out_log[0][0] < day - WINDOW_DAYS:
            self.placed_out_log.popleft()
        if rules.commissioning is not None and day >= rules.commissioning.from_day:
            self._commission(day)
        staffing, gatekeeping = rules.staffing, rules.gatekeeping
        staffs = staffing is not None and day >= staffing.from_day
        gatekeeps = gatekeeping is not None and day >= gatekeeping.from_day
        if not (staffs or gatekeeps):
            return
        pressure = self.pressure(day)
        if staffs:
            self._staff(day, pressure)
        if gatekeeps:
            self.refusal_rise = gatekeeping.refusal_per_pressure * max(pressure - 1.0, 0.0)
            self.max_refusal = gatekeeping.max_refusal

    def _commission(self, day: float) -> None:
        rules, world = self.rules.commissioning, self.world
        if self.waiting <= rules.waiting_threshold and len(self.placed_out_log) <= rules.independent_threshold:
            return
        places = min(rules.places_per_step, rules.ceiling - self.commissioned)
        if places <= 0:
            return
        unmet = {pool: len(world.pools[pool].queue) for pool in rules.pools}
        for _, pool in self.placed_out_log:
            if pool in unmet:
                unmet[pool] += 1
        pool = max(rules.pools, key=lambda name: unmet[name])  # the first listed of the most wanted
        if unmet[pool] == 0:
            return  # nobody waits for, or was placed out of, a pool the council may commission in
        self.commissioned += places
        world.log.event(day, R.EV_PLACES_COMMISSIONED, -1, float(places))
        opening = day + rules.lag_days
        if opening < world.horizon:
            world.pools[pool].schedule(opening, places)
            world.log.pool_schedules[pool] = world.pools[pool].steps()
            world.log.event(opening, R.EV_PLACES_OPENED, -1, float(places))

    def _staff(self, day: float, pressure: float) -> None:
        rules, world = self.rules.staffing, self.world
        target = self.base_capacity * pressure ** rules.elasticity
        recruits = int(rules.share_of_gap * (target - self.team) + 0.5)  # whole caseworkers, rounded
        if recruits < 1:
            return  # at or above the target: the team never shrinks
        self.team += recruits
        start = day + rules.lag_days
        if start < world.horizon:
            world.team.schedule(start, recruits)
            world.log.event(start, R.EV_TEAM_CAPACITY, -1, float(self.team))


def council_metrics(params: Parameters, ev_day: np.ndarray, ev_code: np.ndarray, ev_value: np.ndarray, fy_index: np.ndarray) -> dict[str, np.ndarray]:
    """The status-quo metrics by financial year: extra special places open at the census, the capital
    of places commissioned in the year, and the assessment team at the census."""
    cal, rules = params.calendar, params.status_quo
    n_fy = len(cal.fy_bounds())
    census = np.array([day for _, day in cal.census_days()])
    opened = ev_code == R.EV_PLACES_OPENED
    open_days, open_places = ev_day[opened], ev_value[opened]
    out = {"special_places_commissioned": np.array([open_places[open_days <= day].sum() for day in census], dtype=float)}
    committed = ev_code == R.EV_PLACES_COMMISSIONED
    capital = rules.commissioning.capital_gbp_per_place if rules is not None and rules.commissioning is not None else 0.0
    out["capital_commissioned_gbp"] = np.bincount(fy_index[committed], weights=ev_value[committed], minlength=n_fy)[:n_fy] * capital
    team = ev_code == R.EV_TEAM_CAPACITY
    team_days, team_sizes = ev_day[team], ev_value[team]  # in order of day; the team only grows
    base = float(params.assessment.team_capacity)
    out["assessment_team_capacity"] = np.array([team_sizes[team_days <= day].max(initial=base) for day in census], dtype=float)
    return out
