"""The coordinator's waitlist on a session's page, and on a participant's page."""

from __future__ import annotations

import pytest

from diversion import clock
from tests.conftest import case_body, csrf_from
from tests.functional.test_coordinator_pages import text_of

NOW = "2027-01-04T09:00:00+00:00"  # a Monday in winter (GMT)


@pytest.fixture
def full(client, api_as, login_as):
    """Module 1 on Tuesday 12 January with its one place taken by Sam; Ali and Kim not booked."""
    clock.set_now(NOW)
    officer = api_as("case_officer")
    api = api_as("coordinator", force=None, email="api.coordinator@example.gov.uk")
    venue = api.post("/venues", {"name": "Civic Centre", "address": "1 High St"}).get_json()
    session_id = api.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-12T18:00:00",
        "venue_id": venue["id"], "capacity": 1}).get_json()["id"]
    people = {}
    for given in ("Sam", "Ali", "Kim"):
        body = case_body(reference=f"MET/{given.upper()}", email=f"{given.lower()}@example.com")
        body["participant"].update(given_name=given, family_name="Taylor")
        case = officer.post("/cases", body).get_json()
        people[given] = officer.post(f"/cases/{case['id']}/enrolment",
                                     {"programme_id": 1, "start_date": "2027-01-04"}
                                     ).get_json()["id"]
    booking = api.post(f"/enrolments/{people['Sam']}/bookings",
                       {"session_id": session_id}).get_json()["id"]
    login_as("coordinator", force=None)
    token = csrf_from(client.get("/coordinator/sessions").get_data(as_text=True))

    def post(path, data=None):
        return client.post(path, data={"csrf_token": token, **(data or {})})

    return {"client": client, "api": api, "session_id": session_id, "people": people,
            "booking_id": booking, "post": post}


def _add(full, reference):
    return full["post"](f"/coordinator/sessions/{full['session_id']}/waitlist",
                        {"reference": reference})


def _session_page(full) -> str:
    return text_of(full["client"].get(f"/coordinator/sessions/{full['session_id']}"))


def test_a_full_sessions_page_puts_participants_on_its_waitlist_in_order(full):
    ali, kim = full["people"]["Ali"], full["people"]["Kim"]

    first = _add(full, f"P-{ali:06d}")
    _add(full, f"p{kim}")

    assert first.status_code == 302
    page = _session_page(full)
    assert "Number Participant Added" in page
    assert "1 Ali Taylor" in page and "2 Kim Taylor" in page
    assert page.index("Ali Taylor") < page.index("Kim Taylor")


def test_a_reference_that_is_not_one_is_a_field_error_in_govuk_style(full):
    response = _add(full, "Ali")

    page = text_of(response)
    assert "There is a problem" in page
    assert "Enter a participant reference like P-000123" in page
    assert 'href="#reference"' in response.get_data(as_text=True)
    assert "No one is waiting for a place." in page


def test_someone_who_could_never_take_the_session_is_told_why_on_the_field(full):
    sam = full["people"]["Sam"]

    page = text_of(_add(full, f"P-{sam:06d}"))

    assert "There is a problem" in page
    assert "already booked for module 1" in page
    # Booked here already: the rule that says no is the one the coordinator reads.


def test_removing_someone_moves_the_next_up(full):
    ali, kim = full["people"]["Ali"], full["people"]["Kim"]
    _add(full, f"P-{ali:06d}")
    _add(full, f"P-{kim:06d}")
    entry = full["api"].get(f"/sessions/{full['session_id']}/waitlist").get_json()["items"][0]

    response = full["post"](f"/coordinator/waitlist/{entry['id']}/remove")

    assert response.status_code == 302
    page = _session_page(full)
    assert "Ali Taylor taken off the waitlist" in page
    assert "1 Kim Taylor" in page


def test_the_participants_page_shows_their_place_and_why_they_left(full):
    ali = full["people"]["Ali"]
    _add(full, f"P-{ali:06d}")
    page = text_of(full["client"].get(f"/coordinator/participants/{ali}"))
    assert "Waitlists" in page and "Waiting number 1" in page

    full["api"].delete(f"/bookings/{full['booking_id']}", json={})

    page = text_of(full["client"].get(f"/coordinator/participants/{ali}"))
    assert "Booked Booked into this session from the waitlist." in page
    assert "Waiting number" not in page
