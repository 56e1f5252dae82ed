"""A case officer's decision on an enrolment: refer back to prosecution, or continue.

Decisions are never automatic: the product flags, a person decides.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from diversion import clock
from diversion.database import transaction
from diversion.domain.errors import RuleViolation
from diversion.domain.vocabulary import (
    OPEN_ENROLMENT,
    DecisionKind,
    EnrolmentStatus,
    ExtensionTarget,
    FlagStatus,
    Role,
    values,
)
from diversion.extensions import db
from diversion.models import Decision, Extension, Flag
from diversion.services import Actor, InvalidInput, NotFound, audit, progress
from diversion.services.bookings import bookings_of, cancel_future_bookings, lock_enrolment

MAX_EXTENSION_DAYS = 365


def decide(
    actor: Actor,
    enrolment_id: int,
    *,
    decision: str,
    reason: str,
    extend_days: int | None = None,
    extend: str | None = None,
) -> Decision:
    """Record refer or continue, with a reason; continue may extend a deadline."""
    actor.require(Role.CASE_OFFICER)
    reason = (reason or "").strip()
    if decision not in values(DecisionKind):
        raise InvalidInput("Decision must be refer or continue", field="decision")
    if not reason:
        raise InvalidInput("Give the reason for the decision", field="reason")
    if decision == DecisionKind.REFER and extend_days:
        raise InvalidInput("A referral cannot extend a deadline", field="extend_days")
    with transaction():
        enrolment = lock_enrolment(enrolment_id)
        if enrolment.force_id != actor.force_id:
            raise NotFound("enrolment")
        if enrolment.status not in OPEN_ENROLMENT:
            raise RuleViolation("enrolment_closed",
                                f"This enrolment is already {enrolment.status.replace('_', ' ')}.")
        now = clock.now()
        record = Decision(enrolment_id=enrolment.id, decision=decision, reason=reason,
                          extend_days=extend_days if decision == DecisionKind.CONTINUE else None,
                          decided_by_id=actor.user_id, decided_at=now)
        db.session.add(record)
        db.session.flush()
        cancelled = []
        if decision == DecisionKind.REFER:
            enrolment.status = EnrolmentStatus.REFERRED
            enrolment.closed_at = now
            cancelled = cancel_future_bookings(actor, enrolment, "Arrangement ended")
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
                             "cancelled_bookings": [b.id for b in cancelled]})
    return record


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
        enrolment.core_deadline = previous + timedelta(days=days)
        new = enrolment.core_deadline
    elif target == ExtensionTarget.FOLLOW_UP_WINDOW:
        if enrolment.follow_up_closes is None:
            raise RuleViolation("follow_up_not_due",
                                "There is no follow-up window yet to extend.")
        previous = enrolment.follow_up_closes
        enrolment.follow_up_extension_days += days
        progress.refresh(enrolment, bookings_of(enrolment))
        new = enrolment.follow_up_closes
    else:
        raise InvalidInput("Extend core_deadline or follow_up_window", field="extend")
    db.session.add(Extension(enrolment_id=enrolment.id, decision_id=record.id, target=target,
                             days=days, reason=reason, previous_date=previous, new_date=new,
                             granted_by_id=actor.user_id, granted_at=clock.now()))
