"""Vocabularies and base types shared by every config section."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

PHASES = ("early_years", "primary", "secondary", "post16", "post19")
NEEDS = ("SEMH", "ASD", "SLCN", "MLD", "other")
#: Settings a plan can name when it is first issued or reconsidered.
SETTINGS = (
    "mainstream",
    "resourced",
    "special",
    "independent",
    "ap",
    "post16_fe",
    "post16_specialist",
    "early_years",
    "other",
)
SPEND_LINES = ("mainstream_topups", "special", "independent", "ap", "post16", "other")
AGE_BANDS = ("under5", "5-10", "11-15", "16-19", "20-25")
SPECIAL_POOLS = ("special_primary", "special_secondary", "special_post16", "semh_secondary")

Probability = Annotated[float, Field(ge=0.0, le=1.0, description="a probability, 0..1")]
Rate = Annotated[float, Field(ge=0.0, description="a hazard per year, >= 0")]
NonNegative = Annotated[float, Field(ge=0.0, description="a number >= 0")]
Count = Annotated[int, Field(ge=0, description="a whole number >= 0")]
Money = Annotated[float, Field(ge=0.0, description="pounds, >= 0")]
Growth = Annotated[float, Field(ge=-0.5, le=1.0, description="a proportional change per year, -0.5..1")]

T = TypeVar("T")


class Frozen(BaseModel):
    """Base for every config section: immutable, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(Frozen, Generic[T]):
    """A value with the evidence behind it."""

    value: T
    source: str = Field(min_length=3, description="publication cited, or 'assumption: reasoning'")
