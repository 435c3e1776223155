"""Status-quo policies: how the council itself responds to pressure, with or without the strategy.

Without this section the model holds capacity where the config leaves it: special places stay at
their fitted level and the assessment team never grows. No council behaves like that. The optional
``status_quo:`` section describes three responses the council makes at an annual review (a date
each year), on which the strategy's levers then act:

- ``commissioning``: when too many children wait for a special place, or too many are placed
  independent because no special place was free, commission more special places in the pool with
  the most unmet demand; they open after a lag, up to a ceiling, at a capital cost each;
- ``staffing``: the EHC needs assessment team grows with requests, partly and late, and never shrinks;
- ``gatekeeping``: refusals to assess rise with requests; tribunals reverse part of them as before.

Pressure on requests is measured against a reference financial year of the same run: the
requests the model made in the 12 months before a review divided by those of ``reference_year``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from hnsim.config.base import Count, FinancialYear, Frozen, Money, Probability, Sourced, financial_year_start

PoolName = Literal["special_primary", "special_secondary", "special_post16", "semh_secondary"]
Positive = Annotated[int, Field(ge=1, description="a whole number >= 1")]
Elasticity = Annotated[float, Field(ge=0.0, le=2.0, description="an elasticity, 0..2")]
Days = Annotated[float, Field(ge=0.0, le=3650.0, description="days, 0..3650")]


class Commissioning(Frozen):
    """New special places commissioned at the annual review when the waiting list or the
    independent placements made for want of a place exceed their thresholds.

    At each review from ``from_date``: if more than ``waiting_threshold`` children wait in mainstream
    for a special place, or more than ``independent_threshold`` were placed independent in the 12
    months before because no special place was free, the council commissions ``places_per_step``
    places (fewer if the ``ceiling`` is near) in the pool with the most unmet demand (children
    waiting for it plus those placed independent for want of it in the 12 months). They open
    ``lag_days`` after the review, and are funded from then on as commissioned places
    (``costs.special_place_funding_gbp``); each costs ``capital_gbp_per_place`` once, reported as
    capital (``capital_commissioned_gbp``), not charged to the High Needs Block.
    """

    from_date: dt.date = Field(description="first day a review may commission places")
    waiting_threshold: Sourced[Count] = Field(description="children waiting for a special place at the review above which places are commissioned")
    independent_threshold: Sourced[Count] = Field(description="independent placements made in the 12 months before the review because no special place was free, above which places are commissioned")
    places_per_step: Sourced[Positive] = Field(description="places commissioned at one review")
    lag_days: Sourced[Days] = Field(description="days from the review to the places opening (1 April to 1 September is 153)")
    ceiling: Sourced[Count] = Field(description="most places commissioned in all (a review commissions only what the ceiling leaves)")
    capital_gbp_per_place: Sourced[Money] = Field(description="capital cost of one new place, pounds at the price base, paid once when commissioned")
    pools: list[PoolName] = Field(default_factory=lambda: ["special_primary", "special_secondary", "special_post16", "semh_secondary"],
                                  description="pools the council may commission places in (default all)")

    @model_validator(mode="after")
    def _some_pool(self) -> "Commissioning":
        if not self.pools:
            raise ValueError("pools must name at least one special place pool")
        if len(set(self.pools)) != len(self.pools):
            raise ValueError("pools must not repeat a pool")
        return self


class Staffing(Frozen):
    """The EHC needs assessment team grows with requests, partly and late, and never shrinks.

    At each review from ``from_date`` the target is ``assessment.team_capacity`` x (requests in the 12
    months before / requests in ``reference_year``) ^ ``elasticity``; the council closes
    ``share_of_gap`` of the gap between the target and the team it has already decided on (rounded
    to whole caseworkers), effective ``lag_days`` after the review. A target below the team is
    ignored: the team only grows.
    """

    from_date: dt.date = Field(description="first day a review may grow the team")
    elasticity: Sourced[Elasticity] = Field(description="proportional growth of the target team per proportional growth of requests (1: in step)")
    share_of_gap: Sourced[Probability] = Field(description="share of the gap to the target closed at one review")
    lag_days: Sourced[Days] = Field(description="days from the review to the new caseworkers starting (recruitment)")


class Gatekeeping(Frozen):
    """Refusals to assess rise with the pressure of requests.

    From each review on or after ``from_date`` until the next, the probability of refusing to assess
    rises by ``refusal_per_pressure`` x (requests in the 12 months before the review / requests in
    ``reference_year`` - 1), never below the rate without pressure and never above
    ``max_refusal_probability`` (a rate already above it is left as it is). Refusals are appealed and
    found for parents at the config's rates (``assessment.appeal_probability``,
    ``assessment.tribunal_finds_for_parents``), so part of them is reversed.
    """

    from_date: dt.date = Field(description="first day of a review that may raise refusals")
    refusal_per_pressure: Sourced[Annotated[float, Field(ge=0.0, le=2.0, description="a number, 0..2")]] = Field(description="rise in the refusal probability per unit of pressure (requests over the reference, minus 1)")
    max_refusal_probability: Sourced[Probability] = Field(description="the refusal probability that pressure never raises refusals above")


class StatusQuo(Frozen):
    """The council's own responses to pressure (status-quo policies), reviewed once a year.

    Each policy is off unless given. ``reference_year`` is the financial year whose simulated
    requests measure the pressure of requests (staffing and gatekeeping need it).
    """

    review_month: int = Field(4, ge=1, le=12, description="month of the annual review")
    review_day: int = Field(1, ge=1, le=28, description="day of the month of the annual review")
    reference_year: FinancialYear | None = Field(None, description="financial year whose requests are the reference for the pressure of requests, e.g. '2018-19'")
    commissioning: Commissioning | None = None
    staffing: Staffing | None = None
    gatekeeping: Gatekeeping | None = None

    @model_validator(mode="after")
    def _reference_before_use(self) -> "StatusQuo":
        users = [(name, policy) for name, policy in (("staffing", self.staffing), ("gatekeeping", self.gatekeeping)) if policy is not None]
        if users and self.reference_year is None:
            raise ValueError(f"{users[0][0]} measures the pressure of requests: give reference_year (a financial year, e.g. '2018-19')")
        if self.reference_year is not None:
            reference_end = dt.date(financial_year_start(self.reference_year) + 1, 4, 1)
            for name, policy in users:
                if policy.from_date < reference_end:
                    raise ValueError(f"{name}.from_date ({policy.from_date}) must be on or after the end of reference_year {self.reference_year} ({reference_end})")
        return self

    def check_dates(self, start_date: dt.date, end_date: dt.date) -> list[str]:
        """Problems with the section's dates given the simulated period (empty if none)."""
        problems = []
        if self.reference_year is not None:
            first = dt.date(financial_year_start(self.reference_year), 4, 1)
            # a run that ends earlier (a fit to earlier years) never reaches the policies that use it
            if first < start_date:
                problems.append(f"status_quo.reference_year {self.reference_year} must not start before the simulated period ({start_date} to {end_date})")
        return problems
