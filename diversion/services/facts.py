"""Build the domain's plain facts from rows, so rules never see the ORM."""

from __future__ import annotations

from diversion.domain.booking import BookingFacts, EnrolmentFacts, SessionFacts
from diversion.models import Booking, Enrolment, Session


def session_facts(session: Session) -> SessionFacts:
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


def enrolment_facts(enrolment: Enrolment, bookings: list[Booking] | None = None) -> EnrolmentFacts:
    rows = enrolment.bookings if bookings is None else bookings
    window = (
        (enrolment.follow_up_opens, enrolment.follow_up_closes)
        if enrolment.follow_up_opens is not None
        else None
    )
    return EnrolmentFacts(
        status=enrolment.status,
        start_date=enrolment.start_date,
        core_deadline=enrolment.core_deadline,
        follow_up_window=window,
        bookings=tuple(booking_facts(b) for b in rows),
    )
