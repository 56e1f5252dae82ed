"""The sessions a participant could be booked into now: exactly those every rule allows.

Set-wise: one statement reads the candidate sessions (the modules wanted, still to
come, up to the last day they could count) as plain rows, then ``domain/choices.py``
judges each with the booking rules in Python, and only the sessions to be shown are
loaded whole, with their venues: nationally a module has hundreds that fit. A read:
nothing is locked, so a place shown may be taken before the coordinator books it, and
the booking itself says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.domain.choices import choices, last_day
from diversion.domain.vocabulary import SessionStatus
from diversion.extensions import db
from diversion.models import CourseSession, Enrolment
from diversion.services.facts import SESSION_FACT_COLUMNS, enrolment_facts, session_facts
from diversion.services.programmes import rules_for


@dataclass(frozen=True)
class Offer:
    """One module's sessions that fit, earliest first, or why none does."""

    module: int
    # The earliest of the sessions that fit, as many as were asked for.
    sessions: list[CourseSession]
    # How many fit in all.
    count: int
    why_none: str | None
    code: str | None


def booking_choices(enrolment: Enrolment, modules: list[int], *,
                    instead_of: int | None = None, first: int | None = None) -> list[Offer]:
    """Offer, for each module, the published sessions this enrolment may book now.

    ``instead_of`` names a booking to move: the sessions are judged as if it were
    cancelled, which is how the move itself books them. ``first`` limits the sessions
    each offer holds to the earliest so many; its count is of every one that fits.
    """
    if not modules:
        return []
    rules = rules_for(enrolment.programme)
    facts = enrolment_facts(enrolment)
    if instead_of is not None:
        facts = dataclasses.replace(
            facts, bookings=tuple(b for b in facts.bookings if b.id != instead_of))
    now = clock.now()
    last_days = [d for d in (last_day(facts, m) for m in modules) if d is not None]
    found: list[sa.Row] = []
    if last_days:
        found = list(db.session.execute(
            sa.select(*SESSION_FACT_COLUMNS)
            .where(CourseSession.programme_id == enrolment.programme_id,
                   CourseSession.module.in_(modules),
                   CourseSession.status == SessionStatus.SCHEDULED,
                   CourseSession.starts_at > now,
                   CourseSession.starts_at < rules.day_ends(max(last_days)))
            .order_by(CourseSession.starts_at, CourseSession.id)
        ))
    judged = choices(rules, facts, modules, [session_facts(row) for row in found], now)
    shown = {c.module: c.fits if first is None else c.fits[:first] for c in judged}
    ids = [s.id for fits in shown.values() for s in fits]
    by_id = {s.id: s for s in db.session.scalars(
        sa.select(CourseSession).where(CourseSession.id.in_(ids))
        .options(so.joinedload(CourseSession.venue)))} if ids else {}
    return [Offer(c.module, [by_id[s.id] for s in shown[c.module]], len(c.fits), c.why_none,
                  c.code) for c in judged]
