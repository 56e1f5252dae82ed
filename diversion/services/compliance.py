"""The compliance sweep: raise each flag the rules call for, once per cause.

The rules live once, in ``diversion.domain.compliance.flags_due``: it decides every
flag and words it. The sweep splits the work:

- *Candidates*, in SQL: per programme, the open enrolments some rule could flag
  today and whose flag for that cause is not yet raised, found by plain date
  comparisons on indexed columns. The bounds may be loose: a candidate the rules
  leave alone costs a little reading, where a missed one would be a missed flag.
- *Decision*, in Python: the candidates and their bookings are read a batch at a
  time (one statement each), ``flags_due`` judges each enrolment, and its flags are
  inserted once per (enrolment, cause).

"Today" is the programme's local date from ``diversion.clock`` (never the database's).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from diversion import clock
from diversion.database import transaction
from diversion.domain.compliance import UNBOOKED_WARNING_DAYS, Cause, FlagDue, flags_due
from diversion.domain.programme import ProgrammeRules
from diversion.domain.vocabulary import OPEN_ENROLMENT, BookingStatus, EnrolmentStatus, FlagStatus
from diversion.extensions import db
from diversion.models import Booking, Enrolment, Flag, Programme
from diversion.services.facts import booking_facts_for, enrolment_facts
from diversion.services.programmes import rules_for

# Candidates judged together: their bookings are read in one statement, their flags
# written in one batch.
BATCH = 2000


@dataclass
class SweepResult:
    evaluated: int = 0
    raised: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.by_kind.items())) or "none"
        return (f"sweep as of {clock.today().isoformat()}: {self.evaluated} active enrolments "
                f"evaluated, {self.raised} new flags ({kinds})")

    def counts(self) -> dict[str, int]:
        """What the job run records: enrolments evaluated, flags raised, and by kind."""
        return {"evaluated": self.evaluated, "raised": self.raised, **self.by_kind}


def _flag_rows(enrolment_id: int, due: list[FlagDue], now: datetime) -> list[dict]:
    return [{"enrolment_id": enrolment_id, "kind": f.kind, "cause": f.cause, "detail": f.detail,
             "status": FlagStatus.OPEN, "raised_at": now} for f in due]


def _insert_flags(rows: list[dict]) -> list[str]:
    """Insert the flags not raised before; return the kind of each one inserted."""
    if not rows:
        return []
    # ON CONFLICT DO NOTHING: a flag is raised once per cause, whichever run gets there.
    statement = (pg_dialect.insert(Flag) if db.engine.dialect.name == "postgresql"
                 else sqlite_dialect.insert(Flag)).on_conflict_do_nothing(
        index_elements=["enrolment_id", "cause"])
    return list(db.session.scalars(statement.returning(Flag.kind), rows))


def raise_flags_for(enrolment: Enrolment, bookings: list[Booking]) -> int:
    """Raise the flags one enrolment calls for now (inside the caller's transaction)."""
    rules = rules_for(enrolment.programme)
    due = flags_due(rules, enrolment_facts(enrolment, bookings), clock.today(rules.tz))
    return len(_insert_flags(_flag_rows(enrolment.id, due, clock.now())))


def sweep() -> SweepResult:
    """Evaluate every active enrolment as of the clock; idempotent."""
    result = SweepResult()
    now = clock.now()
    with transaction():
        result.evaluated = db.session.scalar(
            sa.select(sa.func.count()).select_from(Enrolment)
            .where(Enrolment.status.in_(OPEN_ENROLMENT))
        ) or 0
        postgresql = db.session.connection().dialect.name == "postgresql"
        programmes = db.session.scalars(sa.select(Programme).order_by(Programme.id)).all()
        for programme in programmes:
            rules = rules_for(programme)
            today = clock.today(rules.tz)
            candidates = db.session.execute(
                _candidates(programme.id, rules, today, postgresql)).all()
            for start in range(0, len(candidates), BATCH):
                batch = candidates[start:start + BATCH]
                bookings = booking_facts_for([row.id for row in batch])
                rows = []
                for row in batch:
                    facts = enrolment_facts(row, facts=bookings.get(row.id, ()))
                    rows += _flag_rows(row.id, flags_due(rules, facts, today), now)
                for kind in _insert_flags(rows):
                    result.raised += 1
                    result.by_kind[kind] += 1
    return result


def _candidates(programme_id: int, rules: ProgrammeRules, today: date,
                postgresql: bool) -> sa.Select:
    """Select the facts of the programme's open enrolments some rule could flag today.

    Each part gives the (enrolment, cause) one rule of ``flags_due`` could raise, under
    a condition the rule needs; an enrolment with one such cause not raised yet is a
    candidate, and the domain decides.
    """
    in_programme = Enrolment.programme_id == programme_id
    enrolled = Enrolment.status == EnrolmentStatus.ENROLLED
    deadline = Enrolment.core_deadline
    # Missing modules stop fitting once today + spacing * (missing - 1) > deadline; as at
    # most every core module is missing, a deadline on or after this day still fits them.
    fits_all = today + timedelta(days=rules.min_days_between_sessions) * (rules.core_modules - 1)
    warn_until = today + timedelta(days=UNBOOKED_WARNING_DAYS)

    def iso(day) -> sa.ColumnElement[str]:
        # As date.isoformat() writes a cause's date. PostgreSQL's own text for a date
        # follows its DateStyle setting; SQLite keeps a date as this very text.
        return sa.func.to_char(day, "YYYY-MM-DD") if postgresql else sa.cast(day, sa.String)

    def could(reason: Cause, key: sa.ColumnElement[str], *where,
              enrolment_id=Enrolment.id) -> sa.Select:
        # The cause as domain.compliance.cause writes it. Were the two ever to differ,
        # the enrolment would stay a candidate, not be missed.
        return sa.select(enrolment_id.label("enrolment_id"),
                         (f"{reason}:" + key).label("cause")).where(*where)

    possible = sa.union_all(
        could(Cause.CORE_DEADLINE, iso(deadline), in_programme, enrolled, deadline < today),
        could(Cause.CANNOT_FIT, iso(deadline),
              in_programme, enrolled, deadline >= today, deadline < fits_all),
        could(Cause.UNBOOKED_NEAR_DEADLINE, iso(deadline),
              in_programme, enrolled, deadline >= today, deadline <= warn_until),
        could(Cause.FOLLOW_UP_WINDOW, iso(Enrolment.follow_up_closes),
              in_programme, Enrolment.status == EnrolmentStatus.AWAITING_FOLLOW_UP,
              Enrolment.follow_up_closes < today),
        # Every programme's absences, as a booking does not carry its programme: the
        # outer query keeps this one's.
        could(Cause.UNEXCUSED_ABSENCE, sa.cast(Booking.id, sa.String),
              Booking.status == BookingStatus.ABSENT_UNEXCUSED,
              enrolment_id=Booking.enrolment_id),
    ).subquery("possible")
    fresh = sa.select(possible.c.enrolment_id).where(~sa.exists().where(
        Flag.enrolment_id == possible.c.enrolment_id, Flag.cause == possible.c.cause))
    return (
        sa.select(Enrolment.id, Enrolment.status, Enrolment.start_date, Enrolment.core_deadline,
                  Enrolment.follow_up_opens, Enrolment.follow_up_closes)
        .where(Enrolment.id.in_(fresh), in_programme, Enrolment.status.in_(OPEN_ENROLMENT))
        .order_by(Enrolment.id)
    )


def list_flags(actor, *, status: str | None = "open", after_id: int | None = None,
               limit: int = 100) -> list[Flag]:
    """List flags of the actor's force, oldest first."""

    actor.require("case_officer")
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
    rows = list(db.session.scalars(query))
    from diversion.services import audit

    # Flags describe what a participant did: reading the queue is a consultation.
    enrolment_ids = {f.enrolment_id for f in rows}
    with transaction():
        audit.record(actor, "read", "flag_list", None,
                     detail={"status": status, "enrolment_ids": sorted(enrolment_ids)})
        audit.record_reads(actor, "enrolment", sorted(
            audit.case_ids_of_enrolments(enrolment_ids).items()), "flag_list")
    return rows
