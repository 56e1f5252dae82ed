"""Recording who came: a session's register."""

from __future__ import annotations

from diversion import clock
from diversion.database import transaction
from diversion.domain.errors import RuleViolation
from diversion.domain.progress import check_attendance, check_outcome
from diversion.domain.vocabulary import OPEN_ENROLMENT, BookingStatus, EnrolmentStatus, Role
from diversion.extensions import db
from diversion.models import AttendanceRecord, Booking
from diversion.services import Actor, audit, progress
from diversion.services.bookings import lock_booking

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
    check_outcome(outcome, reason)
    previous = booking.status
    booking.status = outcome
    booking.reason = reason
    booking.updated_at = clock.now()
    db.session.add(AttendanceRecord(booking_id=booking.id, outcome=outcome, reason=reason,
                                    recorded_by_id=actor.user_id, recorded_at=clock.now()))
    db.session.flush()
    # An unexcused absence puts the enrolment at risk at once, not at the next sweep.
    progress.reassess(enrolment)
    audit.record(actor, "update", "attendance", booking.id, case_id=enrolment.case_id,
                 detail={"outcome": outcome, "previous": previous})
    return booking
