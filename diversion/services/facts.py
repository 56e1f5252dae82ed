"""Build the domain's plain facts from rows, so rules never see the ORM."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa

from diversion.domain.booking import BookingFacts, EnrolmentFacts, SessionFacts
from diversion.extensions import db
from diversion.models import Booking, CourseSession, Enrolment

# The columns a session's facts are read from, for statements that read plain rows.
SESSION_FACT_COLUMNS = (CourseSession.id, CourseSession.module, CourseSession.starts_at,
                        CourseSession.status, CourseSession.capacity, CourseSession.booked)


def session_facts(session: CourseSession | sa.Row) -> SessionFacts:
    """A session as the rules see it, from the model or from a row with its columns."""
    return SessionFacts(
        id=session.id,
        module=session.module,
        starts_at=session.starts_at,
        status=session.status,
        capacity=session.capacity,
        booked=session.booked,
    )


def booking_facts(booking: Booking) -> BookingFacts:
    return BookingFacts(
        id=booking.id,
        session_id=booking.session_id,
        module=booking.module,
        starts_at=booking.session.starts_at,
        status=booking.status,
    )


def booking_facts_for(enrolment_ids: list[int]) -> dict[int, tuple[BookingFacts, ...]]:
    """Read enrolments' bookings as plain facts: a rule check needs no ORM objects."""
    found: dict[int, list[BookingFacts]] = {}
    for row in db.session.execute(_booking_facts_statement(), {"ids": enrolment_ids}):
        found.setdefault(row.enrolment_id, []).append(BookingFacts(
            id=row.id, session_id=row.session_id, module=row.module,
            starts_at=row.starts_at, status=row.status))
    return {enrolment_id: tuple(facts) for enrolment_id, facts in found.items()}


@lru_cache(maxsize=1)
def _booking_facts_statement() -> sa.Select:
    # Table columns, not ORM attributes: plain rows need none of the ORM's machinery.
    # Built once, as every booking reads it.
    b, s = Booking.__table__.c, CourseSession.__table__.c
    return (
        sa.select(b.enrolment_id, b.id, b.session_id, b.module, s.starts_at, b.status)
        .join_from(Booking.__table__, CourseSession.__table__, s.id == b.session_id)
        .where(b.enrolment_id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(b.enrolment_id, b.id)
    )


def booking_facts_of(enrolment_id: int) -> tuple[BookingFacts, ...]:
    """Read one enrolment's bookings as plain facts."""
    return booking_facts_for([enrolment_id]).get(enrolment_id, ())


def enrolment_facts(enrolment: Enrolment | sa.Row, bookings: list[Booking] | None = None, *,
                    facts: tuple[BookingFacts, ...] | None = None) -> EnrolmentFacts:
    """Build an enrolment's facts (the model, or a row with its columns) from its bookings,
    or from booking facts already read."""
    if facts is None:
        rows = enrolment.bookings if bookings is None else bookings
        facts = tuple(booking_facts(b) for b in rows)
    opens, closes = enrolment.follow_up_opens, enrolment.follow_up_closes
    window = (opens, closes) if opens is not None and closes is not None else None
    return EnrolmentFacts(
        status=enrolment.status,
        start_date=enrolment.start_date,
        core_deadline=enrolment.core_deadline,
        follow_up_window=window,
        bookings=facts,
    )
