"""Registers to take: the sessions whose outcomes are overdue, and what each session lacks.

Reads only. Both are one statement whatever the number of sessions, found through the
partial index of bookings still waiting for an outcome (``ix_bookings_booked_session``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.domain.registers import session_state
from diversion.domain.vocabulary import BookingStatus, SessionState, SessionStatus
from diversion.extensions import db
from diversion.models import Booking, CourseSession


@dataclass(frozen=True)
class Overdue:
    """A session that has ended with outcomes still to record."""

    session: CourseSession
    missing: int


@dataclass(frozen=True)
class OverdueRegisters:
    """The oldest overdue registers, and how many there are in all."""

    sessions: list[Overdue]
    total: int


def _missing_by_session(now: datetime) -> sa.Subquery:
    return (
        sa.select(Booking.session_id, sa.func.count().label("missing"))
        .join(CourseSession, CourseSession.id == Booking.session_id)
        .where(Booking.status == BookingStatus.BOOKED,
               CourseSession.status == SessionStatus.SCHEDULED,
               CourseSession.ends_at <= now)
        .group_by(Booking.session_id)
        .subquery()
    )


def overdue_registers(*, limit: int = 20) -> OverdueRegisters:
    """List the sessions that have ended with outcomes missing, oldest first."""
    missing = _missing_by_session(clock.now())
    total = db.session.scalar(sa.select(sa.func.count()).select_from(missing)) or 0
    if not total:
        return OverdueRegisters([], 0)
    rows = db.session.execute(
        sa.select(CourseSession, missing.c.missing)
        .join(missing, missing.c.session_id == CourseSession.id)
        .options(so.joinedload(CourseSession.venue))
        .order_by(CourseSession.starts_at, CourseSession.id)
        .limit(limit)
    ).all()
    return OverdueRegisters([Overdue(session, count) for session, count in rows], total)


def outcomes_missing(session_ids: Iterable[int]) -> dict[int, int]:
    """Count, for each of these sessions, the bookings still waiting for an outcome."""
    ids = sorted(set(session_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Booking.session_id, sa.func.count())
        .where(Booking.session_id.in_(ids), Booking.status == BookingStatus.BOOKED)
        .group_by(Booking.session_id)
    )
    return {session_id: count for session_id, count in rows}


def states(sessions: Iterable[CourseSession]) -> dict[int, SessionState]:
    """Say where each session stands, its register included (one statement for them all)."""
    sessions = list(sessions)
    now = clock.now()
    started = [s.id for s in sessions if s.starts_at <= now]
    missing = outcomes_missing(started)
    return {s.id: session_state(s.status, s.starts_at, s.ends_at, missing.get(s.id, 0), now)
            for s in sessions}
