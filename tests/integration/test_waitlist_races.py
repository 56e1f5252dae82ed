"""Places freed at the same moment go down the waitlist in order, once each."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from diversion import clock
from tests.conftest import Api, enrol_case, make_token

NOW = "2027-01-04T09:00:00+00:00"

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _world(client):
    clock.set_now(NOW)
    officer = Api(client, make_token(role="case_officer"))
    token = make_token(role="coordinator", force=None)
    coordinator = Api(client, token)
    venue = coordinator.post("/venues", {"name": "Hall", "address": "2 Low St"}).get_json()

    def session(day: int, capacity: int) -> int:
        return coordinator.post("/sessions", {
            "programme_id": 1, "module": 1, "starts_at": f"2027-01-{day:02d}T18:00:00",
            "venue_id": venue["id"], "capacity": capacity}).get_json()["id"]

    def enrol(reference: str) -> int:
        return enrol_case(officer, reference)["id"]

    def book(enrolment_id: int, session_id: int) -> int:
        response = coordinator.post(f"/enrolments/{enrolment_id}/bookings",
                                    {"session_id": session_id})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def wait(enrolment_id: int, session_id: int) -> None:
        response = coordinator.post(f"/sessions/{session_id}/waitlist",
                                    {"enrolment_id": enrolment_id})
        assert response.status_code == 201, response.get_json()

    return token, coordinator, session, enrol, book, wait


def _cancel_at_once(app, token, booking_ids):
    barrier = Barrier(len(booking_ids))

    def cancel(booking_id):
        own = app.test_client()
        barrier.wait()
        return own.delete(f"/api/v1/bookings/{booking_id}", json={},
                          headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(max_workers=len(booking_ids)) as pool:
        return list(pool.map(cancel, booking_ids))


def _booked(coordinator, enrolment_id):
    return [b["session_id"] for b in coordinator.get(f"/enrolments/{enrolment_id}")
            .get_json()["bookings"] if b["status"] == "booked"]


def test_two_places_freed_at_once_go_to_the_first_two_waiting(app, client):
    token, coordinator, session, enrol, book, wait = _world(client)
    session_id = session(12, capacity=2)
    held = [book(enrol(f"HOLD/{n}"), session_id) for n in range(2)]
    waiting = [enrol(f"WAIT/{n}") for n in range(3)]
    for enrolment_id in waiting:
        wait(enrolment_id, session_id)

    assert _cancel_at_once(app, token, held) == [200, 200]

    assert [_booked(coordinator, e) for e in waiting] == [[session_id], [session_id], []]
    assert coordinator.get(f"/sessions/{session_id}").get_json()["booked"] == 2
    items = coordinator.get(f"/sessions/{session_id}/waitlist").get_json()["items"]
    assert [(i["enrolment_id"], i["position"]) for i in items] == [(waiting[2], 1)]


def test_one_person_first_on_two_lists_freed_at_once_is_booked_once(app, client):
    token, coordinator, session, enrol, book, wait = _world(client)
    sessions = [session(12, capacity=1), session(13, capacity=1)]
    held = [book(enrol(f"HOLD/{n}"), s) for n, s in enumerate(sessions)]
    shared = enrol("WAIT/SHARED")
    behind = [enrol(f"WAIT/{n}") for n in range(2)]
    for s, after in zip(sessions, behind, strict=True):
        wait(shared, s)
        wait(after, s)

    assert _cancel_at_once(app, token, held) == [200, 200]

    places = _booked(coordinator, shared)
    assert len(places) == 1
    # The other session's place went to the next in its order; the shared one still waits.
    other = next(s for s in sessions if s not in places)
    other_behind = behind[sessions.index(other)]
    assert _booked(coordinator, other_behind) == [other]
    items = coordinator.get(f"/sessions/{other}/waitlist").get_json()["items"]
    assert [i["enrolment_id"] for i in items] == [shared]
    assert all(coordinator.get(f"/sessions/{s}").get_json()["booked"] == 1 for s in sessions)


def test_a_larger_capacity_and_a_cancellation_at_once_book_down_the_list_in_order(app, client):
    token, coordinator, session, enrol, book, wait = _world(client)
    session_id = session(12, capacity=2)
    held = [book(enrol(f"HOLD/{n}"), session_id) for n in range(2)]
    waiting = [enrol(f"WAIT/{n}") for n in range(3)]
    for enrolment_id in waiting:
        wait(enrolment_id, session_id)
    barrier = Barrier(2)

    def send(method, path, body):
        own = app.test_client()
        barrier.wait()
        return own.open(f"/api/v1{path}", method=method, json=body,
                        headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda args: send(*args), [
            ("PATCH", f"/sessions/{session_id}", {"capacity": 3}),
            ("DELETE", f"/bookings/{held[0]}", {})]))

    assert answers == [200, 200]
    assert [_booked(coordinator, e) for e in waiting] == [[session_id], [session_id], []]
    assert coordinator.get(f"/sessions/{session_id}").get_json()["booked"] == 3
