"""Calendar objects for bookings, and the participant's private feed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.calendar.events import Appointment, feed, invitation
from diversion.database import transaction
from diversion.extensions import db
from diversion.models import Booking, Enrolment, FeedToken, Session
from diversion.services import Actor, NotFound, audit, outbox


def appointment_from_payload(payload: dict, cancelled: bool = False) -> Appointment:
    """Rebuild the appointment exactly as it was when the message was queued."""
    phone = payload.get("contact_phone") or ""
    return Appointment(
        uid=payload["uid"],
        sequence=payload["sequence"],
        starts_at=datetime.fromisoformat(payload["starts_at"]),
        ends_at=datetime.fromisoformat(payload["ends_at"]),
        summary=payload["summary"],
        location=payload["location"],
        description=_description(phone),
        cancelled=cancelled,
    )


def _description(phone: str) -> str:
    text = "Please arrive 10 minutes early and bring photo identification."
    if phone:
        text += f" If you cannot attend, call {phone} as soon as you can."
    return text


def appointment_for(booking: Booking) -> Appointment:
    session = booking.session
    programme = session.programme
    return Appointment(
        uid=booking.uid,
        sequence=booking.sequence,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        summary=programme.invite_title,
        location=outbox.location(session),
        description=_description(programme.contact_phone),
        cancelled=booking.status == "cancelled",
    )


def current_invite(actor: Actor, booking_id: int) -> bytes:
    """Return the booking's current calendar object: REQUEST, or CANCEL once cancelled."""
    actor.require("coordinator")
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("booking")
    case = booking.enrolment.case
    programme = booking.session.programme
    method = "CANCEL" if booking.status == "cancelled" else "REQUEST"
    body = invitation(
        appointment_for(booking),
        organizer=programme.organizer_email,
        attendee=case.email,
        attendee_name=f"{case.given_name} {case.family_name}",
        dtstamp=clock.now(),
        tzid=programme.timezone,
        method=method,
    )
    with transaction():
        audit.record(actor, "read", "booking", booking.id, case_id=case.id,
                     detail={"invite": method})
    return body


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed_token(actor: Actor, enrolment_id: int) -> str:
    """Issue the participant's feed token, revoking any earlier one; return the token."""
    actor.require("coordinator")
    token = secrets.token_urlsafe(32)
    with transaction():
        enrolment = db.session.get(Enrolment, enrolment_id)
        if enrolment is None:
            raise NotFound("enrolment")
        now = clock.now()
        db.session.execute(
            sa.update(FeedToken)
            .where(FeedToken.enrolment_id == enrolment.id, FeedToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        db.session.add(FeedToken(enrolment_id=enrolment.id, token_hash=_hash(token),
                                 created_at=now))
        audit.record(actor, "create", "feed_token", enrolment.id, case_id=enrolment.case_id)
    return token


def feed_for_token(token: str) -> bytes | None:
    """Return the participant's own active appointments as a calendar, or None."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(
        sa.select(FeedToken).where(FeedToken.token_hash == _hash(token),
                                   FeedToken.revoked_at.is_(None))
    )
    if row is None:
        return None
    bookings = db.session.scalars(
        sa.select(Booking)
        .where(Booking.enrolment_id == row.enrolment_id, Booking.status == "booked")
        .options(so.joinedload(Booking.session).joinedload(Session.venue),
                 so.joinedload(Booking.session).joinedload(Session.programme))
        .order_by(Booking.id)
    ).all()
    enrolment = db.session.get(Enrolment, row.enrolment_id)
    title = enrolment.programme.invite_title
    return feed([appointment_for(b) for b in bookings], dtstamp=clock.now(),
                name=title, tzid=enrolment.programme.timezone)
