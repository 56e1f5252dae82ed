"""What a participant must be told, queued in the transaction of the change itself."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from diversion import clock
from diversion.domain.vocabulary import MessageKind, MessageStatus
from diversion.extensions import db
from diversion.models import Booking, CourseSession, OutboxMessage


def place(venue_name: str, room: str | None, address: str) -> str:
    """Say where a session is, as invitations and the feed show it."""
    return ", ".join(p for p in (venue_name, room, address) if p)


def location(session: CourseSession) -> str:
    return place(session.venue.name, session.room, session.venue.address)


def appointment(*, uid: str, sequence: int, starts_at: datetime, ends_at: datetime,
                programme, location: str, attendee_name: str) -> dict:
    """What the participant's calendar is told: the payload every message carries.

    ``programme`` is anything with the programme's invitation settings, a row or a model.
    """
    return {
        "uid": uid,
        "sequence": sequence,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "summary": programme.invite_title,
        "location": location,
        "contact_phone": programme.contact_phone,
        "organizer": programme.organizer_email,
        "timezone": programme.timezone,
        "attendee_name": attendee_name,
    }


def _snapshot(booking: Booking) -> dict:
    session = booking.session
    case = booking.enrolment.case
    return appointment(uid=booking.uid, sequence=booking.sequence,
                       starts_at=session.starts_at, ends_at=session.ends_at,
                       programme=session.programme, location=location(session),
                       attendee_name=f"{case.given_name} {case.family_name}")


def _message(enrolment_id: int, booking_id: int, recipient: str, payload: dict,
             kind: str, key: str, due: datetime) -> dict:
    return {
        "enrolment_id": enrolment_id,
        "booking_id": booking_id,
        "kind": kind,
        "recipient": recipient,
        "payload": payload,
        "idempotency_key": key,
        "status": MessageStatus.PENDING,
        "due_at": due,
        "next_attempt_at": due,
        "created_at": clock.now(),
    }


def _row(booking: Booking, kind: str, key: str, due) -> dict:
    return _message(booking.enrolment_id, booking.id, booking.enrolment.case.email,
                    _snapshot(booking), kind, key, due)


def _insert(rows: list[dict]) -> None:
    # Plain INSERTs, not ORM objects: a plan queues ten of these in one statement, and
    # the unit of work would cost more than the rest of the booking.
    if rows:
        db.session.execute(sa.insert(OutboxMessage.__table__), rows)


def _reminder_due(starts_at: datetime, reminder_hours: int) -> datetime | None:
    """When a session's reminder goes: so many hours before, at once if that has passed,
    never once the session has started."""
    now = clock.now()
    if starts_at <= now:
        return None
    return max(starts_at - timedelta(hours=reminder_hours), now)


def _reminder(booking: Booking, reminder_hours: int) -> dict | None:
    due = _reminder_due(booking.session.starts_at, reminder_hours)
    if due is None:
        return None
    return _row(booking, MessageKind.REMINDER, f"reminder:{booking.id}:{booking.sequence}", due)


def queue(booking: Booking, kind: str) -> None:
    """Queue an invitation, update or cancellation for this booking as it is now."""
    _insert([_row(booking, kind, f"{kind}:{booking.id}:{booking.sequence}", clock.now())])


def invitation_messages(*, enrolment_id: int, booking_id: int, recipient: str,
                        payload: dict, starts_at: datetime, reminder_hours: int) -> list[dict]:
    """A new booking's invitation, and its reminder unless the session is too close."""
    messages = [_message(enrolment_id, booking_id, recipient, payload, MessageKind.INVITATION,
                         f"invitation:{booking_id}:{payload['sequence']}", clock.now())]
    due = _reminder_due(starts_at, reminder_hours)
    if due is not None:
        messages.append(_message(enrolment_id, booking_id, recipient, payload, MessageKind.REMINDER,
                                 f"reminder:{booking_id}:{payload['sequence']}", due))
    return messages


def invite(bookings: list[Booking]) -> None:
    """Queue each new booking's invitation and its reminder, all in one statement."""
    _insert([
        message for booking in bookings
        for message in invitation_messages(
            enrolment_id=booking.enrolment_id, booking_id=booking.id,
            recipient=booking.enrolment.case.email, payload=_snapshot(booking),
            starts_at=booking.session.starts_at,
            reminder_hours=booking.session.programme.reminder_hours)
    ])


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
            OutboxMessage.kind == MessageKind.REMINDER,
            OutboxMessage.status == MessageStatus.PENDING,
        )
        .values(status=MessageStatus.SUPERSEDED)
    )
