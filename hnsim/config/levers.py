"""Strategy levers: each a costed, lagged mechanism acting through the model's hazards, capacities,
placement choices and money, with an uncertain effect size sampled once per replication.

A lever is off unless ``enabled``. From ``start_date`` its effect ramps up linearly over
``ramp_up_years`` to its full size; its running cost starts on ``start_date`` (money is spent before
it works). Effect sizes are ranges ``{low, high}`` sampled uniformly, once per replication, stratified over
the replications (each effect its own nested-stratified sequence, keyed by the lever and the
effect), so a scenario's result carries both the uncertainty of the effect and the randomness of
the children's paths.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from hnsim.config.base import PHASES, Frozen, Money, Sourced

#: Hazards a lever can change, by name (see docs/levers.md for what each is).
LEVER_HAZARDS = (
    "identification",
    "sen_support.request",
    "sen_support.escalation",
    "sen_support.step_down",
    "sen_support.exclusion",
    "sen_support.ehe",
    "ap.reintegration",
    "ehcp.mainstream_to_special",
    "ehcp.exclusion",
    "ehcp.ap_return",
    "ehcp.ceasing_needs_met",
    "ehcp.leave_education",
)

PoolName = Literal["special_primary", "special_secondary", "special_post16", "semh_secondary"]


class EffectRange(Frozen):
    """An uncertain effect size: drawn uniformly between ``low`` and ``high`` once per replication,
    stratified over the replications (any first 2^m replications hold one draw in each 2^m-th of the range)."""

    low: float
    high: float
    source: str = Field(min_length=3, description="evidence for the range, or 'assumption: ...'")

    @model_validator(mode="after")
    def _ordered(self) -> "EffectRange":
        if self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


class HazardEffect(Frozen):
    """A proportional change in a hazard at full effect: -0.2 means 20% lower."""

    hazard: Literal[LEVER_HAZARDS]  # type: ignore[valid-type]
    phases: list[Literal[PHASES]] = Field(default_factory=lambda: list(PHASES), description="phases affected (default all)")  # type: ignore[valid-type]
    change: EffectRange

    @field_validator("change")
    @classmethod
    def _not_below_minus_one(cls, v: EffectRange) -> EffectRange:
        if v.low < -1.0:
            raise ValueError("a hazard cannot fall by more than 100% (low must be >= -1)")
        return v


class ExtraPlaces(Frozen):
    """Special places opening on a date, possibly late by an uncertain number of months."""

    pool: PoolName
    places: int = Field(ge=0)
    opening_date: dt.date
    delay_months: EffectRange | None = Field(None, description="uncertain delay to opening, months (>= 0)")
    source: str = Field(min_length=3)


class DoseResponse(Frozen):
    """Effects that grow with the money spent: sizes are multiplied by (cost / reference) ** exponent.

    An exponent below 1 gives diminishing returns; 0 makes the effect independent of the cost.
    """

    reference_annual_cost_gbp: float = Field(gt=0, description="the annual cost at which the effect ranges apply")
    exponent: float = Field(ge=0, le=2)
    source: str = Field(min_length=3)


class Lever(Frozen):
    """One action of the strategy as a mechanism."""

    enabled: bool = False
    label: str | None = Field(None, min_length=2, max_length=40, description="a short name for figures and tables, e.g. 'LINC funding' (default: the label table's, else the name)")
    description: str = Field(min_length=3, description="the action in the strategy's words")
    start_date: dt.date
    end_date: dt.date | None = Field(None, description="the effect and the cost stop on this date (a temporary shock or a pilot); none means never")
    ramp_up_years: Sourced[float] = Field(description="years from start to full effect (0 = at once)")
    annual_cost_gbp: Sourced[Money] = Field(description="running cost per year at the price base, charged from the start date")
    dose_response: DoseResponse | None = Field(None, description="scale hazard and probability effects with annual_cost_gbp (for sweeps and goal-seek over funding)")
    hazard_effects: list[HazardEffect] = Field(default_factory=list)
    extra_places: list[ExtraPlaces] = Field(default_factory=list)
    refusal_change: EffectRange | None = Field(None, description="absolute change in the probability of refusing to assess")
    plan_probability_change: EffectRange | None = Field(None, description="absolute change in the probability an assessment ends in a plan")
    appeal_change: EffectRange | None = Field(None, description="absolute change in the share of refusals appealed")
    transfer_to_special_change: EffectRange | None = Field(None, description="proportional change in moves to special school at phase transfer")
    bespoke_share: EffectRange | None = Field(None, description="share of would-be independent placements given a bespoke package instead")
    post16_specialist_to_fe_share: EffectRange | None = Field(None, description="share of specialist post-16 destinations that become FE or supported internships")
    allocation_transfer_gbp: EffectRange | None = Field(None, description="money moved into the High Needs Block each year (e.g. schools block transfer)")

    @field_validator("ramp_up_years")
    @classmethod
    def _ramp(cls, v: Sourced) -> Sourced:
        if v.value < 0:
            raise ValueError("ramp_up_years must be >= 0")
        return v

    @model_validator(mode="after")
    def _shares(self) -> "Lever":
        if self.end_date is not None and self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date")
        for name in ("bespoke_share", "post16_specialist_to_fe_share"):
            rng = getattr(self, name)
            if rng is not None and not (0.0 <= rng.low <= rng.high <= 1.0):
                raise ValueError(f"{name} must lie within 0..1")
        for place in self.extra_places:
            if place.delay_months is not None and place.delay_months.low < 0:
                raise ValueError("delay_months must be >= 0")
        return self
