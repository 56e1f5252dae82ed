"""Rows for several tables written together: one statement on PostgreSQL."""

from datetime import UTC, datetime

import sqlalchemy as sa

from diversion.database import insert_together
from diversion.extensions import db
from diversion.models import AuditEvent, OutboxMessage

AT = datetime(2027, 1, 4, 9, tzinfo=UTC)


def _message(key: str) -> dict:
    return {"kind": "invitation", "recipient": "sam@example.com", "payload": {"uid": key},
            "idempotency_key": key, "status": "pending", "due_at": AT,
            "next_attempt_at": AT, "created_at": AT}


def test_rows_for_two_tables_are_written_in_one_statement_in_order_with_their_defaults(
    app, database_url,
):
    statements = []
    with app.app_context():
        def count(*_args):
            statements.append(1)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        insert_together(
            # Given out of alphabetical order: an invitation must be queued before its
            # reminder, so ids follow the order the rows were given in.
            (OutboxMessage.__table__, [_message("c:1"), _message("a:1"), _message("b:1")]),
            (AuditEvent.__table__, [{"at": AT, "actor": "system", "action": "create",
                                     "object_type": "test", "detail": {"n": 1}}]),
        )
        written = len(statements)
        sa.event.remove(db.engine, "before_cursor_execute", count)
        db.session.commit()
        messages = db.session.execute(
            sa.select(OutboxMessage.idempotency_key, OutboxMessage.attempts,
                      OutboxMessage.payload, OutboxMessage.due_at)
            .order_by(OutboxMessage.id)).all()
        audit = db.session.execute(sa.select(AuditEvent.actor, AuditEvent.detail)).all()
    # SQLite: its BEGIN IMMEDIATE, then one statement per table.
    expected = 1 if database_url.startswith("postgresql") else 3
    assert written == expected
    # attempts was left to its default, which the rows must still get.
    assert messages == [(key, 0, {"uid": key}, AT) for key in ("c:1", "a:1", "b:1")]
    assert audit == [("system", {"n": 1})]
