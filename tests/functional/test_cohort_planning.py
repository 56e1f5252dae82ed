"""Planning a cohort: every participant in turn, through POST /api/v1/plans."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.services import planning
from tests.conftest import enrol_case

NOW = "2027-01-04T09:00:00+00:00"  # a Monday in winter (GMT)


@pytest.fixture
def world(api_as):
    """A coordinator, a case officer and a way to enrol and publish."""
    clock.set_now(NOW)
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High St"})

    def enrol(reference, start="2027-01-04"):
        return enrol_case(officer, reference, start)["id"]

    def publish(module, day, capacity, hour=18):
        on = date(2027, 1, 1) + timedelta(days=day - 1)
        response = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": f"{on.isoformat()}T{hour}:00:00",
            "venue_id": venue.get_json()["id"], "capacity": capacity})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    return {"officer": officer, "coordinator": coordinator, "enrol": enrol,
            "publish": publish}


def _dates(bookings):
    return [b["starts_at"][:10] for b in bookings]


def test_each_participant_is_planned_in_turn_into_the_seats_the_ones_before_left(world):
    first, second = world["enrol"]("COHORT/1"), world["enrol"]("COHORT/2")
    for module in range(1, 6):
        for week in range(8):
            world["publish"](module, 5 + 7 * week, capacity=1)
    response = world["coordinator"].post("/plans", {"enrolment_ids": [second, first]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["refused"] == []
    planned = {p["enrolment_id"]: p["bookings"] for p in body["planned"]}
    # The lower id goes first and takes the earliest sessions; the other one gets the
    # next free seat of each module, still a week apart.
    assert _dates(planned[first]) == [
        "2027-01-05", "2027-01-12", "2027-01-19", "2027-01-26", "2027-02-02"]
    assert _dates(planned[second]) == [
        "2027-01-12", "2027-01-19", "2027-01-26", "2027-02-02", "2027-02-09"]
    for enrolment_id in (first, second):
        detail = world["coordinator"].get(f"/enrolments/{enrolment_id}").get_json()
        assert [b["module"] for b in detail["bookings"]] == [1, 2, 3, 4, 5]
    sessions = world["coordinator"].get("/sessions?module=1").get_json()["items"]
    assert [s["booked"] for s in sessions][:3] == [1, 1, 0]


def test_a_participant_who_cannot_be_planned_is_refused_and_the_others_are_booked(world):
    lucky, unlucky = world["enrol"]("COHORT/1"), world["enrol"]("COHORT/2")
    for module in range(1, 6):
        world["publish"](module, 5 + 7 * (module - 1), capacity=1)
    response = world["coordinator"].post("/plans",
                                         {"enrolment_ids": [lucky, unlucky, 999999]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [p["enrolment_id"] for p in body["planned"]] == [lucky]
    refused = {r["enrolment_id"]: r for r in body["refused"]}
    assert refused[unlucky]["code"] == "after_deadline"
    assert "module 1" in refused[unlucky]["message"]
    assert refused[999999]["code"] == "not_found"
    unlucky_detail = world["coordinator"].get(f"/enrolments/{unlucky}").get_json()
    assert unlucky_detail["bookings"] == []


def test_a_closed_enrolment_in_a_cohort_is_refused_as_a_booking_would_be(world):
    open_, closed = world["enrol"]("COHORT/1"), world["enrol"]("COHORT/2")
    world["officer"].post(f"/enrolments/{closed}/decisions",
                          {"decision": "refer", "reason": "Agreement ended"})
    for module in range(1, 6):
        world["publish"](module, 5 + 7 * (module - 1), capacity=2)
    body = world["coordinator"].post("/plans", {"enrolment_ids": [open_, closed]}).get_json()
    assert [p["enrolment_id"] for p in body["planned"]] == [open_]
    (refusal,) = body["refused"]
    assert (refusal["enrolment_id"], refusal["code"]) == (closed, "enrolment_closed")
    assert refusal["message"] == ("This enrolment is referred; "
                                  "no more sessions can be booked for it.")


def test_a_cohort_gets_the_same_sessions_as_planning_each_participant_alone(world, app,
                                                                           monkeypatch):
    # Small batches, so the cohort crosses transactions as a large one would.
    monkeypatch.setattr(planning, "BATCH_SIZE", 2)
    starts = ["2027-01-04", "2027-01-06", "2027-01-11", "2027-01-04", "2027-01-18"]
    ids = [world["enrol"](f"COHORT/{n}", start) for n, start in enumerate(starts)]
    for week in range(14):
        for module in range(1, 6):
            world["publish"](module, 5 + 7 * week + module % 3, capacity=2,
                             hour=10 + module)
    coordinator = world["coordinator"]
    response = coordinator.post("/plans", {"enrolment_ids": ids})
    assert response.status_code == 200, response.get_json()
    together = {p["enrolment_id"]: [b["session_id"] for b in p["bookings"]]
                for p in response.get_json()["planned"]}
    assert sorted(together) == ids
    for enrolment_id in ids:
        for booking in coordinator.get(f"/enrolments/{enrolment_id}").get_json()["bookings"]:
            assert coordinator.delete(f"/bookings/{booking['id']}").status_code == 200
    alone = {}
    for enrolment_id in ids:
        response = coordinator.post(f"/enrolments/{enrolment_id}/plan")
        assert response.status_code == 201, response.get_json()
        alone[enrolment_id] = [b["session_id"] for b in response.get_json()["bookings"]]
    assert together == alone


def test_every_planned_booking_sends_an_invitation_and_a_reminder_and_is_audited(world, app):
    ids = [world["enrol"](f"COHORT/{n}") for n in range(3)]
    for module in range(1, 6):
        world["publish"](module, 5 + 7 * (module - 1), capacity=5)
    response = world["coordinator"].post("/plans", {"enrolment_ids": ids})
    booking_ids = {b["id"] for p in response.get_json()["planned"] for b in p["bookings"]}
    assert len(booking_ids) == 15
    with app.app_context():
        queued = db.session.execute(sa.text(
            "SELECT booking_id, kind FROM outbox WHERE kind IN ('invitation', 'reminder')")).all()
        audited = db.session.execute(sa.text(
            "SELECT object_id, detail FROM audit_events WHERE object_type = 'booking' "
            "AND action = 'create'")).all()
    for kind in ("invitation", "reminder"):
        assert sorted(b for b, k in queued if k == kind) == sorted(booking_ids)
    assert {int(object_id) for object_id, _ in audited} == booking_ids
    assert all('"planned": true' in str(detail).lower().replace("'", '"')
               for _, detail in audited)


def test_a_cohort_request_that_names_nobody_is_refused_and_only_coordinators_may_plan(
        world, api_as):
    for body in ({"enrolment_ids": []}, {"enrolment_ids": ["one"]}, {}):
        response = world["coordinator"].post("/plans", body)
        assert response.status_code == 400
        assert response.get_json()["errors"][0]["code"] == "invalid"
    enrolment = world["enrol"]("COHORT/1")
    response = world["officer"].post("/plans", {"enrolment_ids": [enrolment]})
    assert response.status_code == 403
