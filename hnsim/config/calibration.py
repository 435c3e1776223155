"""The optional ``calibration:`` section of a config: which values `hnsim calibrate` may change.

Each free parameter names a dotted path to a number inside a sourced value
(``sen_support.request_rate.value.primary``), the range searched, whether to search it on a log
scale, and how it is found:

- ``search``: by the optimiser, against the observed caseload and activity (simulated, with common
  random numbers);
- ``linear``: solved exactly after the search, because the outcome is linear in it: the central
  High Needs spend (``costs.central_spend_gbp.value``) moves every year's spend by a known amount,
  and the opening balance (``finance.opening_cumulative_deficit_gbp.value``) moves the cumulative
  deficit one for one.

A ``share`` parameter is one entry of a row of shares that must sum to 1 (a setting at first plan,
a post-16 destination); when it changes, the other entries of its row are rescaled in proportion.

``method`` says how the fit is made: ``least_squares`` finds one best point; ``history_matching``
returns a posterior *ensemble* of parameter sets (docs/calibration.md): each free parameter may
carry a normal prior (``prior_mean``, ``prior_sd`` on its search scale, with ``prior_source``);
``uncertain`` lists inputs that no figure informs (trend damping, funding growth), drawn across the
members from their stated range. The ensemble is stored beside the calibrated config as a CSV of
config paths (``ensemble.file``), one row per member; replication r of every run and scenario uses
member r (modulo the members), so comparisons stay paired.

``money`` (optional) fits the money instead: with ``method: bayes`` the unit costs of each spend line
(a multiplier on its placement costs), the central spend and the opening balance are parameters with
Gaussian priors, fitted to every published money figure by a conjugate Gaussian linear model (spend
is linear in them given the simulated activity); ``solve: linear`` entries are then not used.

``fit`` records the last fit: its date, the observed data, the last year fitted and the objective.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from hnsim.config.base import SPEND_LINES, Frozen, key_of

#: Paths whose outcome is linear in the value, so they can be solved exactly after the search.
LINEAR_PATHS = ("costs.central_spend_gbp.value", "finance.opening_cumulative_deficit_gbp.value")


class FreeParameter(Frozen):
    """One value `hnsim calibrate` may change, and the range it may take."""

    path: str = Field(min_length=3, description="dotted path to a number inside a sourced value, e.g. sen_support.request_rate.value.primary")
    low: float = Field(description="lowest value searched")
    high: float = Field(description="highest value searched")
    log_scale: bool = Field(False, description="search the logarithm (for rates spanning orders of magnitude; low must be > 0)")
    share: bool = Field(False, description="an entry of a row of shares summing to 1; the others are rescaled in proportion")
    solve: Literal["search", "linear"] = Field("search", description="search: by the optimiser; linear: solved exactly after the search (central spend, opening balance)")
    prior_mean: float | None = Field(None, description="history matching: mean of a normal prior, on the search scale (the logarithm for log_scale); none: uniform over [low, high]")
    prior_sd: float | None = Field(None, gt=0, description="history matching: standard deviation of the normal prior, on the search scale")
    prior_source: str | None = Field(None, min_length=3, description="where the prior comes from (a published statistic, pooled SEN2 trends, or 'assumption: ...')")

    @model_validator(mode="after")
    def _range(self) -> "FreeParameter":
        if ".value" not in f".{self.path}" or self.path.endswith("."):
            raise ValueError(f"path '{self.path}' must point into a sourced value (contain '.value')")
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log_scale and self.low <= 0:
            raise ValueError("a log_scale parameter needs low > 0")
        if self.share and not (0.0 <= self.low and self.high < 1.0):
            raise ValueError("a share parameter needs 0 <= low < high < 1")
        if self.solve == "linear" and self.path not in LINEAR_PATHS:
            raise ValueError(f"only {', '.join(LINEAR_PATHS)} can be solved linearly")
        if (self.prior_mean is None) != (self.prior_sd is None):
            raise ValueError("give both prior_mean and prior_sd, or neither")
        if self.prior_mean is not None and not self.prior_source:
            raise ValueError("a prior needs prior_source: where it comes from")
        return self

    def prior(self) -> tuple[float, float] | None:
        """The normal prior (mean, sd) on the search scale, or None for uniform."""
        return None if self.prior_mean is None or self.prior_sd is None else (self.prior_mean, self.prior_sd)


class UncertainInput(Frozen):
    """An input no published figure informs, drawn across the ensemble's members from a range."""

    path: str = Field(min_length=3, description="dotted path to a number inside a sourced value")
    low: float = Field(description="lowest value drawn")
    high: float = Field(description="highest value drawn")
    source: str = Field(min_length=3, description="why this range ('assumption: ...' or a published figure)")

    @model_validator(mode="after")
    def _range(self) -> "UncertainInput":
        if ".value" not in f".{self.path}":
            raise ValueError(f"path '{self.path}' must point into a sourced value (contain '.value')")
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not be above high ({self.high})")
        return self


class EnsembleSpec(Frozen):
    """A posterior ensemble: how many members, and the CSV beside the config that holds them."""

    members: int = Field(100, ge=2, le=10_000, description="parameter sets kept")
    file: str | None = Field(None, min_length=1, description="CSV of members beside the config (columns: member, then config paths); written by hnsim calibrate")
    table: list[dict[str, float]] | None = Field(None, description="the members, read from file when the config is loaded (one mapping of config path to value per member)")
    design_points: int | None = Field(None, ge=4, description="simulated points per wave of history matching (default: 4 per parameter, at least 24)")
    waves: int = Field(3, ge=1, le=10, description="waves of history matching")
    provenance: str | None = Field(None, description="how the members were made (method, data, date)")


#: Default prior sd of the line multipliers (relative to the config's unit costs), and why.
DEFAULT_LINE_SD = {"mainstream_topups": 0.15, "special": 0.15, "independent": 0.2, "ap": 0.15, "post16": 0.15, "other": 0.15}
DEFAULT_LINE_SOURCE = ("assumption: published top-up bands and place funding vary by about 15% between similar authorities and years; "
                       "independent and non-maintained fees by about 20% (FOI of 110 LAs, Schools Week)")


class Prior(Frozen):
    """A Gaussian prior: mean (none: the config's current value) and sd, with its evidence."""

    mean: float | None = Field(None, description="prior mean; none means the config's current value (a line multiplier: 1)")
    sd: float = Field(gt=0, description="prior standard deviation, in the parameter's units")
    source: str = Field(min_length=3, description="publication cited, or 'assumption: reasoning'")


class ObservationNoise(Frozen):
    """How closely a published money figure is expected to match a model with the right money."""

    relative: float = Field(0.02, ge=0, le=1, description="sd as a share of the figure")
    floor_gbp: float = Field(100_000.0, ge=0, description="smallest sd, pounds (figures near zero: balances, deficits)")
    source: str = Field("assumption: outturn rounding, projections rather than final outturn, and accounting differences (recoupment, academy adjustments) of about 2%",
                        min_length=3)


class MoneySpec(Frozen):
    """The Bayesian money fit: priors of the line multipliers, the central spend and the opening balance."""

    method: Literal["bayes"] = Field(description="bayes: conjugate Gaussian linear model, fitted after the demand search")
    line_priors: dict[key_of(SPEND_LINES, "spend line"), Prior] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="prior of each line's multiplier on placement costs; a line left out: mean 1, sd as DEFAULT_LINE_SD")
    central_spend: Prior = Field(Prior(sd=5_000_000.0, source="assumption: wide; central services are not published separately"),
                                 description="prior of costs.central_spend_gbp (£ a year at the price base)")
    opening_deficit: Prior = Field(Prior(sd=2_000_000.0, source="assumption: wide around the config's opening balance"),
                                   description="prior of finance.opening_cumulative_deficit_gbp (£)")
    noise: ObservationNoise = Field(default_factory=ObservationNoise, description="observation noise of each published money figure")
    members: int = Field(0, ge=0, description="posterior draws written with the fit (money_members.csv) for an ensemble; 0: none")

    def line_prior(self, line: str) -> Prior:
        """The prior of a line's multiplier (the default when not given)."""
        return self.line_priors.get(line) or Prior(mean=1.0, sd=DEFAULT_LINE_SD[line], source=DEFAULT_LINE_SOURCE)


class FitRecord(Frozen):
    """What the last `hnsim calibrate` did."""

    date: dt.date = Field(description="day the fit was made")
    data_dir: str = Field(description="directory of observed series fitted to")
    fit_until: int = Field(description="last census, calendar or financial year (ending March) fitted")
    objective: float = Field(ge=0, description="mean squared error in tolerance units over the targets fitted (1 = on average at the tolerance)")
    replications: int = Field(ge=1, description="replications per evaluation (common random numbers)")
    evaluations: int = Field(ge=0, description="parameter sets simulated")
    method: Literal["least_squares", "history_matching"] = Field("least_squares", description="how the fit was made")
    members: int | None = Field(None, ge=2, description="history matching: members in the ensemble")
    effective_parameters: float | None = Field(None, ge=0, description="history matching: parameters the data informed (sum over parameters of the share of prior variance removed)")
    data_points: int | None = Field(None, ge=0, description="published figures fitted")


class CalibrationSpec(Frozen):
    """Free parameters of the fit, and the record of the last fit."""

    free: list[FreeParameter] = Field(min_length=1, description="the values calibrate may change")
    method: Literal["least_squares", "history_matching"] = Field("least_squares", description="least_squares: one best point; history_matching: a posterior ensemble (docs/calibration.md)")
    uncertain: list[UncertainInput] = Field(default_factory=list, description="inputs drawn across the ensemble's members, not fitted")
    ensemble: EnsembleSpec | None = Field(None, description="the posterior ensemble (history_matching)")
    money: MoneySpec | None = Field(None, description="fit the money by a Bayesian linear model (unit costs by line, central spend, opening balance) instead of solve: linear")
    fit: FitRecord | None = None

    @model_validator(mode="after")
    def _unique(self) -> "CalibrationSpec":
        paths = [p.path for p in self.free]
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            raise ValueError(f"free parameter(s) listed twice: {', '.join(twice)}")
        both = sorted(set(paths) & {u.path for u in self.uncertain})
        if both:
            raise ValueError(f"path(s) both free and uncertain: {', '.join(both)}")
        return self
