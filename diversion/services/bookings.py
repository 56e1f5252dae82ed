"""Booking participants into sessions: every rule checked in the booking's transaction.

Concurrency: the enrolment row is locked first (FOR UPDATE on PostgreSQL; SQLite's
BEGIN IMMEDIATE serialises writers), then the seat is taken by a conditional UPDATE
that locks the session row, and the rules are checked against what that UPDATE
returned. Where several sessions are held at once they are locked in id order.
Partial unique indexes make a duplicate active booking impossible even if every
check were bypassed.
"""

from __future__ import annotations

import dataclasses
import secrets
from functools import lru_cache
from typing import NamedTuple

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.booking import BookingFacts, EnrolmentFacts, check_booking
from diversion.domain.errors import RuleViolation
from diversion.domain.vocabulary import BookingStatus, MessageKind, Role, SessionStatus
from diversion.extensions import db
from diversion.models import Booking, CourseSession, Enrolment, WaitlistEntry
from diversion.services import Actor, NotFound, audit, outbox, progress
from diversion.services.facts import booking_facts_of, enrolment_facts, session_facts
from diversion.services.programmes import rules_for


# The statements every booking runs are built once, with bound parameters: building
# them anew each time cost more than SQLAlchemy's work to run them.
@lru_cache(maxsize=1)
def _lock_statement() -> sa.Select:
    return (sa.select(Enrolment).where(Enrolment.id == sa.bindparam("enrolment_id"))
            .options(so.joinedload(Enrolment.case, innerjoin=True),
                     so.joinedload(Enrolment.programme, innerjoin=True))
            .with_for_update(of=Enrolment)
            .execution_options(populate_existing=True))


@lru_cache(maxsize=1)
def _seat_statement() -> sa.Update:
    session_id: sa.BindParameter[int] = sa.bindparam("session_id")
    waiting = sa.exists().where(WaitlistEntry.session_id == session_id,
                                WaitlistEntry.removed_at.is_(None))
    return (sa.update(CourseSession)
            .where(CourseSession.id == session_id,
                   CourseSession.booked < CourseSession.capacity,
                   CourseSession.status == SessionStatus.SCHEDULED)
            .values(booked=CourseSession.booked + 1)
            .returning(CourseSession, waiting.label("waiting"))
            .execution_options(populate_existing=True, synchronize_session=False))


def lock_enrolment(enrolment_id: int) -> Enrolment:
    """Load an enrolment locked for this transaction, with its bookings."""
    enrolment = db.session.scalar(_lock_statement(), {"enrolment_id": enrolment_id})
    if enrolment is None:
        raise NotFound("enrolment", enrolment_id)
    return enrolment


def lock_enrolments(ids: list[int]) -> list[Enrolment]:
    """Lock several enrolments, in id order like every other enrolment lock."""
    if not ids:
        return []
    return list(db.session.scalars(
        sa.select(Enrolment).where(Enrolment.id.in_(ids))
        .options(so.joinedload(Enrolment.case, innerjoin=True),
                 so.joinedload(Enrolment.programme, innerjoin=True))
        .order_by(Enrolment.id)
        .with_for_update(of=Enrolment)
        .execution_options(populate_existing=True)
    ))


def lock_booking(booking_id: int) -> tuple[Enrolment, Booking]:
    """Lock a booking's enrolment, then the booking: the order every booking change uses."""
    enrolment_id = db.session.scalar(
        sa.select(Booking.enrolment_id).where(Booking.id == booking_id))
    if enrolment_id is None:
        raise NotFound("booking", booking_id)
    enrolment = lock_enrolment(enrolment_id)
    booking = db.session.scalars(
        sa.select(Booking).where(Booking.id == booking_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return enrolment, booking


def get_booking(booking_id: int) -> Booking:
    """Return a booking with its session and participant, or raise NotFound."""
    booking = db.session.scalar(
        sa.select(Booking).where(Booking.id == booking_id)
        .options(so.joinedload(Booking.session).joinedload(CourseSession.venue),
                 so.joinedload(Booking.enrolment).joinedload(Enrolment.case))
    )
    if booking is None:
        raise NotFound("booking", booking_id)
    return booking


def bookings_of(enrolment: Enrolment) -> list[Booking]:
    """Load an enrolment's bookings with their sessions, fresh from the database."""
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.enrolment_id == enrolment.id)
            .options(so.joinedload(Booking.session))
            .order_by(Booking.id)
            .execution_options(populate_existing=True)
        )
    )


class Seat(NamedTuple):
    session: CourseSession
    # Whether anyone is on the session's waitlist: only then can a booking end a wait.
    waiting: bool


def take_seat(session_id: int) -> Seat | None:
    """Take a place in a scheduled session that is not full; return it, or None.

    The conditional UPDATE is the concurrency guard: it locks the row as FOR UPDATE
    would, so the place and the session's times are ours until commit, and two
    bookings can never take the last place together.
    """
    row = db.session.execute(_seat_statement(), {"session_id": session_id}).first()
    return None if row is None else Seat(row[0], bool(row[1]))


def _release_seat(session_id: int) -> None:
    db.session.execute(
        sa.update(CourseSession)
        .where(CourseSession.id == session_id, CourseSession.booked > 0)
        .values(booked=CourseSession.booked - 1)
    )


def book_locked(actor: Actor, enrolment: Enrolment, session_id: int, *,
                facts: EnrolmentFacts | None = None, planned: bool = False) -> Booking:
    """Take the seat, check every rule and write the booking with its messages.

    Runs inside the caller's transaction, which holds the enrolment's lock. ``facts``
    may carry the enrolment's bookings already read; otherwise they are read here. A
    refusal raises before anything is kept: the caller's rollback returns the seat.
    """
    return book_all_locked(actor, enrolment, [session_id], facts=facts, planned=planned)[0]


def book_all_locked(actor: Actor, enrolment: Enrolment, session_ids: list[int], *,
                    facts: EnrolmentFacts | None = None,
                    planned: bool = False) -> list[Booking]:
    """Book one enrolment into these sessions in turn, each judged with the ones before it.

    Each seat is taken and each booking checked by every rule before the next, as if
    they were made one after the other; then the bookings, their messages and their
    audit rows are written together. All or nothing: a refusal raises before anything
    is written, and the caller's rollback returns the seats taken.
    """
    if facts is None:
        facts = enrolment_facts(enrolment, facts=booking_facts_of(enrolment.id))
    rules = rules_for(enrolment.programme)
    now = clock.now()
    seats: list[Seat] = []
    for session_id in session_ids:
        seat = take_seat(session_id)
        if seat is None:
            # Full, cancelled or missing: the rules say which, read as the session is now.
            full = db.session.get(CourseSession, session_id, populate_existing=True)
            if full is None or full.programme_id != enrolment.programme_id:
                raise NotFound("session", session_id)
            check_booking(rules, facts, session_facts(full), now)
            raise RuleViolation("session_full", "This session is full.")
        session = seat.session
        if session.programme_id != enrolment.programme_id:
            raise NotFound("session", session_id)
        # The rules judge the session as it was before this booking took its place.
        before = dataclasses.replace(session_facts(session), booked=session.booked - 1)
        check_booking(rules, facts, before, now)
        # The next booking is judged with this one made (its id is not known yet, and
        # no rule reads it).
        facts = dataclasses.replace(facts, bookings=(*facts.bookings, BookingFacts(
            id=0, session_id=session.id, module=session.module,
            starts_at=session.starts_at, status=BookingStatus.BOOKED)))
        seats.append(seat)
    return _insert_bookings(actor, enrolment, seats, planned=planned)


def _insert_bookings(actor: Actor, enrolment: Enrolment, seats: list[Seat], *,
                     planned: bool) -> list[Booking]:
    now = clock.now()
    try:
        made = list(db.session.scalars(
            sa.insert(Booking).returning(Booking, sort_by_parameter_order=True),
            [{"enrolment_id": enrolment.id, "session_id": seat.session.id,
              "module": seat.session.module, "status": BookingStatus.BOOKED,
              "uid": f"{secrets.token_hex(16)}@appointments.invalid", "sequence": 0,
              "created_by_id": actor.user_id, "created_at": now, "updated_at": now}
             for seat in seats]))
    except sa_exc.IntegrityError as error:
        # The partial unique indexes caught a duplicate the checks could not see.
        raise RuleViolation("already_booked", "This module is already booked.") from error
    # The new rows join the objects this transaction already holds, as a flush would.
    for booking, seat in zip(made, seats, strict=True):
        so.attributes.set_committed_value(booking, "session", seat.session)
        so.attributes.set_committed_value(booking, "enrolment", enrolment)
    if "bookings" not in sa.inspect(enrolment).unloaded:
        so.attributes.set_committed_value(enrolment, "bookings", [*enrolment.bookings, *made])
    for booking, seat in zip(made, seats, strict=True):
        # Booked into a session they were waiting for: their place on its list is done.
        if seat.waiting:
            db.session.execute(
                sa.update(WaitlistEntry)
                .where(WaitlistEntry.session_id == seat.session.id,
                       WaitlistEntry.enrolment_id == enrolment.id,
                       WaitlistEntry.removed_at.is_(None))
                .values(removed_at=now, removed_code="booked", booking_id=booking.id,
                        removed_reason="Booked into this session."))
    outbox.invite(made)
    audit.record_each(actor, "create", "booking", [
        (booking.id, enrolment.case_id,
         {"session_id": booking.session_id, "module": booking.module}
         | ({"planned": True} if planned else {}))
        for booking in made])
    return made


def book(actor: Actor, enrolment_id: int, session_id: int) -> Booking:
    """Book an enrolment into a session, or refuse with the rule that says no."""
    actor.require(Role.COORDINATOR)
    with transaction():
        enrolment = lock_enrolment(enrolment_id)
        return book_locked(actor, enrolment, session_id)


def cancel_locked(booking: Booking, *, reason: str, requested_by: str | None) -> None:
    """Cancel a booking and queue its cancellation, inside the caller's transaction."""
    booking.status = BookingStatus.CANCELLED
    booking.sequence += 1
    booking.cancelled_at = clock.now()
    booking.updated_at = clock.now()
    booking.cancel_reason = reason
    booking.cancel_requested_by = requested_by
    _release_seat(booking.session_id)
    outbox.supersede_reminders(booking)
    outbox.queue(booking, MessageKind.CANCELLATION)


def cancel_booking(actor: Actor, booking_id: int, *, reason: str = "",
                   requested_by: str | None = None) -> Booking:
    """Cancel one booking; the participant receives a cancellation."""
    # waitlist books through this module: imported here, not at the top.
    from diversion.services import waitlist

    actor.require(Role.COORDINATOR)
    with transaction():
        parties = db.session.execute(
            sa.select(Booking.enrolment_id, Booking.session_id).where(Booking.id == booking_id)
        ).first()
        if parties is not None:
            waitlist.lock_with_waiting([parties.enrolment_id], [parties.session_id])
        enrolment, booking = lock_booking(booking_id)
        if booking.status != BookingStatus.BOOKED:
            raise RuleViolation(
                "booking_not_active",
                "Only a booking that has not happened yet can be cancelled.",
            )
        cancel_locked(booking, reason=reason.strip() or "Cancelled by the coordinator",
                requested_by=requested_by)
        audit.record(actor, "update", "booking", booking.id, case_id=enrolment.case_id,
                     detail={"cancelled": True, "reason": reason, "requested_by": requested_by})
        progress.reassess(enrolment)
        waitlist.promote(actor, booking.session_id)
    return booking


def cancel_future_bookings(actor: Actor, enrolment: Enrolment, reason: str) -> list[Booking]:
    """Cancel every booking still to happen (inside the caller's transaction)."""
    now = clock.now()
    cancelled = []
    for booking in bookings_of(enrolment):
        if booking.status == BookingStatus.BOOKED and booking.session.starts_at > now:
            cancel_locked(booking, reason=reason, requested_by=actor.email)
            cancelled.append(booking)
    return cancelled
