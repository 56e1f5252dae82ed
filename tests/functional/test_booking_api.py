"""Sessions, bookings, planning and their refusals through the JSON API."""

import re
from urllib.parse import urlsplit

import pytest

from diversion import clock
from tests.conftest import enrol_case

NOW = "2027-01-04T09:00:00+00:00"  # a Monday in winter (GMT)


@pytest.fixture
def world(api_as):
    """A coordinator, a case officer and one enrolment starting 4 January 2027."""
    clock.set_now(NOW)
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High St"})
    assert venue.status_code == 201, venue.get_json()

    def enrol(reference="CASE/1", start="2027-01-04"):
        return enrol_case(officer, reference, start)

    def session(module=1, starts_at="2027-01-05T18:00:00", capacity=10):
        response = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": starts_at,
            "venue_id": venue.get_json()["id"], "capacity": capacity})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return {"officer": officer, "coordinator": coordinator, "venue": venue.get_json(),
            "enrol": enrol, "session": session}


def error_code(response):
    return response.get_json()["errors"][0]["code"]


def test_a_session_is_published_with_its_end_90_minutes_later_in_local_time(world):
    s = world["session"](starts_at="2027-04-06T18:00:00")
    assert s["starts_at"] == "2027-04-06T18:00:00+01:00"
    assert s["ends_at"] == "2027-04-06T19:30:00+01:00"
    assert s["booked"] == 0
    assert s["status"] == "scheduled"


def test_a_session_on_easter_monday_is_refused(world):
    response = world["coordinator"].post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-03-29T18:00:00+01:00",
        "venue_id": world["venue"]["id"], "capacity": 10})
    assert response.status_code == 422
    assert error_code(response) == "public_holiday"


def test_a_session_in_the_past_is_refused(world):
    response = world["coordinator"].post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-03T18:00:00+00:00",
        "venue_id": world["venue"]["id"], "capacity": 10})
    assert response.status_code == 422
    assert error_code(response) == "session_in_past"


def test_a_weekly_series_keeps_its_wall_clock_time_across_the_clock_change_and_skips_easter(
    world,
):
    response = world["coordinator"].post("/sessions/series", {
        "programme_id": 1, "module": 1, "first_starts_at": "2027-03-15T18:00:00",
        "count": 4, "interval_days": 7, "venue_id": world["venue"]["id"], "capacity": 8})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    starts = [s["starts_at"] for s in body["items"]]
    assert starts == [
        "2027-03-15T18:00:00+00:00",
        "2027-03-22T18:00:00+00:00",
        "2027-03-30T18:00:00+01:00",  # Easter Monday 29 March moves to Tuesday
        "2027-04-05T18:00:00+01:00",
    ]
    assert [(m["from"], m["to"]) for m in body["moved"]] == [("2027-03-29", "2027-03-30")]


def test_booking_a_session_takes_a_place_and_a_second_booking_of_the_module_is_refused(world):
    enrolment = world["enrol"]()
    first = world["session"](starts_at="2027-01-05T18:00:00")
    second = world["session"](starts_at="2027-01-12T18:00:00")
    coordinator = world["coordinator"]
    response = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": first["id"]})
    assert response.status_code == 201, response.get_json()
    booking = response.get_json()
    assert (booking["module"], booking["status"]) == (1, "booked")
    again = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                             {"session_id": second["id"]})
    assert again.status_code == 409
    assert error_code(again) == "already_booked"
    listed = coordinator.get("/sessions?from=2027-01-05&to=2027-01-05").get_json()["items"]
    assert [(s["id"], s["booked"]) for s in listed] == [(first["id"], 1)]


def test_a_full_session_refuses_with_409_session_full(world):
    session = world["session"](capacity=1)
    a = world["enrol"]("A/1")
    b = world["enrol"]("B/1")
    coordinator = world["coordinator"]
    assert coordinator.post(f"/enrolments/{a['id']}/bookings",
                            {"session_id": session["id"]}).status_code == 201
    response = coordinator.post(f"/enrolments/{b['id']}/bookings", {"session_id": session["id"]})
    assert response.status_code == 409
    assert error_code(response) == "session_full"


def test_capacity_cannot_drop_below_the_people_booked(world):
    session = world["session"](capacity=2)
    coordinator = world["coordinator"]
    for reference in ("A/1", "B/1"):
        enrolment = world["enrol"](reference)
        assert coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": session["id"]}).status_code == 201
    response = coordinator.patch(f"/sessions/{session['id']}", {"capacity": 1})
    assert response.status_code == 409
    assert (error_code(response), response.get_json()["errors"][0]["field"]) == (
        "capacity_below_booked", "capacity")
    listed = coordinator.get("/sessions?from=2027-01-05&to=2027-01-05").get_json()["items"]
    assert [(s["capacity"], s["booked"]) for s in listed] == [(2, 2)]


@pytest.mark.parametrize("body, field", [
    ({}, "session_id"),
    ({"session_id": "next tuesday"}, "session_id"),
    ({"session_id": 1, "seat": 3}, "seat"),
])
def test_a_booking_body_that_does_not_fit_is_a_400_naming_the_field(world, body, field):
    enrolment = world["enrol"]()
    session = world["session"]()
    response = world["coordinator"].post(f"/enrolments/{enrolment['id']}/bookings", body)
    assert response.status_code == 400
    assert response.get_json()["errors"] == [
        {"code": "invalid", "field": field, "message": response.get_json()["errors"][0]["message"]}]
    listed = world["coordinator"].get("/sessions?from=2027-01-05&to=2027-01-05").get_json()
    assert [s["booked"] for s in listed["items"]] == [0]
    assert session["booked"] == 0


@pytest.mark.parametrize(
    ("setup", "target", "code"),
    [
        ([], (2, "2027-01-12T18:00:00"), "module_order"),
        ([(1, "2027-01-05T18:00:00")], (2, "2027-01-11T18:00:00"), "spacing"),
        ([], (1, "2027-05-05T18:00:00"), "after_deadline"),
        ([], ("follow_up", "2027-02-05T18:00:00"), "follow_up_not_due"),
    ],
)
def test_each_booking_rule_refuses_with_its_code(world, setup, target, code):
    enrolment = world["enrol"]()
    coordinator = world["coordinator"]
    for module, starts in setup:
        s = world["session"](module=module, starts_at=starts)
        assert coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": s["id"]}).status_code == 201
    s = world["session"](module=target[0], starts_at=target[1])
    response = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": s["id"]})
    assert response.status_code == 422
    assert error_code(response) == code
    assert coordinator.get(f"/sessions/{s['id']}").get_json()["booked"] == 0


def test_the_deadline_day_itself_can_be_booked(world):
    enrolment = world["enrol"](start="2027-01-04")  # deadline 4 May 2027
    coordinator = world["coordinator"]
    for module, day in enumerate(["2027-01-05", "2027-01-12", "2027-01-19", "2027-01-26"], 1):
        s = world["session"](module=module, starts_at=f"{day}T18:00:00")
        assert coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": s["id"]}).status_code == 201
    last = world["session"](module=5, starts_at="2027-05-04T18:00:00")
    response = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": last["id"]})
    assert response.status_code == 201, response.get_json()


def test_a_cancelled_session_and_a_closed_enrolment_refuse_bookings(world):
    enrolment = world["enrol"]()
    coordinator = world["coordinator"]
    s = world["session"]()
    assert coordinator.post(f"/sessions/{s['id']}/cancel", {"reason": "Room flooded"}
                            ).status_code == 200
    response = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": s["id"]})
    assert error_code(response) == "session_cancelled"
    world["officer"].post(f"/enrolments/{enrolment['id']}/decisions",
                          {"decision": "refer", "reason": "Agreement ended"})
    other = world["session"](starts_at="2027-01-06T18:00:00")
    response = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": other["id"]})
    assert error_code(response) == "enrolment_closed"


def test_a_full_session_still_answers_with_the_first_rule_that_says_no(world):
    # The seat is tried before the rules are read; a full session must not hide the
    # enrolment's own refusal, which the rules put first.
    session = world["session"](capacity=1)
    coordinator = world["coordinator"]
    taker, closed = world["enrol"]("A/1"), world["enrol"]("B/1")
    assert coordinator.post(f"/enrolments/{taker['id']}/bookings",
                            {"session_id": session["id"]}).status_code == 201
    world["officer"].post(f"/enrolments/{closed['id']}/decisions",
                          {"decision": "refer", "reason": "Agreement ended"})
    response = coordinator.post(f"/enrolments/{closed['id']}/bookings",
                                {"session_id": session["id"]})
    assert (response.status_code, error_code(response)) == (422, "enrolment_closed")
    assert coordinator.get(f"/sessions/{session['id']}").get_json()["booked"] == 1


@pytest.mark.parametrize("missing", ["enrolment", "session"])
def test_booking_with_an_unknown_enrolment_or_session_is_404_and_takes_no_seat(world, missing):
    enrolment = world["enrol"]()
    session = world["session"]()
    enrolment_id = 999999 if missing == "enrolment" else enrolment["id"]
    session_id = 999999 if missing == "session" else session["id"]
    coordinator = world["coordinator"]
    response = coordinator.post(f"/enrolments/{enrolment_id}/bookings",
                                {"session_id": session_id})
    assert (response.status_code, error_code(response)) == (404, "not_found")
    assert coordinator.get(f"/sessions/{session['id']}").get_json()["booked"] == 0
    assert coordinator.get(f"/enrolments/{enrolment['id']}").get_json()["bookings"] == []


def test_planning_books_every_module_into_the_earliest_sessions_that_fit(world):
    enrolment = world["enrol"]()
    for module in range(1, 6):
        for week in range(10):
            world["session"](module=module, starts_at=_weekday(5 + 7 * week))
    response = world["coordinator"].post(f"/enrolments/{enrolment['id']}/plan")
    assert response.status_code == 201, response.get_json()
    bookings = response.get_json()["bookings"]
    assert [b["module"] for b in bookings] == [1, 2, 3, 4, 5]
    assert [b["starts_at"][:10] for b in bookings] == [
        "2027-01-05", "2027-01-12", "2027-01-19", "2027-01-26", "2027-02-02"]


def _weekday(day_of_year: int) -> str:
    from datetime import date, timedelta

    return (date(2027, 1, 1) + timedelta(days=day_of_year - 1)).isoformat() + "T18:00:00"


def test_planning_with_no_complete_plan_books_nothing_and_explains(world):
    enrolment = world["enrol"]()
    for module in range(1, 5):
        world["session"](module=module, starts_at=_weekday(5 + 7 * (module - 1)))
    response = world["coordinator"].post(f"/enrolments/{enrolment['id']}/plan")
    assert response.status_code == 422
    assert error_code(response) == "after_deadline"
    assert "module 5" in response.get_json()["errors"][0]["message"]
    detail = world["coordinator"].get(f"/enrolments/{enrolment['id']}").get_json()
    assert detail["bookings"] == []


def test_attendance_cannot_be_recorded_before_the_session_starts(world):
    enrolment = world["enrol"]()
    s = world["session"]()
    booking = world["coordinator"].post(f"/enrolments/{enrolment['id']}/bookings",
                                        {"session_id": s["id"]}).get_json()
    response = world["coordinator"].put(f"/bookings/{booking['id']}/attendance",
                                        {"outcome": "attended"})
    assert response.status_code == 422
    assert error_code(response) == "attendance_before_start"
    clock.set_now("2027-01-05T18:05:00+00:00")
    response = world["coordinator"].put(f"/bookings/{booking['id']}/attendance",
                                        {"outcome": "attended"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "attended"
    detail = world["coordinator"].get(f"/enrolments/{enrolment['id']}").get_json()
    assert detail["modules_attended"] == [1]


def test_an_attended_module_cannot_be_booked_again(world):
    enrolment = world["enrol"]()
    s = world["session"]()
    coordinator = world["coordinator"]
    booking = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                               {"session_id": s["id"]}).get_json()
    clock.set_now("2027-01-05T19:00:00+00:00")
    coordinator.put(f"/bookings/{booking['id']}/attendance", {"outcome": "attended"})
    later = world["session"](starts_at="2027-01-19T18:00:00")
    response = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": later["id"]})
    assert error_code(response) == "module_already_attended"


# ---- the participant's private feed ------------------------------------------

def _feed(world, url):
    return world["coordinator"].client.get(urlsplit(url).path)


def test_the_feed_shows_only_the_participants_live_appointments(world):
    coordinator = world["coordinator"]
    sam, jo = world["enrol"]("SAM/1"), world["enrol"]("JO/1")
    first = world["session"](module=1, starts_at="2027-01-05T18:00:00")
    second = world["session"](module=2, starts_at="2027-01-12T18:00:00")
    other = world["session"](module=1, starts_at="2027-01-06T10:30:00")
    booked = [coordinator.post(f"/enrolments/{sam['id']}/bookings",
                               {"session_id": s["id"]}).get_json() for s in (first, second)]
    coordinator.post(f"/enrolments/{jo['id']}/bookings", {"session_id": other["id"]})
    url = coordinator.post(f"/enrolments/{sam['id']}/calendar-token").get_json()["url"]

    body = _feed(world, url).get_data(as_text=True)
    assert body.count("BEGIN:VEVENT") == 2
    for booking in booked:  # the same appointments the invitations carry
        invite = coordinator.get(f"/bookings/{booking['id']}/invite.ics").get_data(as_text=True)
        assert re.search(r"^UID:.+$", invite, re.M).group(0) in body
    assert "DTSTART;TZID=Europe/London:20270105T180000" in body
    assert "DTSTART;TZID=Europe/London:20270112T180000" in body
    assert "20270106T103000" not in body  # Jo's
    assert "LOCATION:Civic Centre\\, 1 High St" in body

    cancelled = coordinator.delete(f"/bookings/{booked[1]['id']}", json={"reason": "ill"})
    assert cancelled.status_code == 200
    body = _feed(world, url).get_data(as_text=True)
    assert body.count("BEGIN:VEVENT") == 1
    assert "20270112T180000" not in body


def test_a_feed_with_nothing_booked_is_an_empty_calendar_and_a_replaced_link_is_a_404(world):
    coordinator = world["coordinator"]
    enrolment = world["enrol"]()
    old = coordinator.post(f"/enrolments/{enrolment['id']}/calendar-token").get_json()["url"]
    response = _feed(world, old)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "BEGIN:VTIMEZONE" in body and "BEGIN:VEVENT" not in body

    new = coordinator.post(f"/enrolments/{enrolment['id']}/calendar-token").get_json()["url"]
    assert _feed(world, old).status_code == 404
    assert _feed(world, new).status_code == 200
