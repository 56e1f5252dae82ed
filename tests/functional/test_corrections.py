"""Corrections are deliberate: a recorded outcome changes only with a reason and a check."""

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import AttendanceRecord, Booking
from tests.conftest import enrol_case
from tests.functional.test_coordinator_pages import text_of, world  # noqa: F401


def _recorded(app, booking_id):
    with app.app_context():
        status = db.session.scalar(sa.select(Booking.status).where(Booking.id == booking_id))
        history = db.session.scalars(sa.select(AttendanceRecord.outcome).where(
            AttendanceRecord.booking_id == booking_id).order_by(AttendanceRecord.id)).all()
        return status, history


def test_a_recorded_outcome_is_corrected_only_on_purpose_with_a_reason_and_a_check(
    world, app,  # noqa: F811
):
    client = world["client"]
    session_id = world["session"]()
    world["book"](world["enrol"]("Alex Smith"), session_id)
    world["later"]("2027-01-05T20:00:00+00:00")
    page = client.get(f"/coordinator/sessions/{session_id}").get_data(as_text=True)
    booking_id = int(page.split('name="outcome_')[1].split('"')[0])
    saved = world["post"](f"/coordinator/sessions/{session_id}/register",
                          {f"outcome_{booking_id}": "attended", "save": "Save register"})
    assert saved.status_code == 302

    # Recorded: no radio left on the register that a stray arrow key could change.
    register = client.get(f"/coordinator/sessions/{session_id}")
    assert f'name="outcome_{booking_id}"' not in register.get_data(as_text=True)
    assert "Recorded: Attended Correct this outcome for Alex Smith" in text_of(register)

    no_reason = world["post"](f"/coordinator/bookings/{booking_id}/correct",
                              {"outcome": "absent_unexcused"})
    assert "Enter why the outcome is being corrected" in text_of(no_reason)
    check = world["post"](f"/coordinator/bookings/{booking_id}/correct", {
        "outcome": "absent_unexcused", "reason": "Marked against the wrong name"})
    shown = text_of(check)
    assert "Check the correction" in shown
    assert "Corrected outcome Absent (unexcused)" in shown
    assert "absent without excuse" in shown  # the at-risk flag it would raise
    assert _recorded(app, booking_id) == ("attended", ["attended"])  # nothing saved yet

    confirmed = world["post"](f"/coordinator/bookings/{booking_id}/correct", {
        "outcome": "absent_unexcused", "reason": "Marked against the wrong name",
        "confirmed": "yes"})
    assert confirmed.status_code == 302
    assert _recorded(app, booking_id) == ("absent_unexcused", ["attended", "absent_unexcused"])
    history = text_of(client.get(f"/coordinator/bookings/{booking_id}/correct"))
    assert "Absent (unexcused) Marked against the wrong name" in history


@pytest.fixture
def completed(api_as):
    """An enrolment that attended all five modules and its follow-up."""
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Hall", "address": "1 Street"}).get_json()
    enrolment = enrol_case(officer, "CASE/DONE", "2027-01-04")["id"]
    days = ["2027-01-05", "2027-01-12", "2027-01-19", "2027-01-26", "2027-02-02"]
    bookings = []
    for module, day in enumerate(days, start=1):
        session = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": f"{day}T18:00:00",
            "venue_id": venue["id"], "capacity": 5}).get_json()
        bookings.append(coordinator.post(f"/enrolments/{enrolment}/bookings",
                                         {"session_id": session["id"]}).get_json()["id"])
    clock.set_now("2027-02-03T09:00:00+00:00")
    for booking in bookings:
        assert coordinator.put(f"/bookings/{booking}/attendance",
                               {"outcome": "attended"}).status_code == 200
    follow_up = coordinator.post("/sessions", {
        "programme_id": 1, "module": "follow_up", "starts_at": "2027-10-04T18:00:00",
        "venue_id": venue["id"], "capacity": 5}).get_json()
    last = coordinator.post(f"/enrolments/{enrolment}/bookings",
                            {"session_id": follow_up["id"]}).get_json()["id"]
    clock.set_now("2027-10-05T09:00:00+01:00")
    assert coordinator.put(f"/bookings/{last}/attendance",
                           {"outcome": "attended"}).status_code == 200
    assert officer.get(f"/enrolments/{enrolment}").get_json()["status"] == "completed"
    return {"officer": officer, "coordinator": coordinator, "enrolment": enrolment,
            "bookings": bookings}


def test_correcting_an_attended_module_after_completion_needs_a_reason(completed):
    response = completed["coordinator"].put(
        f"/bookings/{completed['bookings'][2]}/attendance", {"outcome": "absent_unexcused"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["code"] == "reason_required"
    enrolment = completed["officer"].get(f"/enrolments/{completed['enrolment']}").get_json()
    assert enrolment["status"] == "completed"


def test_a_correction_after_completion_reopens_the_enrolment_and_flags_it_at_once(completed):
    response = completed["coordinator"].put(
        f"/bookings/{completed['bookings'][2]}/attendance",
        {"outcome": "absent_unexcused", "reason": "Signed in for someone else"})
    assert response.status_code == 200, response.get_json()
    enrolment = completed["officer"].get(f"/enrolments/{completed['enrolment']}").get_json()
    assert enrolment["status"] == "enrolled"
    assert 3 not in enrolment["modules_attended"]
    kinds = [f["kind"] for f in completed["officer"].get("/flags?status=open").get_json()["items"]
             if f["enrolment_id"] == completed["enrolment"]]
    assert "at_risk" in kinds
