"""Trends: the structural drivers of demand, carried past the data and damped there.

The optional ``trends:`` section replaces the request hazard's fitted steps
(``sen_support.request_trend`` and ``sen_support.request_multiplier_by_year``) with a secular growth
rate, an optional transition for the 2014 reforms, and trends on the hazard of leaving education and
on the odds of two probabilities. Each growth rate holds until ``data_end``, the last date the data
inform; after it the rate decays by the factor ``damping`` a year, so a projection bends towards a
plateau instead of compounding for ever.

The log multiplier of a trend with growth ``g`` from ``t0`` (years), ``T = data_end`` and damping
``phi`` is, at time ``t``:

- ``0`` before ``t0``;
- ``log(1+g) * (t - t0)`` between ``t0`` and ``T``;
- ``log(1+g) * [(T - t0) + (1 - phi^(t-T)) / (-ln phi)]`` after ``T`` (``t0 <= T``): the growth rate
  ``k`` years after ``T`` is ``log(1+g) * phi^k``. ``phi = 1`` is the undamped line
  ``log(1+g) * (t - t0)``; ``phi = 0`` is flat after ``T``. A trend starting after ``T`` starts
  damped: ``log(1+g) * (phi^(t0-T) - phi^(t-T)) / (-ln phi)``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from hnsim.config.base import Frozen, Growth, NonNegative, Sourced

#: A damping factor: the share of a year's growth rate that carries into the next year.
Damping = Annotated[float, Field(ge=0.0, le=1.0, description="a damping factor per year, 0..1 (1: undamped, 0: flat after data_end)")]


class GrowthFrom(Frozen):
    """A proportional change per year from a date, damped after ``trends.data_end``."""

    growth_per_year: Sourced[Growth] = Field(description="proportional change per year while the data inform (a hazard, or the odds of a probability)")
    from_date: dt.date = Field(description="first date of growth; before it the multiplier is 1")


class RequestTransition(Frozen):
    """The 2014 reforms bedding in: a multiplier on the request hazard moving linearly from
    ``start_multiplier`` at the start date to 1 at ``until_date``."""

    start_multiplier: Sourced[Annotated[NonNegative, Field(description="a multiplier >= 0")]] = Field(description="multiplier on the request hazard at the start date")
    until_date: dt.date = Field(description="date the multiplier reaches 1 (and stays there), e.g. 2016-09-01")


class Trends(Frozen):
    """Trending, damped drivers of demand (see the module docstring for the formula).

    ``requests`` replaces ``sen_support.request_trend`` and ``sen_support.request_multiplier_by_year``
    (a config may not give both).
    """

    data_end: dt.date = Field(description="last date the data inform (e.g. 2019-12-31); after it every trend is a projection and is damped")
    damping: Sourced[Damping] = Field(description="per-year damping of every growth rate after data_end: k years on, the rate is g x damping^k")
    requests: GrowthFrom | None = Field(None, description="secular trend of the request hazard of children on SEN support (all phases) and of requests from further education")
    request_transition: RequestTransition | None = Field(None, description="multiplier on the request hazard moving linearly to 1 (the 2014 reforms bedding in)")
    leave_education: GrowthFrom | None = Field(None, description="trend of the hazard of a plan ceasing on leaving education (ehcp.leave_education_rate)")
    post19_continue: GrowthFrom | None = Field(None, description="trend of the odds of placement.transfer.post19_continue_probability, by financial year of the transfer")
    special_first_setting: GrowthFrom | None = Field(None, description="trend of the odds of a special school in a new plan (placement.first_setting_shares), by financial year of the placement")


__all__ = ["Damping", "GrowthFrom", "RequestTransition", "Trends"]
