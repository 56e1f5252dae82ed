"""Outcomes of the enrolments started in a period: how many are in progress, completed,
referred back to prosecution and withdrawn, and the completion rate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from diversion.domain.vocabulary import OPEN_ENROLMENT, EnrolmentStatus

# The years a report's dates may fall in: anything else is a typing slip.
FIRST_YEAR, LAST_YEAR = 2000, 2100
# The period a report covers when none is given: this month and the eleven before it.
DEFAULT_MONTHS = 12


class InvalidPeriod(ValueError):
    """A report period that cannot be: ``field`` names the date at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Outcomes:
    """Counts of enrolments by where they ended up (or have got to)."""

    in_progress: int = 0
    completed: int = 0
    referred: int = 0
    withdrawn: int = 0

    @classmethod
    def from_statuses(cls, counts: Mapping[str, int]) -> Outcomes:
        """Count enrolments by status into outcomes."""
        return cls(
            in_progress=sum(counts.get(status, 0) for status in OPEN_ENROLMENT),
            completed=counts.get(EnrolmentStatus.COMPLETED, 0),
            referred=counts.get(EnrolmentStatus.REFERRED, 0),
            withdrawn=counts.get(EnrolmentStatus.WITHDRAWN, 0),
        )

    @property
    def enrolled(self) -> int:
        """Every enrolment counted, whatever its status."""
        return self.in_progress + self.completed + self.referred + self.withdrawn

    @property
    def closed(self) -> int:
        return self.completed + self.referred + self.withdrawn

    @property
    def completion_rate(self) -> float | None:
        """Completed as a share of those closed; None while none has closed."""
        return self.completed / self.closed if self.closed else None

    def __add__(self, other: Outcomes) -> Outcomes:
        return Outcomes(self.in_progress + other.in_progress, self.completed + other.completed,
                        self.referred + other.referred, self.withdrawn + other.withdrawn)


def total(outcomes: list[Outcomes]) -> Outcomes:
    """Add outcomes together."""
    result = Outcomes()
    for each in outcomes:
        result = result + each
    return result


def month_of(day: date) -> date:
    """Return the first day of the month a date falls in."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """List the first day of every month from ``first``'s to ``last``'s, both included."""
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def default_period(today: date) -> tuple[date, date]:
    """Return the period shown when none is asked for: this month and the eleven before."""
    return add_months(month_of(today), 1 - DEFAULT_MONTHS), today


def check_period(start: date, end: date) -> None:
    """Refuse a period that ends before it starts, or with a date outside 2000 to 2100."""
    for field, day in (("from", start), ("to", end)):
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise InvalidPeriod(f"Dates must be between {FIRST_YEAR} and {LAST_YEAR}", field)
    if start > end:
        raise InvalidPeriod("The end of the period must be on or after its start", "to")
