"""Engine behaviour that differs between SQLite and PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask

from diversion.extensions import db


def register(app: Flask) -> None:
    """Make SQLite behave: foreign keys on, and writers queue instead of failing."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)


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
def transaction():
    """Run one use case in one transaction: commit on success, roll back on any error."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise



def insert_together(*inserts: tuple[sa.Table, list[dict]]) -> None:
    """Insert rows into several tables; on PostgreSQL in one statement, one round trip.

    Rows must not depend on one another's generated values: pass ids already known.
    Every row rides as a one-row INSERT in a data-modifying CTE on the last one. One
    row each, because a multi-row VALUES has no cache key and would be compiled anew
    on every call; built once per shape, the statement is compiled once per process.
    """
    wanted = [(table, row) for table, rows in inserts for row in rows]
    if not is_postgresql():
        for table, rows in inserts:
            if rows:
                db.session.execute(sa.insert(table), rows)
        return
    shape = tuple((table.name, tuple(row)) for table, row in wanted)
    statement = _together.get(shape)
    if statement is None:
        statement = _together[shape] = _together_statement(shape)
    db.session.execute(statement, {f"r{n}_{column}": value for n, (_, row) in enumerate(wanted)
                                   for column, value in row.items()})


_together: dict[tuple, sa.Insert] = {}


def _together_statement(shape: tuple) -> sa.Insert:
    tables = db.metadata.tables
    inserts = []
    for n, (name, columns) in enumerate(shape):
        table = tables[name]
        values = {column: sa.bindparam(f"r{n}_{column}", type_=table.c[column].type)
                  for column in columns}
        # A column left to its Python default would get a bind named after the column,
        # the same name in every CTE on that table; spell the default out instead.
        for column in table.columns:
            if column.name not in values and column.default is not None:
                if not column.default.is_scalar:
                    raise ValueError(f"{name}.{column.name}: pass its value in every row")
                values[column.name] = sa.literal(column.default.arg, column.type)
        inserts.append(sa.insert(table).values(values))
    *riders, statement = inserts
    for n, insert in enumerate(riders):
        statement = statement.add_cte(insert.cte(f"together_{n}"))
    return statement
