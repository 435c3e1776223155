"""Simulation time: days since the start date, financial years, academic years and census dates.

A child's *cohort* is the calendar year of the September in which it starts reception; its national
curriculum year on a day is the academic year of that day minus its cohort (reception is year 0).
Phases start at fixed national curriculum years, so every phase change falls on a 1 September.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

import numpy as np

DAYS_PER_YEAR = 365.25  # for hazards per year and ages in years; money is charged by days in each financial year

#: A child born in the academic year starting September Y starts reception in September Y + 5.
RECEPTION_AFTER_BIRTH_YEARS = 5
#: Age at 31 August before reception (national curriculum year 0).
RECEPTION_AGE = 4
#: National curriculum year at which each phase after early years begins: primary (reception),
#: secondary (year 7), post-16 (year 12), post-19 (the year a young person turns 19).
PRIMARY_YEAR, SECONDARY_YEAR, POST16_YEAR, POST19_YEAR = 0, 7, 12, 15
PHASE_START_YEARS = (PRIMARY_YEAR, SECONDARY_YEAR, POST16_YEAR, POST19_YEAR)
#: A plan ends on the 25th birthday at the latest.
PLAN_END_AGE = 25
#: Years searched around the simulated period for 1 September dates (children up to 40 years old).
_SEPT1_MARGIN_YEARS = 40


def fy_label(start_year: int) -> str:
    """Financial year label for the year starting 1 April ``start_year``: ``2018`` -> ``'2018-19'``."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def fy_start_year(label: str) -> int:
    """Starting calendar year of a financial year label: ``'2018-19'`` -> ``2018``."""
    return int(label.split("-")[0])


@dataclass(frozen=True)
class Calendar:
    """Converts between dates and simulation days (float days since ``start``)."""

    start: dt.date
    end: dt.date
    census_month: int = 1
    census_day: int = 17

    def day(self, date: dt.date) -> float:
        """Simulation day of a date."""
        return float((date - self.start).days)

    def date(self, day: float) -> dt.date:
        """Date of a simulation day (rounded down)."""
        return self.start + dt.timedelta(days=int(day // 1))

    @property
    def horizon(self) -> float:
        """Simulation day just after the last day simulated."""
        return self.day(self.end) + 1.0

    @property
    def financial_years(self) -> list[int]:
        """Starting calendar year of each financial year simulated."""
        return list(range(self.start.year, self.end.year))

    def fy_bounds(self) -> list[tuple[str, float, float]]:
        """(label, first day, day after the last day) for each financial year."""
        return [
            (fy_label(y), self.day(dt.date(y, 4, 1)), self.day(dt.date(y + 1, 4, 1)))
            for y in self.financial_years
        ]

    def census_days(self) -> list[tuple[str, float]]:
        """(financial year label, day of the census inside it): April-December of its first
        calendar year, January-March of its second."""
        return [
            (fy_label(y), self.day(dt.date(y + 1 if self.census_month <= 3 else y, self.census_month, self.census_day)))
            for y in self.financial_years
        ]

    def calendar_year_bounds(self) -> list[tuple[str, float, float]]:
        """Calendar years paired with the financial year holding their January.

        SEN2 reports activity by calendar year; calendar year ``Y`` is reported against the
        financial year ``(Y-1)-Y``, whose January census opens it (the SEN2 pairing of the
        January caseload with that calendar year's activity).
        """
        out = []
        for y in self.financial_years:
            first = max(self.day(dt.date(y + 1, 1, 1)), 0.0)
            last = min(self.day(dt.date(y + 2, 1, 1)), self.horizon)
            out.append((fy_label(y), first, last))
        return out

    def sept1(self, year: int) -> float:
        """Simulation day of 1 September of a calendar year."""
        return self.day(dt.date(year, 9, 1))

    def academic_year_of(self, day: float) -> int:
        """Calendar year in which the academic year containing ``day`` began (1 September)."""
        date = self.date(day)
        return date.year if date.month >= 9 else date.year - 1


class Timeline:
    """The dates the model looks up millions of times, as arrays: 1 September of every year a child
    in the simulation can meet, financial-year starts, the horizon.

    Built once per config (``Parameters.timeline``); every method has a scalar and an array form.
    """

    def __init__(self, calendar: Calendar):
        self.calendar = calendar
        self.horizon = calendar.horizon
        self.first_year = calendar.start.year - _SEPT1_MARGIN_YEARS
        years = range(self.first_year, calendar.end.year + _SEPT1_MARGIN_YEARS)
        self.sept1_list = [calendar.sept1(y) for y in years]
        self.sept1_array = np.array(self.sept1_list)
        bounds = calendar.fy_bounds()
        self.fy_starts = [first for _, first, _ in bounds]
        self.fy_labels = [label for label, _, _ in bounds]
        self.fy_lengths = np.array([last - first for _, first, last in bounds])
        # financial year by whole day to the horizon: financial years start on whole days, so the
        # year of a day is that of its whole day (a list lookup instead of a search)
        self.fy_by_day = [self._fy_search(float(d)) for d in range(int(self.horizon) + 1)]

    def academic_year(self, day: float) -> int:
        """Calendar year of the 1 September that began the academic year containing ``day``."""
        return self.first_year + bisect.bisect_right(self.sept1_list, day) - 1

    def academic_years(self, days: np.ndarray) -> np.ndarray:
        """:meth:`academic_year` for an array of days."""
        return self.first_year + np.searchsorted(self.sept1_array, days, side="right") - 1

    def sept1(self, year: int) -> float:
        """Simulation day of 1 September of ``year``."""
        return self.sept1_list[year - self.first_year]

    def sept1_days(self, years: np.ndarray) -> np.ndarray:
        """:meth:`sept1` for an array of years."""
        return self.sept1_array[years - self.first_year]

    def cohort_of(self, birth_day: float) -> int:
        """The cohort (September of reception) of a child born on ``birth_day``."""
        return self.academic_year(birth_day) + RECEPTION_AFTER_BIRTH_YEARS

    def cohorts_of(self, birth_days: np.ndarray) -> np.ndarray:
        """:meth:`cohort_of` for an array of birth days."""
        return self.academic_years(birth_days) + RECEPTION_AFTER_BIRTH_YEARS

    def fy_index(self, day: float) -> int:
        """Index of the simulated financial year holding ``day`` (clipped to the simulated years)."""
        if 0.0 <= day < len(self.fy_by_day):
            return self.fy_by_day[int(day)]
        return self._fy_search(day)

    def _fy_search(self, day: float) -> int:
        return min(max(bisect.bisect_right(self.fy_starts, day) - 1, 0), len(self.fy_starts) - 1)
