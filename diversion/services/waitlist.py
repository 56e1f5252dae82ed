"""Waitlists: enrolments waiting for a place in a full session, booked as places free.

A place frees when a booking is cancelled or moves away, a session's capacity grows, or
an enrolment closes. Each use case that frees one calls ``promote`` in its own
transaction: the first on the list whose booking passes every rule is booked through
the one booking path (``bookings.book_locked``), invited as any booking is, and leaves
the list; entries the rules rule out for good leave it with the rule's words.

Concurrency: the session row is locked by whatever freed the place (the seat released,
the capacity changed), so two promotions for one session queue behind each other and
the second reads the list the first left. The enrolments waiting are locked in id
order; a use case that can see a place freeing locks them with its own enrolments,
before any session (``lock_with_waiting``), the order every booking keeps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.errors import RuleViolation
from diversion.domain.vocabulary import Role
from diversion.domain.waitlist import Waiting, choose, has_a_place, never_takeable
from diversion.extensions import db
from diversion.models import Booking, CourseSession, Enrolment, WaitlistEntry
from diversion.services import Actor, NotFound, audit
from diversion.services.bookings import book_locked, lock_enrolment, lock_enrolments
from diversion.services.facts import booking_facts_for, enrolment_facts, session_facts
from diversion.services.programmes import rules_for
from diversion.services.sessions import lock_session

BOOKED = "booked"
REMOVED = "removed"


@dataclass(frozen=True)
class Placed:
    """An entry on a list, with its place in the order (1 is offered the next place)."""

    entry: WaitlistEntry
    position: int

    @property
    def id(self) -> int:
        return self.entry.id

    @property
    def session_id(self) -> int:
        return self.entry.session_id

    @property
    def enrolment_id(self) -> int:
        return self.entry.enrolment_id

    @property
    def added_at(self) -> datetime:
        return self.entry.added_at


def add(actor: Actor, session_id: int, enrolment_id: int) -> Placed:
    """Put an enrolment on a full session's waitlist, at the end."""
    actor.require(Role.COORDINATOR)
    with transaction():
        enrolment = lock_enrolment(enrolment_id)
        session = lock_session(session_id)
        if session.programme_id != enrolment.programme_id:
            raise NotFound("enrolment", enrolment_id)
        facts = session_facts(session)
        held = booking_facts_for([enrolment.id]).get(enrolment.id, ())
        refusal = never_takeable(rules_for(session.programme),
                                 enrolment_facts(enrolment, facts=held), facts, clock.now())
        if refusal is not None:
            raise refusal
        if has_a_place(facts):
            free = session.capacity - session.booked
            raise RuleViolation(
                "places_available",
                f"This session has {free} place{'' if free == 1 else 's'} free: "
                "book the participant instead.")
        entry = _entry_for(session.id, enrolment.id)
        if entry is not None and entry.waiting:
            raise RuleViolation("already_on_waitlist",
                                "The participant is already on this session's waitlist.")
        now = clock.now()
        if entry is None:
            entry = WaitlistEntry(session_id=session.id, enrolment_id=enrolment.id)
            db.session.add(entry)
        # Back on a list once left: the same row, at the end of the list again.
        entry.added_at, entry.added_by_id = now, actor.user_id
        entry.removed_at = entry.removed_code = entry.removed_reason = None
        entry.booking_id = None
        try:
            db.session.flush()
        except sa_exc.IntegrityError as error:
            raise RuleViolation("already_on_waitlist",
                                "The participant is already on this session's waitlist."
                                ) from error
        audit.record(actor, "create", "waitlist_entry", entry.id, case_id=enrolment.case_id,
                     detail={"session_id": session.id, "enrolment_id": enrolment.id})
        placed = Placed(entry, _position(entry))
    return placed


def _entry_for(session_id: int, enrolment_id: int) -> WaitlistEntry | None:
    return db.session.scalar(
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.session_id == session_id,
               WaitlistEntry.enrolment_id == enrolment_id)
        .execution_options(populate_existing=True))


def _in_order() -> tuple:
    return (WaitlistEntry.added_at, WaitlistEntry.id)


def _position(entry: WaitlistEntry) -> int:
    ahead = db.session.scalar(
        sa.select(sa.func.count()).select_from(WaitlistEntry)
        .where(WaitlistEntry.session_id == entry.session_id,
               WaitlistEntry.removed_at.is_(None),
               sa.or_(WaitlistEntry.added_at < entry.added_at,
                      sa.and_(WaitlistEntry.added_at == entry.added_at,
                              WaitlistEntry.id < entry.id))))
    return (ahead or 0) + 1


def _waiting(session_id: int) -> list[WaitlistEntry]:
    return list(db.session.scalars(
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.session_id == session_id, WaitlistEntry.removed_at.is_(None))
        .options(so.joinedload(WaitlistEntry.enrolment).joinedload(Enrolment.case))
        .order_by(*_in_order())
        .execution_options(populate_existing=True)))


def waiting_for(session_id: int) -> list[Placed]:
    """List a session's waitlist in order: the first is offered the next place."""
    if db.session.get(CourseSession, session_id) is None:
        raise NotFound("session", session_id)
    return [Placed(entry, n) for n, entry in enumerate(_waiting(session_id), start=1)]


def read_list(actor: Actor, session_id: int) -> list[Placed]:
    """Return a session's waitlist in order, for a coordinator; audited, as it names people."""
    actor.require(Role.COORDINATOR)
    placed = waiting_for(session_id)
    with transaction():
        audit.record_reads(actor, "enrolment", sorted(
            {(p.entry.enrolment_id, p.entry.enrolment.case_id) for p in placed}), "waitlist")
    return placed


def entries_of(enrolment_id: int) -> list[tuple[WaitlistEntry, int | None]]:
    """An enrolment's entries on every list, each with its place while it waits.

    Waiting entries come first, then those that left, latest first.
    """
    entries = db.session.scalars(
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.enrolment_id == enrolment_id)
        .options(so.joinedload(WaitlistEntry.session).joinedload(CourseSession.venue))
        .order_by(WaitlistEntry.removed_at.is_not(None),
                  sa.func.coalesce(WaitlistEntry.removed_at, WaitlistEntry.added_at).desc(),
                  WaitlistEntry.id.desc()))
    return [(entry, _position(entry) if entry.waiting else None) for entry in entries]


def remove(actor: Actor, entry_id: int) -> WaitlistEntry:
    """Take an entry off its waitlist; the coordinator's own decision."""
    actor.require(Role.COORDINATOR)
    with transaction():
        enrolment_id = db.session.scalar(
            sa.select(WaitlistEntry.enrolment_id).where(WaitlistEntry.id == entry_id))
        if enrolment_id is None:
            raise NotFound("waitlist_entry", entry_id)
        lock_enrolment(enrolment_id)
        entry = db.session.get(WaitlistEntry, entry_id, populate_existing=True)
        if entry is None or not entry.waiting:
            raise NotFound("waitlist_entry", entry_id)
        _leave(actor, entry, REMOVED, "Removed from the waitlist by a coordinator.")
    return entry


def _leave(actor: Actor, entry: WaitlistEntry, code: str, reason: str, *,
           booking: Booking | None = None) -> None:
    entry.removed_at = clock.now()
    entry.removed_code = code
    entry.removed_reason = reason
    entry.booking_id = booking.id if booking is not None else None
    audit.record(actor, "update", "waitlist_entry", entry.id,
                 case_id=entry.enrolment.case_id,
                 detail={"session_id": entry.session_id, "left": code, "reason": reason}
                 | ({"booking_id": booking.id} if booking is not None else {}))


def waiting_enrolment_ids(session_ids: Iterable[int]) -> set[int]:
    """The enrolments on these sessions' waitlists."""
    ids = list(set(session_ids))
    if not ids:
        return set()
    return set(db.session.scalars(
        sa.select(WaitlistEntry.enrolment_id)
        .where(WaitlistEntry.session_id.in_(ids), WaitlistEntry.removed_at.is_(None))))


def lock_with_waiting(enrolment_ids: Iterable[int], session_ids: Iterable[int]) -> None:
    """Lock these enrolments and those waiting for these sessions, in id order.

    For a use case about to free a place: the people a promotion may book are then
    locked before any session, as every booking locks them.
    """
    lock_enrolments(sorted(set(enrolment_ids) | waiting_enrolment_ids(session_ids)))


def promote(actor: Actor, *session_ids: int) -> list[Booking]:
    """Give each free place to the first on the session's list who can take it.

    Runs inside the caller's transaction, after the change that freed the place. Entries
    the rules now rule out for good leave the list, with the rule's words.
    """
    made: list[Booking] = []
    for session_id in sorted(set(session_ids)):
        made += _promote(actor, session_id)
    return made


def _promote(actor: Actor, session_id: int) -> list[Booking]:
    waiting_ids = waiting_enrolment_ids([session_id])
    if not waiting_ids:
        return []
    enrolments = {e.id: e for e in lock_enrolments(sorted(waiting_ids))}
    session = lock_session(session_id)
    rules = rules_for(session.programme)
    made: list[Booking] = []
    refused: set[int] = set()
    while True:
        entries = [e for e in _waiting(session_id)
                   if e.enrolment_id in enrolments and e.id not in refused]
        held = booking_facts_for([e.enrolment_id for e in entries])
        choice = choose(rules, [
            Waiting(e.id, enrolment_facts(enrolments[e.enrolment_id],
                                          facts=held.get(e.enrolment_id, ())))
            for e in entries], session_facts(session), clock.now())
        by_id = {e.id: e for e in entries}
        for entry_id, refusal in choice.leaving:
            _leave(actor, by_id[entry_id], refusal.code, refusal.message)
        if choice.promote is None:
            return made
        entry = by_id[choice.promote]
        try:
            with db.session.begin_nested():
                booking = book_locked(actor, enrolments[entry.enrolment_id], session_id)
        except RuleViolation:
            # The rules passed on the same facts: only a constraint the checks cannot
            # see refuses here. The entry keeps its place for the next freed place.
            refused.add(entry.id)
            continue
        # The booking already took the entry off the list; this says it came from it.
        _leave(actor, entry, BOOKED, "Booked into this session from the waitlist.",
               booking=booking)
        made.append(booking)


def sift(actor: Actor, enrolment: Enrolment) -> None:
    """Take this enrolment off every list whose session the rules now rule out for good.

    Runs inside the caller's transaction, which holds the enrolment's lock: after a
    withdrawal or referral (every entry leaves) or an attendance (the module's lists).
    """
    entries = list(db.session.scalars(
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.enrolment_id == enrolment.id, WaitlistEntry.removed_at.is_(None))
        .options(so.joinedload(WaitlistEntry.session).joinedload(CourseSession.programme))
        .order_by(WaitlistEntry.id)
        .execution_options(populate_existing=True)))
    if not entries:
        return
    facts = enrolment_facts(enrolment, facts=booking_facts_for([enrolment.id]).get(
        enrolment.id, ()))
    now = clock.now()
    for entry in entries:
        refusal = never_takeable(rules_for(entry.session.programme), facts,
                                 session_facts(entry.session), now)
        if refusal is not None:
            _leave(actor, entry, refusal.code, refusal.message)

