"""Shared fixtures: an app on SQLite and on PostgreSQL, clients, and builders.

Schemas are built by running the real migrations once per backend; each test
then starts from that state (a copied SQLite file, or truncated PostgreSQL
tables with the migrated reference rows put back).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from diversion import clock, create_app
from diversion.config import normalise_database_url
from diversion.extensions import db

PG_URL = normalise_database_url(
    os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
KEEP = ("alembic_version",)
REFERENCE_TABLES = ("programmes",)

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "RATELIMIT_ENABLED": False,
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 1,
    "PUBLIC_BASE_URL": "http://localhost",
    # Text messages are off unless a test turns them on, whatever the shell says.
    "NOTIFY_API_KEY": None,
    "NOTIFY_CALLBACK_TOKEN": None,
    # The suite migrates and resets its databases as their owner, whatever the shell says.
    "MIGRATION_DATABASE_URI": None,
}


def _migrate(url: str) -> None:
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _catalogues_compiled():
    """Compile the translation catalogues as `make install` does, for a bare `pytest` run."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from diversion.i18n import TRANSLATIONS

    for po in TRANSLATIONS.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        # Written aside and moved into place: parallel workers may compile at once.
        partial = mo.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as target:
            write_mo(target, catalogue)
        partial.replace(mo)


def _pg_reachable() -> bool:
    try:
        engine = sa.create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_reference():
    """Migrate the PostgreSQL test database from empty; remember its reference rows."""
    if not _pg_reachable():
        # The suite runs on both databases everywhere: a missing one is a failure.
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}")
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    _migrate(PG_URL)
    engine = sa.create_engine(PG_URL)
    with engine.connect() as conn:
        tables = [
            t for t in sa.inspect(conn).get_table_names() if t not in KEEP
        ]
        reference = {
            name: [dict(r._mapping) for r in conn.execute(sa.text(f"SELECT * FROM {name}"))]
            for name in REFERENCE_TABLES
        }
    engine.dispose()
    return tables, reference


def _reset_postgresql(tables, reference) -> None:
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        for name, rows in reference.items():
            if rows:
                table = sa.Table(name, sa.MetaData(), autoload_with=conn)
                conn.execute(table.insert(), rows)
                conn.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT MAX(id) FROM {name}))"
                ))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.sqlite3"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    tables, reference = request.getfixturevalue("pg_reference")
    _reset_postgresql(tables, reference)
    return PG_URL


_FIGURES: list[str] = []


@pytest.fixture
def figures():
    """Record a line of measured figures (faults survived, messages delivered), shown
    in the summary at the end of the run."""
    return _FIGURES.append


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch):
    """Hash test passwords with Argon2id at the lowest cost: same code path, far faster."""
    from argon2 import PasswordHasher

    from diversion.services import accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("not-a-real-password-at-all"))


@pytest.fixture(autouse=True)
def _clock_reset():
    clock.set_now(None)
    yield
    clock.set_now(None)


@pytest.fixture
def app(database_url):
    """The app, with no context pushed: each request gets its own, as in production."""
    application = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    _current.append(application)
    yield application
    _current.pop()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


_current: list = []


@pytest.fixture
def ctx(app):
    """Push an app context for tests that call services directly."""
    with app.app_context():
        yield app
        db.session.remove()


def in_app(function):
    """Run a builder inside the current test app's context."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from flask import has_app_context

        if has_app_context():
            return function(*args, **kwargs)
        with _current[-1].app_context():
            try:
                return function(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---- builders -------------------------------------------------------------

PASSWORD = "a long enough passphrase"


@in_app
def make_force(code: str = "MET", name: str | None = None):
    from diversion.services import accounts

    return accounts.force_by_code(code) or accounts.create_force(code, name or f"{code} Police")


@in_app
def make_user(*, role: str = "case_officer", email: str | None = None,
              force: str | None = "MET", password: str = PASSWORD, name: str = ""):
    from diversion.services import accounts

    if role == "case_officer" and force:
        make_force(force)
    email = email or f"{role}.{force or 'x'}@example.gov.uk".lower()
    return accounts.create_user(email, role, password=password, name=name,
                                force_code=force if role == "case_officer" else None)


@in_app
def make_token(*, role: str = "case_officer", force: str | None = "MET",
               email: str | None = None) -> str:
    from diversion.services import accounts

    user = make_user(role=role, force=force, email=email)
    return accounts.create_token(user.email)


SCREENING_OK = {
    "previous_sexual_or_violent_conviction": False,
    "first_offence": True,
    "image_category": "C",
    "contact_offending_suspected": False,
    "children_at_risk": False,
    "prosecutor_agreed": True,
    "participant_consented": True,
}


def case_body(*, reference: str = "CASE/1", email: str = "sam@example.com", **screening) -> dict:
    return {
        "reference": reference,
        "participant": {
            "given_name": "Sam",
            "family_name": "Taylor",
            "date_of_birth": "1990-04-02",
            "email": email,
            "phone": "07700 900982",
        },
        "screening": {**SCREENING_OK, **screening},
    }


def enrol_case(officer, reference: str = "CASE/1", start: str = "2027-01-04",
               language: str | None = None) -> dict:
    """Record an eligible case (in English, or the participant's ``language``) and enrol
    it on programme 1 through the API.

    A start date already past is recorded as on that day (an enrolment long under way
    was entered when it started), so the clock is set there for the two requests.
    """
    now = clock.now()
    if start < now.date().isoformat():
        clock.set_now(f"{start}T09:00:00+00:00")
    try:
        body = case_body(reference=reference)
        if language is not None:
            body["participant"]["language"] = language
        case = officer.post("/cases", body).get_json()
        response = officer.post(f"/cases/{case['id']}/enrolment",
                                {"programme_id": 1, "start_date": start})
    finally:
        clock.set_now(now)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


class Api:
    """A JSON client holding one bearer token."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def _headers(self, kw):
        return {**self.headers, **kw.pop("headers", {})}

    def get(self, path, **kw):
        return self.client.get(f"/api/v1{path}", headers=self._headers(kw), **kw)

    def post(self, path, json=None, **kw):
        return self.client.post(f"/api/v1{path}", json=json, headers=self._headers(kw), **kw)

    def patch(self, path, json=None, **kw):
        return self.client.patch(f"/api/v1{path}", json=json, headers=self._headers(kw), **kw)

    def put(self, path, json=None, **kw):
        return self.client.put(f"/api/v1{path}", json=json, headers=self._headers(kw), **kw)

    def delete(self, path, **kw):
        return self.client.delete(f"/api/v1{path}", headers=self._headers(kw), **kw)


@pytest.fixture
def api_as(client):
    """Return an API client for a new user of a role (and force)."""

    def build(role: str = "case_officer", force: str | None = "MET",
              email: str | None = None) -> Api:
        return Api(client, make_token(role=role, force=force, email=email))

    return build


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def login_as(client):
    """Sign a new user of a role in through the login page; return the user."""

    def sign_in(role: str = "case_officer", force: str | None = "MET",
                email: str | None = None):
        user = make_user(role=role, force=force, email=email)
        page = client.get("/login")
        response = client.post("/login", data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "email": user.email,
            "password": PASSWORD,
        })
        assert response.status_code == 302, response.get_data(as_text=True)
        if response.headers["Location"].endswith("/login/code"):
            response = pass_second_factor(client)
            assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return sign_in


def pass_second_factor(client, *, offset_steps: int = 0):
    """Answer the administrator's code page as their authenticator app would."""
    import pyotp

    page = client.get("/login/code").get_data(as_text=True)
    match = re.search(r'data-totp-secret="([A-Z2-7]+)"', page)
    if match:
        secret = match.group(1)
    else:
        from diversion.models import User

        with client.session_transaction() as session:
            user_id = int(session["pending_user"].split(":")[0])
        with _current[-1].app_context():
            secret = db.session.get(User, user_id).totp_secret
            db.session.remove()
    totp = pyotp.TOTP(secret)
    code = totp.generate_otp(totp.timecode(clock.unmoved_now()) + offset_steps)
    return client.post("/login/code", data={"csrf_token": csrf_from(page), "code": code})

