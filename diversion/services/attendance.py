"""Recording who came: a session's register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from diversion import clock
from diversion.database import transaction
from diversion.domain.errors import RuleViolation
from diversion.domain.programme import module_name
from diversion.domain.progress import check_attendance, check_outcome
from diversion.domain.vocabulary import (
    OPEN_ENROLMENT,
    BookingStatus,
    EnrolmentStatus,
    Outcome,
    Role,
)
from diversion.extensions import db
from diversion.models import AttendanceRecord, Booking, Flag, User
from diversion.services import Actor, audit, notices, outbox, progress, waitlist
from diversion.services.bookings import cancel_locked, lock_booking

# An outcome can be recorded, or corrected, on an open enrolment or a completed one;
# a referred or withdrawn enrolment is closed.
RECORDABLE = OPEN_ENROLMENT | {EnrolmentStatus.COMPLETED}


class RowRefused(RuleViolation):
    """A register refused at one row: ``booking_id`` is the row, ``field`` its outcome or reason."""

    def __init__(self, refusal: RuleViolation, booking_id: int) -> None:
        super().__init__(refusal.code, refusal.message, field=refusal.field or "outcome")
        self.booking_id = booking_id


def record(actor: Actor, booking_id: int, outcome: str, reason: str | None = None) -> Booking:
    """Record (or correct) one participant's outcome once the session has started."""
    actor.require(Role.COORDINATOR)
    with transaction():
        return _record(actor, booking_id, outcome, reason)


def record_register(actor: Actor, outcomes: dict[int, tuple[str, str | None]]) -> list[Booking]:
    """Record a whole register at once: all outcomes or none."""
    actor.require(Role.COORDINATOR)
    with transaction():
        recorded = []
        for booking_id, (outcome, reason) in outcomes.items():
            try:
                recorded.append(_record(actor, booking_id, outcome, reason))
            except RuleViolation as refusal:
                # Name the row, so the register can show the refusal beside the person.
                raise RowRefused(refusal, booking_id) from refusal
        return recorded


def _record(actor: Actor, booking_id: int, outcome: str, reason: str | None) -> Booking:
    enrolment, booking = lock_booking(booking_id)
    if booking.status == BookingStatus.CANCELLED:
        raise RuleViolation("booking_cancelled", "This booking was cancelled.")
    if enrolment.status not in RECORDABLE:
        raise RuleViolation("enrolment_closed", "This enrolment is closed.")
    check_attendance(booking.session.starts_at, clock.now())
    reason = (reason or "").strip() or None
    previous = booking.status
    check_outcome(outcome, reason, recorded=previous)
    booking.status = outcome
    booking.reason = reason
    booking.updated_at = clock.now()
    recorded = AttendanceRecord(booking_id=booking.id, outcome=outcome, reason=reason,
                                recorded_by_id=actor.user_id, recorded_at=clock.now())
    db.session.add(recorded)
    db.session.flush()
    released: list[Booking] = []
    if outcome == Outcome.ATTENDED and previous != Outcome.ATTENDED:
        released = _release_module_booked_again(actor, booking)
    # An unexcused absence puts the enrolment at risk at once, not at the next sweep.
    progress.reassess(enrolment)
    if outcome == Outcome.ABSENT_UNEXCUSED and previous != outcome:
        # Told with the outcome, in its transaction: the participant must rebook at once.
        notices.tell_of_absence(enrolment, booking, key=f"{booking.id}:{recorded.id}")
    elif previous == Outcome.ABSENT_UNEXCUSED and outcome != previous:
        # Corrected before it went: a participant who came, or was excused, hears nothing.
        outbox.withdraw_absence_notices(enrolment.id, booking.id)
    # A module attended rules out its other sessions: their waitlists let this person go.
    waitlist.sift(actor, enrolment)
    waitlist.promote(actor, *(b.session_id for b in released))
    audit.record(actor, "update", "attendance", booking.id, case_id=enrolment.case_id,
                 detail={"outcome": outcome, "previous": previous, "reason": reason})
    return booking


@dataclass(frozen=True)
class Consequence:
    """What recording an outcome would do to the enrolment, worked out and undone."""

    status_before: str
    status_after: str
    core_deadline: date
    follow_up_window: tuple[date, date] | None
    flags_raised: tuple[str, ...]


def rehearse(actor: Actor, booking_id: int, outcome: str, reason: str | None) -> Consequence:
    """Work out what recording this outcome would change, and change nothing."""
    actor.require(Role.COORDINATOR)
    try:
        with transaction():
            enrolment, _ = lock_booking(booking_id)
            before = enrolment.status
            flags_before = set(db.session.scalars(
                sa.select(Flag.id).where(Flag.enrolment_id == enrolment.id)))
            _record(actor, booking_id, outcome, reason)
            db.session.flush()
            raised = tuple(db.session.scalars(
                sa.select(Flag.detail).where(Flag.enrolment_id == enrolment.id,
                                             Flag.id.not_in(flags_before))))
            window = ((enrolment.follow_up_opens, enrolment.follow_up_closes)
                      if enrolment.follow_up_opens and enrolment.follow_up_closes else None)
            raise _Rehearsed(Consequence(before, enrolment.status, enrolment.core_deadline,
                                         window, raised))
    except _Rehearsed as rehearsal:
        return rehearsal.consequence


class _Rehearsed(Exception):
    """Carries a rehearsed outcome out of its transaction, which it rolls back."""

    def __init__(self, consequence: Consequence) -> None:
        super().__init__("rehearsal")
        self.consequence = consequence


@dataclass(frozen=True)
class Recorded:
    """One outcome on a booking's register history: what, why, who and when."""

    outcome: str
    reason: str | None
    recorded_by: str | None
    recorded_at: datetime


def history(booking_id: int) -> list[Recorded]:
    """Return every outcome recorded for a booking, oldest first: corrections included."""
    rows = db.session.execute(
        sa.select(AttendanceRecord.outcome, AttendanceRecord.reason, User.email,
                  AttendanceRecord.recorded_at)
        .outerjoin(User, User.id == AttendanceRecord.recorded_by_id)
        .where(AttendanceRecord.booking_id == booking_id)
        .order_by(AttendanceRecord.id))
    return [Recorded(*row) for row in rows]


def _release_module_booked_again(actor: Actor, attended: Booking) -> list[Booking]:
    """A module corrected to attended needs no other booking: cancel any still to come."""
    released = []
    for other in db.session.scalars(
            sa.select(Booking).where(Booking.enrolment_id == attended.enrolment_id,
                                     Booking.module == attended.module,
                                     Booking.status == BookingStatus.BOOKED,
                                     Booking.id != attended.id)):
        cancel_locked(other, reason=f"{module_name(other.module).capitalize()} was attended",
                      requested_by=actor.email)
        released.append(other)
    return released
