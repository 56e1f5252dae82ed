"""The rules hold on the messy path: moves, missed registers, re-planning, through the API."""

import pytest

from diversion import clock
from tests.conftest import enrol_case

NOW = "2027-01-04T09:00:00+00:00"  # a Monday in winter (GMT)


@pytest.fixture
def world(api_as):
    """A coordinator, a case officer, a venue and helpers to publish, enrol and book."""
    clock.set_now(NOW)
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High St"})
    references = iter(range(1, 1000))

    def enrol():
        return enrol_case(officer, f"CASE/{next(references)}", "2027-01-04")["id"]

    def session(module, day, capacity=10, hour=18):
        response = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": f"{day}T{hour}:00:00",
            "venue_id": venue.get_json()["id"], "capacity": capacity})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def book(enrolment_id, session_id):
        response = coordinator.post(f"/enrolments/{enrolment_id}/bookings",
                                    {"session_id": session_id})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def bookings(enrolment_id):
        body = officer.get(f"/enrolments/{enrolment_id}").get_json()
        return [(b["module"], b["session_id"], b["status"]) for b in body["bookings"]]

    return {"officer": officer, "coordinator": coordinator, "enrol": enrol,
            "session": session, "book": book, "bookings": bookings}


def test_a_move_that_breaks_spacing_for_some_is_refused_naming_each_and_changes_nothing(world):
    early, late = world["enrol"](), world["enrol"]()
    world["book"](early, world["session"](1, "2027-01-05"))
    world["book"](late, world["session"](1, "2027-01-06"))
    module_2 = world["session"](2, "2027-01-14")
    world["book"](early, module_2)
    world["book"](late, module_2)

    # The 12th is 7 days after the 5th but only 6 after the 6th.
    response = world["coordinator"].patch(f"/sessions/{module_2}",
                                          {"starts_at": "2027-01-12T18:00:00"})

    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert [(e["enrolment_id"], e["code"]) for e in errors] == [(late, "spacing")]
    unchanged = world["coordinator"].get(f"/sessions/{module_2}").get_json()
    assert unchanged["starts_at"] == "2027-01-14T18:00:00+00:00"


def test_a_move_with_rebook_goes_ahead_and_re_plans_only_the_people_it_breaks(world):
    early, late = world["enrol"](), world["enrol"]()
    world["book"](early, world["session"](1, "2027-01-05"))
    world["book"](late, world["session"](1, "2027-01-06"))
    module_2 = world["session"](2, "2027-01-14")
    later_module_2 = world["session"](2, "2027-01-20")
    world["book"](early, module_2)
    world["book"](late, module_2)

    response = world["coordinator"].patch(f"/sessions/{module_2}",
                                          {"starts_at": "2027-01-12T18:00:00", "rebook": True})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["starts_at"] == "2027-01-12T18:00:00+00:00"
    assert [(r["enrolment_id"], r["session_id"]) for r in body["rebooked"]] == [
        (late, later_module_2)]
    assert body["not_rebooked"] == []
    assert (2, module_2, "booked") in world["bookings"](early)
    assert (2, module_2, "cancelled") in world["bookings"](late)
    assert (2, later_module_2, "booked") in world["bookings"](late)


def test_a_missed_module_2_with_modules_3_to_5_booked_is_re_planned_together(world):
    enrolment = world["enrol"]()
    first = world["book"](enrolment, world["session"](1, "2027-01-05"))
    missed = world["book"](enrolment, world["session"](2, "2027-01-12"))
    for module, day in ((3, "2027-01-19"), (4, "2027-01-26"), (5, "2027-02-02")):
        world["book"](enrolment, world["session"](module, day))
    clock.set_now("2027-01-13T09:00:00+00:00")
    for booking, outcome in ((first, "attended"), (missed, "absent_unexcused")):
        response = world["coordinator"].put(f"/bookings/{booking['id']}/attendance",
                                            {"outcome": outcome})
        assert response.status_code == 200, response.get_json()
    # Module 2 can only come after the booked module 3 on the 19th: the later ones go.
    again = {m: world["session"](m, day) for m, day in
             ((2, "2027-01-20"), (3, "2027-01-27"), (4, "2027-02-03"), (5, "2027-02-10"))}

    response = world["coordinator"].post(f"/enrolments/{enrolment}/plan")

    assert response.status_code == 201, response.get_json()
    assert [(b["module"], b["session_id"]) for b in response.get_json()["bookings"]] == [
        (m, again[m]) for m in (2, 3, 4, 5)]
    held = [(m, s) for m, s, status in world["bookings"](enrolment) if status == "booked"]
    assert sorted(held) == [(m, again[m]) for m in (2, 3, 4, 5)]


def test_a_register_never_taken_blocks_the_plan_and_says_which_one(world):
    enrolment = world["enrol"]()
    world["book"](enrolment, world["session"](1, "2027-01-05"))
    world["session"](2, "2027-01-20")
    clock.set_now("2027-01-06T09:00:00+00:00")

    response = world["coordinator"].post(f"/enrolments/{enrolment}/plan")

    assert response.status_code == 422
    error = response.get_json()["errors"][0]
    assert error["code"] == "register_overdue"
    assert "Record the register for module 1 on 5 January 2027 first" in error["message"]


def test_cancel_with_rebook_releases_later_bookings_when_the_module_no_longer_fits(world):
    enrolment = world["enrol"]()
    world["book"](enrolment, world["session"](1, "2027-01-05"))
    cancelled = world["session"](2, "2027-01-12")
    world["book"](enrolment, cancelled)
    world["book"](enrolment, world["session"](3, "2027-01-19"))
    again = {m: world["session"](m, day) for m, day in ((2, "2027-01-21"), (3, "2027-01-28"))}

    response = world["coordinator"].post(f"/sessions/{cancelled}/cancel",
                                         {"reason": "Facilitator ill", "rebook": True})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [(r["enrolment_id"], r["session_id"]) for r in body["rebooked"]] == [
        (enrolment, again[2])]
    held = sorted((m, s) for m, s, status in world["bookings"](enrolment) if status == "booked")
    assert held[1:] == [(2, again[2]), (3, again[3])]


def test_cancel_with_rebook_reports_each_person_not_placed_with_the_reason(world):
    enrolment = world["enrol"]()
    cancelled = world["session"](1, "2027-01-05")
    world["book"](enrolment, cancelled)

    body = world["coordinator"].post(f"/sessions/{cancelled}/cancel",
                                     {"reason": "Flood", "rebook": True}).get_json()

    assert body["rebooked"] == []
    [person] = body["not_rebooked"]
    assert person["enrolment_id"] == enrolment
    assert person["code"] == "after_deadline"
    assert "No complete plan exists" in person["reason"]


def test_a_session_given_without_an_offset_lasts_90_minutes_across_the_autumn_change(world):
    # 00:30 on 31 October 2027 is British Summer Time; the clocks go back at 02:00.
    clock.set_now("2027-10-01T09:00:00+01:00")
    response = world["coordinator"].post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-10-31T00:30:00",
        "venue_id": 1, "capacity": 5})
    assert response.status_code == 201, response.get_json()
    session = response.get_json()
    assert session["starts_at"] == "2027-10-31T00:30:00+01:00"
    assert session["ends_at"] == "2027-10-31T01:00:00+00:00"
