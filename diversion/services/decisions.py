"""A case officer's decision on an enrolment: refer back to prosecution, continue, or withdraw.

Decisions are never automatic: the product flags, a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from diversion import clock
from diversion.database import transaction
from diversion.domain.dates import LAST_SESSION_DAY, days_after, format_date
from diversion.domain.errors import RuleViolation
from diversion.domain.progress import CLOSING_DECISIONS, status_after
from diversion.domain.vocabulary import (
    OPEN_ENROLMENT,
    BookingStatus,
    DecisionKind,
    EnrolmentStatus,
    ExtensionTarget,
    FlagStatus,
    Role,
    values,
)
from diversion.extensions import db
from diversion.models import Booking, Decision, Enrolment, Extension, Flag
from diversion.services import Actor, InvalidInput, NotFound, audit, outbox, progress, waitlist
from diversion.services.bookings import bookings_of, cancel_future_bookings, lock_enrolment
from diversion.services.enrolments import get_enrolment

MAX_EXTENSION_DAYS = 365

# The reason a cancelled booking carries; coordinators see it, so it names no decision.
ARRANGEMENT_ENDED = "Arrangement ended"


def check_decision(decision: str, reason: str, extend_days: int | None = None) -> str:
    """Refuse a decision the form or body got wrong; return the reason, stripped."""
    reason = (reason or "").strip()
    if decision not in values(DecisionKind):
        raise InvalidInput("Decision must be refer, continue or withdraw", field="decision")
    if not reason:
        raise InvalidInput("Give the reason for the decision", field="reason")
    if decision in CLOSING_DECISIONS and extend_days:
        what = "A referral" if decision == DecisionKind.REFER else "A withdrawal"
        raise InvalidInput(f"{what} cannot extend a deadline", field="extend_days")
    return reason


def decide(
    actor: Actor,
    enrolment_id: int,
    *,
    decision: str,
    reason: str,
    extend_days: int | None = None,
    extend: str | None = None,
) -> Decision:
    """Record refer, continue or withdraw, with a reason; continue may extend a deadline."""
    actor.require(Role.CASE_OFFICER)
    reason = check_decision(decision, reason, extend_days)
    with transaction():
        if decision in CLOSING_DECISIONS:
            # Its places go to the waitlists: the people waiting are locked with it, in
            # id order, before the sessions its cancellations lock.
            waitlist.lock_with_waiting([enrolment_id], db.session.scalars(
                sa.select(Booking.session_id).where(
                    Booking.enrolment_id == enrolment_id,
                    Booking.status == BookingStatus.BOOKED)))
        enrolment = lock_enrolment(enrolment_id)
        if enrolment.force_id != actor.force_id:
            raise NotFound("enrolment", enrolment_id)
        _check_open(enrolment)
        now = clock.now()
        record = Decision(enrolment_id=enrolment.id, decision=decision, reason=reason,
                          extend_days=extend_days if decision == DecisionKind.CONTINUE else None,
                          decided_by_id=actor.user_id, decided_at=now)
        db.session.add(record)
        db.session.flush()
        cancelled: list[Booking] = []
        if decision in CLOSING_DECISIONS:
            cancelled = _close(actor, enrolment, decision, now)
        elif extend_days:
            _extend(actor, enrolment, record, extend_days, extend, reason)
        db.session.execute(
            sa.update(Flag)
            .where(Flag.enrolment_id == enrolment.id, Flag.status == FlagStatus.OPEN)
            .values(status=FlagStatus.CLOSED, closed_at=now, closed_by_decision_id=record.id)
        )
        # After the flags are closed: what is still due on the new facts (an extension
        # too short for the modules left) is raised afresh.
        progress.reassess(enrolment)
        audit.record(actor, "update", "enrolment", enrolment.id, case_id=enrolment.case_id,
                     detail={"decision": decision, "extend_days": extend_days,
                             "status": enrolment.status,
                             "cancelled_bookings": [b.id for b in cancelled]})
    return record


def _extended(previous, days: int):
    """Return a date moved on by an extension, refusing one past the last session day."""
    new = days_after(previous, days)
    if new is None or new > LAST_SESSION_DAY:
        raise InvalidInput("An extension cannot move a date past "
                           f"{format_date(LAST_SESSION_DAY)}",
                           field="extend_days")
    return new


def _check_open(enrolment: Enrolment) -> None:
    if enrolment.status not in OPEN_ENROLMENT:
        raise RuleViolation("enrolment_closed",
                            f"This enrolment is already {enrolment.status.replace('_', ' ')}.")


def _close(actor: Actor, enrolment: Enrolment, decision: str, now: datetime) -> list[Booking]:
    """End the enrolment for good and let go of everything it holds (caller's transaction).

    The one place a referral or a withdrawal gives up what an open enrolment holds: its
    future bookings (each participant is sent a cancellation), whose places go to the
    sessions' waitlists, and its own places on waitlists. The open flags are closed
    with every decision, by the caller.
    """
    enrolment.status = status_after(decision, enrolment.status)
    enrolment.closed_at = now
    cancelled = cancel_future_bookings(actor, enrolment, ARRANGEMENT_ENDED)
    # Nobody is asked to rebook on an enrolment that has ended.
    outbox.withdraw_absence_notices(enrolment.id)
    waitlist.sift(actor, enrolment)
    waitlist.promote(actor, *(b.session_id for b in cancelled))
    return cancelled


@dataclass(frozen=True)
class Consequences:
    """What recording a decision would do, shown to the case officer before they confirm."""

    enrolment: Enrolment
    decision: str
    future_bookings: list[Booking]
    open_flags: list[Flag]

    @property
    def closes(self) -> bool:
        return self.decision in CLOSING_DECISIONS

    @property
    def status_after(self) -> str:
        return status_after(self.decision, self.enrolment.status)


def consequences(actor: Actor, enrolment_id: int, decision: str) -> Consequences:
    """Say what a decision would cancel, send and close, changing nothing (an audited read)."""
    actor.require(Role.CASE_OFFICER)
    enrolment = get_enrolment(actor, enrolment_id)
    _check_open(enrolment)
    now = clock.now()
    future = [] if decision not in CLOSING_DECISIONS else sorted(
        (b for b in enrolment.bookings
         if b.status == BookingStatus.BOOKED and b.session.starts_at > now),
        key=lambda b: (b.session.starts_at, b.id))
    flags = [f for f in enrolment.flags if f.status == FlagStatus.OPEN]
    return Consequences(enrolment, decision, future, flags)


def _extend(actor, enrolment, record, days: int, target: str | None, reason: str) -> None:
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidInput(f"An extension is 1 to {MAX_EXTENSION_DAYS} days",
                           field="extend_days")
    if target is None:
        target = (ExtensionTarget.FOLLOW_UP_WINDOW
                  if enrolment.status == EnrolmentStatus.AWAITING_FOLLOW_UP
                  else ExtensionTarget.CORE_DEADLINE)
    if target == ExtensionTarget.CORE_DEADLINE:
        if enrolment.status != EnrolmentStatus.ENROLLED:
            raise RuleViolation("enrolment_closed",
                                "The core modules are complete; extend the follow-up window.")
        previous = enrolment.core_deadline
        enrolment.core_deadline = _extended(previous, days)
        new = enrolment.core_deadline
    elif target == ExtensionTarget.FOLLOW_UP_WINDOW:
        if enrolment.follow_up_closes is None:
            raise RuleViolation("follow_up_not_due",
                                "There is no follow-up window yet to extend.")
        previous = enrolment.follow_up_closes
        _extended(previous, days)
        enrolment.follow_up_extension_days += days
        progress.refresh(enrolment, bookings_of(enrolment))
        new = enrolment.follow_up_closes
    else:
        raise InvalidInput("Extend core_deadline or follow_up_window", field="extend")
    db.session.add(Extension(enrolment_id=enrolment.id, decision_id=record.id, target=target,
                             days=days, reason=reason, previous_date=previous, new_date=new,
                             granted_by_id=actor.user_id, granted_at=clock.now()))
