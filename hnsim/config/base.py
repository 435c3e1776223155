"""Vocabularies and base types shared by every config section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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
#: Phases entered at a transfer where a mainstream plan may move to a special school.
TRANSFER_PHASES = ("primary", "secondary")
#: Setting groups at year 12, and where a plan goes from each.
POST16_GROUPS = ("school", "special", "independent")
POST16_DESTINATIONS = ("stay", "post16_fe", "post16_specialist", "cease")

#: How far a row of shares may be from summing to 1 (rounding in hand-written or fitted tables).
SHARE_TOLERANCE = 1e-6

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


@dataclass(frozen=True)
class Vocabulary:
    """Validator of a mapping key that must be one word of a vocabulary.

    Used as a key type, the error is reported at the key's own path
    (``placement.first_setting_shares.value.primary.specail``).
    """

    what: str
    allowed: tuple[str, ...]

    def __call__(self, key: str) -> str:
        if key not in self.allowed:
            raise ValueError(f"unknown {self.what} '{key}'; allowed: {', '.join(self.allowed)}")
        return key


@dataclass(frozen=True)
class AgeRange:
    """Validator of an age key in whole years, ``low..high``."""

    low: int
    high: int
    why: str = ""

    @property
    def what(self) -> str:
        return f"age {self.low}-{self.high}"

    def __call__(self, age: int) -> int:
        if not self.low <= age <= self.high:
            raise ValueError(f"age {age} is outside {self.low}..{self.high}{self.why}")
        return age


def financial_year_start(label: str) -> int:
    """Starting calendar year of a financial year label like '2018-19', or ValueError saying how to write it."""
    try:
        first, second = str(label).split("-")
        start = int(first)
        if len(first) != 4 or len(second) != 2 or int(second) != (start + 1) % 100:
            raise ValueError
        return start
    except ValueError:
        raise ValueError(f"'{label}' is not a financial year; write it like '2018-19'") from None


def _financial_year(label: Any) -> str:
    financial_year_start(label)
    return label


def key_of(vocabulary: tuple[str, ...], what: str) -> Any:
    """A mapping key type that must be one of ``vocabulary`` (``what`` names it in errors)."""
    return Annotated[str, AfterValidator(Vocabulary(what, vocabulary))]


def age_key(low: int, high: int, why: str = "") -> Any:
    """A mapping key type: an age in whole years, ``low..high``."""
    return Annotated[int, AfterValidator(AgeRange(low, high, why))]


#: A financial year written like '2018-19' (as a key or a value).
FinancialYear = Annotated[str, AfterValidator(_financial_year)]
PhaseKey = key_of(PHASES, "phase")
NeedKey = key_of(NEEDS, "need")


@dataclass(frozen=True)
class SumsToOne:
    """Validator of a row of shares: the shares must sum to 1 within :data:`SHARE_TOLERANCE`."""

    def __call__(self, row: dict[str, float]) -> dict[str, float]:
        total = sum(row.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(f"shares must sum to 1 (within {SHARE_TOLERANCE:g}); these sum to {total:.6g}")
        return row


def shares_of(vocabulary: tuple[str, ...], what: str) -> Any:
    """A row of shares over ``vocabulary``: known keys, each 0..1, summing to 1 (a missing key is 0)."""
    return Annotated[dict[key_of(vocabulary, what), Probability], AfterValidator(SumsToOne())]
