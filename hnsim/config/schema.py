"""The configuration schema: every input of the simulation, validated before anything runs.

A config is YAML loaded into frozen pydantic models that refuse unknown keys. Every numeric input
is a *sourced* value: ``{value: ..., source: "..."}``, where the source cites a published statistic
or starts with ``assumption:`` and gives the reasoning. Rates are hazards per year, durations are
distributions in days, money is pounds a year at the price base.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from hnsim.config.base import (  # noqa: F401  (re-exported: the vocabularies belong to the schema)
    AGE_BANDS,
    NEEDS,
    PHASES,
    SETTINGS,
    SPECIAL_POOLS,
    SPEND_LINES,
    Count,
    Frozen,
    Growth,
    Money,
    NonNegative,
    Probability,
    Rate,
    Sourced,
)
from hnsim.config.calibration import CalibrationSpec
from hnsim.config.levers import Lever


class Distribution(Frozen):
    """A duration or size distribution given as data.

    ``fixed`` (value), ``exponential`` (mean), ``uniform`` (low, high), ``triangular``
    (low, mode, high), ``lognormal`` (mean, sd: of the variable itself, not its log), ``gamma``
    (mean, sd).
    """

    dist: Literal["fixed", "exponential", "uniform", "triangular", "lognormal", "gamma"]
    value: NonNegative | None = None
    mean: NonNegative | None = None
    sd: NonNegative | None = None
    low: NonNegative | None = None
    mode: NonNegative | None = None
    high: NonNegative | None = None
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _parameters_present(self) -> "Distribution":
        needed = {
            "fixed": ("value",),
            "exponential": ("mean",),
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "lognormal": ("mean", "sd"),
            "gamma": ("mean", "sd"),
        }[self.dist]
        missing = [p for p in needed if getattr(self, p) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(needed)}; missing {', '.join(missing)}")
        if self.dist in ("uniform", "triangular") and self.low > self.high:
            raise ValueError("low must not exceed high")
        if self.dist == "triangular" and not (self.low <= self.mode <= self.high):
            raise ValueError("mode must lie between low and high")
        if self.dist in ("lognormal", "gamma") and self.mean == 0:
            raise ValueError("mean must be > 0")
        return self

    def mean_value(self) -> float:
        """Expected value of the distribution."""
        if self.dist == "fixed":
            return float(self.value)
        if self.dist in ("exponential", "lognormal", "gamma"):
            return float(self.mean)
        if self.dist == "uniform":
            return (self.low + self.high) / 2
        return (self.low + self.mode + self.high) / 3


class Trend(Frozen):
    """Proportional change per year in a rate, applied between two dates (constant outside)."""

    growth_per_year: Sourced[Growth]
    from_date: dt.date
    until_date: dt.date | None = Field(None, description="last date of growth; none means to the horizon")

    @model_validator(mode="after")
    def _ordered(self) -> "Trend":
        if self.until_date is not None and self.until_date < self.from_date:
            raise ValueError("until_date must not be before from_date")
        return self


def _check_keys(mapping: dict, allowed: tuple[str, ...], what: str) -> dict:
    bad = [k for k in mapping if k not in allowed]
    if bad:
        raise ValueError(f"unknown {what} {', '.join(map(str, bad))}; allowed: {', '.join(allowed)}")
    return mapping


def _check_shares(shares: dict[str, float], what: str) -> None:
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{what} must sum to 1 (got {total:.6f})")


class PhaseRates(Frozen):
    """A hazard per year for each phase (missing phases have rate 0)."""

    value: dict[str, Rate]
    source: str = Field(min_length=3)

    @field_validator("value")
    @classmethod
    def _phases(cls, v: dict) -> dict:
        return _check_keys(v, PHASES, "phase")


class NeedMultipliers(Frozen):
    """Relative hazard by primary need (missing needs have 1)."""

    value: dict[str, NonNegative]
    source: str = Field(min_length=3)

    @field_validator("value")
    @classmethod
    def _needs(cls, v: dict) -> dict:
        return _check_keys(v, NEEDS, "need")


class ShareTable(Frozen):
    """Shares summing to 1 for each phase, over a fixed set of categories."""

    value: dict[str, dict[str, Probability]]
    source: str = Field(min_length=3)


class Meta(Frozen):
    name: str
    description: str = ""
    local_authority: str
    new_la_code: str | None = None
    old_la_code: str | None = None


class Simulation(Frozen):
    start_date: dt.date = Field(description="first day simulated; 1 April starts a financial year")
    end_date: dt.date = Field(description="last day simulated; 31 March ends a financial year")
    census_month: int = Field(1, ge=1, le=12)
    census_day: int = Field(17, ge=1, le=28, description="day of the month of the school census")
    seed: int = Field(20190101, ge=0, description="root seed used when none is given on the command line")
    replications: int = Field(5, ge=1)

    @model_validator(mode="after")
    def _dates(self) -> "Simulation":
        if self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date")
        if (self.start_date.month, self.start_date.day) != (4, 1):
            raise ValueError("start_date must be 1 April (the start of a financial year)")
        if (self.end_date.month, self.end_date.day) != (3, 31):
            raise ValueError("end_date must be 31 March (the end of a financial year)")
        return self


class InitialPopulation(Frozen):
    """Children already known at the start date."""

    sen_support_by_age: Sourced[dict[int, Count]] = Field(description="children on SEN support or early intervention by age in years at the start date, ages 0-15")
    ehcp_by_age_band: Sourced[dict[str, Count]] = Field(description="EHCPs and statements by age band")
    ehcp_setting_shares: ShareTable = Field(description="setting of existing plans by phase")
    enhanced_share: Sourced[Probability] = Field(description="share of SEN support at the enhanced level (MyPlan+)")
    ap_pupils_without_plan: Sourced[Count]
    ehe_without_plan: Sourced[Count]

    @field_validator("sen_support_by_age")
    @classmethod
    def _ages(cls, v: Sourced) -> Sourced:
        bad = [a for a in v.value if not 0 <= a <= 15]
        if bad:
            raise ValueError(f"ages must be 0..15, got {bad}")
        return v

    @field_validator("ehcp_by_age_band")
    @classmethod
    def _bands(cls, v: Sourced) -> Sourced:
        _check_keys(v.value, AGE_BANDS, "age band")
        return v

    @field_validator("ehcp_setting_shares")
    @classmethod
    def _settings(cls, v: ShareTable) -> ShareTable:
        _check_keys(v.value, PHASES, "phase")
        for phase, shares in v.value.items():
            _check_keys(shares, SETTINGS, "setting")
            _check_shares(shares, f"setting shares for {phase}")
        return v


class Identification(Frozen):
    """Children becoming known to the system with an additional need."""

    new_per_year: Sourced[NonNegative] = Field(description="children newly identified per year at the start date")
    trend: Trend | None = None
    age_weights: Sourced[dict[int, NonNegative]] = Field(description="relative weights of age at identification, ages 0-15")
    need_shares: ShareTable = Field(description="primary need of children identified, by phase")

    @field_validator("age_weights")
    @classmethod
    def _ages(cls, v: Sourced) -> Sourced:
        bad = [a for a in v.value if not 0 <= a <= 15]
        if bad:
            raise ValueError(f"ages must be 0..15, got {bad}")
        if sum(v.value.values()) <= 0:
            raise ValueError("age weights must not all be zero")
        return v

    @field_validator("need_shares")
    @classmethod
    def _needs(cls, v: ShareTable) -> ShareTable:
        _check_keys(v.value, PHASES, "phase")
        for phase, shares in v.value.items():
            _check_keys(shares, NEEDS, "need")
            _check_shares(shares, f"need shares for {phase}")
        return v


class SenSupport(Frozen):
    """Hazards for children on early intervention or SEN support (no plan)."""

    request_rate: PhaseRates = Field(description="hazard per year of a request for an EHC needs assessment")
    request_trend: Trend | None = None
    request_multiplier_by_year: Sourced[dict[str, NonNegative]] | None = Field(None, description="multiplier on the request hazard by financial year, e.g. '2015-16'; a later year keeps the last multiplier listed, an earlier one the first; captures the years of the 2014 reforms that a smooth trend cannot")
    request_need_multiplier: NeedMultipliers
    enhanced_request_multiplier: Sourced[NonNegative] = Field(description="relative request hazard at the enhanced level (MyPlan+)")
    escalation_to_enhanced_rate: PhaseRates
    step_down_rate: PhaseRates = Field(description="hazard per year of leaving SEN support with needs met")
    move_away_rate: PhaseRates
    exclusion_rate: PhaseRates = Field(description="hazard per year of permanent exclusion")
    exclusion_trend: Trend | None = None
    exclusion_need_multiplier: NeedMultipliers
    ehe_rate: PhaseRates = Field(description="hazard per year of de-registration to elective home education")
    ehe_trend: Trend | None = None


class AlternativeProvision(Frozen):
    """Pupils in AP (PRUs and AP academies)."""

    reintegration_rate: PhaseRates = Field(description="hazard per year of returning to a mainstream school")
    direct_entries_per_year: Sourced[NonNegative] = Field(description="pupils not yet known to the SEN system placed in AP per year (exclusions of pupils without identified SEN, medical placements), ages 11-15")
    direct_entry_exclusion_share: Sourced[Probability] = Field(description="share of direct entries that are permanent exclusions")
    ehe_return_rate: PhaseRates = Field(description="hazard per year of a child in EHE returning to school")


class Assessment(Frozen):
    """The EHC needs assessment process."""

    decision_days: Distribution = Field(description="days from request to the decision whether to assess (statutory 6 weeks)")
    refusal_probability: Sourced[Probability]
    refusal_probability_by_year: Sourced[dict[str, Probability]] | None = Field(None, description="overrides by financial year, e.g. '2018-19'")
    appeal_probability: Sourced[Probability] = Field(description="share of refusals appealed to the SEND Tribunal")
    tribunal_days: Distribution
    tribunal_finds_for_parents: Sourced[Probability]
    team_capacity: Sourced[Annotated[int, Field(ge=1, description="a whole number >= 1")]] = Field(description="assessments the team can carry at once (educational psychologists and caseworkers)")
    assessment_days: Distribution = Field(description="days of assessment work once a caseworker is free")
    drafting_days: Distribution = Field(description="days from assessment to the final plan")
    plan_probability: Sourced[Probability] = Field(description="share of assessed children issued a plan")
    deadline_weeks: int = Field(20, ge=1)


class SpecialFull(Frozen):
    independent_probability: Sourced[Probability] = Field(description="share of children who go to an independent placement when no special place is free; the rest wait in mainstream with a top-up")
    max_wait_days: Sourced[NonNegative] | None = Field(None, description="after this wait in mainstream, an independent placement is made")


class PhaseTransfer(Frozen):
    """Placement reconsidered at reception, year 7, year 12 and age 19."""

    mainstream_to_special_probability: Sourced[dict[str, Probability]] = Field(description="by phase entered: primary (reception), secondary (year 7)")
    post16_destinations: ShareTable = Field(description="at year 12, by current setting group (school, special, independent): shares over stay, post16_fe, post16_specialist, cease")
    post19_continue_probability: Sourced[Probability] = Field(description="share of plans that continue at age 19")
    post16_cease_probability_by_year: Sourced[dict[str, Probability]] | None = Field(None, description="extra share of plans ceasing at year 12 by financial year of the transfer (statements ending at 16 under the rules before the 2014 reforms, during the transition)")


class Placement(Frozen):
    first_setting_shares: ShareTable = Field(description="setting named in a new plan, by phase")
    special_need_multiplier: NeedMultipliers = Field(description="relative odds of a special (rather than mainstream) setting, by need")
    when_special_full: SpecialFull
    transfer: PhaseTransfer


class EhcpHazards(Frozen):
    """Hazards for children and young people holding a plan."""

    mainstream_to_special_rate: PhaseRates
    mainstream_to_special_need_multiplier: NeedMultipliers
    special_to_mainstream_rate: PhaseRates
    independent_to_special_rate: PhaseRates = Field(description="hazard per year of returning from an independent to a maintained special place when one is free")
    exclusion_rate: PhaseRates
    exclusion_need_multiplier: NeedMultipliers
    ap_return_rate: PhaseRates = Field(description="hazard per year of leaving AP for mainstream")
    ehe_rate: PhaseRates
    ceasing_needs_met_rate: PhaseRates
    move_away_rate: PhaseRates
    leave_education_rate: PhaseRates = Field(description="hazard per year of ceasing on leaving education or training (post-16)")
    move_in_per_year: Sourced[NonNegative] = Field(description="children and young people with plans moving into the area per year")
    move_in_age_weights: Sourced[dict[int, NonNegative]]
    post16_conversions_by_year: Sourced[dict[str, NonNegative]] = Field(description="young people in FE given plans by financial year (conversion of learning difficulty assessments after 2014)")


class Capacity(Frozen):
    """Special school places: commissioned places by pool and expansions on dates."""

    places: Sourced[dict[str, Count]] = Field(description="commissioned places at the start date: special_primary, special_secondary, special_post16, semh_secondary")
    expansions: list["Expansion"] = Field(default_factory=list)

    @field_validator("places")
    @classmethod
    def _pools(cls, v: Sourced) -> Sourced:
        _check_keys(v.value, SPECIAL_POOLS, "pool")
        return v


class Expansion(Frozen):
    date: dt.date
    pool: Literal["special_primary", "special_secondary", "special_post16", "semh_secondary"]
    places: int = Field(description="places added (negative removes)")
    source: str = Field(min_length=3)


class SettingCost(Frozen):
    """Annual cost of one child in a setting, charged to a spend line."""

    line: Literal["mainstream_topups", "special", "independent", "ap", "post16", "other"]
    annual_gbp: dict[str, Money] = Field(description="per pupil per year by phase; 'all' applies to every phase")
    source: str = Field(min_length=3)

    @field_validator("annual_gbp")
    @classmethod
    def _phases(cls, v: dict) -> dict:
        return _check_keys(v, PHASES + ("all",), "phase")


class Costs(Frozen):
    """Unit costs at the price base year, and inflation by spend line."""

    price_base_year: str = Field(description="financial year the unit costs are priced in, e.g. '2018-19'")
    settings: dict[str, SettingCost] = Field(description="per-pupil cost for each setting key (see docs), e.g. mainstream, special, ap_no_plan")
    special_place_funding_gbp: Sourced[Money] = Field(description="place funding per commissioned special place per year")
    inflation: Sourced[dict[str, Growth]] = Field(description="cost growth per year by spend line")
    central_spend_gbp: Sourced[Money] = Field(description="other High Needs spend not tied to a placement (sensory, hospital education, support services), per year at the price base")

    @field_validator("settings")
    @classmethod
    def _settings(cls, v: dict) -> dict:
        return _check_keys(v, COST_KEYS, "cost key")

    @field_validator("inflation")
    @classmethod
    def _lines(cls, v: Sourced) -> Sourced:
        _check_keys(v.value, SPEND_LINES, "spend line")
        return v


COST_KEYS = (
    "mainstream",
    "mainstream_waiting",
    "resourced",
    "special",
    "semh_special",
    "independent",
    "ap",
    "post16_fe",
    "post16_specialist",
    "ehe",
    "early_years",
    "other",
    "ap_no_plan",
    "bespoke",
)


class Finance(Frozen):
    hnb_allocation_gbp: Sourced[dict[str, Money]] = Field(description="High Needs Block allocation by financial year")
    allocation_growth_after: Sourced[Growth] = Field(description="growth per year of the allocation after the last year given")
    opening_cumulative_deficit_gbp: Sourced[float] = Field(description="cumulative DSG high-needs deficit at the start date (negative means a surplus)")


class Config(Frozen):
    """A whole hnsim configuration."""

    meta: Meta
    simulation: Simulation
    initial_population: InitialPopulation
    identification: Identification
    sen_support: SenSupport
    alternative_provision: AlternativeProvision
    assessment: Assessment
    placement: Placement
    ehcp: EhcpHazards
    capacity: Capacity
    costs: Costs
    finance: Finance
    levers: dict[str, Lever] = Field(default_factory=dict, description="strategy levers by name; each off unless enabled")
    calibration: CalibrationSpec | None = None

    @model_validator(mode="after")
    def _financial_years(self) -> "Config":
        for label in self.finance.hnb_allocation_gbp.value:
            _parse_fy(label)
        _parse_fy(self.costs.price_base_year)
        if self.assessment.refusal_probability_by_year is not None:
            for label in self.assessment.refusal_probability_by_year.value:
                _parse_fy(label)
        for label in self.ehcp.post16_conversions_by_year.value:
            _parse_fy(label)
        for by_year in (self.sen_support.request_multiplier_by_year, self.placement.transfer.post16_cease_probability_by_year):
            for label in by_year.value if by_year is not None else ():
                _parse_fy(label)
        for name, lever in self.levers.items():
            if lever.enabled and lever.bespoke_share is not None and "bespoke" not in self.costs.settings:
                raise ValueError(f"lever {name} places children in bespoke packages: costs.settings needs a 'bespoke' entry")
        return self


def _parse_fy(label: str) -> int:
    """Return the starting calendar year of a financial year label like '2018-19'."""
    try:
        first, second = label.split("-")
        start = int(first)
        if len(second) != 2 or int(second) != (start + 1) % 100:
            raise ValueError
        return start
    except ValueError:
        raise ValueError(f"'{label}' is not a financial year; write it like '2018-19'") from None


Capacity.model_rebuild()


def config_dict(config: Config) -> dict[str, Any]:
    """The config as plain data (dates as ISO strings), for manifests and hashing."""
    return config.model_dump(mode="json")
