"""What a participant must be told, queued in the transaction of the change itself."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import Booking, OutboxMessage

# invitation: a new booking (METHOD:REQUEST, SEQUENCE 0)
# update: the booked session moved (REQUEST, higher SEQUENCE)
# cancellation: booking or session cancelled (METHOD:CANCEL)
# reminder: an email some hours before the session
PARTICIPANT_KINDS = ("invitation", "update", "cancellation", "reminder")


def _snapshot(booking: Booking) -> dict:
    session = booking.session
    venue = session.venue
    programme = session.programme
    case = booking.enrolment.case
    location = ", ".join(p for p in (venue.name, session.room, venue.address) if p)
    return {
        "uid": booking.uid,
        "sequence": booking.sequence,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "summary": programme.invite_title,
        "location": location,
        "contact_phone": programme.contact_phone,
        "organizer": programme.organizer_email,
        "timezone": programme.timezone,
        "attendee_name": f"{case.given_name} {case.family_name}",
    }


def queue(booking: Booking, kind: str) -> OutboxMessage:
    """Queue an invitation, update or cancellation for this booking as it is now."""
    now = clock.now()
    message = OutboxMessage(
        enrolment_id=booking.enrolment_id,
        booking_id=booking.id,
        kind=kind,
        recipient=booking.enrolment.case.email,
        payload=_snapshot(booking),
        idempotency_key=f"{kind}:{booking.id}:{booking.sequence}",
        status="pending",
        due_at=now,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(message)
    return message


def schedule_reminder(booking: Booking, reminder_hours: int, *, new: bool = False) -> None:
    """Queue the reminder for the booking's current time, replacing any earlier one."""
    if not new:
        supersede_reminders(booking)
    now = clock.now()
    due = booking.session.starts_at - timedelta(hours=reminder_hours)
    if booking.session.starts_at <= now:
        return
    due = max(due, now)
    db.session.add(
        OutboxMessage(
            enrolment_id=booking.enrolment_id,
            booking_id=booking.id,
            kind="reminder",
            recipient=booking.enrolment.case.email,
            payload=_snapshot(booking),
            idempotency_key=f"reminder:{booking.id}:{booking.sequence}",
            status="pending",
            due_at=due,
            next_attempt_at=due,
            created_at=now,
        )
    )


def supersede_reminders(booking: Booking) -> None:
    """Withdraw reminders not yet sent: the booking was cancelled or moved."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.booking_id == booking.id,
            OutboxMessage.kind == "reminder",
            OutboxMessage.status == "pending",
        )
        .values(status="superseded")
    )
