"""Registers: when a session's outcomes are due, and where a session stands because of them.

A register can be taken once its session has started. Once the session has ended, every
booking still without an outcome makes the register *overdue*: until it is taken nobody
knows whether those modules were attended, so nothing that depends on them can be planned.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from diversion.domain.booking import BookingFacts, EnrolmentFacts
from diversion.domain.programme import ProgrammeRules
from diversion.domain.vocabulary import BookingStatus, SessionState, SessionStatus


def session_state(
    status: str, starts_at: datetime, ends_at: datetime, outcomes_missing: int, now: datetime
) -> SessionState:
    """Say where a session stands: to come, under way, held, or waiting for its register."""
    if status == SessionStatus.CANCELLED:
        return SessionState.CANCELLED
    if now < starts_at:
        return SessionState.SCHEDULED
    if outcomes_missing == 0:
        return SessionState.HELD
    if now < ends_at:
        return SessionState.IN_PROGRESS
    return SessionState.REGISTER_OVERDUE


def session_ends(rules: ProgrammeRules, starts_at: datetime) -> datetime:
    """When a session that starts then ends: its length in elapsed time."""
    return starts_at + timedelta(minutes=rules.session_minutes)


def overdue_bookings(
    rules: ProgrammeRules, enrolment: EnrolmentFacts, now: datetime
) -> list[BookingFacts]:
    """Return the enrolment's bookings whose session has ended with no outcome, oldest first."""
    return sorted(
        (b for b in enrolment.bookings
         if b.status == BookingStatus.BOOKED and session_ends(rules, b.starts_at) <= now),
        key=lambda b: (b.starts_at, b.id),
    )
