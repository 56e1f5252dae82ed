"""From enrolment to completion, and from non-completion to referral."""

from datetime import date, timedelta

import pytest

from diversion import clock
from diversion.extensions import db
from diversion.models import OutboxMessage
from tests.conftest import case_body


def _day(d: date, hour: int = 18) -> str:
    return f"{d.isoformat()}T{hour:02d}:00:00"


@pytest.fixture
def course(api_as, runner):
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Hall", "address": "2 Low St"}).get_json()

    def publish(module, day):
        response = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": _day(day),
            "venue_id": venue["id"], "capacity": 10})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def enrol(reference="STORY/1", start="2027-01-04"):
        case = officer.post("/cases", case_body(reference=reference)).get_json()
        return officer.post(f"/cases/{case['id']}/enrolment",
                            {"programme_id": 1, "start_date": start}).get_json()

    def sweep(at):
        clock.set_now(at)
        result = runner.invoke(args=["sweep"])
        assert result.exit_code == 0, result.output
        return result.output

    return officer, coordinator, publish, enrol, sweep


def _attend(coordinator, booking, outcome="attended", reason=None, at=None):
    clock.set_now(at or booking["ends_at"])
    response = coordinator.put(f"/bookings/{booking['id']}/attendance",
                               {"outcome": outcome, "reason": reason})
    assert response.status_code == 200, response.get_json()


def test_a_participant_misses_a_module_is_rebooked_extended_and_completes(course):
    officer, coordinator, publish, enrol, sweep = course
    enrolment = enrol()
    first = date(2027, 1, 5)
    for module in range(1, 6):
        for week in range(0, 12):
            publish(module, first + timedelta(days=7 * (module - 1 + week)))
    plan = coordinator.post(f"/enrolments/{enrolment['id']}/plan").get_json()["bookings"]
    _attend(coordinator, plan[0])
    _attend(coordinator, plan[1], "absent_unexcused")
    flags = officer.get("/flags").get_json()["items"]
    assert [f["kind"] for f in flags] == ["at_risk"]
    assert officer.get("/enrolments?flag=at_risk").get_json()["items"][0]["id"] == enrolment["id"]

    decision = officer.post(f"/enrolments/{enrolment['id']}/decisions", {
        "decision": "continue", "reason": "Car broke down; agreed to rebook", "extend_days": 14})
    assert decision.status_code == 201, decision.get_json()
    detail = officer.get(f"/enrolments/{enrolment['id']}").get_json()
    assert detail["core_deadline"] == "2027-05-18"
    assert detail["extensions"][0]["days"] == 14
    assert officer.get("/flags").get_json()["items"] == []

    # The later modules stay booked; module 2 must be made up before module 3 in order,
    # so cancel 3-5 and plan again.
    for booking in plan[2:]:
        assert coordinator.delete(f"/bookings/{booking['id']}",
                                  json={"reason": "replanning"}).status_code == 200
    clock.set_now(plan[1]["ends_at"])
    replanned = coordinator.post(f"/enrolments/{enrolment['id']}/plan")
    assert replanned.status_code == 201, replanned.get_json()
    rest = replanned.get_json()["bookings"]
    assert [b["module"] for b in rest] == [2, 3, 4, 5]
    for booking in rest:
        _attend(coordinator, booking)
    detail = officer.get(f"/enrolments/{enrolment['id']}").get_json()
    assert detail["status"] == "awaiting_follow_up"
    fifth_day = date.fromisoformat(rest[-1]["starts_at"][:10])
    due = date(fifth_day.year + (fifth_day.month + 8 - 1) // 12,
               (fifth_day.month + 8 - 1) % 12 + 1, fifth_day.day)
    assert detail["follow_up_due"] == due.isoformat()
    assert detail["follow_up_window"] == {
        "opens": (due - timedelta(days=14)).isoformat(),
        "closes": (due + timedelta(days=14)).isoformat()}

    early = publish("follow_up", due - timedelta(days=15))
    inside = publish("follow_up", due + timedelta(days=1))
    refused = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                               {"session_id": early["id"]})
    assert refused.get_json()["errors"][0]["code"] == "outside_follow_up_window"
    booked = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                              {"session_id": inside["id"]})
    assert booked.status_code == 201, booked.get_json()
    _attend(coordinator, booked.get_json())
    assert officer.get(f"/enrolments/{enrolment['id']}").get_json()["status"] == "completed"


def test_the_deadline_day_does_not_flag_the_next_day_does_and_a_second_sweep_adds_nothing(
    course,
):
    officer, coordinator, publish, enrol, sweep = course
    enrolment = enrol()  # deadline 4 May 2027
    sweep("2027-05-04T12:00:00+01:00")
    kinds = [f["kind"] for f in officer.get("/flags").get_json()["items"]]
    assert "non_completion" not in kinds
    output = sweep("2027-05-05T06:00:00+01:00")
    assert "non_completion 1" in output
    flags = officer.get("/flags").get_json()["items"]
    assert [f["kind"] for f in flags if f["kind"] == "non_completion"] == ["non_completion"]
    again = sweep("2027-05-05T07:00:00+01:00")
    assert "0 new flags" in again
    assert len(officer.get("/flags").get_json()["items"]) == len(flags)
    assert enrolment["id"] in [e["id"] for e in
                               officer.get("/enrolments?flag=non_completion").get_json()["items"]]


def test_referral_cancels_future_bookings_sends_cancellations_and_yields_a_pdf(course, app):
    officer, coordinator, publish, enrol, sweep = course
    enrolment = enrol()
    future = publish(1, date(2027, 1, 12))
    booking = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                               {"session_id": future["id"]}).get_json()
    response = officer.post(f"/enrolments/{enrolment['id']}/decisions",
                            {"decision": "refer", "reason": "Prosecutor ended the agreement"})
    assert response.status_code == 201
    detail = officer.get(f"/enrolments/{enrolment['id']}").get_json()
    assert detail["status"] == "referred"
    assert [b["status"] for b in detail["bookings"]] == ["cancelled"]
    with app.app_context():
        kinds = [m.kind for m in db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.booking_id == booking["id"])
            .order_by(OutboxMessage.id))]
    assert kinds[0] == "invitation"
    assert kinds[-1] == "cancellation"

    summary = officer.get(f"/enrolments/{enrolment['id']}/referral-summary").get_json()
    assert summary["decisions"][0]["reason"] == "Prosecutor ended the agreement"
    assert summary["agreement"]["core_deadline"] == "2027-05-04"
    assert {m["kind"] for m in summary["messages"]} >= {"invitation", "cancellation"}
    # The referral's own cancellations are its consequence, not the service letting them down.
    assert summary["service_record"]["cancelled"] == []
    pdf = officer.get(f"/enrolments/{enrolment['id']}/referral-summary",
                      headers={**officer.headers, "Accept": "application/pdf"})
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert pdf.data.rstrip().endswith(b"%%EOF")
    assert b"Prosecutor ended the agreement" in pdf.data

    audit = api_admin_actions(course, app)
    assert "disclose" in audit


def api_admin_actions(course, app):
    from diversion.models import AuditEvent

    with app.app_context():
        return {e.action for e in db.session.scalars(db.select(AuditEvent))}


def test_another_forces_officer_cannot_decide_or_read_a_summary(course, api_as):
    officer, coordinator, publish, enrol, sweep = course
    enrolment = enrol()
    other = api_as("case_officer", force="KENT")
    assert other.post(f"/enrolments/{enrolment['id']}/decisions",
                      {"decision": "refer", "reason": "x"}).status_code == 404
    assert other.get(f"/enrolments/{enrolment['id']}/referral-summary").status_code == 404
    assert other.get("/flags").get_json()["items"] == []


def test_a_referral_that_asks_for_an_extension_is_refused_and_changes_nothing(course):
    officer, coordinator, publish, enrol, sweep = course
    enrolment = enrol()
    response = officer.post(f"/enrolments/{enrolment['id']}/decisions",
                            {"decision": "refer", "reason": "x", "extend_days": 5})
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "extend_days"
    detail = officer.get(f"/enrolments/{enrolment['id']}").get_json()
    assert (detail["status"], detail["core_deadline"]) == ("enrolled", "2027-05-04")
