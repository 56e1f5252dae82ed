"""A programme's rules as a value object: deadlines, windows and local dates."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

# Re-exported for services.planning, which names it from here.
from diversion.domain.vocabulary import LONDON, LONDON_TZID

# Module number of the follow-up session; core modules are numbered from 1.
FOLLOW_UP = 0


def add_months(d: date, months: int) -> date:
    """Add calendar months to a date, clamping to the end of a shorter month."""
    return d + relativedelta(months=months)


def module_name(module: int) -> str:
    """Name a module for people: "module 3" or "the follow-up session"."""
    return "the follow-up session" if module == FOLLOW_UP else f"module {module}"


def check_timezone(timezone: str) -> None:
    """Refuse (ValueError) any time zone but London's."""
    # Invitations carry only London's VTIMEZONE, and pages, mail and jobs read
    # times in London: a programme in another zone would be shown at wrong hours.
    if timezone != LONDON_TZID:
        raise ValueError(f"a programme's time zone must be {LONDON_TZID}, not {timezone!r}")


@dataclass(frozen=True)
class EnrolmentTerms:
    """The settings an enrolment keeps from the day it was enrolled.

    Its core deadline and follow-up dates follow from these, so a later change to
    the programme never moves them.
    """

    core_months: int
    follow_up_months: int
    follow_up_window_days: int


@dataclass(frozen=True)
class ProgrammeRules:
    core_modules: int = 5
    session_minutes: int = 90
    core_months: int = 4
    follow_up_months: int = 8
    follow_up_window_days: int = 14
    min_days_between_sessions: int = 7
    reminder_hours: int = 48
    timezone: str = LONDON_TZID
    holiday_region: str = "GB-ENG"
    modules_in_order: bool = True

    def __post_init__(self) -> None:
        # Settings come from an admin form; a nonsense value would otherwise surface
        # much later as an unbookable programme or a crash deep in planning.
        if self.core_modules < 1:
            raise ValueError("core_modules must be at least 1")
        if self.session_minutes < 1:
            raise ValueError("session_minutes must be at least 1")
        for name in (
            "core_months",
            "follow_up_months",
            "follow_up_window_days",
            "min_days_between_sessions",
            "reminder_hours",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        check_timezone(self.timezone)

    @property
    def terms(self) -> EnrolmentTerms:
        """The settings an enrolment made today keeps for good."""
        return EnrolmentTerms(self.core_months, self.follow_up_months,
                              self.follow_up_window_days)

    def under(self, terms: EnrolmentTerms) -> ProgrammeRules:
        """Return these rules with an enrolment's own terms in place of today's."""
        return replace(self, core_months=terms.core_months,
                       follow_up_months=terms.follow_up_months,
                       follow_up_window_days=terms.follow_up_window_days)

    @property
    def tz(self) -> ZoneInfo:
        return LONDON

    @property
    def core_module_numbers(self) -> range:
        return range(1, self.core_modules + 1)

    def core_deadline(self, start: date) -> date:
        """Return the last day on which a core module may be attended."""
        return add_months(start, self.core_months)

    def follow_up_due(self, last_core_attended_on: date) -> date:
        """Return the follow-up due date for a core completed on the given day."""
        return add_months(last_core_attended_on, self.follow_up_months)

    def follow_up_window(self, due: date) -> tuple[date, date]:
        """Return the inclusive (opens, closes) window around a follow-up due date."""
        span = timedelta(days=self.follow_up_window_days)
        return due - span, due + span

    def day_ends(self, day: date) -> datetime:
        """Return the instant the programme's local day ends: midnight after it."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)

    def local_date(self, dt: datetime) -> date:
        """Return the programme's local calendar date of an aware date-time."""
        if dt.tzinfo is None or dt.utcoffset() is None:
            # A naive value here usually means a database dropped the offset; guessing
            # which zone it was in would silently shift sessions near midnight.
            raise ValueError(f"expected an aware date-time, got naive {dt.isoformat()}")
        return dt.astimezone(self.tz).date()
