"""What a hostile or careless client sends to the API: never a 500, never nonsense stored.

Runs on SQLite and PostgreSQL: an id beyond an integer column, a NUL byte and a lone
surrogate fail differently in each database, and must fail in neither.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import Case, Enrolment, Venue
from tests.conftest import case_body, enrol_case

NOW = "2027-01-04T09:00:00+00:00"
BEYOND = 2**31  # one past PostgreSQL's integer


@pytest.fixture
def officer(api_as):
    clock.set_now(NOW)
    return api_as("case_officer")


@pytest.fixture
def coordinator(api_as):
    clock.set_now(NOW)
    return api_as("coordinator", force=None)


def errors(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in response.get_json()["errors"]]


def rows(app, model) -> int:
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.remove()
    return total


# ---- ids and integers --------------------------------------------------------


@pytest.mark.parametrize("path", [
    f"/cases/{BEYOND}", "/cases/99999999999999999999", f"/cases/{BEYOND}/enrolment",
])
def test_a_case_id_beyond_the_integer_range_is_not_found(officer, path):
    response = (officer.post(path, {"programme_id": 1, "start_date": "2027-01-04"})
                if path.endswith("enrolment") else officer.get(path))
    assert response.status_code == 404
    assert errors(response) == [("not_found", None)]


@pytest.mark.parametrize("method, path, body", [
    ("get", "/enrolments/99999999999", None), ("get", f"/sessions/{BEYOND}", None),
    ("patch", f"/sessions/{BEYOND}", {}),
    ("post", f"/sessions/{BEYOND}/cancel", {"reason": "ill"}),
    ("post", f"/enrolments/{BEYOND}/bookings", {"session_id": 1}),
    ("post", f"/enrolments/{BEYOND}/plan", None), ("delete", f"/bookings/{BEYOND}", None),
    ("put", f"/bookings/{BEYOND}/attendance", {"outcome": "attended"}),
    ("get", f"/bookings/{BEYOND}/invite.ics", None),
    ("post", f"/enrolments/{BEYOND}/calendar-token", None),
])
def test_every_coordinator_path_with_an_id_beyond_the_range_is_not_found(coordinator, method,
                                                                           path, body):
    call = getattr(coordinator, method)
    response = call(path) if body is None else call(path, body)
    assert response.status_code == 404
    assert errors(response) == [("not_found", None)]


def test_an_id_beyond_the_range_in_a_body_names_no_record(officer, coordinator):
    enrolment = enrol_case(officer)
    booking = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                               {"session_id": BEYOND})
    assert booking.status_code == 404
    case = officer.post("/cases", case_body(reference="CASE/2")).get_json()
    enrolled = officer.post(f"/cases/{case['id']}/enrolment",
                            {"programme_id": 2**63, "start_date": "2027-01-04"})
    assert enrolled.status_code == 404
    venue = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-05T18:00:00",
        "venue_id": BEYOND, "capacity": 5})
    assert venue.status_code == 404


def test_an_id_beyond_the_range_in_a_list_filter_matches_nothing(app, coordinator, api_as):
    assert coordinator.get("/sessions", query_string={"venue_id": BEYOND}).get_json()[
        "items"] == []
    assert coordinator.get("/sessions", query_string={"programme_id": "9" * 30}).get_json()[
        "items"] == []
    admin = api_as("admin", force=None)
    response = admin.get("/audit", query_string={"case_id": BEYOND})
    assert response.status_code == 200
    assert response.get_json()["items"] == []


@pytest.mark.parametrize("query", [{"after": BEYOND}, {"after": -1}, {"limit": BEYOND}])
def test_a_page_cursor_or_size_out_of_range_is_a_bad_request(coordinator, query):
    response = coordinator.get("/sessions", query_string=query)
    assert response.status_code == 400
    assert errors(response) == [("invalid", next(iter(query)))]


def test_a_cohort_plan_naming_an_id_beyond_the_range_is_a_bad_request(coordinator):
    response = coordinator.post("/plans", {"enrolment_ids": [1, BEYOND]})
    assert response.status_code == 400
    assert errors(response) == [("invalid", "enrolment_ids.1")]


# ---- text that cannot be stored ---------------------------------------------


def test_a_nul_byte_in_a_venue_name_is_refused_with_the_field_and_nothing_is_stored(
        app, coordinator):
    response = coordinator.post("/venues", {"name": "V\u0000", "address": "1 High St"})
    assert response.status_code == 400
    assert errors(response) == [("invalid", "name")]
    assert "name must not include hidden or invalid characters" in (
        response.get_json()["errors"][0]["message"])
    assert rows(app, Venue) == 0


def test_a_lone_surrogate_anywhere_in_a_case_is_refused_with_its_field(app, officer):
    body = case_body()
    body["participant"]["given_name"] = "Sam\ud800"
    body["screening"]["image_category"] = "\udc00"
    response = officer.post("/cases", body)
    assert response.status_code == 400
    assert sorted(errors(response)) == [("invalid", "participant.given_name"),
                                        ("invalid", "screening.image_category")]
    assert rows(app, Case) == 0


def test_a_nul_byte_in_a_room_list_and_a_query_is_refused(coordinator, api_as):
    response = coordinator.post("/venues", {"name": "Hall", "address": "1 St",
                                            "rooms": ["Room 1", "Room\u00002"]})
    assert errors(response) == [("invalid", "rooms.1")]
    admin = api_as("admin", force=None)
    response = admin.get("/audit", query_string={"actor": "a\x00b"})
    assert response.status_code == 400
    assert errors(response) == [("invalid", "actor")]


def test_a_reason_with_a_nul_byte_is_refused_and_the_session_stays_scheduled(coordinator):
    venue = coordinator.post("/venues", {"name": "Hall", "address": "1 St"}).get_json()
    session = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-05T18:00:00",
        "venue_id": venue["id"], "capacity": 5}).get_json()
    response = coordinator.post(f"/sessions/{session['id']}/cancel", {"reason": "ill\u0000"})
    assert errors(response) == [("invalid", "reason")]
    assert coordinator.get(f"/sessions/{session['id']}").get_json()["status"] == "scheduled"


def test_names_of_spaces_alone_are_refused_not_stored_empty(app, officer):
    body = case_body()
    body["participant"]["given_name"] = "   "
    response = officer.post("/cases", body)
    assert response.status_code == 400
    assert errors(response) == [("invalid", "participant.given_name")]
    assert rows(app, Case) == 0


# ---- JSON nested too deep ----------------------------------------------------


@pytest.mark.parametrize("body", [
    "[" * 1000 + "]" * 1000,
    '{"name": ' + "[" * 1000 + "]" * 1000 + ', "address": "x"}',
    '{"a":' * 5000 + "1" + "}" * 5000,
])
def test_json_nested_a_thousand_deep_is_a_bad_request_not_a_crash(coordinator, body):
    response = coordinator.post("/venues", data=body, content_type="application/json")
    assert response.status_code == 400
    assert errors(response) == [("malformed", None)]


def test_json_with_brackets_inside_strings_is_not_taken_for_nesting(app, coordinator):
    response = coordinator.post("/venues", {"name": "[" * 100 + "{" * 100, "address": "1 St"})
    assert response.status_code == 201


# ---- dates at the edges -------------------------------------------------------


@pytest.mark.parametrize("query", [{"to": "9999-12-31"}, {"from": "0001-01-01"},
                                   {"to": "9999-12-31T23:59:59-23:00"}])
def test_a_session_list_bound_beyond_the_years_held_is_a_bad_request(coordinator, query):
    response = coordinator.get("/sessions", query_string=query)
    assert response.status_code == 400
    assert errors(response) == [("invalid", next(iter(query)))]


def test_a_session_list_to_the_last_day_of_2100_is_answered(coordinator):
    response = coordinator.get("/sessions", query_string={"to": "2100-12-31"})
    assert response.status_code == 200


@pytest.mark.parametrize("start", ["9999-09-30", "0001-01-01", "1900-01-01", "2100-01-01",
                                   "2026-12-04", "2027-07-05"])
def test_an_enrolment_start_outside_30_days_back_to_6_months_ahead_is_refused(
        app, officer, start):
    case = officer.post("/cases", case_body()).get_json()
    response = officer.post(f"/cases/{case['id']}/enrolment",
                            {"programme_id": 1, "start_date": start})
    assert response.status_code == 422
    assert errors(response) == [("start_date_out_of_range", "start_date")]
    assert "between 5 December 2026 and 4 July 2027" in response.get_json()["errors"][0][
        "message"]
    assert rows(app, Enrolment) == 0


@pytest.mark.parametrize("start", ["2026-12-05", "2027-07-04"])
def test_an_enrolment_start_at_either_end_of_the_range_is_accepted(officer, start):
    case = officer.post("/cases", case_body()).get_json()
    response = officer.post(f"/cases/{case['id']}/enrolment",
                            {"programme_id": 1, "start_date": start})
    assert response.status_code == 201


def test_an_extension_past_the_last_session_day_is_refused_not_overflowed(app, officer):
    enrolment = enrol_case(officer)
    # A deadline stored before start dates were checked: one extension from year 10000.
    with app.app_context():
        db.session.execute(sa.update(Enrolment).values(core_deadline=date(9999, 12, 20)))
        db.session.commit()
        db.session.remove()
    response = officer.post(f"/enrolments/{enrolment['id']}/decisions", {
        "decision": "continue", "reason": "ill", "extend_days": 30})
    assert response.status_code == 400
    assert errors(response) == [("invalid", "extend_days")]
    shown = officer.get(f"/enrolments/{enrolment['id']}").get_json()
    assert shown["core_deadline"] == "9999-12-20"
    assert shown["decisions"] == []


def test_a_session_at_the_end_of_year_9999_is_a_bad_request(coordinator):
    venue = coordinator.post("/venues", {"name": "Hall", "address": "1 St"}).get_json()
    response = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "9999-12-31T23:59:00",
        "venue_id": venue["id"], "capacity": 5})
    assert response.status_code == 400
    assert errors(response) == [("invalid", "starts_at")]


# ---- dates of birth -------------------------------------------------------------


@pytest.mark.parametrize("born", ["2030-01-01", "9999-12-31", "2027-01-04"])
def test_a_date_of_birth_today_or_later_is_a_bad_request_on_date_of_birth(app, officer, born):
    body = case_body()
    body["participant"]["date_of_birth"] = born
    response = officer.post("/cases", body)
    assert response.status_code == 400
    assert errors(response) == [("invalid", "date_of_birth")]
    assert response.get_json()["errors"][0]["message"] == "Enter a date of birth in the past"
    assert rows(app, Case) == 0


def test_someone_under_18_on_the_day_of_screening_is_recorded_as_ineligible(officer):
    body = case_body()
    body["participant"]["date_of_birth"] = "2009-01-05"
    case = officer.post("/cases", body).get_json()
    assert case["eligible"] is False
    assert case["ineligible_reasons"] == ["under_18"]
    response = officer.post(f"/cases/{case['id']}/enrolment",
                            {"programme_id": 1, "start_date": "2027-01-04"})
    assert errors(response) == [("ineligible", None)]


def test_someone_18_today_is_eligible(officer):
    body = case_body()
    body["participant"]["date_of_birth"] = "2009-01-04"
    assert officer.post("/cases", body).get_json()["eligible"] is True


# ---- email addresses --------------------------------------------------------------


@pytest.mark.parametrize("email", ['"x"@example.com', "x@[127.0.0.1]", "zoë@example.com",
                                   "x@localhost", "Sam <sam@example.com>", "x@example.invalid"])
def test_an_address_mail_could_not_be_delivered_to_is_refused_at_intake(app, officer, email):
    response = officer.post("/cases", case_body(email=email))
    assert response.status_code == 400
    assert errors(response) == [("invalid", "participant.email")]
    assert rows(app, Case) == 0


def test_the_test_domain_of_the_demo_is_accepted_outside_production(officer):
    response = officer.post("/cases", case_body(email="sam@demo.diversion.test"))
    assert response.status_code == 201


def test_an_invitation_for_an_address_stored_before_intake_refused_it_is_unprocessable(
        app, officer, coordinator):
    enrolment = enrol_case(officer)
    venue = coordinator.post("/venues", {"name": "Hall", "address": "1 St"}).get_json()
    session = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-05T18:00:00",
        "venue_id": venue["id"], "capacity": 5}).get_json()
    booking = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                               {"session_id": session["id"]}).get_json()
    with app.app_context():
        db.session.execute(sa.update(Case).values(email='"x"@example.com'))
        db.session.commit()
        db.session.remove()
    response = coordinator.get(f"/bookings/{booking['id']}/invite.ics")
    assert response.status_code == 422
    assert errors(response) == [("undeliverable_address", None)]


def test_error_bodies_with_odd_input_are_still_json_lists(coordinator):
    response = coordinator.post("/venues", data=json.dumps({"\u0000": 1}),
                                content_type="application/json")
    assert response.status_code == 400
    assert isinstance(response.get_json()["errors"], list)
