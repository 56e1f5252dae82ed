"""The backup and restore drill (docs/operations.md), on PostgreSQL: ``pg_dump`` of a
database in use, ``pg_restore`` into a fresh one, the migrations (nothing to do) and
the sweep against it, and every enrolment, booking, outbox and audit row intact."""

from __future__ import annotations

import shutil
import subprocess
import threading

import psycopg
import pytest
import sqlalchemy as sa

from diversion import create_app
from diversion.extensions import db
from diversion.jobs import tasks
from diversion.models import Flag
from tests.conftest import BASE_CONFIG, Api
from tests.integration.test_database_faults import booking_world

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

TABLES = ("enrolments", "bookings", "outbox", "audit_events")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _rows(url: str) -> dict[str, dict[int, dict]]:
    with psycopg.connect(_libpq(url)) as connection:
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        found = {}
        for table in TABLES:
            cursor = connection.execute(f"SELECT * FROM {table} ORDER BY id")
            names = [column.name for column in cursor.description]
            found[table] = {row[0]: dict(zip(names, row, strict=True))
                            for row in cursor.fetchall()}
        return found


def _tool(name: str) -> str:
    # CI skips nothing: the drill's own tools must be installed where the suite runs.
    path = shutil.which(name)
    assert path, f"{name} is not installed (Debian: postgresql-client)"
    return path


@pytest.fixture
def fresh_database(database_url):
    """An empty database beside the test one, dropped afterwards."""
    url = sa.make_url(_libpq(database_url))
    name = f"{url.database}_restored"
    maintenance = url.set(database="postgres").render_as_string(hide_password=False)

    def drop(connection) -> None:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    with psycopg.connect(maintenance, autocommit=True) as connection:
        drop(connection)
        connection.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(maintenance, autocommit=True) as connection:
        drop(connection)


def test_a_dump_taken_mid_use_restores_whole_and_the_service_runs_on_it(
        app, client, database_url, fresh_database, tmp_path):
    token, session_id, enrolments = booking_world(client, enrolments=17, capacity=40,
                                                  overdue=3)
    coordinator = Api(client, token)
    unbooked = enrolments.pop()

    def book(enrolment_id: int) -> None:
        response = coordinator.post(f"/enrolments/{enrolment_id}/bookings",
                                    {"session_id": session_id})
        assert response.status_code == 201, response.get_json()

    for enrolment_id in enrolments[:8]:
        book(enrolment_id)

    # Bookings go on while the dump is taken.
    booking_meanwhile = threading.Event()
    writer_errors = []

    def keep_booking() -> None:
        try:
            for enrolment_id in enrolments[8:]:
                book(enrolment_id)
                booking_meanwhile.set()
        except Exception as error:  # surfaced below: a thread cannot fail the test
            writer_errors.append(error)

    writer = threading.Thread(target=keep_booking)
    writer.start()
    assert booking_meanwhile.wait(60)
    before = _rows(database_url)
    dump = tmp_path / "diversion.dump"
    subprocess.run([_tool("pg_dump"), "--format=custom", f"--file={dump}",
                    _libpq(database_url)], check=True, capture_output=True)
    writer.join(60)
    assert writer_errors == []
    after = _rows(database_url)

    restored = subprocess.run(
        [_tool("pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={fresh_database}",
         str(dump)], capture_output=True, text=True)
    assert restored.returncode == 0, restored.stderr

    # Every row committed before the dump began is there, unchanged; every row there is
    # one the database really held (a consistent snapshot, nothing half-written).
    copy = _rows(fresh_database)
    for table in TABLES:
        assert before[table].items() <= copy[table].items(), table
        assert copy[table].items() <= after[table].items(), table
    assert len(copy["bookings"]) >= 9 and len(copy["audit_events"]) > 0
    assert len(copy["outbox"]) >= 2 * len(copy["bookings"])  # invitation and reminder

    service = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": fresh_database})
    try:
        with service.app_context():
            from alembic.script import ScriptDirectory
            from flask_migrate import upgrade

            head = ScriptDirectory.from_config(
                service.extensions["migrate"].migrate.get_config()).get_current_head()
            version = sa.text("SELECT version_num FROM alembic_version")
            assert db.session.scalar(version) == head
            db.session.remove()
            upgrade()  # nothing to do: the restored schema is the migrated one
            assert db.session.scalar(version) == head

            summary = tasks.sweep()
            raised = db.session.scalar(sa.select(sa.func.count(Flag.id)))
            assert raised >= 3 and f"{raised} new flags" in summary
            # The audit trail is still append-only: its guard came back with it.
            with pytest.raises(sa.exc.DBAPIError):
                db.session.execute(sa.text("DELETE FROM audit_events"))
            db.session.rollback()
            db.session.remove()
        # The service takes new work: new rows take new ids, as the sequences came back.
        booked = Api(service.test_client(), token).post(
            f"/enrolments/{unbooked}/bookings", {"session_id": session_id})
        assert booked.status_code == 201, booked.get_json()
        assert booked.get_json()["id"] > max(copy["bookings"])
    finally:
        with service.app_context():
            db.engine.dispose()
