"""Capacity and uniqueness hold when many requests arrive at once."""

import time
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier, Thread

import psycopg
import pytest

from diversion import clock
from tests.conftest import Api, enrol_case, make_token

NOW = "2027-01-04T09:00:00+00:00"


def _setup(app, client, *, enrolments: int, sessions: int, capacity: int):
    clock.set_now(NOW)
    officer = Api(client, make_token(role="case_officer"))
    coordinator_token = make_token(role="coordinator", force=None)
    coordinator = Api(client, coordinator_token)
    venue = coordinator.post("/venues", {"name": "Hall", "address": "2 Low St"}).get_json()
    session_ids = []
    for n in range(sessions):
        response = coordinator.post("/sessions", {
            "programme_id": 1, "module": 1, "starts_at": f"2027-01-{5 + n:02d}T18:00:00",
            "venue_id": venue["id"], "capacity": capacity})
        session_ids.append(response.get_json()["id"])
    enrolment_ids = [enrol_case(officer, f"RACE/{n}")["id"] for n in range(enrolments)]
    return coordinator_token, session_ids, enrolment_ids


def _fire(app, token, pairs):
    """Send every (enrolment, session) booking at once, each from its own thread."""
    barrier = Barrier(len(pairs))

    def attempt(pair):
        enrolment_id, session_id = pair
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/enrolments/{enrolment_id}/bookings",
                               json={"session_id": session_id},
                               headers={"Authorization": f"Bearer {token}"})
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=len(pairs)) as pool:
        return list(pool.map(attempt, pairs))


def test_forty_five_simultaneous_bookings_fill_ten_places_exactly(app, client):
    token, (session_id,), enrolment_ids = _setup(app, client, enrolments=45, sessions=1,
                                                 capacity=10)
    results = _fire(app, token, [(e, session_id) for e in enrolment_ids])
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 10
    assert statuses.count(409) == 35
    assert {body["errors"][0]["code"] for status, body in results if status == 409} == {
        "session_full"}
    coordinator = Api(client, token)
    assert coordinator.get(f"/sessions/{session_id}").get_json()["booked"] == 10
    booked = sum(
        1 for e in enrolment_ids
        for b in coordinator.get(f"/enrolments/{e}").get_json()["bookings"]
        if b["status"] == "booked"
    )
    assert booked == 10


def test_one_enrolment_racing_itself_for_module_one_gets_exactly_one_booking(app, client):
    token, session_ids, (enrolment_id,) = _setup(app, client, enrolments=1, sessions=12,
                                                 capacity=10)
    pairs = [(enrolment_id, s) for s in session_ids] + [(enrolment_id, session_ids[0])] * 8
    results = _fire(app, token, pairs)
    statuses = [status for status, _ in results]
    assert statuses.count(201) == 1
    assert all(status in (409, 422) for status in statuses if status != 201)
    coordinator = Api(client, token)
    bookings = coordinator.get(f"/enrolments/{enrolment_id}").get_json()["bookings"]
    assert [b["status"] for b in bookings] == ["booked"]
    seats = sum(coordinator.get(f"/sessions/{s}").get_json()["booked"] for s in session_ids)
    assert seats == 1


def test_cohorts_planned_at_once_beside_single_bookings_never_overbook(app, client):
    clock.set_now(NOW)
    officer = Api(client, make_token(role="case_officer"))
    token = make_token(role="coordinator", force=None)
    coordinator = Api(client, token)
    venue = coordinator.post("/venues", {"name": "Hall", "address": "2 Low St"}).get_json()
    sessions = []
    for week in range(4):
        for module in range(1, 6):
            response = coordinator.post("/sessions", {
                "programme_id": 1, "module": module,
                "starts_at": f"2027-01-{5 + week:02d}T{9 + module}:00:00"
                if module == 1 else _day(5 + 7 * (module - 1) + week, 9 + module),
                "venue_id": venue["id"], "capacity": 3})
            sessions.append(response.get_json()["id"])
    enrolment_ids = [enrol_case(officer, f"COHORT-RACE/{n}")["id"] for n in range(24)]
    cohorts = [enrolment_ids[0:6], enrolment_ids[6:12], enrolment_ids[12:18]]
    singles = [(e, sessions[0]) for e in enrolment_ids[18:24]]
    requests = [("/api/v1/plans", {"enrolment_ids": c}) for c in cohorts] + [
        (f"/api/v1/enrolments/{e}/bookings", {"session_id": s}) for e, s in singles]
    barrier = Barrier(len(requests))

    def attempt(request):
        path, body = request
        own = app.test_client()
        barrier.wait()
        return own.post(path, json=body, headers={"Authorization": f"Bearer {token}"})

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        responses = list(pool.map(attempt, requests))
    assert [r.status_code for r in responses[:3]] == [200, 200, 200]
    held = {}
    for enrolment_id in enrolment_ids:
        for booking in coordinator.get(f"/enrolments/{enrolment_id}").get_json()["bookings"]:
            if booking["status"] == "booked":
                held.setdefault(booking["session_id"], []).append(enrolment_id)
    for session_id in sessions:
        session = coordinator.get(f"/sessions/{session_id}").get_json()
        assert session["booked"] == len(held.get(session_id, [])) <= 3
    planned = {p["enrolment_id"]: p["bookings"]
               for r in responses[:3] for p in r.get_json()["planned"]}
    refused = {x["enrolment_id"] for r in responses[:3] for x in r.get_json()["refused"]}
    assert planned.keys() | refused == set(enrolment_ids[:18])
    # All or nothing for each participant: five modules, or none at all.
    assert all(len(made) == 5 for made in planned.values())
    assert not any(e in ids for ids in held.values() for e in refused)
    # Twelve places for each module: every one is taken, by a plan or a booking.
    assert sum(len(held.get(s, [])) for s in sessions[0::5]) == 12


def _day(day_of_year: int, hour: int) -> str:
    from datetime import date, timedelta

    return f"{(date(2027, 1, 1) + timedelta(days=day_of_year - 1)).isoformat()}T{hour}:00:00"


def _crossing(database_url: str, holds: tuple, request, then_takes: tuple,
              *settings: str):
    """Cross a request's locks with another transaction's; return the request's response.

    The other transaction takes HOLDS, the request starts in a thread, and once the
    request waits for a lock the other transaction asks for THEN_TAKES.
    """
    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    other = psycopg.connect(plain)
    watcher = psycopg.connect(plain, autocommit=True)
    answered = {}
    try:
        for setting in settings:
            other.execute(setting)
        other.execute(*holds)
        thread = Thread(target=lambda: answered.update(response=request()))
        thread.start()
        for _ in range(200):  # until the request waits for a lock
            if watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                               "current_database() AND wait_event_type = 'Lock'").fetchone()[0]:
                break
            time.sleep(0.05)
        other.execute(*then_takes)
        other.commit()
    finally:
        other.close()
        watcher.close()
    thread.join(30)
    return answered["response"]


def _post(app, token, path, body):
    return lambda: app.test_client().post(f"/api/v1{path}", json=body,
                                          headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_booking_caught_in_a_deadlock_answers_409_changes_nothing_and_can_be_retried(
        app, client, database_url):
    token, (session_id,), (enrolment_id,) = _setup(app, client, enrolments=1, sessions=1,
                                                   capacity=10)
    # Another transaction takes the locks in the opposite order: the session, then the
    # enrolment. Its own deadlock check waits longer, so PostgreSQL aborts the booking.
    response = _crossing(
        database_url, ("SELECT id FROM sessions WHERE id = %s FOR UPDATE", (session_id,)),
        _post(app, token, f"/enrolments/{enrolment_id}/bookings", {"session_id": session_id}),
        ("SELECT id FROM enrolments WHERE id = %s FOR UPDATE", (enrolment_id,)),
        "SET deadlock_timeout = '20s'")
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["code"] == "changed_meanwhile"
    coordinator = Api(client, token)
    assert coordinator.get(f"/enrolments/{enrolment_id}").get_json()["bookings"] == []
    assert coordinator.get(f"/sessions/{session_id}").get_json()["booked"] == 0
    again = coordinator.post(f"/enrolments/{enrolment_id}/bookings", {"session_id": session_id})
    assert again.status_code == 201


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_cancelling_a_session_takes_its_locks_in_the_bookings_order_and_never_deadlocks(
        app, client, database_url):
    token, session_ids, (enrolment_id,) = _setup(app, client, enrolments=1, sessions=2,
                                                 capacity=10)
    coordinator = Api(client, token)
    assert coordinator.post(f"/enrolments/{enrolment_id}/bookings",
                            {"session_id": session_ids[0]}).status_code == 201
    # Another transaction holds the participant, as a booking does, and then wants the
    # session: the cancellation must wait for the participant before taking the session.
    response = _crossing(
        database_url, ("SELECT id FROM enrolments WHERE id = %s FOR UPDATE", (enrolment_id,)),
        _post(app, token, f"/sessions/{session_ids[0]}/cancel",
              {"reason": "Hall flooded", "rebook": True}),
        ("SELECT id FROM sessions WHERE id = %s FOR UPDATE", (session_ids[0],)),
        "SET lock_timeout = '5s'")
    assert response.status_code == 200, response.get_json()
    bookings = coordinator.get(f"/enrolments/{enrolment_id}").get_json()["bookings"]
    assert [(b["session_id"], b["status"]) for b in bookings] == [
        (session_ids[0], "cancelled"), (session_ids[1], "booked")]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_cancelling_with_rebooking_takes_the_alternative_sessions_in_id_order(
        app, client, database_url):
    token, (alternative, cancelled), (enrolment_id,) = _setup(
        app, client, enrolments=1, sessions=2, capacity=10)
    coordinator = Api(client, token)
    assert coordinator.post(f"/enrolments/{enrolment_id}/bookings",
                            {"session_id": cancelled}).status_code == 201
    # Another transaction holds the alternative (a lower id), as a cohort plan does, and
    # then wants the cancelled session: the cancellation must not hold the cancelled
    # session while it waits for the alternative. If there is a deadlock, the cancel
    # sees it.
    response = _crossing(
        database_url, ("SELECT id FROM sessions WHERE id = %s FOR UPDATE", (alternative,)),
        _post(app, token, f"/sessions/{cancelled}/cancel",
              {"reason": "Hall flooded", "rebook": True}),
        ("SELECT id FROM sessions WHERE id = %s FOR UPDATE", (cancelled,)),
        "SET deadlock_timeout = '20s'")
    assert response.status_code == 200, response.get_json()
    bookings = coordinator.get(f"/enrolments/{enrolment_id}").get_json()["bookings"]
    assert [(b["session_id"], b["status"]) for b in bookings] == [
        (cancelled, "cancelled"), (alternative, "booked")]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_full_session_refuses_at_once_while_another_change_holds_it(app, client,
                                                                       database_url):
    token, (session_id,), (first, second) = _setup(app, client, enrolments=2, sessions=1,
                                                   capacity=1)
    coordinator = Api(client, token)
    taken = coordinator.post(f"/enrolments/{first}/bookings", {"session_id": session_id})
    assert taken.status_code == 201
    # Another transaction holds the full session's row, as an edit to it would.
    other = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"))
    answered = {}
    try:
        other.execute("SELECT id FROM sessions WHERE id = %s FOR UPDATE", (session_id,))
        thread = Thread(target=lambda: answered.update(response=_post(
            app, token, f"/enrolments/{second}/bookings", {"session_id": session_id})()))
        thread.start()
        thread.join(10)
        answered_while_held = not thread.is_alive()
    finally:
        other.rollback()
        other.close()
    thread.join(30)
    assert answered_while_held
    assert answered["response"].status_code == 409
    assert answered["response"].get_json()["errors"][0]["code"] == "session_full"
    assert coordinator.get(f"/sessions/{session_id}").get_json()["booked"] == 1
