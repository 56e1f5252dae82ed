"""Engine behaviour for SQLite and PostgreSQL, transactions, and the busiest statements."""

from __future__ import annotations

import weakref
from collections import namedtuple
from contextlib import contextmanager
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask
from psycopg.pq import TransactionStatus

from diversion.extensions import db


def register(app: Flask) -> None:
    """Make SQLite behave (foreign keys on, writers queue instead of failing), and let
    PostgreSQL connections keep their prepared statements across rollbacks."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)
        elif engine.dialect.name == "postgresql":
            sa.event.listen(engine, "rollback", _rollback_keeping_prepared_statements)


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


def _rollback_keeping_prepared_statements(connection: sa.Connection) -> None:
    """Roll back at the protocol level, so psycopg keeps its prepared statements.

    psycopg forgets every prepared statement on ROLLBACK and sends DEALLOCATE ALL, in
    case the rollback undid DDL they depend on. This service runs no DDL in its
    transactions, and a ROLLBACK is routine here: every refused booking, and every
    request that only read. Under load that cost each connection its prepared
    statements again and again: an extra round trip to deallocate, another to prepare
    each statement anew, and PostgreSQL planning it afresh for its next five runs.
    With the transaction already ended here, the driver's own rollback has nothing to
    do. If this ROLLBACK fails, the transaction is still open, and the driver's
    rollback runs and raises as it always would.
    """
    if connection.closed or connection.invalidated:
        return
    driver = connection.connection.driver_connection
    if driver.pgconn.transaction_status != TransactionStatus.IDLE:
        try:
            driver.pgconn.exec_(b"ROLLBACK")
        except psycopg.Error:
            pass  # a lost connection: the driver's rollback fails next, as it always did


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


# A row read by ``run``: a named tuple on PostgreSQL, SQLAlchemy's Row on SQLite; either
# is read by attribute.
Row = tuple | sa.Row


def run(statement: sa.Executable, params: dict[str, Any] | None = None) -> list[Row]:
    """Execute a statement built once per process, in the session's transaction; return its rows.

    For the statements on the busiest paths (the token lookup, the booking, the feed),
    which read and write rows rather than objects; nothing of the session's is pending
    on those paths, so skipping its autoflush changes nothing. Rows are read by
    attribute. On PostgreSQL the statement is compiled once per process and run as a
    prepared statement on the driver's own cursor (see ``_Prepared``).
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        result = connection.execute(statement, params)
        return result.all() if result.returns_rows else []
    prepared = _prepared.get(statement)
    if prepared is None:
        prepared = _prepared[statement] = _Prepared(statement, connection.dialect)
    return prepared.run(connection, params or {})


def run_one(statement: sa.Executable, params: dict[str, Any] | None = None) -> Row | None:
    """Execute as ``run`` does; return the first row, or None."""
    rows = run(statement, params)
    return rows[0] if rows else None


# Keyed by the statement itself, which its caller builds once; a statement dropped by
# its caller drops out of here too.
_prepared: weakref.WeakKeyDictionary[sa.Executable, _Prepared] = weakref.WeakKeyDictionary()


_CURSOR = "diversion.cursor"


class _Prepared:
    """A Core statement compiled once for PostgreSQL, run without SQLAlchemy's execution.

    SQLAlchemy's execution costs about 0.1 ms a statement (an execution context, result
    metadata, and psycopg describing every column for it) that plain rows do not need;
    the booking makes four such statements a request. What it does that matters is kept:
    values go through the statement's own SQLAlchemy types in both directions (UTC
    times, JSON), driver errors are raised as SQLAlchemy's (an ``IntegrityError`` is
    still one), with their parameters hidden (they hold names and token hashes), and
    statement listeners still see every statement.
    """

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.fixed: dict[str, Any] = {}  # values the statement carries itself
        self.converters: dict[str, Any] = {}  # the type's conversion, by parameter name
        for bind, name in compiled.bind_names.items():
            if bind.expanding or bind.literal_execute:
                raise ValueError(f"{name}: a value rendered into the SQL cannot be prepared")
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                self.converters[name] = convert
            if not bind.required:
                self.fixed[name] = bind.effective_value
        columns = list(statement.exported_columns)
        self.row = namedtuple("Row", [column.key for column in columns]) if columns else None
        self.results = [
            (n, convert) for n, column in enumerate(columns)
            if (convert := column.type.dialect_impl(dialect).result_processor(dialect, None))
        ]

    def run(self, connection: sa.Connection, params: dict[str, Any]) -> list[Row]:
        values = {**self.fixed, **params}
        for name, convert in self.converters.items():
            values[name] = convert(values[name])
        pooled = connection.connection
        driver, cursor = pooled.info.get(_CURSOR, (None, None))
        if driver is not pooled.driver_connection:
            # One cursor for each driver connection, kept with it in the pool: a new
            # one costs about 7 µs a statement in adapters looked up afresh.
            driver = pooled.driver_connection
            cursor = driver.cursor()
            pooled.info[_CURSOR] = (driver, cursor)
        connection.dispatch.before_cursor_execute(connection, cursor, self.sql, values,
                                                  None, False)
        try:
            cursor.execute(self.sql, values, prepare=True)
            rows = cursor.fetchall() if self.row is not None else []
        except connection.dialect.loaded_dbapi.Error as error:
            # As SQLAlchemy's own execution does: a lost connection is not used again.
            lost = connection.dialect.is_disconnect(error, driver, cursor)
            if lost:
                connection.invalidate(error)
            raise sa.exc.DBAPIError.instance(
                self.sql, values, error, connection.dialect.loaded_dbapi.Error,
                hide_parameters=True, connection_invalidated=lost,
                dialect=connection.dialect) from error
        connection.dispatch.after_cursor_execute(connection, cursor, self.sql, values,
                                                 None, False)
        if not self.results:
            return [self.row._make(row) for row in rows]
        converted = []
        for row in rows:
            cells = list(row)
            for n, convert in self.results:
                cells[n] = convert(cells[n])
            converted.append(self.row._make(cells))
        return converted


def insert_together(*inserts: tuple[sa.Table, list[dict]]) -> None:
    """Insert rows into several tables; on PostgreSQL in one statement, one round trip.

    Rows must not depend on one another's generated values: pass ids already known.
    Each table's insert rides as a data-modifying CTE on the last table's: a single row
    as a plain VALUES, several as an INSERT … SELECT ordered so they are written in the
    order given (their ids rise in that order; PostgreSQL does not promise to keep the
    order of a multi-row VALUES). Built once per shape, the statement is compiled and
    prepared once per process.
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
        columns = [*given, *defaults]
        if count == 1:
            # One row needs no order: a plain VALUES, which PostgreSQL plans as one node.
            inserts.append(sa.insert(table).values({
                **{column: sa.bindparam(f"t{n}_0_{column}", type_=table.c[column].type)
                   for column in given},
                **{column: sa.literal(value, table.c[column].type)
                   for column, value in defaults.items()}}))
            continue
        rows = [
            sa.select(*(sa.bindparam(f"t{n}_{r}_{column}", type_=table.c[column].type)
                        .label(column) for column in given),
                      *(sa.literal(value, table.c[column].type).label(column)
                        for column, value in defaults.items()),
                      sa.literal(r).label("row_order"))
            for r in range(count)
        ]
        source = sa.union_all(*rows).subquery(f"rows_{n}")
        inserts.append(sa.insert(table).from_select(
            columns, sa.select(*(source.c[c] for c in columns)).order_by(source.c.row_order),
            include_defaults=False))
    *riders, statement = inserts
    for n, insert in enumerate(riders):
        statement = statement.add_cte(insert.cte(f"together_{n}"))
    return statement
