"""Engine behaviour for SQLite and PostgreSQL, and the one way a use case holds a transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask

from diversion.extensions import db


def register(app: Flask) -> None:
    """Make SQLite behave; in production, refuse a PostgreSQL role that could erase the audit."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)
        elif app.config.get("ENV_NAME") == "production":
            from diversion import db_roles

            db_roles.guard(engine)


def _configure_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from pysqlite so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        # SQLite takes no row locks; BEGIN IMMEDIATE takes the write lock up
        # front so a check-then-insert cannot interleave with another writer.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgresql() -> bool:
    """Say whether the bound database is PostgreSQL."""
    return db.engine.dialect.name == "postgresql"


@contextmanager
def transaction() -> Iterator[so.scoped_session]:
    """Run one use case in one transaction: commit on success, roll back on any error."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
