"""Waitlists through the JSON API: joining, reading, leaving, and each refusal."""

import pytest

from diversion import clock
from tests.conftest import enrol_case

NOW = "2027-01-04T09:00:00+00:00"  # a Monday in winter (GMT)


@pytest.fixture
def full(api_as):
    """Module 1 on 12 January with one place, taken; two more enrolments, not booked."""
    clock.set_now(NOW)
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High St"})

    def session(starts_at="2027-01-12T18:00:00", capacity=1, module=1):
        response = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": starts_at,
            "venue_id": venue.get_json()["id"], "capacity": capacity})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    session_id = session()
    holder, first, second = (enrol_case(officer, f"CASE/{n}")["id"] for n in (1, 2, 3))
    booked = coordinator.post(f"/enrolments/{holder}/bookings", {"session_id": session_id})
    assert booked.status_code == 201
    return {"coordinator": coordinator, "officer": officer, "session": session,
            "session_id": session_id, "booking_id": booked.get_json()["id"],
            "enrolments": (holder, first, second)}


def _join(world, enrolment_id, session_id=None):
    return world["coordinator"].post(
        f"/sessions/{session_id or world['session_id']}/waitlist", {"enrolment_id": enrolment_id})


def _list(world, session_id=None):
    response = world["coordinator"].get(f"/sessions/{session_id or world['session_id']}/waitlist")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def _code(response):
    return response.get_json()["errors"][0]["code"]


def test_a_participant_joins_a_full_sessions_waitlist_at_the_end(full):
    _, first, second = full["enrolments"]

    one = _join(full, first)
    two = _join(full, second)

    assert one.status_code == 201
    assert {k: one.get_json()[k] for k in ("session_id", "enrolment_id", "position")} == {
        "session_id": full["session_id"], "enrolment_id": first, "position": 1}
    assert two.get_json()["position"] == 2


def test_the_list_reads_in_order_with_when_each_was_added(full):
    _, first, second = full["enrolments"]
    ids = [_join(full, e).get_json()["id"] for e in (first, second)]

    items = _list(full)

    assert [(i["id"], i["enrolment_id"], i["position"]) for i in items] == [
        (ids[0], first, 1), (ids[1], second, 2)]
    assert items[0]["added_at"] == "2027-01-04T09:00:00+00:00"


def test_a_removed_entry_leaves_the_list_and_the_next_moves_up(full):
    _, first, second = full["enrolments"]
    entry = _join(full, first).get_json()["id"]
    _join(full, second)

    response = full["coordinator"].delete(f"/waitlist/{entry}")

    assert response.status_code == 204
    assert [(i["enrolment_id"], i["position"]) for i in _list(full)] == [(second, 1)]
    assert full["coordinator"].delete(f"/waitlist/{entry}").status_code == 404


def test_a_cancelled_booking_books_the_first_waiting(full):
    holder, first, second = full["enrolments"]
    _join(full, first)
    _join(full, second)

    full["coordinator"].delete(f"/bookings/{full['booking_id']}", json={})

    bookings = full["coordinator"].get(f"/enrolments/{first}").get_json()["bookings"]
    assert [(b["session_id"], b["status"]) for b in bookings] == [(full["session_id"], "booked")]
    assert [i["enrolment_id"] for i in _list(full)] == [second]


def test_a_session_with_a_free_place_answers_places_available(full):
    _, first, _ = full["enrolments"]
    roomy = full["session"](starts_at="2027-01-13T18:00:00", capacity=5)

    response = _join(full, first, roomy)

    assert (response.status_code, _code(response)) == (409, "places_available")
    assert _list(full, roomy) == []


def test_joining_twice_answers_already_on_waitlist(full):
    _, first, _ = full["enrolments"]
    _join(full, first)

    response = _join(full, first)

    assert (response.status_code, _code(response)) == (409, "already_on_waitlist")
    assert len(_list(full)) == 1


def test_a_session_after_the_deadline_answers_the_rule_that_says_never(full):
    # The holder's deadline is 4 May 2027; a later enrolment's is 20 May.
    late = full["session"](starts_at="2027-05-10T18:00:00")
    later = enrol_case(full["officer"], "CASE/9", "2027-01-20")["id"]
    full["coordinator"].post(f"/enrolments/{later}/bookings", {"session_id": late})
    _, first, _ = full["enrolments"]

    response = _join(full, first, late)

    assert (response.status_code, _code(response)) == (422, "after_deadline")
    assert _list(full, late) == []


def test_a_withdrawn_enrolment_answers_enrolment_closed(full):
    _, first, _ = full["enrolments"]
    full["officer"].post(f"/enrolments/{first}/decisions",
                         {"decision": "withdraw", "reason": "Agreement ended"})

    response = _join(full, first)

    assert (response.status_code, _code(response)) == (422, "enrolment_closed")


def test_bad_input_is_a_400_or_404_and_changes_nothing(full):
    coordinator = full["coordinator"]
    url = f"/sessions/{full['session_id']}/waitlist"

    assert coordinator.post(url, {}).status_code == 400
    assert coordinator.post(url, {"enrolment_id": "one"}).status_code == 400
    assert coordinator.post(url, {"enrolment_id": 2**31}).status_code == 404
    assert coordinator.post("/sessions/999/waitlist", {"enrolment_id": 1}).status_code == 404
    assert coordinator.get("/sessions/999/waitlist").status_code == 404
    assert coordinator.delete("/waitlist/999").status_code == 404
    assert _list(full) == []


def test_only_a_coordinator_may_touch_a_waitlist(full):
    _, first, _ = full["enrolments"]
    officer = full["officer"]

    assert officer.post(f"/sessions/{full['session_id']}/waitlist",
                        {"enrolment_id": first}).status_code == 403
    assert officer.get(f"/sessions/{full['session_id']}/waitlist").status_code == 403
    assert _list(full) == []


def test_someone_booked_into_the_session_itself_answers_already_booked(full):
    holder, _, _ = full["enrolments"]

    response = _join(full, holder)

    assert (response.status_code, _code(response)) == (409, "already_booked")
    assert _list(full) == []


def test_someone_who_attended_the_module_answers_module_already_attended(full):
    _, first, _ = full["enrolments"]
    earlier = full["session"](starts_at="2027-01-05T18:00:00", capacity=5)
    booking = full["coordinator"].post(f"/enrolments/{first}/bookings",
                                       {"session_id": earlier}).get_json()["id"]
    clock.set_now("2027-01-05T19:45:00+00:00")
    full["coordinator"].put(f"/bookings/{booking}/attendance", {"outcome": "attended"})

    response = _join(full, first)

    assert (response.status_code, _code(response)) == (422, "module_already_attended")
    assert _list(full) == []


def test_a_cancelled_session_answers_session_cancelled_not_places_available(full):
    _, first, _ = full["enrolments"]
    full["coordinator"].post(f"/sessions/{full['session_id']}/cancel", {"reason": "Flooded"})

    response = _join(full, first)

    assert (response.status_code, _code(response)) == (422, "session_cancelled")


def test_a_session_that_has_started_answers_session_in_past(full):
    _, first, _ = full["enrolments"]
    clock.set_now("2027-01-12T18:30:00+00:00")

    response = _join(full, first)

    assert (response.status_code, _code(response)) == (422, "session_in_past")
    assert _list(full) == []


def test_an_enrolment_that_does_not_exist_is_a_404(full):
    response = _join(full, 999)

    assert (response.status_code, _code(response)) == (404, "not_found")
    assert _list(full) == []
