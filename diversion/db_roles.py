"""Two database roles: the schema's owner runs migrations, the application only uses rows.

The application connects (``DATABASE_URL``) as a role that may read and write rows but
owns nothing. On ``audit_events`` it may only INSERT and SELECT. It cannot TRUNCATE the
trail, cannot disable its append-only trigger (only the table's owner or a superuser
may), and cannot set ``session_replication_role`` to skip triggers (superusers only):
the application cannot erase its own audit trail. It may only call
``purge_expired_audit_events``, which deletes rows past their period and never one
younger than the floor the trigger holds. Migrations, and granting these
rights, run as the owner (``MIGRATION_DATABASE_URL``). PostgreSQL only: SQLite has no
roles.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

APPEND_ONLY_TABLES = ("audit_events",)
# The migrations' own bookkeeping: the application may read it, never move it.
READ_ONLY_TABLES = ("alembic_version",)
ROW_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"


def _quoted(connection: sa.Connection, identifier: str) -> str:
    """An identifier quoted as the dialect writes it (DDL takes no bound parameters)."""
    return connection.dialect.identifier_preparer.quote_identifier(identifier)


def _literal(connection: sa.Connection, text: str) -> str:
    """A string literal rendered inline by SQLAlchemy, escaped for the dialect."""
    return str(sa.literal(text, sa.String()).compile(
        dialect=connection.dialect, compile_kwargs={"literal_binds": True}))


def grant_app_role(connection: sa.Connection, role: str, password: str | None = None) -> None:
    """Create the application's role if missing and give it exactly the rights it needs.

    Run as the schema's owner, after every migration (a new table needs its rights):
    it is safe to run again. The role must not be a superuser or the owner itself.
    """
    name = _quoted(connection, role)
    exists = connection.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"),
                               {"role": role})
    secret = f" PASSWORD {_literal(connection, password)}" if password else ""
    if not exists:
        connection.exec_driver_sql(f"CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB "
                                   f"NOCREATEROLE NOREPLICATION NOBYPASSRLS{secret}")
    elif password:
        connection.exec_driver_sql(f"ALTER ROLE {name}{secret}")
    owner = connection.scalar(sa.text("SELECT current_user"))
    superuser, same = connection.execute(sa.text(
        "SELECT rolsuper, pg_has_role(:role, current_user, 'MEMBER') FROM pg_roles "
        "WHERE rolname = :role"), {"role": role}).one()
    if superuser or same or role == owner:
        raise ValueError(f"{role} is a superuser or can act as the owner {owner}: the "
                         "application needs a role of its own")
    database = _quoted(connection, connection.scalar(sa.text("SELECT current_database()")))
    schema = _quoted(connection, connection.scalar(sa.text("SELECT current_schema()")))
    statements = [
        f"GRANT CONNECT ON DATABASE {database} TO {name}",
        f"GRANT USAGE ON SCHEMA {schema} TO {name}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {name}",
        f"GRANT {ROW_RIGHTS} ON ALL TABLES IN SCHEMA {schema} TO {name}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {name}",
        # Tables a later migration adds get row rights at once; this command, run after
        # it, takes away what an append-only or read-only table must not have.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {ROW_RIGHTS} ON TABLES "
        f"TO {name}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES "
        f"TO {name}",
    ]
    existing = set(sa.inspect(connection).get_table_names())
    for table in APPEND_ONLY_TABLES:
        if table in existing:
            statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER "
                              f"ON {_quoted(connection, table)} FROM {name}")
    for table in READ_ONLY_TABLES:
        if table in existing:
            statements.append(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, "
                              f"TRIGGER ON {_quoted(connection, table)} FROM {name}")
    # The one way the application reaches audit rows past their period (migration 0018):
    # the function deletes as the owner, and the trigger lets the owner delete only rows
    # older than the shortest period an audit row is kept.
    purge = connection.scalar(sa.text(
        "SELECT to_regprocedure('purge_expired_audit_events(timestamp)') IS NOT NULL"))
    if purge:
        statements.append(
            f"GRANT EXECUTE ON FUNCTION purge_expired_audit_events(timestamp) TO {name}")
    for statement in statements:
        connection.exec_driver_sql(statement)


def privilege_problems(dbapi_connection) -> list[str]:
    """Say how this connection's role could erase the audit trail (empty: it cannot)."""

    def ask(query: str):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchone()[0]

    if ask("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        return ["it connects as a superuser"]
    problems = []
    if ask("SELECT pg_has_role(current_user, c.relowner, 'MEMBER') FROM pg_class c "
           "WHERE c.oid = to_regclass('audit_events')"):
        problems.append("it owns audit_events (or may act as its owner), so it could "
                        "disable the trigger that keeps the table append-only")
    rights = ask("SELECT array_agg(privilege) FROM unnest(ARRAY['UPDATE', 'DELETE', "
                 "'TRUNCATE']) AS privilege WHERE to_regclass('audit_events') IS NOT NULL "
                 "AND has_table_privilege('audit_events', privilege)")
    if rights:
        problems.append(f"it may {', '.join(rights)} audit_events")
    # Since PostgreSQL 15 a superuser can GRANT SET on a parameter to another role.
    if int(ask("SHOW server_version_num")) >= 150000 and ask(
            "SELECT has_parameter_privilege('session_replication_role', 'SET')"):
        problems.append("it may set session_replication_role, which turns triggers off")
    return problems


def guard(engine: sa.Engine) -> None:
    """Refuse every connection whose role could erase the audit trail; check one now.

    Each new connection is checked before the pool hands it out, so the application
    never works as such a role. One is opened at once, so production refuses to start;
    when the database cannot be reached yet (its role not created, say), the check waits
    for the first connection that can be made.
    """

    @sa.event.listens_for(engine, "connect")
    def _check(dbapi_connection, _record):
        problems = privilege_problems(dbapi_connection)
        dbapi_connection.rollback()
        if problems:
            raise RuntimeError(
                "Refusing to run the application as this database role: "
                + "; ".join(problems) + ". Connect with DATABASE_URL as the application's "
                "own role (flask --app wsgi db grant-app-role), and migrate with "
                "MIGRATION_DATABASE_URL as the owner.")

    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        logging.getLogger(__name__).warning(
            "could not check the database role at start: %s", error.orig)
