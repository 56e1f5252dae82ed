"""Statements on the busiest paths: `database.run`, and rollbacks on PostgreSQL."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from diversion.database import run, run_one
from diversion.extensions import db
from diversion.models import AuditEvent

AT = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)

_audit = AuditEvent.__table__
_COLUMNS = ("at", "actor", "action", "object_type", "detail")
_insert = (sa.insert(_audit).values({c: sa.bindparam(c) for c in _COLUMNS})
           .returning(_audit.c.id, _audit.c.at, _audit.c.detail))
_read = (
    sa.select(_audit.c.id, _audit.c.at.label("when"), _audit.c.detail, _audit.c.actor,
              sa.literal("fixed").label("constant"))
    .where(_audit.c.object_type == sa.bindparam("kind"), _audit.c.action == "create")
    .order_by(_audit.c.id)
)
_by_id = sa.select(_audit.c.actor).where(_audit.c.id == sa.bindparam("id"))
_insert_with_id = sa.insert(_audit).values({c: sa.bindparam(c) for c in ("id", *_COLUMNS)})


def _event(**values) -> dict:
    return {"at": AT, "actor": "sam@example.com", "action": "create", "object_type": "test",
            "detail": {"reason": "née O'Brien"}} | values


def test_rows_come_back_as_sqlalchemy_would_give_them(app):
    with app.app_context():
        written = run_one(_insert, _event())
        rows = run(_read, {"kind": "test"})
        expected = db.session.execute(_read, {"kind": "test"}).all()
        db.session.commit()
    # Times come back aware, in UTC; JSON comes back as what was written.
    assert (written.at, written.detail) == (AT, {"reason": "née O'Brien"})
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    assert [row._fields for row in rows] == [tuple(row._fields) for row in expected]
    assert rows[0].when == AT and rows[0].when.tzinfo is not None
    assert rows[0].constant == "fixed"


def test_a_statement_without_rows_returns_none_of_them(app):
    with app.app_context():
        assert run(_insert_with_id, _event(id=1000)) == []
        assert run_one(_read, {"kind": "nothing"}) is None
        db.session.rollback()


def test_a_clash_is_sqlalchemys_integrity_error_and_does_not_show_the_values(app):
    with app.app_context():
        first = run_one(_insert, _event())
        with pytest.raises(sa_exc.IntegrityError) as raised:
            run(_insert_with_id, _event(id=first.id, actor="private@example.com"))
        db.session.rollback()
        assert run_one(_by_id, {"id": first.id}) is None
        db.session.rollback()
    # Error messages reach the logs: they must not carry personal data.
    assert "private@example.com" not in str(raised.value)


def test_statement_listeners_see_each_statement(app):
    seen = []
    with app.app_context():
        def listen(_connection, _cursor, statement, *_rest):
            seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", listen)
        try:
            run(_read, {"kind": "test"})
            run(_read, {"kind": "test"})
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listen)
        db.session.rollback()
    assert len([s for s in seen if "audit_events" in s]) == 2


def test_a_rollback_undoes_the_writes_and_the_connection_goes_on(app, database_url):
    with app.app_context():
        run(_insert_with_id, _event(id=1000, actor="undone@example.com"))
        db.session.rollback()
        # A failed statement aborts the transaction; a rollback must recover it.
        run(_insert_with_id, _event(id=999, actor="undone@example.com"))
        with pytest.raises(sa_exc.IntegrityError):
            run(_insert_with_id, _event(id=999))
        db.session.rollback()
        run(_insert_with_id, _event(id=1001, actor="kept@example.com"))
        db.session.commit()
        actors = db.session.scalars(sa.select(AuditEvent.actor)).all()
        prepared = None
        if database_url.startswith("postgresql"):
            run(_read, {"kind": "test"})
            db.session.rollback()
            prepared = db.session.scalar(sa.text(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE "
                "'%audit_events.object_type%'"))
            db.session.rollback()
    assert actors == ["kept@example.com"]
    if prepared is not None:
        # Still prepared after two rollbacks: the next run does not prepare it again.
        assert prepared == 1


def _lose_the_sessions_connection() -> None:
    """Open a transaction, then end its PostgreSQL backend from another connection."""
    run(_read, {"kind": "test"})
    backend = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    with db.engine.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_lost_mid_transaction_is_replaced_for_the_next_request(app):
    with app.app_context():
        _lose_the_sessions_connection()
        with pytest.raises(sa_exc.DBAPIError) as raised:
            run(_read, {"kind": "test"})
        assert raised.value.connection_invalidated
        # The error handlers roll back: that must not fail in its turn.
        db.session.rollback()
        # As after a database restart: the pool hands out a working connection.
        assert run(_read, {"kind": "test"}) == []
        db.session.rollback()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_rollback_on_a_lost_connection_raises_sqlalchemys_error_and_recovers(app):
    with app.app_context():
        _lose_the_sessions_connection()
        # Lost while nothing was running: the rollback is what finds out.
        with pytest.raises(sa_exc.DBAPIError):
            db.session.rollback()
        db.session.rollback()
        assert run(_read, {"kind": "test"}) == []
        db.session.rollback()
