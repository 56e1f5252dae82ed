"""Planning: book every remaining module into the earliest sessions every rule allows.

One enrolment or a whole cohort goes through the same code. A cohort is planned
in batches, one transaction each: the batch's enrolments are locked in id order,
then the sessions they could use are locked in id order and read once (the
order every booking takes its locks in, so plans and single bookings cannot
deadlock), and each enrolment is planned in turn against the seats the ones
before it took. Each plan is then booked through the same path as a single
booking (seat, rules, insert), so a planned booking is checked like any other.
An enrolment that cannot be planned is refused with its reason and nothing is
booked for it; the others in its batch are booked.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from diversion import clock
from diversion.database import transaction
from diversion.domain.booking import EnrolmentFacts, SessionFacts, check_open
from diversion.domain.errors import RuleViolation
from diversion.domain.planning import remaining_modules
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules
from diversion.domain.rebooking import Replan, replan
from diversion.domain.vocabulary import BookingStatus, Role, SessionStatus
from diversion.extensions import db
from diversion.models import Booking, CourseSession, Enrolment
from diversion.services import Actor, NotFound, waitlist
from diversion.services.bookings import book_all_locked, cancel_locked, lock_enrolments
from diversion.services.facts import (
    SESSION_FACT_COLUMNS,
    booking_facts_for,
    enrolment_facts,
    session_facts,
)
from diversion.services.programmes import rules_for

# Locks are held for a whole batch: large enough to share the reads and writes,
# small enough that a single booking never waits long behind a cohort.
BATCH_SIZE = 200
MOST_AT_ONCE = 5000


@dataclass
class PlanOutcome:
    """What planning did: bookings made per enrolment, and each refusal with its reason."""

    planned: dict[int, list[Booking]] = field(default_factory=dict)
    refused: dict[int, RuleViolation] = field(default_factory=dict)


def plan_enrolment(actor: Actor, enrolment_id: int) -> list[Booking]:
    """Book every remaining module into the earliest sessions that satisfy every rule."""
    actor.require(Role.COORDINATOR)
    with transaction():
        outcome = _plan_batch(actor, [enrolment_id])
        if enrolment_id in outcome.refused:
            raise outcome.refused[enrolment_id]
        if enrolment_id not in outcome.planned:
            raise NotFound("enrolment", enrolment_id)
        return outcome.planned[enrolment_id]


def plan_enrolments(actor: Actor, enrolment_ids: list[int]) -> PlanOutcome:
    """Plan each enrolment in turn, lowest id first; refusals do not stop the others."""
    actor.require(Role.COORDINATOR)
    ids = sorted(set(enrolment_ids))
    if len(ids) > MOST_AT_ONCE:
        raise RuleViolation("too_many", f"Plan at most {MOST_AT_ONCE:,} participants at once.")
    outcome = PlanOutcome()
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start:start + BATCH_SIZE]
        with transaction():
            done = _plan_batch(actor, batch)
        outcome.planned |= done.planned
        outcome.refused |= done.refused
        for missing in set(batch) - done.planned.keys() - done.refused.keys():
            outcome.refused[missing] = RuleViolation("not_found", "No such enrolment.")
    return outcome


@dataclass
class _Wanted:
    enrolment: Enrolment
    rules: ProgrammeRules
    facts: EnrolmentFacts
    modules: list[int]
    last_day: date | None


def _plan_batch(actor: Actor, ids: list[int]) -> PlanOutcome:
    """Plan these enrolments inside the caller's transaction."""
    outcome = PlanOutcome()
    # A plan may release a later booking: whoever waits for its place is locked with
    # the batch, in id order, before any session.
    waitlist.lock_with_waiting(ids, db.session.scalars(
        sa.select(Booking.session_id).where(Booking.enrolment_id.in_(ids),
                                            Booking.status == BookingStatus.BOOKED)))
    enrolments = lock_enrolments(ids)
    facts_of = booking_facts_for([e.id for e in enrolments])
    wanted: list[_Wanted] = []
    for enrolment in enrolments:
        rules = rules_for(enrolment.programme)
        facts = enrolment_facts(enrolment, facts=facts_of.get(enrolment.id, ()))
        try:
            check_open(facts)
        except RuleViolation as refusal:
            outcome.refused[enrolment.id] = refusal
            continue
        modules = remaining_modules(rules, facts)
        if not modules:
            outcome.planned[enrolment.id] = []
            continue
        last_day = (enrolment.follow_up_closes if modules == [FOLLOW_UP]
                    else enrolment.core_deadline)
        wanted.append(_Wanted(enrolment, rules, facts, modules, last_day))
    if not wanted:
        return outcome

    now = clock.now()
    # Seats as this batch has left them: each plan sees the seats the earlier ones took.
    seats = _open_sessions(wanted, now)
    chosen: list[tuple[_Wanted, Replan]] = []
    for want in wanted:
        programme_seats = seats[want.enrolment.programme_id]
        try:
            found = replan(want.rules, want.facts, want.modules,
                           list(programme_seats.values()), now)
        except RuleViolation as refusal:
            outcome.refused[want.enrolment.id] = refusal
            continue
        released = [b.session_id for b in want.facts.bookings if b.id in found.release]
        for session_id, change in [*((s, -1) for s in released),
                                   *((s.id, 1) for s in found.sessions)]:
            if session_id in programme_seats:
                held = programme_seats[session_id]
                programme_seats[session_id] = dataclasses.replace(
                    held, booked=held.booked + change)
        chosen.append((want, found))

    freed: list[int] = []
    for want, found in chosen:
        try:
            # All or nothing for each person: a refusal undoes only their bookings.
            with db.session.begin_nested():
                outcome.planned[want.enrolment.id] = _book_plan(actor, want, found)
        except RuleViolation as refusal:
            outcome.refused[want.enrolment.id] = refusal
            continue
        freed += [b.session_id for b in want.facts.bookings if b.id in found.release]
    # After the whole batch: a place released for one plan may be what a later one took.
    waitlist.promote(actor, *freed)
    return outcome


def _book_plan(actor: Actor, want: _Wanted, found: Replan) -> list[Booking]:
    """Release what the plan releases, then book its sessions through the one booking path."""
    facts = want.facts
    if found.release:
        for booking in db.session.scalars(
                sa.select(Booking).where(Booking.id.in_(found.release)).order_by(Booking.id)):
            cancel_locked(booking, reason="Re-planned with the modules still to attend",
                          requested_by=actor.email)
        facts = dataclasses.replace(
            facts, bookings=tuple(b for b in facts.bookings if b.id not in found.release))
    return book_all_locked(actor, want.enrolment, [s.id for s in found.sessions],
                           facts=facts, planned=True)


def _open_sessions(wanted: list[_Wanted], now: datetime) -> dict[int, dict[int, SessionFacts]]:
    """Lock and read every session the batch could use, once per programme, as plain facts."""
    seats: dict[int, dict[int, SessionFacts]] = defaultdict(dict)
    by_programme: dict[int, list[_Wanted]] = defaultdict(list)
    for want in wanted:
        by_programme[want.enrolment.programme_id].append(want)
    for programme_id, wants in by_programme.items():
        # Full sessions count only where a re-plan could free a place: one of the
        # batch's own future bookings is in them.
        held = {b.session_id for w in wants for b in w.facts.bookings
                if b.status == BookingStatus.BOOKED and b.starts_at > now}
        query = sa.select(*SESSION_FACT_COLUMNS).where(
            CourseSession.programme_id == programme_id,
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.starts_at > now,
            sa.or_(CourseSession.booked < CourseSession.capacity,
                   CourseSession.id.in_(sorted(held))),
        )
        last_days = [w.last_day for w in wants if w.last_day is not None]
        if len(last_days) == len(wants):
            query = query.where(
                CourseSession.starts_at < wants[0].rules.day_ends(max(last_days)))
        # Locked, in id order like every other session lock: the plans are made against
        # seats nobody else can take meanwhile, so a cohort planned beside other
        # bookings is not refused for a seat that was free all along.
        for row in db.session.execute(query.order_by(CourseSession.id).with_for_update()):
            seats[programme_id][row.id] = session_facts(row)
    return seats


