"""The configuration schema: every input of the simulation, validated before anything runs.

A config is YAML loaded into frozen pydantic models that refuse unknown keys. Every numeric input
is a *sourced* value: ``{value: ..., source: "..."}``, where the source cites a published statistic
or starts with ``assumption:`` and gives the reasoning. Rates are hazards per year, durations are
distributions in days, money is pounds a year at the price base.
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from hnsim.config.base import (  # noqa: F401  (re-exported: the vocabularies belong to the schema)
    AGE_BANDS,
    NEEDS,
    PHASES,
    POST16_DESTINATIONS,
    POST16_GROUPS,
    SETTINGS,
    SHARE_TOLERANCE,
    SPECIAL_POOLS,
    SPEND_LINES,
    TRANSFER_PHASES,
    Count,
    FinancialYear,
    Frozen,
    Growth,
    Money,
    NeedKey,
    NonNegative,
    PhaseKey,
    Probability,
    Rate,
    Sourced,
    age_key,
    key_of,
    shares_of,
)
from hnsim.config.calibration import CalibrationSpec
from hnsim.config.levers import Lever
from hnsim.config.trends import Trends
from hnsim.config.status_quo import StatusQuo


class _Family(Frozen):
    """A distribution family: before its fields are validated, it checks it was given exactly them."""

    @model_validator(mode="before")
    @classmethod
    def _exactly_its_parameters(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        allowed = tuple(cls.model_fields)
        parameters = [k for k in allowed if k not in ("dist", "source")]
        extra = [str(k) for k in data if k not in allowed]
        missing = [k for k in allowed if k not in data]
        if extra or missing:
            said = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"{', '.join(extra)} not allowed"] if extra else [])
            name = typing.get_args(cls.model_fields["dist"].annotation)[0]
            raise ValueError(f"a {name} distribution takes exactly {', '.join(parameters)} and source ({'; '.join(said)})")
        return data


class FixedDistribution(_Family):
    """Always ``value``."""

    dist: Literal["fixed"]
    value: NonNegative
    source: str = Field(min_length=3)


class ExponentialDistribution(_Family):
    """Exponential with the given ``mean``."""

    dist: Literal["exponential"]
    mean: NonNegative
    source: str = Field(min_length=3)


class UniformDistribution(_Family):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: NonNegative
    high: NonNegative
    source: str = Field(min_length=3)


    @model_validator(mode="after")
    def _ordered(self) -> "UniformDistribution":
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


class TriangularDistribution(_Family):
    """Triangular from ``low`` to ``high`` with its peak at ``mode``."""

    dist: Literal["triangular"]
    low: NonNegative
    mode: NonNegative
    high: NonNegative
    source: str = Field(min_length=3)


    @model_validator(mode="after")
    def _ordered(self) -> "TriangularDistribution":
        if not (self.low <= self.mode <= self.high):
            raise ValueError(f"mode must lie between low and high (got low {self.low}, mode {self.mode}, high {self.high})")
        return self


class LognormalDistribution(_Family):
    """Lognormal with the ``mean`` and ``sd`` of the variable itself (not of its log)."""

    dist: Literal["lognormal"]
    mean: Annotated[float, Field(gt=0.0, description="a number > 0")]
    sd: NonNegative
    source: str = Field(min_length=3)


class GammaDistribution(_Family):
    """Gamma with the given ``mean`` and ``sd``."""

    dist: Literal["gamma"]
    mean: Annotated[float, Field(gt=0.0, description="a number > 0")]
    sd: NonNegative
    source: str = Field(min_length=3)


DISTRIBUTIONS: dict[str, type[Frozen]] = {
    "fixed": FixedDistribution,
    "exponential": ExponentialDistribution,
    "uniform": UniformDistribution,
    "triangular": TriangularDistribution,
    "lognormal": LognormalDistribution,
    "gamma": GammaDistribution,
}


def _distribution_tag(data: Any) -> str | None:
    """The union member named by ``dist``; the tag is dropped from error paths (see ``load``)."""
    kind = data.get("dist") if isinstance(data, dict) else getattr(data, "dist", None)
    return f"dist={kind}" if kind in DISTRIBUTIONS else None


#: A duration or size distribution given as data, ``{dist: <family>, <its parameters>, source}``:
#: ``fixed`` (value), ``exponential`` (mean), ``uniform`` (low, high), ``triangular`` (low, mode,
#: high), ``lognormal`` (mean, sd: of the variable itself, not its log), ``gamma`` (mean, sd).
#: Each family takes exactly its own parameters.
Distribution = Annotated[
    Union[tuple(Annotated[cls, Tag(f"dist={name}")] for name, cls in DISTRIBUTIONS.items())],  # type: ignore[valid-type]
    Discriminator(
        _distribution_tag,
        custom_error_type="distribution_family",
        custom_error_message="dist must be one of: {allowed}",
        custom_error_context={"allowed": ", ".join(DISTRIBUTIONS)},
    ),
]


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


class PhaseRates(Frozen):
    """A hazard per year for each phase (missing phases have rate 0)."""

    value: dict[PhaseKey, Rate]
    source: str = Field(min_length=3)


class NeedMultipliers(Frozen):
    """Relative hazard by primary need (missing needs have 1)."""

    value: dict[NeedKey, NonNegative]
    source: str = Field(min_length=3)


class SettingShares(Frozen):
    """For each phase, shares over the settings a plan names, summing to 1 (a setting left out has 0).

    A phase left out takes a mainstream setting.
    """

    value: dict[PhaseKey, shares_of(SETTINGS, "setting")]  # type: ignore[valid-type]
    source: str = Field(min_length=3)


class NeedShares(Frozen):
    """For each phase, shares over the primary needs, summing to 1 (a need left out has 0).

    A phase left out takes the primary shares.
    """

    value: dict[PhaseKey, shares_of(NEEDS, "need")]  # type: ignore[valid-type]
    source: str = Field(min_length=3)


class Post16Destinations(Frozen):
    """For each setting group at year 12 (school, special, independent), shares over the
    destinations stay, post16_fe, post16_specialist and cease, summing to 1. A group left out stays."""

    value: dict[key_of(POST16_GROUPS, "setting group at year 12"), shares_of(POST16_DESTINATIONS, "post-16 destination")]  # type: ignore[valid-type]
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
    census_month: int = Field(1, ge=1, le=12, description="month of the school census; the census of a financial year falls in that month of its first calendar year (April-December) or of its second (January-March)")
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

    sen_support_by_age: Sourced[dict[age_key(0, 15), Count]] = Field(description="children on SEN support or early intervention by age in years at the start date, ages 0-15")
    ehcp_by_age_band: Sourced[dict[key_of(AGE_BANDS, "age band"), Count]] = Field(description="EHCPs and statements by age band")
    ehcp_setting_shares: SettingShares = Field(description="setting of existing plans by phase")
    enhanced_share: Sourced[Probability] = Field(description="share of SEN support at the enhanced level (MyPlan+)")
    ap_pupils_without_plan: Sourced[Count]
    ehe_without_plan: Sourced[Count]


class Identification(Frozen):
    """Children becoming known to the system with an additional need."""

    new_per_year: Sourced[NonNegative] = Field(description="children newly identified per year at the start date")
    trend: Trend | None = None
    age_weights: Sourced[dict[age_key(0, 15), NonNegative]] = Field(description="relative weights of age at identification, ages 0-15")
    need_shares: NeedShares = Field(description="primary need of children identified, by phase")

    @field_validator("age_weights")
    @classmethod
    def _some_weight(cls, v: Sourced) -> Sourced:
        if sum(v.value.values()) <= 0:
            raise ValueError("age weights must not all be zero")
        return v


class SenSupport(Frozen):
    """Hazards for children on early intervention or SEN support (no plan)."""

    request_rate: PhaseRates = Field(description="hazard per year of a request for an EHC needs assessment")
    request_trend: Trend | None = None
    request_multiplier_by_year: Sourced[dict[FinancialYear, NonNegative]] | None = Field(None, description="multiplier on the request hazard by financial year, e.g. '2015-16'; a later year keeps the last multiplier listed, an earlier one the first; captures the years of the 2014 reforms that a smooth trend cannot")
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
    refusal_probability_by_year: Sourced[dict[FinancialYear, Probability]] | None = Field(None, description="overrides by financial year, e.g. '2018-19'")
    appeal_probability: Sourced[Probability] = Field(description="share of refusals appealed to the SEND Tribunal")
    tribunal_days: Distribution
    tribunal_finds_for_parents: Sourced[Probability]
    team_capacity: Sourced[Annotated[int, Field(ge=1, description="a whole number >= 1")]] = Field(description="assessments the team can carry at once (educational psychologists and caseworkers)")
    assessment_days: Distribution = Field(description="days of assessment work once a caseworker is free")
    drafting_days: Distribution = Field(description="days from assessment to the final plan")
    plan_probability: Sourced[Probability] = Field(description="share of assessed children issued a plan")
    deadline_weeks: int = Field(20, ge=1)
    post16_requests_per_year: Sourced[NonNegative] | None = Field(None, description="requests per year at the start date from young people aged 16-19 in further education without a plan (a Poisson stream on the request trend); none means 0")


class SpecialFull(Frozen):
    independent_probability: Sourced[Probability] = Field(description="share of children who go to an independent placement when no special place is free; the rest wait in mainstream with a top-up")
    max_wait_days: Sourced[NonNegative] | None = Field(None, description="after this wait in mainstream, an independent placement is made")


class PhaseTransfer(Frozen):
    """Placement reconsidered at reception, year 7, year 12 and age 19."""

    mainstream_to_special_probability: Sourced[dict[key_of(TRANSFER_PHASES, "phase entered at a transfer"), Probability]] = Field(description="by phase entered: primary (reception), secondary (year 7); a phase left out has 0")
    post16_destinations: Post16Destinations = Field(description="at year 12, by current setting group (school, special, independent): shares over stay, post16_fe, post16_specialist, cease")
    post19_continue_probability: Sourced[Probability] = Field(description="share of plans that continue at age 19")
    post16_cease_probability_by_year: Sourced[dict[FinancialYear, Probability]] | None = Field(None, description="extra share of plans ceasing at year 12 by financial year of the transfer (statements ending at 16 under the rules before the 2014 reforms, during the transition)")
    leaving_school_ehcp_share_by_year: Sourced[dict[FinancialYear, Probability]] | None = Field(None, description="share of plans that are EHC plans rather than statements, by financial year of a transfer that leaves school (to FE or a specialist college at 16, and continuing past 19 from school; a plan already in college was an EHC plan): a statement ended when its holder left school (the rules before the 2014 reforms), so the rest cease; a year not listed has 1 (every statement was to be converted by 1 April 2018); not with post16_cease_probability_by_year, which would end the same statements twice")

    @model_validator(mode="after")
    def _one_account_of_statements_ending(self) -> "PhaseTransfer":
        if self.post16_cease_probability_by_year is not None and self.leaving_school_ehcp_share_by_year is not None:
            raise ValueError("give post16_cease_probability_by_year or leaving_school_ehcp_share_by_year, not both: each ends the statements "
                             "of young people leaving school at 16 in the transition, so together they would end them twice")
        return self


class Placement(Frozen):
    first_setting_shares: SettingShares = Field(description="setting named in a new plan, by phase")
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
    move_in_age_weights: Sourced[dict[age_key(0, 24, " (a plan ends at 25)"), NonNegative]] = Field(description="relative weights of age in whole years on moving in, ages 0-24")
    post16_conversions_by_year: Sourced[dict[FinancialYear, NonNegative]] = Field(description="young people in FE given plans by financial year (conversion of learning difficulty assessments after 2014)")

    @model_validator(mode="after")
    def _move_in_ages(self) -> "EhcpHazards":
        if self.move_in_per_year.value > 0 and sum(self.move_in_age_weights.value.values()) <= 0:
            raise ValueError("families move in (move_in_per_year > 0) but move_in_age_weights gives no age a weight > 0")
        return self


class Capacity(Frozen):
    """Special school places: commissioned places by pool and expansions on dates."""

    places: Sourced[dict[key_of(SPECIAL_POOLS, "pool"), Count]] = Field(description="commissioned places at the start date: special_primary, special_secondary, special_post16, semh_secondary")
    expansions: list["Expansion"] = Field(default_factory=list)


class Expansion(Frozen):
    date: dt.date
    pool: Literal["special_primary", "special_secondary", "special_post16", "semh_secondary"]
    places: int = Field(description="places added (negative removes)")
    source: str = Field(min_length=3)


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


class SettingCost(Frozen):
    """Annual cost of one child in a setting, charged to a spend line."""

    line: Literal["mainstream_topups", "special", "independent", "ap", "post16", "other"]
    annual_gbp: dict[key_of(PHASES + ("all",), "phase"), Money] = Field(description="per pupil per year by phase; 'all' applies to every phase")
    source: str = Field(min_length=3)


class Costs(Frozen):
    """Unit costs at the price base year, and inflation by spend line."""

    price_base_year: FinancialYear = Field(description="financial year the unit costs are priced in, e.g. '2018-19'")
    settings: dict[key_of(COST_KEYS, "cost key"), SettingCost] = Field(description="per-pupil cost for each setting key (see docs), e.g. mainstream, special, ap_no_plan")
    special_place_funding_gbp: Sourced[Money] = Field(description="place funding per commissioned special place per year")
    inflation: Sourced[dict[key_of(SPEND_LINES, "spend line"), Growth]] = Field(description="cost growth per year by spend line")
    central_spend_gbp: Sourced[Money] = Field(description="other High Needs spend not tied to a placement (sensory, hospital education, support services), per year at the price base")
    line_multiplier: Sourced[dict[key_of(SPEND_LINES, "spend line"), Annotated[float, Field(gt=0.0, description="a number > 0")]]] | None = Field(  # type: ignore[valid-type]
        None, description="multiplier on each spend line's placement costs (not on place funding or central spend), as fitted to published spend by the money fit; a line left out (or no entry) has 1")


class AllocationGrowthRange(Frozen):
    """The range the allocation's growth after the last year given may take: a funding assumption
    drawn uniformly by ensemble members (flat cash to the recent trend, say)."""

    low: Growth = Field(description="lowest growth per year, e.g. 0 (flat cash)")
    high: Growth = Field(description="highest growth per year, e.g. the trend of the last years given")
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _ordered(self) -> "AllocationGrowthRange":
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


class Finance(Frozen):
    hnb_allocation_gbp: Sourced[dict[FinancialYear, Money]] = Field(description="High Needs Block allocation by financial year")
    allocation_growth_after: Sourced[Growth] = Field(description="growth per year of the allocation after the last year given")
    opening_cumulative_deficit_gbp: Sourced[float] = Field(description="cumulative DSG high-needs deficit at the start date (negative means a surplus)")
    allocation_growth_range: AllocationGrowthRange | None = Field(None, description="declares the growth after the last year given uncertain: the range ensemble members draw it from uniformly (every deficit caption then says so); none: allocation_growth_after alone")

    @field_validator("hnb_allocation_gbp")
    @classmethod
    def _some_year(cls, v: Sourced) -> Sourced:
        if not v.value:
            raise ValueError("give the allocation of at least one financial year")
        return v


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
    status_quo: StatusQuo | None = Field(None, description="the council's own responses to pressure (commissioning, staffing, gatekeeping); none holds capacity where the config leaves it")
    levers: dict[str, Lever] = Field(default_factory=dict, description="strategy levers by name; each off unless enabled")
    calibration: CalibrationSpec | None = None
    trends: Trends | None = Field(None, description="trending, damped drivers of demand; none keeps the request steps of sen_support")

    @model_validator(mode="after")
    def _one_request_trend(self) -> "Config":
        trends, s, start = self.trends, self.sen_support, self.simulation.start_date
        if trends is None:
            return self
        problems = []
        if trends.requests is not None:
            for key in ("request_trend", "request_multiplier_by_year"):
                if getattr(s, key) is not None:
                    problems.append(f"trends.requests and sen_support.{key} both move the request hazard; give one (trends.requests replaces sen_support.{key})")
        if trends.request_transition is not None and s.request_multiplier_by_year is not None:
            problems.append("trends.request_transition and sen_support.request_multiplier_by_year both describe the years of the 2014 reforms; give one")
        if trends.data_end < start:
            problems.append(f"trends.data_end ({trends.data_end}) is before simulation.start_date ({start}); give the last date the data inform, on or after the start")
        if trends.request_transition is not None and trends.request_transition.until_date <= start:
            problems.append(f"trends.request_transition.until_date ({trends.request_transition.until_date}) must be after simulation.start_date ({start})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _bespoke_costed(self) -> "Config":
        for name, lever in self.levers.items():
            if lever.enabled and lever.bespoke_share is not None and "bespoke" not in self.costs.settings:
                raise ValueError(f"lever {name} places children in bespoke packages: costs.settings needs a 'bespoke' entry")
        if self.status_quo is not None:
            problems = self.status_quo.check_dates(self.simulation.start_date, self.simulation.end_date)
            if problems:
                raise ValueError("; ".join(problems))
        return self


Capacity.model_rebuild()


def config_dict(config: Config) -> dict[str, Any]:
    """The config as plain data (dates as ISO strings), for manifests and hashing.

    An absent ``status_quo`` section is left out, so configs without it keep their hashes."""
    data = config.model_dump(mode="json")
    if data.get("status_quo") is None:
        data.pop("status_quo", None)
    return data
