"""What a participant must be told, queued in the transaction of the change itself."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import cast

import sqlalchemy as sa
from flask import current_app

from diversion import clock
from diversion.domain.contact import may_text
from diversion.domain.vocabulary import Channel, MessageKind, MessageStatus
from diversion.extensions import db
from diversion.i18n import title_in
from diversion.models import Booking, Case, CourseSession, OutboxMessage
from diversion.services.appointment_links import link_for


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
        # The participant's language when the change was queued: the message, its
        # calendar title and description are all written in it.
        "language": case.language,
        "summary": title_in(case.language, programme.invite_title, programme.invite_title_cy),
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
        "channel": Channel.EMAIL,
        "recipient": recipient,
        "payload": payload,
        "idempotency_key": key,
        "status": MessageStatus.PENDING,
        "due_at": due,
        "next_attempt_at": due,
        "created_at": clock.now(),
    }


def _row(booking: Booking, kind: str, key: str, due) -> dict:
    payload = _snapshot(booking)
    if kind != MessageKind.CANCELLATION:
        # The participant's own link to this booking as it now stands; a cancellation
        # has nothing left to open. Mail only: a calendar entry may be shared.
        payload["link"] = link_for(booking.id, booking.sequence)
    return _message(booking.enrolment_id, booking.id, booking.enrolment.case.email,
                    payload, kind, key, due)


def text_copy(case: Case, message: dict) -> dict | None:
    """Return the text-message twin of a participant's message row, or None if none may go.

    A text goes only with the participant's consent, to a UK mobile number, and while
    GOV.UK Notify is set up (NOTIFY_API_KEY). It is due with the email, and is its own
    outbox row with its own key, so each is delivered, retried and proved on its own.
    """
    if not current_app.config.get("NOTIFY_API_KEY") or not may_text(case.phone,
                                                                     case.sms_consent):
        return None
    return {**message, "channel": Channel.SMS, "recipient": case.phone,
            "idempotency_key": f"sms:{message['idempotency_key']}"}


def _insert(rows: list[dict]) -> None:
    # Into the table, not through the ORM: these rows are written and never read back
    # here, so the ORM's bulk machinery would be pure cost on every booking.
    if rows:
        db.session.execute(sa.insert(cast(sa.Table, OutboxMessage.__table__)), rows)


def _reminder_due(starts_at: datetime, reminder_hours: int) -> datetime | None:
    """When a session's reminder goes: so many hours before, at once if that has passed,
    never once the session has started."""
    now = clock.now()
    if starts_at <= now:
        return None
    return max(starts_at - timedelta(hours=reminder_hours), now)


def _reminder(booking: Booking, reminder_hours: int) -> list[dict]:
    """The booking's reminder by email, and by text message where the participant agreed."""
    due = _reminder_due(booking.session.starts_at, reminder_hours)
    if due is None:
        return []
    email = _row(booking, MessageKind.REMINDER, f"reminder:{booking.id}:{booking.sequence}", due)
    text = text_copy(booking.enrolment.case, email)
    return [email] if text is None else [email, text]


def queue(booking: Booking, kind: str) -> None:
    """Queue an invitation, update or cancellation for this booking as it is now."""
    _insert([_row(booking, kind, f"{kind}:{booking.id}:{booking.sequence}", clock.now())])


def invite(bookings: list[Booking]) -> None:
    """Queue each new booking's invitation, and its reminder unless the session is too close."""
    rows = []
    for booking in bookings:
        rows.append(_row(booking, MessageKind.INVITATION,
                         f"invitation:{booking.id}:{booking.sequence}", clock.now()))
        rows += _reminder(booking, booking.session.programme.reminder_hours)
    _insert(rows)


def schedule_reminder(booking: Booking, reminder_hours: int) -> None:
    """Queue the reminder for the booking's current time, replacing any earlier one."""
    supersede_reminders(booking)
    _insert(_reminder(booking, reminder_hours))


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
    case = booking.enrolment.case
    payload = {
        "uid": booking.uid,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "language": case.language,
        "summary": title_in(case.language, programme.invite_title, programme.invite_title_cy),
        "contact_phone": programme.contact_phone,
        "timezone": programme.timezone,
        "rebook_by": rebook_by.isoformat() if rebook_by else None,
        "reference": reference,
    }
    notice = _message(booking.enrolment_id, booking.id, case.email, payload,
                      MessageKind.MISSED_NOTICE, f"{MessageKind.MISSED_NOTICE}:{key}",
                      clock.now())
    text = text_copy(case, notice)
    _insert([notice] if text is None else [notice, text])


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
