"""The audit trail (DPA 2018 s.62): rows are added in the caller's transaction, except a
refusal's (``record_now``).

A list, search or export writes one row for the list itself (its filters) and one
``read`` row per record it returned, each with its case, so ``GET /audit?case_id=``
finds every consultation of a case however it was reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

import sqlalchemy as sa

from diversion import clock
from diversion.database import transaction
from diversion.extensions import db
from diversion.models import AuditEvent, Booking, Case, Enrolment
from diversion.services import Actor

# Ids beyond PostgreSQL's integer never name a row (and would not fit a query).
MAX_ID = 2**31 - 1


def event(actor: Actor, action: str, object_type: str, object_id, case_id, detail) -> dict:
    """One audit row as values, for a caller that writes it with its own statement."""
    return {
        "at": clock.now(),
        "actor_id": actor.user_id,
        "actor": actor.email,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "case_id": case_id,
        "detail": detail,
        "remote_addr": actor.remote_addr,
    }


def record(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | str | None = None,
    *,
    case_id: int | None = None,
    detail: dict | None = None,
) -> None:
    """Add one audit row to the current transaction."""
    record_each(actor, action, object_type, [(object_id, case_id, detail)])


def record_each(actor: Actor, action: str, object_type: str,
                entries: list[tuple[int | str | None, int | None, dict | None]]) -> None:
    """Add one audit row per (object_id, case_id, detail), all in one statement."""
    # A plain INSERT, not ORM objects: every use case writes these and never reads
    # them back, so the unit of work would be pure overhead.
    if entries:
        db.session.execute(sa.insert(cast(sa.Table, AuditEvent.__table__)), [
            event(actor, action, object_type, object_id, case_id, detail)
            for object_id, case_id, detail in entries
        ])


def record_now(actor: Actor, action: str, object_type: str, object_id=None, **kw) -> None:
    """Write one audit row that must be kept although the request is refused.

    For refusals (a read of a record the actor may not see, a throttled sign-in): the
    caller raises or answers with an error next, so its use case keeps nothing. What
    the caller's transaction held is rolled back first, so none of it is committed with
    the row, and the row is written in a short transaction of its own. It is the same
    connection, not a second one beside the caller's: on SQLite the caller's open
    transaction holds the write lock (BEGIN IMMEDIATE), which a second connection would
    wait on until it timed out.
    """
    db.session.rollback()
    with transaction():
        record(actor, action, object_type, object_id, **kw)


def record_reads(actor: Actor, object_type: str,
                 records: Sequence[tuple[int, int | None]], via: str) -> None:
    """Add one ``read`` row per (object_id, case_id) a list returned, in the current transaction."""
    record_each(actor, "read", object_type,
                [(object_id, case_id, {"via": via}) for object_id, case_id in records])


def case_ids_of_enrolments(enrolment_ids: set[int]) -> dict[int, int]:
    """Map enrolment ids to their cases' ids, in one query."""
    if not enrolment_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Enrolment.id, Enrolment.case_id).where(Enrolment.id.in_(enrolment_ids))).all())


_CASE_OF = {
    "case": lambda record_id: sa.select(Case.id).where(Case.id == record_id),
    "enrolment": lambda record_id: sa.select(Enrolment.case_id).where(Enrolment.id == record_id),
    "referral_summary": lambda record_id: sa.select(Enrolment.case_id)
    .where(Enrolment.id == record_id),
    "warning_letter": lambda record_id: sa.select(Enrolment.case_id)
    .where(Enrolment.id == record_id),
    "booking": lambda record_id: sa.select(Enrolment.case_id)
    .join(Booking, Booking.enrolment_id == Enrolment.id).where(Booking.id == record_id),
}


def case_of(object_type: str | None, object_id: int | str | None) -> int | None:
    """Return the id of the case a record belongs to, or None (no such record, or no case)."""
    query = _CASE_OF.get(object_type or "")
    try:
        record_id = int(object_id) if object_id is not None else None
    except (TypeError, ValueError):
        return None
    if query is None or record_id is None or not 0 < record_id <= MAX_ID:
        return None
    return db.session.scalar(query(record_id))


def record_refusal(actor: Actor, status: int, object_type: str | None,
                   object_id: int | str | None, *, method: str, path: str) -> None:
    """Write the audit row of a refused request (403 or 404), in a transaction of its own.

    The row names the record asked for and, when it exists, the case it belongs to,
    even if it is another force's: that is what an auditor of the case needs to see.
    """
    db.session.rollback()
    case_id = case_of(object_type, object_id)
    record_now(actor, "refused", object_type or "request", object_id, case_id=case_id,
               detail={"status": status, "method": method, "path": path[:200]})


def list_events(
    actor: Actor,
    *,
    case_id: int | None = None,
    by: str | None = None,
    since: datetime | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Return audit rows, oldest first, filtered; keyset-paginated by id; record the read.

    Reading the trail is itself written to it, after the rows are chosen, so a page
    never lists its own read.
    """
    query = sa.select(AuditEvent).order_by(AuditEvent.id).limit(limit)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    if by:
        query = query.where(AuditEvent.actor == by.strip().lower())
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if after_id is not None:
        query = query.where(AuditEvent.id > after_id)
    rows = list(db.session.scalars(query))
    with transaction():
        record(actor, "read", "audit_events", None, case_id=case_of("case", case_id), detail={
            "case_id": case_id, "actor": by, "since": since.isoformat() if since else None,
            "after": after_id, "count": len(rows)})
    return rows
