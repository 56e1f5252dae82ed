"""Read-only queries the coordinator's pages need that the services do not offer yet."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.extensions import db
from diversion.models import Booking, CourseSession, Enrolment
from diversion.services import NotFound

# Bookings that hold the module for the participant (booked, or already attended).
HOLDING = ("booked", "attended")


def bookable_sessions(enrolment: Enrolment, modules: list[int],
    limit: int = 40) -> list[CourseSession]:
    """Return the upcoming sessions of these modules that still have a place."""
    if not modules:
        return []
    return list(db.session.scalars(
        sa.select(CourseSession)
        .where(CourseSession.programme_id == enrolment.programme_id,
               CourseSession.module.in_(modules),
               CourseSession.status == "scheduled",
               CourseSession.starts_at > clock.now(),
               CourseSession.booked < CourseSession.capacity)
        .options(so.joinedload(CourseSession.venue))
        .order_by(CourseSession.starts_at, CourseSession.id)
        .limit(limit)
    ))


def get_booking(booking_id: int) -> Booking:
    """Return a booking with its session and participant, or raise NotFound."""
    booking = db.session.scalar(
        sa.select(Booking).where(Booking.id == booking_id)
        .options(so.joinedload(Booking.session).joinedload(CourseSession.venue),
                 so.joinedload(Booking.enrolment).joinedload(Enrolment.case))
    )
    if booking is None:
        raise NotFound("booking")
    return booking


@dataclass(frozen=True)
class Affected:
    """A participant whose booking went with a cancelled session, and where they are now."""

    booking: Booking
    now_booked: Booking | None


def affected_by_cancellation(session: CourseSession) -> list[Affected]:
    """List the bookings a cancelled session took away, each with its current replacement."""
    cancelled = list(db.session.scalars(
        sa.select(Booking)
        .where(Booking.session_id == session.id, Booking.status == "cancelled")
        .options(so.joinedload(Booking.enrolment).joinedload(Enrolment.case))
        .order_by(Booking.id)
    ))
    if not cancelled:
        return []
    replacements = db.session.scalars(
        sa.select(Booking)
        .where(Booking.enrolment_id.in_([b.enrolment_id for b in cancelled]),
               Booking.module == session.module,
               Booking.session_id != session.id,
               Booking.status.in_(HOLDING))
        .options(so.joinedload(Booking.session).joinedload(CourseSession.venue))
    )
    by_enrolment = {b.enrolment_id: b for b in replacements}
    return [Affected(b, by_enrolment.get(b.enrolment_id)) for b in cancelled]
