"""A participant's own appointment link: see the appointment, move it, ask to be called.

The link's token (``appointment_links``) names one booking as it stands. It opens
nothing once that booking is cancelled, moved, changed (a higher sequence) or its
session has ended, nor for an enrolment closed or a case erased: each is the same "no
such appointment", so a link says nothing about why.

The sessions offered instead are exactly those the booking rules allow, found as the
coordinator's participant page finds them (``services/choices.py``). A move goes through
the coordinator's booking path: the booking cancelled (its cancellation queued), the new
one booked (its invitation and reminder queued, with the new link), the place freed
offered to the session's waitlist, all in one transaction. Locks, in the order every
booking change keeps: the enrolment and those waiting for the freed place, the
booking, then both sessions in id order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.errors import RuleViolation
from diversion.domain.self_service import (
    SelfServiceLimits,
    check_move,
    message_problem,
    move_refusal,
)
from diversion.domain.vocabulary import OPEN_ENROLMENT, BookingStatus, Role
from diversion.extensions import db
from diversion.models import (
    Booking,
    CallbackRequest,
    CourseSession,
    Enrolment,
    SelfServiceMove,
)
from diversion.services import Actor, InvalidInput, NotFound, audit, outbox, progress, waitlist
from diversion.services import choices as choice_service
from diversion.services.appointment_links import link_to, read_token, token_for
from diversion.services.bookings import book_locked, cancel_locked, lock_booking
from diversion.services.enrolments import visible_enrolment
from diversion.services.programmes import settings_of

# Who acts through a link: the participant, known by no name. Audit rows say so.
PARTICIPANT = "participant"
# Written in the audit rows of everything done through the link (never the token).
VIA = "appointment_link"
# The most open requests the coordinator's home lists at once, oldest first.
CALLBACKS_SHOWN = 20


def participant(remote_addr: str | None) -> Actor:
    """The participant acting through their link, from this address."""
    return Actor(user_id=None, email=PARTICIPANT, role=PARTICIPANT, remote_addr=remote_addr)


@dataclass(frozen=True)
class Appointment:
    """One appointment as its participant sees it through the link."""

    booking: Booking
    # The token of the booking's own link as it stands.
    token: str
    limits: SelfServiceLimits
    moves_made: int
    # Why the participant may not move it now (self_service_closed / _limit), or None.
    refusal: RuleViolation | None
    # The sessions the participant could take instead, earliest first: while moving is
    # allowed, exactly those every booking rule allows.
    alternatives: list[CourseSession]
    # The participant's requests to be called that nobody has dealt with yet.
    callbacks: list[CallbackRequest]

    @property
    def session(self) -> CourseSession:
        return self.booking.session

    @property
    def link(self) -> str:
        return link_to(self.token)

    @property
    def can_move(self) -> bool:
        return self.refusal is None

    @property
    def moves_left(self) -> int:
        return self.limits.moves_left(self.moves_made)

    @property
    def location(self) -> str:
        return outbox.location(self.session)

    @property
    def language(self) -> str:
        return self.booking.enrolment.case.language

    @property
    def contact_phone(self) -> str:
        return self.session.programme.contact_phone

    @property
    def closes_at(self) -> datetime:
        """The last instant the participant may move this appointment themselves."""
        return self.limits.closes_at(self.session.starts_at)


def _opens(booking: Booking | None, sequence: int, now: datetime) -> bool:
    """Whether a link signed for this booking at this sequence still opens it now."""
    return (booking is not None
            and booking.sequence == sequence
            and booking.status == BookingStatus.BOOKED
            and booking.session.ends_at > now
            and booking.enrolment.status in OPEN_ENROLMENT
            and booking.enrolment.case.erased_at is None)


def _load(booking_id: int) -> Booking | None:
    """A booking with everything its participant's page shows."""
    return db.session.scalar(
        sa.select(Booking).where(Booking.id == booking_id)
        .options(so.joinedload(Booking.session).joinedload(CourseSession.venue),
                 so.joinedload(Booking.session).joinedload(CourseSession.programme),
                 so.joinedload(Booking.enrolment).joinedload(Enrolment.case),
                 so.joinedload(Booking.enrolment).joinedload(Enrolment.programme))
        .execution_options(populate_existing=True))


def _booking_for(token: str) -> Booking | None:
    """The booking a link opens now; None for any other link."""
    named = read_token(token)
    if named is None:
        return None
    booking_id, sequence = named
    booking = _load(booking_id)
    return booking if _opens(booking, sequence, clock.now()) else None


def _limits(enrolment: Enrolment) -> SelfServiceLimits:
    """The programme's self-service limits as they are now (domain.md: moves made after
    a change are held to the new limits, counting the moves already made)."""
    return settings_of(enrolment.programme).self_service


def _moves_made(enrolment_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(SelfServiceMove)
        .where(SelfServiceMove.enrolment_id == enrolment_id)) or 0


def _open_callbacks(enrolment_id: int) -> list[CallbackRequest]:
    return list(db.session.scalars(
        sa.select(CallbackRequest)
        .where(CallbackRequest.enrolment_id == enrolment_id,
               CallbackRequest.dealt_with_at.is_(None))
        .order_by(CallbackRequest.requested_at, CallbackRequest.id)))


def _appointment(booking: Booking) -> Appointment:
    enrolment = booking.enrolment
    limits = _limits(enrolment)
    made = _moves_made(enrolment.id)
    refusal = move_refusal(limits, booking.session.starts_at, made, clock.now())
    alternatives: list[CourseSession] = []
    if refusal is None:
        offers = choice_service.booking_choices(enrolment, [booking.module],
                                                instead_of=booking.id)
        alternatives = [s for offer in offers for s in offer.sessions
                        if s.id != booking.session_id]
    return Appointment(booking=booking, token=token_for(booking.id, booking.sequence),
                       limits=limits, moves_made=made, refusal=refusal,
                       alternatives=alternatives, callbacks=_open_callbacks(enrolment.id))


def language_for(token: str) -> str | None:
    """The language of the participant a link opens now, or None for any other link."""
    booking = _booking_for(token)
    return None if booking is None else booking.enrolment.case.language


def appointment(actor: Actor, token: str) -> Appointment | None:
    """Show the appointment a link opens, and what the participant may do; record the read.

    None for a link that opens nothing: unknown, forged, superseded or expired alike.
    """
    booking = _booking_for(token)
    if booking is None:
        return None
    shown = _appointment(booking)
    with transaction():
        audit.record(actor, "read", "booking", booking.id,
                     case_id=booking.enrolment.case_id, detail={"via": VIA})
    return shown


def move(actor: Actor, token: str, session_id: int) -> Appointment:
    """Move the appointment a link opens into another session, as the participant asked.

    Refused with ``self_service_closed`` or ``self_service_limit`` past the programme's
    limits, and with the booking rule's code for a session the rules do not allow; a
    refusal changes nothing and is recorded. Returns the new appointment.
    """
    named = read_token(token)
    if named is None:
        raise NotFound("appointment")
    booking_id, sequence = named
    try:
        with transaction():
            made = _move(actor, booking_id, sequence, session_id)
    except RuleViolation as refusal:
        db.session.rollback()
        audit.record_now(actor, "refused", "booking", booking_id,
                         case_id=audit.case_of("booking", booking_id),
                         detail={"code": refusal.code, "session_id": session_id, "via": VIA})
        raise
    return _appointment(_load(made.id) or made)


def _move(actor: Actor, booking_id: int, sequence: int, session_id: int) -> Booking:
    parties = db.session.execute(
        sa.select(Booking.enrolment_id, Booking.session_id).where(Booking.id == booking_id)
    ).first()
    if parties is None:
        raise NotFound("appointment")
    waitlist.lock_with_waiting([parties.enrolment_id], [parties.session_id])
    enrolment, booking = lock_booking(booking_id)
    now = clock.now()
    if not _opens(booking, sequence, now):
        raise NotFound("appointment")
    if session_id == booking.session_id:
        raise RuleViolation("already_booked", "You are already booked at this time.")
    check_move(_limits(enrolment), booking.session.starts_at, _moves_made(enrolment.id), now)
    db.session.execute(
        sa.select(CourseSession.id).where(CourseSession.id.in_([booking.session_id, session_id]))
        .order_by(CourseSession.id).with_for_update())
    cancel_locked(booking, reason="Moved by the participant", requested_by=PARTICIPANT)
    made = book_locked(actor, enrolment, session_id)
    db.session.add(SelfServiceMove(enrolment_id=enrolment.id, from_booking_id=booking.id,
                                   to_booking_id=made.id, moved_at=now))
    audit.record(actor, "update", "booking", booking.id, case_id=enrolment.case_id,
                 detail={"cancelled": True, "moved_to": made.id, "via": VIA})
    progress.reassess(enrolment)
    waitlist.promote(actor, booking.session_id)
    return made


def request_callback(actor: Actor, token: str, message: str | None) -> CallbackRequest | None:
    """Record the participant's request to be called, for the coordinator to see.

    None for a link that opens nothing. A note that is too long or holds characters no
    database can keep is refused (field ``message``) with nothing recorded.
    """
    note = (message or "").strip()
    problem = message_problem(note)
    if problem is not None:
        raise InvalidInput("The message is too long or holds characters that cannot be kept.",
                           field="message", code=problem)
    booking = _booking_for(token)
    if booking is None:
        return None
    with transaction():
        request = CallbackRequest(enrolment_id=booking.enrolment_id, booking_id=booking.id,
                                  message=note or None, requested_at=clock.now())
        db.session.add(request)
        db.session.flush()
        audit.record(actor, "create", "callback_request", request.id,
                     case_id=booking.enrolment.case_id,
                     detail={"booking_id": booking.id, "with_message": bool(note), "via": VIA})
    return request


# ---- the staff's side -------------------------------------------------------

def open_callbacks(actor: Actor) -> tuple[list[CallbackRequest], int]:
    """The open requests to be called, oldest first (at most CALLBACKS_SHOWN), and how many
    there are; each one listed is recorded as read, as it names a participant."""
    actor.require(Role.COORDINATOR)
    still_open = CallbackRequest.dealt_with_at.is_(None)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(CallbackRequest).where(still_open)) or 0
    shown = list(db.session.scalars(
        sa.select(CallbackRequest).where(still_open)
        .options(so.joinedload(CallbackRequest.enrolment).joinedload(Enrolment.case),
                 so.joinedload(CallbackRequest.booking).joinedload(Booking.session))
        .order_by(CallbackRequest.requested_at, CallbackRequest.id)
        .limit(CALLBACKS_SHOWN)))
    if shown:
        with transaction():
            audit.record_reads(actor, "enrolment",
                               [(r.enrolment_id, r.enrolment.case_id) for r in shown],
                               via="callback_requests")
    return shown, total


def callbacks_of(enrolment: Enrolment) -> list[CallbackRequest]:
    """An enrolment's open requests to be called: for a page that has read the enrolment."""
    return _open_callbacks(enrolment.id)


def mark_dealt_with(actor: Actor, enrolment_id: int, request_id: int) -> CallbackRequest:
    """Record that someone has dealt with a participant's request to be called."""
    actor.require(Role.COORDINATOR, Role.CASE_OFFICER)
    with transaction():
        enrolment = visible_enrolment(actor, enrolment_id, lock=True)
        request = db.session.scalar(
            sa.select(CallbackRequest).where(CallbackRequest.id == request_id,
                                             CallbackRequest.enrolment_id == enrolment.id)
            .with_for_update())
        if request is None:
            raise NotFound("callback_request", request_id)
        if request.dealt_with_at is None:
            request.dealt_with_at = clock.now()
            request.dealt_with_by_id = actor.user_id
            audit.record(actor, "update", "callback_request", request.id,
                         case_id=enrolment.case_id, detail={"dealt_with": True})
    return request
