"""Changing a booked session, and re-planning the people a change affects.

A move, a venue change or a cancellation is checked against every participant booked
into the session before anything is written. Without ``rebook`` a change that would
break a rule for anyone is refused with each person's rule; with it, the change goes
ahead and each person it breaks is re-planned from here (``domain/rebooking.py``):
the module booked again, later bookings released only when they must be, all or
nothing per person, through the same booking path as a coordinator's booking.

Locks: the enrolments of the people booked, in id order, then the programme's
sessions still to come, in id order: the order every booking and plan keeps.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.booking import SessionFacts
from diversion.domain.errors import ChangeBreaksBookings, RuleViolation
from diversion.domain.rebooking import breach_if_moved, replan
from diversion.domain.vocabulary import BookingStatus, MessageKind, Role, SessionStatus
from diversion.extensions import db
from diversion.models import Booking, CourseSession, Enrolment
from diversion.services import Actor, InvalidInput, audit, outbox, progress, waitlist
from diversion.services.bookings import (
    book_all_locked,
    bookings_of,
    cancel_locked,
)
from diversion.services.facts import SESSION_FACT_COLUMNS, enrolment_facts, session_facts
from diversion.services.programmes import rules_for
from diversion.services.sessions import (
    check_capacity,
    check_slot,
    in_programme_time,
    lock_session,
    session_end,
)
from diversion.services.venues import get_venue


@dataclass(frozen=True)
class Rebooked:
    """Someone booked again after a change: their new booking, and the one it replaced."""

    enrolment_id: int
    booking_id: int
    session_id: int
    module: int
    starts_at: datetime
    previous_booking_id: int


@dataclass(frozen=True)
class NotRebooked:
    """Someone a change left needing a booking, with the reason no plan exists."""

    enrolment_id: int
    booking_id: int
    module: int
    code: str
    reason: str
    participant: str


@dataclass
class SessionChange:
    """What a change to a session did: the session, and what happened to each person."""

    session: CourseSession
    cancelled: list[Booking] = field(default_factory=list)
    rebooked: list[Rebooked] = field(default_factory=list)
    not_rebooked: list[NotRebooked] = field(default_factory=list)
    # Sessions a re-plan released a place in: their waitlists are offered it.
    freed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Affected:
    """One person booked into a session, and the rule a proposed change would break."""

    booking: Booking
    breach: RuleViolation | None


def replan_locked(actor: Actor, enrolment: Enrolment, modules: list[int], *,
                  reason: str) -> tuple[list[Booking], list[Booking]]:
    """Book these modules again, releasing later bookings if it must; all or nothing.

    Runs inside the caller's transaction, which holds the enrolment's lock. Returns the
    bookings made and the bookings released. A refusal (no complete plan, a register
    overdue) raises with nothing changed for this person.
    """
    now = clock.now()
    rules = rules_for(enrolment.programme)
    with db.session.begin_nested():
        held = bookings_of(enrolment)
        facts = enrolment_facts(enrolment, held)
        found = replan(rules, facts, modules, _open_sessions(enrolment, now), now)
        by_id = {b.id: b for b in held}
        released = [by_id[booking_id] for booking_id in found.release]
        for booking in released:
            cancel_locked(booking, reason=reason, requested_by=actor.email)
        kept = tuple(b for b in facts.bookings if b.id not in found.release)
        facts = dataclasses.replace(facts, bookings=kept)
        made = book_all_locked(actor, enrolment, [s.id for s in found.sessions], facts=facts)
    return made, released


def _open_sessions(enrolment: Enrolment, now: datetime) -> list[SessionFacts]:
    """The programme's sessions still to come, as the rules see them, full ones included."""
    rows = db.session.execute(
        sa.select(*SESSION_FACT_COLUMNS)
        .where(CourseSession.programme_id == enrolment.programme_id,
               CourseSession.status == SessionStatus.SCHEDULED,
               CourseSession.starts_at > now)
        .order_by(CourseSession.starts_at, CourseSession.id)
    )
    return [session_facts(row) for row in rows]


def lock_programme_sessions(session_id: int) -> None:
    """Lock a session and every session of its programme still to come, in id order.

    A re-plan may take a place in any of them; taking them in the order every plan
    does means a re-plan and a cohort plan can never wait for each other in a circle.
    """
    programme_id = db.session.scalar(
        sa.select(CourseSession.programme_id).where(CourseSession.id == session_id))
    if programme_id is None:
        return  # lock_session says so
    db.session.execute(
        sa.select(CourseSession.id).where(sa.or_(
            CourseSession.id == session_id,
            sa.and_(CourseSession.programme_id == programme_id,
                    CourseSession.status == SessionStatus.SCHEDULED,
                    CourseSession.starts_at > clock.now())))
        .order_by(CourseSession.id).with_for_update())


def _lock_booked_enrolments(session_id: int) -> None:
    """Lock the people booked into a session and those on its waitlist, in id order."""
    waitlist.lock_with_waiting(db.session.scalars(
        sa.select(Booking.enrolment_id).where(
            Booking.session_id == session_id, Booking.status == BookingStatus.BOOKED)),
        [session_id])


def _booked(session_id: int) -> list[Booking]:
    return list(db.session.scalars(
        sa.select(Booking)
        .where(Booking.session_id == session_id, Booking.status == BookingStatus.BOOKED)
        .options(so.joinedload(Booking.enrolment).joinedload(Enrolment.case))
        .order_by(Booking.id)
    ))


def _rebook_each(actor: Actor, affected: list[Booking], change: SessionChange, *,
                 reason: str) -> None:
    """Re-plan each person whose booking a change took away; record who was placed."""
    for booking in affected:
        enrolment = booking.enrolment
        try:
            made, released = replan_locked(actor, enrolment, [booking.module],
                                           reason=reason)
        except RuleViolation as refusal:
            change.not_rebooked.append(NotRebooked(
                enrolment_id=enrolment.id, booking_id=booking.id, module=booking.module,
                code=refusal.code, reason=refusal.message,
                participant=f"{enrolment.case.given_name} {enrolment.case.family_name}"))
            continue
        change.freed.extend(b.session_id for b in released)
        again = next((b for b in made if b.module == booking.module), made[0])
        change.rebooked.append(Rebooked(
            enrolment_id=enrolment.id, booking_id=again.id, session_id=again.session_id,
            module=again.module, starts_at=again.starts_at, previous_booking_id=booking.id))


def _lock_for_change(session_id: int, *, rebook: bool) -> CourseSession:
    """Lock a session about to change, in the order every booking change keeps.

    Its participants' enrolments first, then (to re-plan them) every session of the
    programme, then the session itself; a cancelled session cannot change.
    """
    _lock_booked_enrolments(session_id)
    if rebook:
        lock_programme_sessions(session_id)
    session = lock_session(session_id)
    if session.status == SessionStatus.CANCELLED:
        raise RuleViolation("session_cancelled", "This session has been cancelled.")
    return session


def cancel_session(actor: Actor, session_id: int, *, reason: str,
                   rebook: bool = False) -> SessionChange:
    """Cancel a session and its bookings; with rebook, re-plan each participant."""
    actor.require(Role.COORDINATOR)
    with transaction():
        session = _lock_for_change(session_id, rebook=rebook)
        affected = _booked(session.id)
        session.status = SessionStatus.CANCELLED
        session.cancel_reason = reason.strip()
        session.updated_at = clock.now()
        for booking in affected:
            cancel_locked(booking, reason=f"Session cancelled: {reason.strip()}",
                          requested_by=actor.email)
        db.session.flush()
        change = SessionChange(session=session, cancelled=affected)
        if rebook:
            _rebook_each(actor, affected, change, reason="Re-planned after a cancelled session")
        # A cancelled module can put someone at risk at once, not at the next sweep.
        progress.reassess(*(b.enrolment for b in affected))
        # The session's own list leaves with it (the rules rule a cancelled session out).
        waitlist.promote(actor, session.id, *change.freed)
        audit.record(actor, "update", "session", session.id,
                     detail={"cancelled": True, "reason": reason, "rebook": rebook,
                             "affected": [b.id for b in affected],
                             "not_rebooked": [p.enrolment_id for p in change.not_rebooked]})
    return change


def preview_change(session_id: int, *, starts_at: datetime | None = None) -> list[Affected]:
    """Say, for each person booked, which rule moving the session would break, if any."""
    session = lock_session(session_id, lock=False)
    moved = _moved_facts(session, starts_at)
    return [Affected(booking, _breach(booking, moved)) for booking in _booked(session.id)]


def _moved_facts(session: CourseSession, starts_at: datetime | None) -> SessionFacts:
    facts = session_facts(session)
    if starts_at is None:
        return facts
    return dataclasses.replace(facts, starts_at=in_programme_time(session.programme, starts_at))


def _breach(booking: Booking, moved: SessionFacts) -> RuleViolation | None:
    enrolment = booking.enrolment
    return breach_if_moved(rules_for(enrolment.programme),
                           enrolment_facts(enrolment, bookings_of(enrolment)),
                           booking.id, moved, clock.now())


def change_session(
    actor: Actor,
    session_id: int,
    *,
    starts_at: datetime | None = None,
    venue_id: int | None = None,
    capacity: int | None = None,
    room: str | None = None,
    facilitator: str | None = None,
    rebook: bool = False,
    rehearse: bool = False,
) -> SessionChange:
    """Change a session's time, venue or capacity; every booked participant is told.

    A new time that would break a rule for anyone booked is refused, naming each
    person and rule, unless ``rebook``: then each of them is re-planned. ``rehearse``
    works the change out and then undoes it, so a page can say what it would do.
    """
    actor.require(Role.COORDINATOR)
    try:
        return _change_session(actor, session_id, starts_at=starts_at, venue_id=venue_id,
                               capacity=capacity, room=room, facilitator=facilitator,
                               rebook=rebook, rehearse=rehearse)
    except _Rehearsed as rehearsal:
        return rehearsal.change


class _Rehearsed(Exception):
    """Carries a rehearsed change out of its transaction, which it rolls back."""

    def __init__(self, change: SessionChange) -> None:
        super().__init__("rehearsal")
        self.change = change


def _change_session(actor: Actor, session_id: int, *, starts_at: datetime | None,
                    venue_id: int | None, capacity: int | None, room: str | None,
                    facilitator: str | None, rebook: bool, rehearse: bool) -> SessionChange:
    with transaction():
        session = _lock_for_change(session_id, rebook=rebook)
        if session.starts_at <= clock.now():
            raise RuleViolation("session_in_past", "A session that has started cannot be moved.")
        new_time = _new_time(session, starts_at)
        broken = _broken_by(session, new_time, rebook=rebook)
        if capacity is not None:
            check_capacity(capacity)
            if capacity < session.booked - len(broken):
                raise InvalidInput(
                    f"{session.booked} people are booked; capacity cannot go below that",
                    field="capacity", code="capacity_below_booked", status=409,
                )
            session.capacity = capacity
        for booking in broken:
            cancel_locked(booking, reason="The session moved to a time that breaks a rule",
                          requested_by=actor.email)
        changed = _change_place(session, venue_id=venue_id, room=room,
                                facilitator=facilitator)
        if new_time is not None:
            session.starts_at = new_time
            session.ends_at = session_end(new_time, session.programme.session_minutes)
            changed = True
        session.updated_at = clock.now()
        db.session.flush()
        db.session.refresh(session, ["venue"])
        if changed:
            _send_updates(session)
        change = SessionChange(session=session, cancelled=broken)
        _rebook_each(actor, broken, change, reason="Re-planned after a moved session")
        # Everyone still booked is reassessed too: a later date can leave too little
        # time for the modules after it, which is a flag today, not at tomorrow's sweep.
        progress.reassess(*(b.enrolment for b in broken),
                          *(b.enrolment for b in _booked(session.id)))
        # A larger capacity or a booking moved away frees a place here; a new time may
        # rule some of the list out.
        waitlist.promote(actor, session.id, *change.freed)
        if rehearse:
            raise _Rehearsed(change)
        audit.record(actor, "update", "session", session.id,
                     detail={"moved": changed, "capacity": session.capacity,
                             "rebook": rebook, "broken": [b.enrolment_id for b in broken]})
    return change


def _new_time(session: CourseSession, starts_at: datetime | None) -> datetime | None:
    """The session's new start, checked as any session's would be; None if unchanged."""
    if starts_at is None:
        return None
    starts_at = in_programme_time(session.programme, starts_at)
    if starts_at == session.starts_at:
        return None
    check_slot(session.programme, starts_at)
    return starts_at


def _broken_by(session: CourseSession, new_time: datetime | None, *,
               rebook: bool) -> list[Booking]:
    """The bookings a new time would break; refuse, naming each, unless re-planning."""
    if new_time is None:
        return []
    moved = _moved_facts(session, new_time)
    breaches = [(b, _breach(b, moved)) for b in _booked(session.id)]
    broken = [(b, breach) for b, breach in breaches if breach is not None]
    if broken and not rebook:
        raise ChangeBreaksBookings([(b.enrolment_id, breach) for b, breach in broken])
    return [b for b, _ in broken]


def _change_place(session: CourseSession, *, venue_id: int | None, room: str | None,
                  facilitator: str | None) -> bool:
    """Apply a new venue, room or facilitator; say whether participants must be told."""
    changed = False
    if venue_id is not None and venue_id != session.venue_id:
        session.venue_id = get_venue(venue_id).id
        changed = True
    if room is not None and room.strip() != session.room:
        session.room = room.strip()
        changed = True
    if facilitator is not None:
        session.facilitator = facilitator.strip()
    return changed


def _send_updates(session: CourseSession) -> None:
    """Send everyone still booked the session's new details, and move their reminders."""
    for booking in _booked(session.id):
        booking.sequence += 1
        booking.updated_at = clock.now()
        db.session.flush()
        outbox.queue(booking, MessageKind.UPDATE)
        outbox.schedule_reminder(booking, session.programme.reminder_hours)
