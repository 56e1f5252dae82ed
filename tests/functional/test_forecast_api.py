"""GET /forecast: the places each module needs week by week, for coordinators."""

from collections import defaultdict

import pytest

from diversion import clock
from tests.conftest import enrol_case

MONDAY = "2027-01-04T09:00:00+00:00"


@pytest.fixture
def world(api_as):
    clock.set_now(MONDAY)
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    enrolments = [enrol_case(officer, reference=f"CASE/{n}") for n in range(3)]
    venue = coordinator.post("/venues", {"name": "Hall", "address": "1 Street"}).get_json()
    session = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-05T18:00:00",
        "venue_id": venue["id"], "capacity": 2}).get_json()
    booked = coordinator.post(f"/enrolments/{enrolments[0]['id']}/bookings",
                              {"session_id": session["id"]})
    assert booked.status_code == 201, booked.get_json()
    return {"coordinator": coordinator, "officer": officer, "venue": venue,
            "enrolments": enrolments}


def _line(body, week, module):
    (line,) = [i for i in body["items"] if i["week_start"] == week and i["module"] == module]
    return line


def test_a_coordinator_sees_the_places_needed_against_the_places_still_free(world):
    body = world["coordinator"].get("/forecast?weeks=5").get_json()
    first = _line(body, "2027-01-04", 1)
    assert first == {"programme_id": 1, "week_start": "2027-01-04", "module": 1,
                     "seats_needed": 2, "seats_published": 1, "shortfall": 1}
    assert _line(body, "2027-01-11", 2)["seats_needed"] == 3
    assert _line(body, "2027-02-01", 5)["seats_needed"] == 3
    assert body["next"] is None
    assert body["as_of"] == "2027-01-04"


def test_each_modules_places_add_up_to_the_enrolments_still_needing_it(world):
    body = world["coordinator"].get("/forecast?weeks=8").get_json()
    totals = defaultdict(int)
    for item in body["items"]:
        totals[item["module"]] += item["seats_needed"]
    # One enrolment holds module 1; all three still need modules 2 to 5; none is due a
    # follow-up yet.
    assert dict(totals) == {1: 2, 2: 3, 3: 3, 4: 3, 5: 3, "follow_up": 0}


def test_every_week_starts_on_a_monday_and_lists_every_module(world):
    body = world["coordinator"].get("/forecast?weeks=3").get_json()
    weeks = sorted({i["week_start"] for i in body["items"]})
    assert weeks == ["2027-01-04", "2027-01-11", "2027-01-18"]
    assert len(body["items"]) == 3 * 6


def test_without_weeks_the_forecast_covers_twelve(world):
    body = world["coordinator"].get("/forecast").get_json()
    assert body["weeks"] == 12
    assert len({i["week_start"] for i in body["items"]}) == 12


def test_a_shortfall_comes_with_sessions_of_the_usual_capacity_day_and_venue(world):
    body = world["coordinator"].get("/forecast?weeks=2").get_json()
    assert body["suggested_sessions"] == [
        {"programme_id": 1, "module": 1, "week_start": "2027-01-04", "capacity": 2,
         "starts_at": "2027-01-05T18:00:00+00:00", "venue_id": world["venue"]["id"]},
        {"programme_id": 1, "module": 2, "week_start": "2027-01-11", "capacity": 2,
         "starts_at": "2027-01-12T18:00:00+00:00", "venue_id": world["venue"]["id"]},
        {"programme_id": 1, "module": 2, "week_start": "2027-01-11", "capacity": 2,
         "starts_at": "2027-01-12T18:00:00+00:00", "venue_id": world["venue"]["id"]},
    ]


def test_publishing_a_suggested_session_closes_the_shortfall(world):
    coordinator = world["coordinator"]
    (first, *_) = coordinator.get("/forecast?weeks=1").get_json()["suggested_sessions"]
    published = coordinator.post("/sessions", {
        "programme_id": first["programme_id"], "module": first["module"],
        "starts_at": first["starts_at"], "venue_id": first["venue_id"],
        "capacity": first["capacity"]})
    assert published.status_code == 201
    body = coordinator.get("/forecast?weeks=1").get_json()
    assert _line(body, "2027-01-04", 1)["shortfall"] == 0
    assert body["suggested_sessions"] == []


@pytest.mark.parametrize("weeks", ["0", "53", "-1", "abc", "1.5", "99999999999999999999", ""])
def test_weeks_outside_1_to_52_is_a_400_naming_the_field(world, weeks):
    response = world["coordinator"].get(f"/forecast?weeks={weeks}")
    assert response.status_code == 400
    (error,) = response.get_json()["errors"]
    assert error["field"] == "weeks"
    assert error["code"] == "invalid"


def test_a_programme_beyond_any_id_is_a_400_and_an_unknown_one_a_404(world):
    coordinator = world["coordinator"]
    assert coordinator.get("/forecast?programme_id=99999999999").status_code == 400
    assert coordinator.get("/forecast?programme_id=999").status_code == 404
    assert coordinator.get("/forecast?programme_id=1").status_code == 200


@pytest.mark.parametrize("role", ["case_officer", "admin"])
def test_only_coordinators_may_read_the_forecast(api_as, role):
    response = api_as(role, force="MET" if role == "case_officer" else None).get(
        "/forecast?weeks=4")
    assert response.status_code == 403
    assert response.get_json()["errors"][0]["code"] == "forbidden"


def test_the_forecast_needs_a_token(client):
    assert client.get("/api/v1/forecast").status_code == 401


def test_the_openapi_document_describes_the_forecast(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/forecast" in spec["paths"]
