"""Where an enrolment stands, recomputed from its bookings; attendance rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from diversion.domain.booking import EnrolmentFacts, attended_modules, core_complete
from diversion.domain.errors import RuleViolation
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules
from diversion.domain.vocabulary import (
    BookingStatus,
    DecisionKind,
    EnrolmentStatus,
    Outcome,
    values,
)

# The decisions that close an enrolment for good, and the status each leaves behind.
CLOSING_DECISIONS: dict[str, str] = {
    DecisionKind.REFER: EnrolmentStatus.REFERRED,
    DecisionKind.WITHDRAW: EnrolmentStatus.WITHDRAWN,
}

# A case officer's decision closed these for good: attendance no longer moves them.
CLOSED_BY_DECISION = frozenset(CLOSING_DECISIONS.values())


@dataclass(frozen=True)
class Progress:
    status: str
    core_completed_on: date | None
    follow_up_due: date | None
    follow_up_window: tuple[date, date] | None


def derive_progress(
    rules: ProgrammeRules,
    enrolment: EnrolmentFacts,
    follow_up_extension_days: int = 0,
) -> Progress:
    """Work out status, core completion and follow-up dates from the bookings."""
    if not core_complete(rules, enrolment):
        status = (enrolment.status if enrolment.status in CLOSED_BY_DECISION
                  else EnrolmentStatus.ENROLLED)
        return Progress(status, None, None, None)

    core = set(rules.core_module_numbers)
    completed_on = max(
        rules.local_date(b.starts_at)
        for b in enrolment.bookings
        if b.status == BookingStatus.ATTENDED and b.module in core
    )
    due = rules.follow_up_due(completed_on)
    opens, closes = rules.follow_up_window(due)
    window = (opens, closes + timedelta(days=follow_up_extension_days))
    if enrolment.status in CLOSED_BY_DECISION:
        # A case officer's decision closes the enrolment for good; the dates are still
        # worked out because the referral summary shows them.
        status = enrolment.status
    elif FOLLOW_UP in attended_modules(enrolment):
        status = EnrolmentStatus.COMPLETED
    else:
        status = EnrolmentStatus.AWAITING_FOLLOW_UP
    return Progress(status, completed_on, due, window)


def status_after(decision: str, status: str) -> str:
    """Return the enrolment's status once a decision is recorded: refer and withdraw close it."""
    return CLOSING_DECISIONS.get(decision, status)


def check_attendance(session_starts_at: datetime, now: datetime) -> None:
    """Refuse recording attendance for a session that has not started yet."""
    if now < session_starts_at:
        raise RuleViolation(
            "attendance_before_start",
            "Attendance can only be recorded once the session has started.",
        )


def check_outcome(outcome: str, reason: str | None, recorded: str | None = None) -> None:
    """Refuse an unknown outcome, an excused absence without a reason, or a silent correction.

    ``recorded`` is the outcome already on the register, if any: changing it is a
    correction, and a correction says why, so the history explains itself.
    """
    if outcome not in values(Outcome):
        raise RuleViolation(
            "invalid_outcome",
            "The outcome must be attended, absent_excused or absent_unexcused.",
            field="outcome",
        )
    if outcome == Outcome.ABSENT_EXCUSED and not (reason or "").strip():
        raise RuleViolation(
            "reason_required",
            "Give the reason the absence is excused.",
            field="reason",
        )
    if recorded in values(Outcome) and recorded != outcome and not (reason or "").strip():
        raise RuleViolation(
            "reason_required",
            "Give the reason for correcting the outcome already recorded.",
            field="reason",
        )
