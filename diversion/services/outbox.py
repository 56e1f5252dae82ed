"""What a participant must be told, queued in the transaction of the change itself."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import Booking, OutboxMessage, Session

# invitation: a new booking (METHOD:REQUEST, SEQUENCE 0)
# update: the booked session moved (REQUEST, higher SEQUENCE)
# cancellation: booking or session cancelled (METHOD:CANCEL)
# reminder: an email some hours before the session
PARTICIPANT_KINDS = ("invitation", "update", "cancellation", "reminder")


def location(session: Session) -> str:
    """Say where a session is, as invitations and the feed show it."""
    venue = session.venue
    return ", ".join(p for p in (venue.name, session.room, venue.address) if p)


def _snapshot(booking: Booking) -> dict:
    session = booking.session
    programme = session.programme
    case = booking.enrolment.case
    return {
        "uid": booking.uid,
        "sequence": booking.sequence,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "summary": programme.invite_title,
        "location": location(session),
        "contact_phone": programme.contact_phone,
        "organizer": programme.organizer_email,
        "timezone": programme.timezone,
        "attendee_name": f"{case.given_name} {case.family_name}",
    }


def _message(booking: Booking, kind: str, key: str, due) -> OutboxMessage:
    message = OutboxMessage(
        enrolment_id=booking.enrolment_id,
        booking_id=booking.id,
        kind=kind,
        recipient=booking.enrolment.case.email,
        payload=_snapshot(booking),
        idempotency_key=key,
        status="pending",
        due_at=due,
        next_attempt_at=due,
        created_at=clock.now(),
    )
    db.session.add(message)
    return message


def queue(booking: Booking, kind: str) -> OutboxMessage:
    """Queue an invitation, update or cancellation for this booking as it is now."""
    return _message(booking, kind, f"{kind}:{booking.id}:{booking.sequence}", clock.now())


def schedule_reminder(booking: Booking, reminder_hours: int, *, new: bool = False) -> None:
    """Queue the reminder for the booking's current time, replacing any earlier one."""
    if not new:
        supersede_reminders(booking)
    now = clock.now()
    if booking.session.starts_at <= now:
        return
    due = max(booking.session.starts_at - timedelta(hours=reminder_hours), now)
    _message(booking, "reminder", f"reminder:{booking.id}:{booking.sequence}", due)


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
