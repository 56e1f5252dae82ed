"""The compliance sweep: raise each flag the rules call for, once per cause."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.compliance import flags_due
from diversion.extensions import db
from diversion.models import Booking, Enrolment, Flag, Programme, Session
from diversion.services.facts import enrolment_facts
from diversion.services.programmes import rules_for

CHUNK = 5000


@dataclass
class SweepResult:
    evaluated: int = 0
    raised: int = 0
    by_kind: dict | None = None

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted((self.by_kind or {}).items())) or "none"
        return (f"sweep as of {clock.today().isoformat()}: {self.evaluated} active enrolments "
                f"evaluated, {self.raised} new flags ({kinds})")


def _insert_flags(rows: list[dict]) -> int:
    if not rows:
        return 0
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(Flag).on_conflict_do_nothing(index_elements=["enrolment_id", "cause"])
    result = db.session.execute(statement.returning(Flag.id), rows)
    return len(result.all())


def raise_flags_for(enrolment: Enrolment, bookings: list[Booking]) -> int:
    """Raise the flags one enrolment calls for now (inside the caller's transaction)."""
    rules = rules_for(enrolment.programme)
    today = clock.today(rules.tz)
    now = clock.now()
    rows = [
        {"enrolment_id": enrolment.id, "kind": f.kind, "cause": f.cause, "detail": f.detail,
         "status": "open", "raised_at": now}
        for f in flags_due(rules, enrolment_facts(enrolment, bookings), today)
    ]
    return _insert_flags(rows)


def sweep() -> SweepResult:
    """Evaluate every active enrolment as of the clock; idempotent."""
    result = SweepResult(by_kind=defaultdict(int))
    now = clock.now()
    with transaction():
        programmes = {p.id: p for p in db.session.scalars(sa.select(Programme))}
        rules = {pid: rules_for(p) for pid, p in programmes.items()}
        last_id = 0
        while True:
            enrolments = list(db.session.scalars(
                sa.select(Enrolment)
                .where(Enrolment.status.in_(("enrolled", "awaiting_follow_up")),
                       Enrolment.id > last_id)
                .order_by(Enrolment.id).limit(CHUNK)
            ))
            if not enrolments:
                break
            last_id = enrolments[-1].id
            ids = [e.id for e in enrolments]
            bookings_by = defaultdict(list)
            for booking in db.session.scalars(
                sa.select(Booking).where(Booking.enrolment_id.in_(ids))
                .options(so.joinedload(Booking.session).load_only(Session.starts_at))
            ):
                bookings_by[booking.enrolment_id].append(booking)
            existing = {
                (row.enrolment_id, row.cause)
                for row in db.session.execute(
                    sa.select(Flag.enrolment_id, Flag.cause).where(Flag.enrolment_id.in_(ids))
                )
            }
            rows = []
            for enrolment in enrolments:
                programme_rules = rules[enrolment.programme_id]
                today = clock.today(programme_rules.tz)
                facts = enrolment_facts(enrolment, bookings_by[enrolment.id])
                for due in flags_due(programme_rules, facts, today):
                    if (enrolment.id, due.cause) in existing:
                        continue
                    rows.append({"enrolment_id": enrolment.id, "kind": due.kind,
                                 "cause": due.cause, "detail": due.detail, "status": "open",
                                 "raised_at": now})
            result.evaluated += len(enrolments)
            raised = _insert_flags(rows)
            result.raised += raised
            # A concurrent sweep may have raised some of these first; count what we did.
            for row in rows[:raised]:
                result.by_kind[row["kind"]] += 1
            db.session.expunge_all()
    return result


def list_flags(actor, *, status: str | None = "open", after_id: int | None = None,
               limit: int = 100) -> list[Flag]:
    """List flags of the actor's force, oldest first."""
    from diversion.services import Forbidden

    if actor.role != "case_officer":
        raise Forbidden()
    query = (
        sa.select(Flag).join(Enrolment, Enrolment.id == Flag.enrolment_id)
        .where(Enrolment.force_id == actor.force_id)
        .order_by(Flag.raised_at, Flag.id).limit(limit)
    )
    if status:
        query = query.where(Flag.status == status)
    if after_id is not None:
        anchor = db.session.get(Flag, after_id)
        if anchor is not None:
            query = query.where(sa.or_(
                Flag.raised_at > anchor.raised_at,
                sa.and_(Flag.raised_at == anchor.raised_at, Flag.id > anchor.id),
            ))
    return list(db.session.scalars(query))
