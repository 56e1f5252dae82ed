"""Sessions, CSRF, throttling, redirects, password storage and error pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from diversion import clock, create_app
from diversion.extensions import db
from diversion.models import AuditEvent, Case, Enrolment, Force, User
from tests.conftest import BASE_CONFIG, PASSWORD, csrf_from, make_user
from tests.functional.test_pages import CASE_FIELDS, count, record_case, text_of

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)




def sign_in(client, email: str, password: str = PASSWORD, *, path: str = "/login", **kw):
    page = client.get(path, **kw)
    return client.post(path, data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "email": email,
        "password": password,
    }, **kw)


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def is_signed_in(client) -> bool:
    response = client.get("/cases/dashboard")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    return False


# ---- CSRF ------------------------------------------------------------------


def test_recording_a_case_without_a_csrf_token_is_refused_and_stores_nothing(
    app, client, login_as
):
    login_as("case_officer")
    response = client.post("/cases/new", data=CASE_FIELDS)
    assert response.status_code == 400
    assert "The form had expired" in text_of(response)
    assert count(app, Case) == 0


def test_a_forged_csrf_token_is_refused_too(app, client, login_as):
    login_as("case_officer")
    response = client.post("/cases/new", data={**CASE_FIELDS, "csrf_token": "forged"})
    assert response.status_code == 400
    assert count(app, Case) == 0


def test_adding_a_force_without_a_csrf_token_is_refused_and_adds_nothing(app, client, login_as):
    login_as("admin", force=None)
    response = client.post("/admin/forces", data={"code": "GMP", "name": "Greater Manchester"})
    assert response.status_code == 400
    assert count(app, Force) == 0


def test_signing_out_without_a_csrf_token_is_refused_and_keeps_the_session(client, login_as):
    login_as("case_officer")
    response = client.post("/logout")
    assert response.status_code == 400
    assert is_signed_in(client)


def test_enrolling_without_a_csrf_token_is_refused_and_enrols_nothing(app, client, login_as):
    login_as("case_officer")
    case_id = record_case(client)
    response = client.post(f"/cases/{case_id}/enrol", data={
        "programme_id": "1", "start_date": ["31", "10", "2026"]})
    assert response.status_code == 400
    assert count(app, Enrolment) == 0


def test_disabling_a_user_without_a_csrf_token_is_refused(app, client, login_as):
    officer = make_user(role="case_officer")
    login_as("admin", force=None)
    response = client.post(f"/admin/users/{officer.id}/active/0")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(User, officer.id).active is True


# ---- sessions --------------------------------------------------------------


def test_an_old_session_cookie_replayed_after_sign_out_is_sent_to_sign_in(app, client, login_as):
    login_as("case_officer")
    stolen = session_cookie(client)
    page = client.get("/cases/dashboard").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert "You have signed out" in text_of(client.get("/login"))

    attacker = app.test_client()
    attacker.set_cookie("session", stolen)
    replay = attacker.get("/cases/dashboard")
    assert replay.status_code == 302
    assert replay.headers["Location"].startswith("/login")
    assert attacker.get("/cases").status_code == 302


def test_a_session_idle_for_31_minutes_is_signed_out(client, login_as):
    clock.set_now(T0)
    login_as("case_officer")
    clock.set_now(T0 + timedelta(minutes=31))
    response = client.get("/cases")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert "You were signed out because your session ended" in text_of(client.get("/login"))
    clock.set_now(T0 + timedelta(minutes=32))
    assert not is_signed_in(client)


def test_a_session_idle_for_29_minutes_is_still_signed_in(client, login_as):
    clock.set_now(T0)
    login_as("case_officer")
    clock.set_now(T0 + timedelta(minutes=29))
    assert is_signed_in(client)
    clock.set_now(T0 + timedelta(minutes=58))
    assert is_signed_in(client), "each request should restart the idle timer"


def test_a_session_ends_after_12_hours_even_with_activity_every_20_minutes(client, login_as):
    clock.set_now(T0)
    login_as("case_officer")
    for step in range(1, 37):
        clock.set_now(T0 + timedelta(minutes=20 * step))
        if step < 36:
            assert is_signed_in(client), f"signed out after {20 * step} minutes"
    clock.set_now(T0 + timedelta(hours=12, minutes=1))
    assert not is_signed_in(client)


def test_signing_in_starts_a_new_session(app, client):
    make_user(role="case_officer")
    page = client.get("/login")
    before = session_cookie(client)
    login_page_token = csrf_from(page.get_data(as_text=True))
    response = client.post("/login", data={
        "csrf_token": login_page_token,
        "email": "case_officer.met@example.gov.uk",
        "password": PASSWORD,
    })
    assert response.status_code == 302
    after = session_cookie(client)
    assert after != before
    # Nothing from before sign-in survives: not even the sign-in page's CSRF token.
    assert client.post("/logout", data={"csrf_token": login_page_token}).status_code == 400

    visitor = app.test_client()
    visitor.set_cookie("session", before)
    assert visitor.get("/cases/dashboard").status_code == 302


def test_the_session_cookie_is_http_only_and_same_site_lax(client, login_as):
    login_as("case_officer")
    response = client.get("/cases/dashboard")
    page = client.get("/login")
    del page
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert response.status_code == 200


# ---- throttling ------------------------------------------------------------


@pytest.fixture
def limited_app(database_url):
    """An app like the `app` fixture but with login throttling switched on."""
    application = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                              "RATELIMIT_ENABLED": True})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _audit_actions(app, email: str) -> list[str]:
    with app.app_context():
        actions = list(db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.actor == email)
            .order_by(AuditEvent.id)))
        db.session.remove()
        return actions


def test_repeated_failed_sign_ins_for_one_account_are_throttled_from_any_address(limited_app):
    limit = int(re.match(r"\s*(\d+)", limited_app.config["LOGIN_LIMIT"]).group(1))
    with limited_app.app_context():
        make_user(role="case_officer")
        db.session.remove()
    email = "case_officer.met@example.gov.uk"
    for attempt in range(limit):
        client = limited_app.test_client()
        response = sign_in(client, email, "wrong password here",
                           environ_base={"REMOTE_ADDR": f"10.0.0.{attempt + 1}"})
        assert response.status_code == 200, f"attempt {attempt + 1}"
    client = limited_app.test_client()
    blocked = sign_in(client, email, "wrong password here",
                      environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert blocked.status_code == 429
    assert "Too many requests" in text_of(blocked)
    blocked_right = sign_in(client, email, PASSWORD, environ_base={"REMOTE_ADDR": "10.0.1.2"})
    assert blocked_right.status_code == 429
    assert _audit_actions(limited_app, email) == (
        ["login_failed"] * limit + ["login_throttled"] * 2)


def test_repeated_sign_ins_from_one_address_are_throttled_across_accounts(limited_app):
    limit = int(re.match(r"\s*(\d+)", limited_app.config["LOGIN_LIMIT"]).group(1))
    client = limited_app.test_client()
    for attempt in range(limit):
        response = sign_in(client, f"nobody{attempt}@example.gov.uk", "wrong password here")
        assert response.status_code == 200
    assert sign_in(client, "someone.else@example.gov.uk", "whatever").status_code == 429


def test_sign_ins_and_failures_are_written_to_the_audit_trail(limited_app):
    with limited_app.app_context():
        user = make_user(role="case_officer")
        db.session.remove()
    client = limited_app.test_client()
    assert sign_in(client, user.email, "wrong password here").status_code == 200
    assert sign_in(client, user.email).status_code == 302
    assert sign_in(limited_app.test_client(), "unknown@example.gov.uk", "guess").status_code == 200
    with limited_app.app_context():
        rows = list(db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action.in_(("login", "login_failed")))
            .order_by(AuditEvent.id)))
        assert [(r.action, r.actor, r.actor_id) for r in rows] == [
            ("login_failed", user.email, user.id),
            ("login", user.email, user.id),
            ("login_failed", "unknown@example.gov.uk", None),
        ]
        assert all(r.remote_addr == "127.0.0.1" for r in rows)
        assert all(r.at is not None for r in rows)
        assert not any(PASSWORD in str(r.detail) or "wrong password" in str(r.detail)
                       for r in rows)
        db.session.remove()


# ---- redirects after sign-in -----------------------------------------------


OFF_SITE = (
    "https://evil.example/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
)


def test_a_next_address_off_the_site_is_ignored_after_sign_in(app):
    make_user(role="case_officer")
    for target in OFF_SITE:
        client = app.test_client()
        response = sign_in(client, "case_officer.met@example.gov.uk",
                           path=f"/login?next={quote(target, safe='')}")
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/", target
        assert client.get("/").headers["Location"] == "/cases/dashboard"


def test_a_local_next_address_is_honoured_after_sign_in(client):
    make_user(role="case_officer")
    response = sign_in(client, "case_officer.met@example.gov.uk", path="/login?next=/cases")
    assert response.headers["Location"] == "/cases"


# ---- passwords -------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes_never_in_plain_text(app, client, login_as):
    login_as("admin", force=None)
    page = client.get("/admin/users/new").get_data(as_text=True)
    client.post("/admin/users/new", data={
        "csrf_token": csrf_from(page), "email": "coord@example.gov.uk", "name": "C",
        "role": "coordinator", "force": "", "password": "correct horse battery staple"})
    with app.app_context():
        hashes = dict(db.session.execute(sa.select(User.email, User.password_hash)).all())
        db.session.remove()
    assert set(hashes) == {"admin.x@example.gov.uk", "coord@example.gov.uk"}
    for value in hashes.values():
        assert value.startswith("$argon2id$")
        assert PASSWORD not in value
        assert "correct horse" not in value
    assert hashes["admin.x@example.gov.uk"] != hashes["coord@example.gov.uk"]


# ---- error pages -----------------------------------------------------------


def test_a_missing_page_gets_a_generic_not_found_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "No such thing" in text_of(response)
    assert "Check the address" in text_of(response)


def test_an_unexpected_error_gets_a_generic_page_without_a_stack_trace(app, client):
    def explode():
        raise RuntimeError("secret detail from deep inside")

    app.add_url_rule("/explode", view_func=explode)
    app.add_url_rule("/api/v1/explode", endpoint="api_explode", view_func=explode)
    response = client.get("/explode")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side" in text_of(response)
    for leak in ("Traceback", "RuntimeError", "secret detail", "File \"", ".py"):
        assert leak not in body
    assert "no-store" in response.headers["Cache-Control"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]

    api = client.get("/api/v1/explode")
    assert api.status_code == 500
    assert api.get_json() == {"errors": [{"code": "server_error", "field": None,
                                          "message": "Something went wrong on our side"}]}


# ---- throttling shared by every worker ----------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the machine's Redis, removed afterwards."""
    import uuid

    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}")
    prefix = f"diversion-test-{uuid.uuid4().hex}"
    yield prefix
    for key in client.scan_iter(f"*/{prefix}/*"):
        client.delete(key)
    client.close()


def _worker(database_url: str, prefix: str):
    """An app as one gunicorn worker builds it: its own limiter store, from the settings."""
    return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                       "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL,
                       "RATELIMIT_KEY_PREFIX": prefix, "LOGIN_LIMIT": "3 per minute"})


def test_sign_in_limits_hold_across_workers_sharing_a_redis_store(database_url, redis_prefix):
    first = _worker(database_url, redis_prefix)
    # Its own account too: keys outlive a test by up to the limit's minute.
    email = f"{redis_prefix}@example.gov.uk"
    with first.app_context():
        make_user(role="case_officer", email=email)
        db.session.remove()
    for attempt in range(3):
        response = sign_in(first.test_client(), email, "wrong password here",
                           environ_base={"REMOTE_ADDR": f"10.0.2.{attempt + 1}"})
        assert response.status_code == 200
    # A second worker starts with a store of its own making, and still knows.
    second = _worker(database_url, redis_prefix)
    blocked = sign_in(second.test_client(), email, PASSWORD,
                      environ_base={"REMOTE_ADDR": "10.0.2.9"})
    assert blocked.status_code == 429
    for app in (first, second):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
