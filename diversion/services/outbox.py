"""What a participant must be told, queued in the transaction of the change itself."""

from __future__ import annotations

from datetime import date, datetime, timedelta

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


def _snapshot(booking: Booking) -> dict:
    """What the participant's calendar is told: the payload every message carries."""
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
    if rows:
        db.session.execute(sa.insert(OutboxMessage), rows)


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


def invite(bookings: list[Booking]) -> None:
    """Queue each new booking's invitation, and its reminder unless the session is too close."""
    rows = []
    for booking in bookings:
        rows.append(_row(booking, MessageKind.INVITATION,
                         f"invitation:{booking.id}:{booking.sequence}", clock.now()))
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
            OutboxMessage.kind == MessageKind.REMINDER,
            OutboxMessage.status == MessageStatus.PENDING,
        )
        .values(status=MessageStatus.SUPERSEDED)
    )


def tell_of_absence(booking: Booking, *, rebook_by: date | None, reference: str,
                    key: str) -> None:
    """Queue the notice of a missed session: no calendar object, the day to rebook by."""
    session = booking.session
    programme = session.programme
    payload = {
        "uid": booking.uid,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "summary": programme.invite_title,
        "contact_phone": programme.contact_phone,
        "timezone": programme.timezone,
        "rebook_by": rebook_by.isoformat() if rebook_by else None,
        "reference": reference,
    }
    _insert([_message(booking.enrolment_id, booking.id, booking.enrolment.case.email, payload,
                      MessageKind.MISSED_NOTICE, f"{MessageKind.MISSED_NOTICE}:{key}",
                      clock.now())])


def absence_told(booking: Booking) -> bool:
    """Tell whether a notice of this missed session is queued or was sent."""
    return db.session.scalar(
        sa.select(sa.exists().where(
            OutboxMessage.booking_id == booking.id,
            OutboxMessage.kind == MessageKind.MISSED_NOTICE,
            OutboxMessage.status.in_((MessageStatus.PENDING, MessageStatus.SENT))))) or False


def withdraw_absence_notices(enrolment_id: int, booking_id: int | None = None) -> None:
    """Withdraw notices of missed sessions not yet sent: corrected, or the enrolment closed."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.enrolment_id == enrolment_id,
            *([OutboxMessage.booking_id == booking_id] if booking_id is not None else []),
            OutboxMessage.kind == MessageKind.MISSED_NOTICE,
            OutboxMessage.status == MessageStatus.PENDING,
        )
        .values(status=MessageStatus.SUPERSEDED)
    )
