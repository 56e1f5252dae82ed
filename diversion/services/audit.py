"""The audit trail (DPA 2018 s.62): rows are added in the caller's transaction, except a
refusal's (``record_now``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from diversion import clock
from diversion.database import transaction
from diversion.extensions import db
from diversion.models import AuditEvent
from diversion.services import Actor


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
        db.session.execute(sa.insert(AuditEvent), [
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


def list_events(
    *,
    case_id: int | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Return audit rows, oldest first, filtered; keyset-paginated by id."""
    query = sa.select(AuditEvent).order_by(AuditEvent.id).limit(limit)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    if actor:
        query = query.where(AuditEvent.actor == actor.strip().lower())
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if after_id is not None:
        query = query.where(AuditEvent.id > after_id)
    return list(db.session.scalars(query))
