"""Test data builders for the domain layer, with keyword-only defaults."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from diversion.domain.booking import BookingFacts, EnrolmentFacts, SessionFacts

LONDON = ZoneInfo("Europe/London")

START = date(2026, 11, 2)
DEADLINE = date(2027, 3, 2)
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=LONDON)


def london(d: date, hour: int = 18, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=LONDON)


def day(n: int, hour: int = 18) -> datetime:
    """Return 18:00 London on the n-th day after the standard start date."""
    return london(START + timedelta(days=n), hour)


def make_session(
    *,
    id: int = 1,
    module: int = 1,
    starts_at: datetime | None = None,
    status: str = "scheduled",
    capacity: int = 10,
    booked: int = 0,
) -> SessionFacts:
    return SessionFacts(
        id=id,
        module=module,
        starts_at=starts_at or day(7),
        status=status,
        capacity=capacity,
        booked=booked,
    )


def make_booking(
    *,
    id: int = 100,
    module: int = 1,
    starts_at: datetime | None = None,
    status: str = "booked",
    session_id: int | None = None,
) -> BookingFacts:
    return BookingFacts(
        id=id,
        session_id=session_id if session_id is not None else 1000 + id,
        module=module,
        starts_at=starts_at or day(7),
        status=status,
    )


def make_enrolment(
    *,
    status: str = "enrolled",
    start_date: date = START,
    core_deadline: date = DEADLINE,
    follow_up_window: tuple[date, date] | None = None,
    bookings: tuple[BookingFacts, ...] | list[BookingFacts] = (),
) -> EnrolmentFacts:
    return EnrolmentFacts(
        status=status,
        start_date=start_date,
        core_deadline=core_deadline,
        follow_up_window=follow_up_window,
        bookings=tuple(bookings),
    )


def attended_core(first_day: int = 7, count: int = 5) -> list[BookingFacts]:
    """Return attended bookings of modules 1..count, a week apart."""
    return [
        make_booking(
            id=100 + m, module=m, starts_at=day(first_day + 7 * (m - 1)), status="attended"
        )
        for m in range(1, count + 1)
    ]
