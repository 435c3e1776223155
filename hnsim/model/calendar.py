"""Simulation time: days since the start date, financial years, academic years and census dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DAYS_PER_YEAR = 365.25


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

    def fy_index(self, day: float) -> int:
        """Index (0-based) of the financial year that contains a simulation day."""
        date = self.date(day)
        start_year = date.year if date.month >= 4 else date.year - 1
        return start_year - self.start.year

    def academic_year_of(self, day: float) -> int:
        """Calendar year in which the academic year containing ``day`` began (1 September)."""
        date = self.date(day)
        return date.year if date.month >= 9 else date.year - 1
