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


def run(statement: sa.Executable, params: dict | list[dict] | None = None) -> sa.CursorResult:
    """Execute a Core statement on the session's connection, in its transaction.

    For the statements on the busiest paths, which read and write rows rather than
    objects: the session's own ``execute`` costs about 0.1 ms more a statement in ORM
    bookkeeping they do not use. Nothing of the session's is pending on those paths,
    so skipping its autoflush changes nothing.
    """
    return db.session.connection().execute(statement, params)


def insert_together(*inserts: tuple[sa.Table, list[dict]]) -> None:
    """Insert rows into several tables; on PostgreSQL in one statement, one round trip.

    Rows must not depend on one another's generated values: pass ids already known.
    Each table's rows are written in the order given (their ids rise in that order),
    as an INSERT … SELECT riding as a data-modifying CTE on the last table's. Not a
    multi-row VALUES: that has no cache key and would be compiled anew on every call;
    built once per shape, this statement is compiled once per process.
    """
    wanted = [(table, rows) for table, rows in inserts if rows]
    if not is_postgresql():
        for table, rows in wanted:
            db.session.execute(sa.insert(table), rows)
        return
    shape = tuple((table.name, tuple(rows[0]), len(rows)) for table, rows in wanted)
    statement = _together.get(shape)
    if statement is None:
        statement = _together[shape] = _together_statement(shape)
    run(statement, {
        f"t{n}_{r}_{column}": value for n, (_, rows) in enumerate(wanted)
        for r, row in enumerate(rows) for column, value in row.items()})


_together: dict[tuple, sa.Insert] = {}


def _together_statement(shape: tuple) -> sa.Insert:
    tables = db.metadata.tables
    inserts = []
    for n, (name, given, count) in enumerate(shape):
        table = tables[name]
        # Python defaults are spelled out: left to SQLAlchemy, each would get a bind
        # named after its column, the same name in every row.
        defaults = {}
        for column in table.columns:
            if column.name not in given and column.default is not None:
                if not column.default.is_scalar:
                    raise ValueError(f"{name}.{column.name}: pass its value in every row")
                defaults[column.name] = column.default.arg
        rows = [
            sa.select(*(sa.bindparam(f"t{n}_{r}_{column}", type_=table.c[column].type)
                        .label(column) for column in given),
                      *(sa.literal(value, table.c[column].type).label(column)
                        for column, value in defaults.items()),
                      sa.literal(r).label("row_order"))
            for r in range(count)
        ]
        source = (sa.union_all(*rows) if count > 1 else rows[0]).subquery(f"rows_{n}")
        columns = [*given, *defaults]
        inserts.append(sa.insert(table).from_select(
            columns, sa.select(*(source.c[c] for c in columns)).order_by(source.c.row_order),
            include_defaults=False))
    *riders, statement = inserts
    for n, insert in enumerate(riders):
        statement = statement.add_cte(insert.cte(f"together_{n}"))
    return statement
