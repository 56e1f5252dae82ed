"""The application's database role cannot erase the audit trail; production insists on it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate.cli import db as db_commands

from diversion import create_app
from diversion.extensions import db
from diversion.models import AuditEvent
from diversion.services import accounts, audit
from tests.conftest import BASE_CONFIG, PG_URL, make_force

APP_ROLE = "diversion_app"
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def as_role(role: str) -> str:
    return sa.make_url(PG_URL).set(username=role, password=role).render_as_string(
        hide_password=False)


@pytest.fixture
def app_role(database_url):
    """Grant the application's role its rights, as `make run` does after `db upgrade`."""
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": as_role(APP_ROLE),
                      "MIGRATION_DATABASE_URI": PG_URL})
    result = app.test_cli_runner().invoke(db_commands, ["grant-app-role"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _refused(engine: sa.Engine, statement: str) -> str:
    with engine.connect() as connection:
        with pytest.raises(sa.exc.DBAPIError) as refusal:
            connection.execute(sa.text(statement))
        connection.rollback()
    return str(refusal.value.orig)


def test_the_application_role_adds_and_reads_audit_rows_but_cannot_erase_them(app_role):
    with app_role.app_context():
        make_force("MET")
        accounts.create_user("officer@example.gov.uk", "case_officer",
                             password="a long enough passphrase", force_code="MET")
        assert [e.action for e in audit.list_events(accounts.Actor.system())] == ["create"]
        db.session.remove()
    engine = sa.create_engine(as_role(APP_ROLE))
    try:
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT current_user")) == APP_ROLE
        assert "permission denied" in _refused(engine, "TRUNCATE audit_events")
        assert "must be owner" in _refused(
            engine, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        assert "must be owner" in _refused(engine, "ALTER TABLE audit_events DISABLE TRIGGER ALL")
        assert "permission denied" in _refused(engine,
                                               "SET session_replication_role = replica")
        assert "permission denied" in _refused(engine, "DELETE FROM audit_events")
        assert "permission denied" in _refused(engine, "UPDATE audit_events SET actor = 'x'")
        assert "must be owner" in _refused(engine, "DROP TABLE audit_events")
    finally:
        engine.dispose()
    owner = sa.create_engine(PG_URL)
    with owner.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 2
    owner.dispose()


def test_the_application_role_does_its_daily_work(app_role):
    client = app_role.test_client()
    with app_role.app_context():
        make_force("MET")
        user = accounts.create_user("officer@example.gov.uk", "case_officer",
                                    password="a long enough passphrase", force_code="MET")
        token = accounts.create_token(user.email)
        db.session.remove()
    headers = {"Authorization": f"Bearer {token}"}
    from tests.conftest import case_body

    case = client.post("/api/v1/cases", json=case_body(), headers=headers)
    assert case.status_code == 201, case.get_json()
    enrolment = client.post(f"/api/v1/cases/{case.get_json()['id']}/enrolment",
                            json={"programme_id": 1, "start_date": "2027-01-04"},
                            headers=headers)
    assert enrolment.status_code == 201, enrolment.get_json()
    assert client.get("/api/v1/enrolments", headers=headers).status_code == 200


def _production(url: str):
    return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "ENV_NAME": "production",
                       "WEB_CONCURRENCY": 1})


def test_production_refuses_to_start_connected_as_a_superuser(database_url):
    with pytest.raises(RuntimeError, match="superuser"):
        _production(PG_URL)


def test_production_refuses_to_start_as_the_audit_tables_owner(database_url, app_role):
    owner = sa.create_engine(PG_URL)
    with owner.begin() as connection:
        connection.execute(sa.text("ALTER TABLE audit_events OWNER TO diversion_app"))
    try:
        with pytest.raises(RuntimeError, match="owns audit_events"):
            _production(as_role(APP_ROLE))
    finally:
        with owner.begin() as connection:
            connection.execute(sa.text("ALTER TABLE audit_events OWNER TO CURRENT_USER"))
        owner.dispose()


def test_production_refuses_a_role_that_may_rewrite_the_audit_trail(database_url, app_role):
    owner = sa.create_engine(PG_URL)
    with owner.begin() as connection:
        connection.execute(sa.text("GRANT DELETE ON audit_events TO diversion_app"))
    try:
        with pytest.raises(RuntimeError, match="may DELETE audit_events"):
            _production(as_role(APP_ROLE))
    finally:
        with owner.begin() as connection:
            connection.execute(sa.text("REVOKE DELETE ON audit_events FROM diversion_app"))
        owner.dispose()


def test_production_starts_as_the_application_role(database_url, app_role):
    app = _production(as_role(APP_ROLE))
    try:
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        with app.app_context():
            db.engine.dispose()


def test_granting_refuses_to_make_the_owner_the_application_role(database_url):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": PG_URL,
                      "MIGRATION_DATABASE_URI": PG_URL})
    result = app.test_cli_runner().invoke(db_commands, ["grant-app-role"])
    assert result.exit_code != 0
    assert "owner" in result.output
    with app.app_context():
        db.engine.dispose()


def test_the_application_role_purges_audit_rows_only_past_the_floor(app_role):
    owner = sa.create_engine(PG_URL)
    with owner.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO audit_events (at, actor, action, object_type) VALUES "
            "(now() AT TIME ZONE 'UTC' - interval '10 years', 'old@example.gov.uk', 'read', "
            "'case'), (now() AT TIME ZONE 'UTC', 'new@example.gov.uk', 'read', 'case')"))
    engine = sa.create_engine(as_role(APP_ROLE))
    try:
        assert "permission denied" in _refused(engine, "DELETE FROM audit_events")
        with engine.begin() as connection:
            # Asked to delete everything, the function deletes only what is past the floor.
            removed = connection.scalar(sa.text(
                "SELECT purge_expired_audit_events('2100-01-01'::timestamp)"))
        assert removed == 1
    finally:
        engine.dispose()
    with owner.connect() as connection:
        assert connection.scalars(sa.text("SELECT actor FROM audit_events")).all() == [
            "new@example.gov.uk"]
    owner.dispose()


def test_a_role_password_with_quotes_and_percent_signs_is_set_as_given(database_url):
    from diversion.db_roles import grant_app_role

    role, password = "diversion_quoted", "it's 100% \"secret\"; DROP ROLE x"
    owner = sa.create_engine(PG_URL)
    try:
        with owner.begin() as connection:
            grant_app_role(connection, role, password)
        as_app = sa.create_engine(sa.make_url(PG_URL).set(username=role, password=password))
        with as_app.connect() as connection:
            assert connection.scalar(sa.text("SELECT current_user")) == role
        as_app.dispose()
    finally:
        with owner.begin() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {role}")
            connection.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        owner.dispose()
