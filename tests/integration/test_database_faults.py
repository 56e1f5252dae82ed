"""Bookings while PostgreSQL ends the application's connections: each request either
books whole or answers 503 with a Retry-After and changes nothing, never a 500, and
the requests after it succeed.

Another connection ends the application's sessions with ``pg_terminate_backend``, as
an administrator, a failover or a restart of the database would.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import psycopg
import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import AuditEvent, Booking, CourseSession, OutboxMessage
from tests.conftest import Api, enrol_case, make_token

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

NOW = "2027-01-04T09:00:00+00:00"


def terminate_other_sessions(database_url: str) -> int:
    """End every other client session on this database; return how many there were."""
    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        return connection.execute(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'").fetchone()[0]


def booking_world(client, *, enrolments: int, capacity: int = 50, overdue: int = 0):
    """A session with places and enrolments to book into it; return the coordinator's
    token, the session's id and the enrolments' ids. ``overdue`` more enrolments ran
    out of time unbooked, for the sweep to flag."""
    clock.set_now(NOW)
    officer = Api(client, make_token(role="case_officer"))
    token = make_token(role="coordinator", force=None)
    coordinator = Api(client, token)
    venue = coordinator.post("/venues", {"name": "Hall", "address": "2 Low St"}).get_json()
    session = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-12T18:00:00",
        "venue_id": venue["id"], "capacity": capacity}).get_json()
    enrolment_ids = [enrol_case(officer, f"FAULT/{n}")["id"] for n in range(enrolments)]
    for n in range(overdue):
        enrol_case(officer, f"LATE/{n}", start="2026-08-03")
    return token, session["id"], enrolment_ids


def _book(app, token: str, enrolment_id: int, session_id: int):
    return app.test_client().post(f"/api/v1/enrolments/{enrolment_id}/bookings",
                                  json={"session_id": session_id},
                                  headers={"Authorization": f"Bearer {token}"})


def _whole(app, session_id: int) -> dict[int, bool]:
    """Map each booked enrolment to whether its booking is whole: the seat counted, its
    invitation queued and its audit row written."""
    with app.app_context():
        try:
            bookings = db.session.scalars(
                sa.select(Booking).where(Booking.session_id == session_id)).all()
            seats = db.session.get(CourseSession, session_id).booked
            invited = set(db.session.scalars(sa.select(OutboxMessage.booking_id).where(
                OutboxMessage.kind == "invitation")))
            audited = set(db.session.scalars(sa.select(AuditEvent.object_id).where(
                AuditEvent.object_type == "booking", AuditEvent.action == "create")))
            assert seats == len(bookings)
            return {b.enrolment_id: b.id in invited and str(b.id) in audited
                    for b in bookings}
        finally:
            db.session.remove()


def test_a_booking_whose_connection_is_ended_mid_request_answers_503_and_changes_nothing(
        app, client, database_url):
    token, session_id, (enrolment_id,) = booking_world(client, enrolments=1)
    ended = []

    def end_the_connection(_conn, _cursor, statement, *_args):
        if statement.startswith("INSERT INTO bookings") and not ended:
            ended.append(terminate_other_sessions(database_url))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", end_the_connection)
    try:
        response = _book(app, token, enrolment_id, session_id)
    finally:
        with app.app_context():
            sa.event.remove(db.engine, "before_cursor_execute", end_the_connection)
    assert ended and ended[0] >= 1
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["errors"][0]["code"] == "unavailable"
    assert _whole(app, session_id) == {}  # no booking, no seat, no invitation

    again = _book(app, token, enrolment_id, session_id)
    assert again.status_code == 201, again.get_json()
    assert _whole(app, session_id) == {enrolment_id: True}


def test_bookings_while_the_database_keeps_ending_connections_fail_cleanly_then_succeed(
        app, client, database_url, figures):
    token, session_id, enrolment_ids = booking_world(client, enrolments=30)
    answers: dict[int, int] = {}
    stop = threading.Event()
    terminations = []

    def keep_ending_connections() -> None:
        while not stop.is_set():
            terminations.append(terminate_other_sessions(database_url))
            time.sleep(0.05)

    def book_each(ids) -> None:
        for enrolment_id in ids:
            response = _book(app, token, enrolment_id, session_id)
            answers[enrolment_id] = response.status_code
            if response.status_code == 503:
                assert response.headers["Retry-After"] == "5"

    terminator = threading.Thread(target=keep_ending_connections)
    bookers = [threading.Thread(target=book_each, args=(enrolment_ids[n::2],))
               for n in range(2)]
    terminator.start()
    for booker in bookers:
        booker.start()
    for booker in bookers:
        booker.join(120)
    stop.set()
    terminator.join(30)

    tried = Counter(answers.values())
    assert set(tried) <= {201, 503}, tried  # never a 500, nor anything else
    whole = _whole(app, session_id)
    assert all(whole.values())  # no booking is partial
    assert {e for e, status in answers.items() if status == 201} <= set(whole)

    # Afterwards every request succeeds: a 503 that in fact committed (its answer was
    # lost with the connection) is already booked, which the rules say plainly.
    retried = Counter()
    for enrolment_id, status in answers.items():
        if status == 503:
            again = _book(app, token, enrolment_id, session_id)
            retried[again.status_code] += 1
            assert again.status_code in (201, 409), again.get_json()
            if again.status_code == 409:
                assert again.get_json()["errors"][0]["code"] == "already_booked"
    whole = _whole(app, session_id)
    assert set(whole) == set(enrolment_ids) and all(whole.values())
    figures(f"postgresql: bookings while connections were ended ({sum(terminations)} "
            f"sessions ended): {len(answers)} tried, {tried[201]} booked, {tried[503]} "
            f"failed cleanly (503 with Retry-After); retried {sum(retried.values())}: "
            f"{retried[201]} booked, {retried[409]} already booked; 0 partial, "
            f"0 server errors")


def test_a_page_whose_connection_is_ended_says_the_service_is_unavailable(
        app, client, login_as, database_url):
    login_as("coordinator", force=None)
    ended = []

    def end_the_connection(*_args):
        if not ended:
            ended.append(terminate_other_sessions(database_url))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", end_the_connection)
    try:
        page = client.get("/", follow_redirects=True)
    finally:
        with app.app_context():
            sa.event.remove(db.engine, "before_cursor_execute", end_the_connection)
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    html = page.get_data(as_text=True)
    assert "Sorry, the service is unavailable" in html
    assert "Try again in a few seconds." in html
    assert client.get("/", follow_redirects=True).status_code == 200
