"""Booking participants into sessions: every rule checked in the booking's transaction.

Concurrency: the enrolment row and then the session row are locked (FOR UPDATE
on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers), the seat is taken
by a conditional UPDATE checked by row count, and partial unique indexes make a
duplicate active booking impossible even if every check were bypassed.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import Row, insert_together, is_postgresql, run, run_one, transaction
from diversion.domain.booking import BookingFacts, EnrolmentFacts, check_booking
from diversion.domain.errors import RuleViolation
from diversion.extensions import db
from diversion.models import (
    AuditEvent,
    Booking,
    Case,
    CourseSession,
    Enrolment,
    OutboxMessage,
    Programme,
    Venue,
)
from diversion.services import Actor, NotFound, audit, outbox
from diversion.services.facts import booking_facts_of, enrolment_facts, session_facts
from diversion.services.programmes import RULE_SETTINGS, rules_for
from diversion.services.sessions import lock_session


def lock_enrolment(enrolment_id: int) -> Enrolment:
    """Load an enrolment locked for this transaction, with its bookings."""
    enrolment = db.session.scalar(
        sa.select(Enrolment).where(Enrolment.id == enrolment_id)
        .options(so.joinedload(Enrolment.case, innerjoin=True),
                 so.joinedload(Enrolment.programme, innerjoin=True))
        .with_for_update(of=Enrolment)
        .execution_options(populate_existing=True)
    )
    if enrolment is None:
        raise NotFound("enrolment")
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
        raise NotFound("booking")
    enrolment = lock_enrolment(enrolment_id)
    booking = db.session.scalar(
        sa.select(Booking).where(Booking.id == booking_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    return enrolment, booking


def _bookings_of(enrolment: Enrolment) -> list[Booking]:
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.enrolment_id == enrolment.id)
            .options(so.joinedload(Booking.session))
            .order_by(Booking.id)
            .execution_options(populate_existing=True)
        )
    )


def _take_seat(session: CourseSession) -> None:
    seat = _take_seat_returning(session.id)
    if seat is None:
        raise RuleViolation("session_full", "This session is full.")
    # Keep the loaded row in step without reading it again.
    so.attributes.set_committed_value(session, "booked", seat.booked)


def _release_seat(session_id: int) -> None:
    db.session.execute(
        sa.update(CourseSession).where(CourseSession.id == session_id, CourseSession.booked > 0)
        .values(booked=CourseSession.booked - 1)
    )


def _book_locked(actor: Actor, enrolment: Enrolment, session: CourseSession) -> Booking:
    """Check every rule and take the seat; the caller holds the locks and the transaction."""
    rules = rules_for(enrolment.programme)
    if session.programme_id != enrolment.programme_id:
        raise NotFound("session")
    facts = enrolment_facts(enrolment, facts=booking_facts_of(enrolment.id))
    check_booking(rules, facts, session_facts(session), clock.now())
    _take_seat(session)
    ((booking,),) = insert_bookings(actor, [(enrolment, [session])])
    return booking


@dataclass(frozen=True)
class Booked:
    """A booking just made, as the caller shows it: no ORM objects to load or keep."""

    id: int
    enrolment_id: int
    session_id: int
    module: int
    starts_at: datetime
    ends_at: datetime
    status: str = "booked"
    reason: str | None = None


def book(actor: Actor, enrolment_id: int, session_id: int) -> Booked:
    """Book an enrolment into a session, or refuse with the rule that says no.

    The busiest write in the service, so it is made of plain statements built once,
    three round trips on PostgreSQL: lock the enrolment (drawing the booking's id);
    take the seat and read the enrolment's bookings; write the booking with its
    messages and audit row. The seat is taken before the rules are asked; a refusal
    rolls the whole transaction back, seat included.
    """
    actor.require("coordinator")
    try:
        with transaction():
            enrolment = _lock_for_booking(enrolment_id)
            seat, held, seen = _take_seat_reading_bookings(session_id, enrolment_id)
            facts = enrolment_facts(enrolment, facts=held)
            if seat is None:
                # Full, cancelled or missing: the rules say which. Nothing is written, so
                # a refusal can be given as the statement saw the session, with no lock;
                # if it saw a free place, a booking took it since, and the locked row
                # decides.
                if seen is not None:
                    _judge(enrolment, facts, seen)
                session = _lock_session_facts(session_id)
                _judge(enrolment, facts, session)
                seat = _take_seat_returning(session_id)
                if seat is None:
                    raise RuleViolation("session_full", "This session is full.")
            elif seat.programme_id != enrolment.programme_id:
                raise NotFound("session")
            else:
                # The rules judge the session as it was before this booking's seat.
                before = dataclasses.replace(session_facts(seat), booked=seat.booked - 1)
                check_booking(rules_for(enrolment), facts, before, clock.now())
            return _write_booking(actor, enrolment, seat)
    except sa_exc.IntegrityError as error:
        raise RuleViolation("already_booked", "This module is already booked.") from error


def _judge(enrolment: Row, facts: EnrolmentFacts, session: Row) -> None:
    """Refuse a booking of this session (not found, or the first rule that says no), or pass."""
    if session.programme_id != enrolment.programme_id:
        raise NotFound("session")
    check_booking(rules_for(enrolment), facts, session_facts(session), clock.now())


def _lock_for_booking(enrolment_id: int) -> Row:
    """Lock the enrolment; read with it what the rules and the invitation need.

    On PostgreSQL the new booking's id is drawn here too, so the booking, its messages
    and its audit row can be written in one statement.
    """
    row = run_one(_lock_statement(is_postgresql()), {"enrolment_id": enrolment_id})
    if row is None:
        raise NotFound("enrolment")
    return row


# What rules_for and an invitation (outbox.appointment) read of a programme.
_PROGRAMME_SETTINGS = (*RULE_SETTINGS, "invite_title", "contact_phone", "organizer_email")


# The booking's statements are built once per process: building one cost more than
# running it.
@lru_cache(maxsize=2)
def _lock_statement(postgresql: bool) -> sa.Select:
    e, c, p = Enrolment.__table__.c, Case.__table__.c, Programme.__table__.c
    next_id = (sa.func.nextval("bookings_id_seq") if postgresql else sa.null()).label(
        "booking_id")
    return (
        sa.select(e.id, e.case_id, e.programme_id, e.status, e.start_date, e.core_deadline,
                  e.follow_up_opens, e.follow_up_closes, c.given_name, c.family_name,
                  c.email, *(p[name] for name in _PROGRAMME_SETTINGS), next_id)
        .join_from(Enrolment.__table__, Case.__table__, c.id == e.case_id)
        .join(Programme.__table__, p.id == e.programme_id)
        .where(e.id == sa.bindparam("enrolment_id"))
        .with_for_update(of=Enrolment.__table__)
    )


def _lock_session_facts(session_id: int) -> Row:
    """Lock a session the seat could not be taken from, and read what the rules need."""
    row = run_one(_session_lock_statement(), {"session_id": session_id})
    if row is None:
        raise NotFound("session")
    return row


@lru_cache(maxsize=1)
def _session_lock_statement() -> sa.Select:
    s = CourseSession.__table__.c
    return (sa.select(*(s[name] for name in _JudgedSession._fields))
            .where(s.id == sa.bindparam("session_id")).with_for_update())


def _take_seat_reading_bookings(session_id: int, enrolment_id: int
                                ) -> tuple[Row | None, tuple[BookingFacts, ...], Row | None]:
    """Take a seat as _take_seat_returning does, and read the enrolment's bookings.

    On PostgreSQL both happen in one statement, and the bookings come back whether
    or not the seat was taken. Its snapshot is taken after the enrolment lock was
    granted, so it sees every booking made for the enrolment. It also returns the
    session as that snapshot holds it (the third value; None on SQLite), so a seat
    not taken can be explained without reading the session again.
    """
    if not is_postgresql():
        held = booking_facts_of(enrolment_id)
        return _take_seat_returning(session_id), held, None
    rows = run(_seat_and_bookings_statement(),
               {"session_id": session_id, "enrolment_id": enrolment_id})
    first = rows[0]
    seen = None if first.seen_id is None else _JudgedSession(
        *(getattr(first, f"seen_{name}") for name in _JudgedSession._fields))
    return (first if first.id is not None else None), tuple(
        BookingFacts(id=row.booking_id, session_id=row.booking_session_id,
                     module=row.booking_module, starts_at=row.booking_starts_at,
                     status=row.booking_status)
        for row in rows if row.booking_id is not None), seen


class _JudgedSession(NamedTuple):
    """What a seat not taken is judged on: what the rules read of a session, and its programme.

    Read under the session's lock, or as the seat statement's snapshot held it.
    """

    id: int
    programme_id: int
    module: int
    starts_at: datetime
    status: str
    capacity: int
    booked: int


@lru_cache(maxsize=1)
def _seat_and_bookings_statement() -> sa.Select:
    seat = _seat_statement().cte("seat")
    # One row to hang them on: the seat, or nulls where none was taken, and the
    # session as the statement's snapshot holds it (a data-modifying CTE's change is
    # not visible to the rest of its statement), beside each of the enrolment's
    # bookings, or nulls where it has none.
    anchor = sa.select(sa.literal(1).label("one")).subquery("anchor")
    seen = CourseSession.__table__.alias("seen")
    b = Booking.__table__.alias("held")
    s = CourseSession.__table__.alias("held_session")
    return (
        sa.select(*seat.c,
                  *(seen.c[name].label(f"seen_{name}") for name in _JudgedSession._fields),
                  b.c.id.label("booking_id"), b.c.session_id.label("booking_session_id"),
                  b.c.module.label("booking_module"), s.c.starts_at.label("booking_starts_at"),
                  b.c.status.label("booking_status"))
        .select_from(anchor.outerjoin(seat, sa.true())
                     .outerjoin(seen, seen.c.id == sa.bindparam("session_id"))
                     .outerjoin(b.join(s, s.c.id == b.c.session_id),
                                b.c.enrolment_id == sa.bindparam("enrolment_id")))
        .order_by(b.c.id)
    )


def _take_seat_returning(session_id: int) -> Row | None:
    """Take a seat if the session is scheduled and not full; return it, or None.

    The UPDATE locks the row as FOR UPDATE would, so the seat is ours until commit.
    """
    return run_one(_seat_statement(), {"session_id": session_id})


@lru_cache(maxsize=1)
def _seat_statement() -> sa.Update:
    s, v = CourseSession.__table__.c, Venue.__table__.c
    return (
        sa.update(CourseSession.__table__)
        .where(s.id == sa.bindparam("session_id"), s.booked < s.capacity,
               s.status == "scheduled")
        .values(booked=s.booked + 1)
        .returning(s.id, s.programme_id, s.module, s.starts_at, s.ends_at, s.room, s.status,
                   s.capacity, s.booked,
                   sa.select(v.name).where(v.id == s.venue_id).scalar_subquery()
                   .label("venue_name"),
                   sa.select(v.address).where(v.id == s.venue_id).scalar_subquery()
                   .label("venue_address"))
    )


def _write_booking(actor: Actor, enrolment: Row, seat: Row) -> Booked:
    """Write the booking, its invitation and reminder, and its audit row."""
    now = clock.now()
    b = Booking.__table__
    booking = {"enrolment_id": enrolment.id, "session_id": seat.id, "module": seat.module,
               "status": "booked", "uid": f"{secrets.token_hex(16)}@appointments.invalid",
               "sequence": 0, "created_by_id": actor.user_id, "created_at": now,
               "updated_at": now}
    booking_id = enrolment.booking_id
    if booking_id is None:  # SQLite: the id comes from the insert itself
        booking_id = db.session.execute(sa.insert(b).returning(b.c.id), booking).scalar_one()
        first = []
    else:
        first = [(b, [booking | {"id": booking_id}])]
    payload = outbox.appointment(
        uid=booking["uid"], sequence=0, starts_at=seat.starts_at, ends_at=seat.ends_at,
        programme=enrolment, location=outbox.place(seat.venue_name, seat.room,
                                                   seat.venue_address),
        attendee_name=f"{enrolment.given_name} {enrolment.family_name}")
    insert_together(
        *first,
        (OutboxMessage.__table__, outbox.invitation_messages(
            enrolment_id=enrolment.id, booking_id=booking_id, recipient=enrolment.email,
            payload=payload, starts_at=seat.starts_at,
            reminder_hours=enrolment.reminder_hours)),
        (AuditEvent.__table__, [audit.event(actor, "create", "booking", booking_id,
                                            enrolment.case_id,
                                            {"session_id": seat.id, "module": seat.module})]),
    )
    return Booked(id=booking_id, enrolment_id=enrolment.id, session_id=seat.id,
                  module=seat.module, starts_at=seat.starts_at, ends_at=seat.ends_at)


def insert_bookings(actor: Actor, wanted: list[tuple[Enrolment, list[CourseSession]]], *,
                    planned: bool = False) -> list[list[Booking]]:
    """Insert bookings whose seats are taken; queue each invitation, reminder and audit row.

    One statement each for the bookings, the outbox and the audit rows, however many
    enrolments and sessions: a planned cohort costs little more than one booking.
    """
    now = clock.now()
    made = []
    for enrolment, sessions in wanted:
        bookings = []
        for session in sessions:
            booking = Booking(
                enrolment_id=enrolment.id, session_id=session.id, module=session.module,
                status="booked", uid=f"{secrets.token_hex(16)}@appointments.invalid",
                sequence=0, created_by_id=actor.user_id, created_at=now, updated_at=now,
            )
            bookings.append(booking)
        made.append(bookings)
    every = [booking for bookings in made for booking in bookings]
    db.session.add_all(every)
    try:
        db.session.flush()
    except sa_exc.IntegrityError as error:
        # The partial unique indexes caught a duplicate the checks could not see.
        raise RuleViolation("already_booked", "This module is already booked.") from error
    for (enrolment, sessions), bookings in zip(wanted, made, strict=True):
        for session, booking in zip(sessions, bookings, strict=True):
            # Attach the loaded rows after the flush, as if read with the booking, so
            # the flush had no relationships to cascade through.
            so.attributes.set_committed_value(booking, "session", session)
            so.attributes.set_committed_value(booking, "enrolment", enrolment)
    outbox.invite(every)
    audit.record_each(actor, "create", "booking", [
        (booking.id, booking.enrolment.case_id,
         {"session_id": booking.session_id, "module": booking.module}
         | ({"planned": True} if planned else {}))
        for booking in every
    ])
    return made


def _cancel(booking: Booking, *, reason: str, requested_by: str | None) -> None:
    booking.status = "cancelled"
    booking.sequence += 1
    booking.cancelled_at = clock.now()
    booking.updated_at = clock.now()
    booking.cancel_reason = reason
    booking.cancel_requested_by = requested_by
    _release_seat(booking.session_id)
    outbox.supersede_reminders(booking)
    outbox.queue(booking, "cancellation")


def cancel_booking(actor: Actor, booking_id: int, *, reason: str = "",
                   requested_by: str | None = None) -> Booking:
    """Cancel one booking; the participant receives a cancellation."""
    actor.require("coordinator")
    with transaction():
        enrolment, booking = lock_booking(booking_id)
        if booking.status != "booked":
            raise RuleViolation(
                "booking_not_active",
                "Only a booking that has not happened yet can be cancelled.",
            )
        _cancel(booking, reason=reason.strip() or "Cancelled by the coordinator",
                requested_by=requested_by)
        audit.record(actor, "update", "booking", booking.id, case_id=enrolment.case_id,
                     detail={"cancelled": True, "reason": reason, "requested_by": requested_by})
    return booking


def cancel_future_bookings(actor: Actor, enrolment: Enrolment, reason: str) -> list[Booking]:
    """Cancel every booking still to happen (inside the caller's transaction)."""
    now = clock.now()
    cancelled = []
    for booking in _bookings_of(enrolment):
        if booking.status == "booked" and booking.session.starts_at > now:
            _cancel(booking, reason=reason, requested_by=actor.email)
            cancelled.append(booking)
    return cancelled


def cancel_session(actor: Actor, session_id: int, *, reason: str, rebook: bool = False) -> dict:
    """Cancel a session and its bookings; with rebook, move each participant on."""
    actor.require("coordinator")
    with transaction():
        # Enrolments before sessions, the order every booking takes its locks in: first
        # the participants booked into this session, then the session itself.
        lock_enrolments(sorted(set(db.session.scalars(
            sa.select(Booking.enrolment_id).where(Booking.session_id == session_id,
                                                  Booking.status == "booked")))))
        if rebook:
            _lock_session_and_alternatives(session_id)
        session = lock_session(session_id)
        if session.status == "cancelled":
            raise RuleViolation("session_cancelled", "This session is already cancelled.")
        affected = list(
            db.session.scalars(
                sa.select(Booking).where(Booking.session_id == session.id,
                                         Booking.status == "booked").order_by(Booking.id)
            )
        )
        session.status = "cancelled"
        session.cancel_reason = reason.strip()
        session.updated_at = clock.now()
        for booking in affected:
            _cancel(booking, reason=f"Session cancelled: {reason.strip()}",
                    requested_by=actor.email)
        db.session.flush()
        rebooked, not_rebooked = [], []
        if rebook:
            for booking in affected:
                enrolment = lock_enrolment(booking.enrolment_id)
                new = _rebook(actor, enrolment, booking.module, exclude=session.id)
                if new is None:
                    not_rebooked.append({"enrolment_id": enrolment.id,
                                         "booking_id": booking.id, "module": booking.module})
                else:
                    rebooked.append({"enrolment_id": enrolment.id, "booking_id": new.id,
                                     "session_id": new.session_id, "module": new.module,
                                     "previous_booking_id": booking.id})
        audit.record(actor, "update", "session", session.id,
                     detail={"cancelled": True, "reason": reason, "rebook": rebook,
                             "affected": [b.id for b in affected]})
    return {"session": session, "cancelled": affected, "rebooked": rebooked,
            "not_rebooked": not_rebooked}


def _lock_session_and_alternatives(session_id: int) -> None:
    """Lock the session and every later one its participants could move to, in id order.

    Sessions are locked in id order everywhere several are held (a cohort plan does the
    same); taking the cancelled one first and its alternatives one by one could meet a
    plan holding them the other way round.
    """
    s = CourseSession.__table__.c
    found = db.session.execute(
        sa.select(s.programme_id, s.module).where(s.id == session_id)).first()
    if found is None:
        return  # lock_session says so
    db.session.execute(
        sa.select(s.id).where(sa.or_(
            s.id == session_id,
            sa.and_(s.programme_id == found.programme_id, s.module == found.module,
                    s.status == "scheduled", s.starts_at > clock.now())))
        .order_by(s.id).with_for_update())


def _rebook(actor: Actor, enrolment: Enrolment, module: int, exclude: int) -> Booking | None:
    """Book the earliest later session of this module that every rule allows."""
    now = clock.now()
    candidates = db.session.scalars(
        sa.select(CourseSession).where(
            CourseSession.programme_id == enrolment.programme_id,
            CourseSession.module == module,
            CourseSession.status == "scheduled",
            CourseSession.starts_at > now,
            CourseSession.booked < CourseSession.capacity,
            CourseSession.id != exclude,
        ).order_by(CourseSession.starts_at, CourseSession.id)
    ).all()
    for candidate in candidates:
        try:
            with db.session.begin_nested():
                session = lock_session(candidate.id)
                return _book_locked(actor, enrolment, session)
        except RuleViolation:
            continue
    return None
