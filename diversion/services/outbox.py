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


def _row(booking: Booking, kind: str, key: str, due) -> dict:
    return {
        "enrolment_id": booking.enrolment_id,
        "booking_id": booking.id,
        "kind": kind,
        "recipient": booking.enrolment.case.email,
        "payload": _snapshot(booking),
        "idempotency_key": key,
        "status": "pending",
        "due_at": due,
        "next_attempt_at": due,
        "created_at": clock.now(),
    }


def _insert(rows: list[dict]) -> None:
    # Plain INSERTs, not ORM objects: a plan queues ten of these in one statement, and
    # the unit of work would cost more than the rest of the booking.
    if rows:
        db.session.execute(sa.insert(OutboxMessage.__table__), rows)


def _reminder(booking: Booking, reminder_hours: int) -> dict | None:
    now = clock.now()
    if booking.session.starts_at <= now:
        return None
    due = max(booking.session.starts_at - timedelta(hours=reminder_hours), now)
    return _row(booking, "reminder", f"reminder:{booking.id}:{booking.sequence}", due)


def queue(booking: Booking, kind: str) -> None:
    """Queue an invitation, update or cancellation for this booking as it is now."""
    _insert([_row(booking, kind, f"{kind}:{booking.id}:{booking.sequence}", clock.now())])


def invite(bookings: list[Booking]) -> None:
    """Queue each new booking's invitation and its reminder, all in one statement."""
    rows = []
    for booking in bookings:
        rows.append(_row(booking, "invitation", f"invitation:{booking.id}:{booking.sequence}",
                         clock.now()))
        reminder = _reminder(booking, booking.session.programme.reminder_hours)
        if reminder is not None:
            rows.append(reminder)
    _insert(rows)


def schedule_reminder(booking: Booking, reminder_hours: int) -> None:
    """Queue the reminder for the booking's current time, replacing any earlier one."""
    supersede_reminders(booking)
    reminder = _reminder(booking, reminder_hours)
    if reminder is not None:
        _insert([reminder])


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
