"""Withdrawal and the status lists through the API, and flags raised as the facts change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import OutboxMessage
from tests.conftest import enrol_case


@pytest.fixture
def course(api_as):
    """An enrolment with module 1 attended, module 2 missed without excuse, 3 and 4 booked."""
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Hall", "address": "2 Low St"}).get_json()

    def publish(module, starts_at):
        response = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": starts_at,
            "venue_id": venue["id"], "capacity": 10})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    enrolment = enrol_case(officer, "API/1")
    days = ["2027-01-05T18:00:00", "2027-01-12T18:00:00", "2027-01-19T18:00:00",
            "2027-01-26T18:00:00"]
    booked = []
    for module, day in enumerate(days, 1):
        session = publish(module, day)
        response = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                    {"session_id": session["id"]})
        booked.append(response.get_json())
    for booking, outcome in zip(booked[:2], ("attended", "absent_unexcused"), strict=False):
        clock.set_now(booking["ends_at"])
        coordinator.put(f"/bookings/{booking['id']}/attendance", {"outcome": outcome})
    clock.set_now("2027-01-13T10:00:00+00:00")
    return officer, coordinator, enrolment, booked, publish


def test_withdraw_answers_201_and_the_enrolment_is_withdrawn_with_future_sessions_cancelled(
        course, app):
    officer, coordinator, enrolment, booked, _ = course

    response = officer.post(f"/enrolments/{enrolment['id']}/decisions",
                            {"decision": "withdraw", "reason": "Moved abroad"})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["decision"], body["reason"], body["decided_by"]) == (
        "withdraw", "Moved abroad", "case_officer.met@example.gov.uk")
    detail = officer.get(f"/enrolments/{enrolment['id']}").get_json()
    assert detail["status"] == "withdrawn"
    assert [b["status"] for b in detail["bookings"]] == [
        "attended", "absent_unexcused", "cancelled", "cancelled"]
    assert [f["status"] for f in detail["flags"]] == ["closed"]
    assert detail["decisions"][-1]["decision"] == "withdraw"
    assert officer.get("/flags").get_json()["items"] == []
    with app.app_context():
        cancellations = db.session.scalars(sa.select(OutboxMessage.booking_id).where(
            OutboxMessage.kind == "cancellation").order_by(OutboxMessage.booking_id)).all()
    assert cancellations == [booked[2]["id"], booked[3]["id"]]


def test_withdrawn_enrolments_are_listed_by_status(course, api_as):
    officer, coordinator, enrolment, _, _ = course
    enrol_case(officer, "API/2")
    officer.post(f"/enrolments/{enrolment['id']}/decisions",
                 {"decision": "withdraw", "reason": "Agreement ended"})

    for who in (officer, coordinator):
        items = who.get("/enrolments?status=withdrawn").get_json()["items"]
        assert [(e["id"], e["status"]) for e in items] == [(enrolment["id"], "withdrawn")]
    kent = api_as("case_officer", force="KENT", email="kent@example.gov.uk")
    assert kent.get("/enrolments?status=withdrawn").get_json()["items"] == []


def test_completed_enrolments_are_listed_by_status(course):
    officer, coordinator, _, _, publish = course
    clock.set_now("2027-01-04T09:00:00+00:00")
    done = enrol_case(officer, "API/DONE")
    days = ["2027-02-02", "2027-02-09", "2027-02-16", "2027-02-23", "2027-03-02"]
    booked = [coordinator.post(f"/enrolments/{done['id']}/bookings", {
        "session_id": publish(m, f"{d}T10:00:00")["id"]}).get_json()
        for m, d in enumerate(days, 1)]
    follow_up = publish("follow_up", "2027-11-02T10:00:00")
    for booking in booked:
        clock.set_now(booking["ends_at"])
        coordinator.put(f"/bookings/{booking['id']}/attendance", {"outcome": "attended"})
    extra = coordinator.post(f"/enrolments/{done['id']}/bookings",
                             {"session_id": follow_up["id"]}).get_json()
    clock.set_now(extra["ends_at"])
    coordinator.put(f"/bookings/{extra['id']}/attendance", {"outcome": "attended"})

    items = officer.get("/enrolments?status=completed").get_json()["items"]

    assert [(e["id"], e["status"]) for e in items] == [(done["id"], "completed")]
    assert items[0]["modules_attended"] == [1, 2, 3, 4, 5, "follow_up"]


@pytest.mark.parametrize(("body", "field"), [
    ({"decision": "withdraw", "reason": ""}, "reason"),
    ({"decision": "withdraw"}, "reason"),
    ({"decision": "withdraw", "reason": "Moved", "extend_days": 5}, "extend_days"),
    ({"decision": "withdrawn", "reason": "Moved"}, "decision"),
])
def test_a_malformed_withdrawal_is_a_400_naming_the_field_and_changes_nothing(course, body, field):
    officer, _, enrolment, _, _ = course

    response = officer.post(f"/enrolments/{enrolment['id']}/decisions", body)

    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == field
    detail = officer.get(f"/enrolments/{enrolment['id']}").get_json()
    assert detail["status"] == "enrolled"
    assert [b["status"] for b in detail["bookings"]][2:] == ["booked", "booked"]


def test_withdrawing_a_closed_enrolment_is_a_422_enrolment_closed(course):
    officer, _, enrolment, _, _ = course
    officer.post(f"/enrolments/{enrolment['id']}/decisions",
                 {"decision": "refer", "reason": "Missed module 2"})

    response = officer.post(f"/enrolments/{enrolment['id']}/decisions",
                            {"decision": "withdraw", "reason": "Agreement ended"})

    assert response.status_code == 422
    assert response.get_json()["errors"][0]["code"] == "enrolment_closed"
    assert officer.get(f"/enrolments/{enrolment['id']}").get_json()["status"] == "referred"


def test_only_the_enrolments_own_force_may_withdraw_it_and_never_a_coordinator(course, api_as):
    officer, coordinator, enrolment, _, _ = course
    kent = api_as("case_officer", force="KENT", email="kent@example.gov.uk")
    body = {"decision": "withdraw", "reason": "Agreement ended"}

    assert kent.post(f"/enrolments/{enrolment['id']}/decisions", body).status_code == 404
    assert coordinator.post(f"/enrolments/{enrolment['id']}/decisions", body).status_code == 403
    assert officer.get(f"/enrolments/{enrolment['id']}").get_json()["status"] == "enrolled"


def test_the_openapi_document_offers_withdraw_as_a_decision(client):
    document = client.get("/api/v1/openapi.json").get_json()

    decision = document["components"]["schemas"]["DecisionIn"]["properties"]["decision"]

    assert decision["enum"] == ["refer", "continue", "withdraw"]
    operation = document["paths"]["/api/v1/enrolments/{enrolment_id}/decisions"]["post"]
    assert "withdraw" in operation["summary"] and "`withdrawn`" in operation["description"]


def test_cancelling_module_5_near_the_deadline_shows_an_at_risk_flag_at_once(api_as):
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Hall", "address": "2 Low St"}).get_json()
    enrolment = enrol_case(officer, "API/5")
    days = ["2027-01-05", "2027-01-12", "2027-01-19", "2027-01-26", "2027-04-20"]
    booked = []
    for module, day in enumerate(days, 1):
        session = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": f"{day}T18:00:00",
            "venue_id": venue["id"], "capacity": 10}).get_json()
        booked.append(coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                       {"session_id": session["id"]}).get_json())
    for booking in booked[:4]:
        clock.set_now(booking["ends_at"])
        coordinator.put(f"/bookings/{booking['id']}/attendance", {"outcome": "attended"})
    clock.set_now("2027-04-10T11:00:00+01:00")
    assert officer.get("/flags").get_json()["items"] == []

    assert coordinator.delete(f"/bookings/{booked[4]['id']}").status_code == 200

    [flag] = officer.get("/flags").get_json()["items"]
    assert (flag["enrolment_id"], flag["kind"]) == (enrolment["id"], "at_risk")
    assert flag["detail"].endswith("module 5 has no booking")
    at_risk = officer.get("/enrolments?flag=at_risk").get_json()["items"]
    assert [e["id"] for e in at_risk] == [enrolment["id"]]
