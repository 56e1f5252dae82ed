"""Calendar objects for bookings, and the participant's private feed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa

from diversion import clock
from diversion.calendar.events import Appointment, clean_email, feed, invitation
from diversion.database import transaction
from diversion.domain.errors import RuleViolation
from diversion.domain.vocabulary import BookingStatus, Role
from diversion.extensions import db
from diversion.i18n import title_in, translations
from diversion.models import Booking, Case, CourseSession, Enrolment, FeedToken, Programme, Venue
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
        description=_description(phone, payload.get("language")),
        cancelled=cancelled,
    )


def _description(phone: str, language: str | None) -> str:
    gettext = translations(language).gettext
    text = gettext("Please arrive 10 minutes early and bring photo identification.")
    if phone:
        text += " " + gettext("If you cannot attend, call %(phone)s as soon as you can.") % {
            "phone": phone}
    return text


def appointment_for(booking: Booking) -> Appointment:
    session = booking.session
    return _appointment(booking, session, session.programme, outbox.location(session),
                        booking.enrolment.case.language,
                        cancelled=booking.status == BookingStatus.CANCELLED)


def _appointment(booking, session, programme, location: str, language: str | None, *,
                 cancelled: bool = False) -> Appointment:
    """An appointment from a booking's, its session's and its programme's fields, in the
    participant's language.

    Each may be a model or a row carrying those fields (the feed reads rows).
    """
    return Appointment(
        uid=booking.uid,
        sequence=booking.sequence,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        summary=title_in(language, programme.invite_title, programme.invite_title_cy),
        location=location,
        description=_description(programme.contact_phone, language),
        cancelled=cancelled,
    )


def current_invite(actor: Actor, booking_id: int) -> bytes:
    """Return the booking's current calendar object: REQUEST, or CANCEL once cancelled."""
    actor.require(Role.COORDINATOR)
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("booking", booking_id)
    case = booking.enrolment.case
    programme = booking.session.programme
    method = "CANCEL" if booking.status == BookingStatus.CANCELLED else "REQUEST"
    try:
        attendee = clean_email(case.email)
    except ValueError:
        # Stored before intake refused such addresses: mail could not reach it either.
        raise RuleViolation(
            "undeliverable_address",
            "The participant's email address cannot receive invitations",
        ) from None
    body = invitation(
        appointment_for(booking),
        organizer=programme.organizer_email,
        attendee=attendee,
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
    actor.require(Role.COORDINATOR)
    token = secrets.token_urlsafe(32)
    with transaction():
        enrolment = db.session.get(Enrolment, enrolment_id)
        if enrolment is None:
            raise NotFound("enrolment", enrolment_id)
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
    """Return the participant's own appointments as a calendar, or None.

    Every appointment of the enrolment that was not cancelled, past ones included: a
    subscribed calendar deletes whatever the feed drops, and an attended session is
    part of the participant's record for the length of the programme.
    """
    if not token or len(token) > 100:
        return None
    # Calendar apps poll every feed each hour: one statement reads the token, the
    # programme and every appointment.
    rows = db.session.execute(_feed_statement(_hash(token))).all()
    if not rows:
        return None
    first = rows[0]
    appointments = [
        replace(_appointment(row, row, row,
                             outbox.place(row.venue_name, row.room, row.venue_address),
                             row.language),
                changed_at=max(row.booking_changed_at, row.session_changed_at))
        for row in rows if row.uid is not None
    ]
    return feed(appointments, dtstamp=clock.now(),
                name=title_in(first.language, first.invite_title, first.invite_title_cy),
                tzid=first.timezone)


def _feed_statement(token_hash: str) -> sa.Select:
    t, e, b = FeedToken.__table__, Enrolment.__table__, Booking.__table__
    s, v, p, c = CourseSession.__table__, Venue.__table__, Programme.__table__, Case.__table__
    # The enrolment's programme, which is every booked session's too. A chain of outer
    # joins rather than one outer join of a nested join: SQLite answers the nested form
    # by building the whole join first, every booking in it.
    return (
        sa.select(p.c.invite_title, p.c.invite_title_cy, p.c.contact_phone, p.c.timezone,
                  c.c.language, b.c.uid, b.c.sequence,
                  s.c.starts_at, s.c.ends_at, s.c.room, v.c.name.label("venue_name"),
                  v.c.address.label("venue_address"),
                  b.c.updated_at.label("booking_changed_at"),
                  s.c.updated_at.label("session_changed_at"))
        .select_from(t.join(e, e.c.id == t.c.enrolment_id)
                     .join(c, c.c.id == e.c.case_id)
                     .join(p, p.c.id == e.c.programme_id)
                     .outerjoin(b, sa.and_(b.c.enrolment_id == e.c.id,
                                           b.c.status != BookingStatus.CANCELLED))
                     .outerjoin(s, s.c.id == b.c.session_id)
                     .outerjoin(v, v.c.id == s.c.venue_id))
        .where(t.c.token_hash == token_hash, t.c.revoked_at.is_(None))
        .order_by(b.c.id)
    )
