"""GET/POST/PATCH /programmes through the test client, as each role."""

from __future__ import annotations

import pytest

from diversion import clock
from tests.conftest import enrol_case

CONTRACT_FIELDS = {
    "id", "name", "core_modules", "session_minutes", "core_months", "follow_up_months",
    "follow_up_window_days", "min_days_between_sessions", "reminder_hours", "timezone",
    "holiday_region", "modules_in_order", "invite_title", "invite_title_cy",
    "self_service_cutoff_hours", "self_service_moves", "retention_ineligible_months",
    "retention_closed_months", "retention_message_months", "retention_audit_months",
}
STAFF = [("admin", None), ("coordinator", None), ("case_officer", "MET")]


@pytest.fixture
def admin(api_as):
    return api_as("admin", force=None)


@pytest.mark.parametrize(("role", "force"), STAFF)
def test_every_member_of_staff_reads_the_programmes_with_every_setting(api_as, role, force):
    reader = api_as(role, force=force)
    listed = reader.get("/programmes")
    assert listed.status_code == 200
    (programme,) = listed.get_json()["items"]
    assert CONTRACT_FIELDS <= set(programme)
    assert programme["invite_title_cy"] == "Apwyntiad"
    assert (programme["self_service_cutoff_hours"], programme["self_service_moves"]) == (24, 2)

    one = reader.get("/programmes/1")
    assert one.status_code == 200
    assert one.get_json() == programme


@pytest.mark.parametrize(("role", "force"), [("coordinator", None), ("case_officer", "MET")])
def test_only_an_administrator_may_add_or_change_a_programme(api_as, admin, role, force):
    other = api_as(role, force=force)
    assert other.patch("/programmes/1", {"core_months": 6}).status_code == 403
    assert other.post("/programmes", {"name": "Another"}).status_code == 403
    assert admin.get("/programmes/1").get_json()["core_months"] == 4
    assert len(admin.get("/programmes").get_json()["items"]) == 1


def test_reading_a_programme_needs_a_token(client):
    assert client.get("/api/v1/programmes/1").status_code == 401
    assert client.patch("/api/v1/programmes/1", json={"core_months": 6}).status_code == 401


def test_an_administrator_changes_a_setting_and_gets_the_programme_back(admin):
    response = admin.patch("/programmes/1", {"min_days_between_sessions": 10,
                                             "invite_title": "Meeting"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["min_days_between_sessions"], body["invite_title"]) == (
        1, 10, "Meeting")
    assert admin.get("/programmes/1").get_json() == body


def test_a_change_is_in_the_audit_trail_with_its_before_and_after(admin):
    admin.patch("/programmes/1", {"core_months": 6, "reminder_hours": 24})
    events = [e for e in admin.get("/audit").get_json()["items"]
              if e["object_type"] == "programme"]
    assert [(e["action"], e["object_id"], e["detail"]) for e in events] == [
        ("update", "1", {"before": {"core_months": 4, "reminder_hours": 48},
                         "after": {"core_months": 6, "reminder_hours": 24}}),
    ]


def test_an_administrator_adds_a_programme_for_wales(admin, api_as):
    response = admin.post("/programmes", {"name": "Online safety course (Wales)",
                                          "holiday_region": "GB-WLS",
                                          "invite_title_cy": "Apwyntiad"})
    assert response.status_code == 201
    wales = response.get_json()
    assert wales["holiday_region"] == "GB-WLS"
    assert (wales["core_modules"], wales["core_months"], wales["timezone"]) == (
        5, 4, "Europe/London")
    assert api_as("coordinator", force=None).get(f"/programmes/{wales['id']}").status_code == 200
    created = [e for e in admin.get("/audit").get_json()["items"] if e["action"] == "create"
               and e["object_type"] == "programme"]
    assert created[0]["detail"]["after"]["name"] == "Online safety course (Wales)"


def test_a_change_leaves_an_existing_enrolments_deadline_and_gives_a_new_one_the_new_terms(
        admin, api_as):
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = api_as("case_officer", force="MET")
    before = enrol_case(officer, "BEFORE")
    assert admin.patch("/programmes/1", {"core_months": 6}).status_code == 200
    after = enrol_case(officer, "AFTER")
    assert officer.get(f"/enrolments/{before['id']}").get_json()["core_deadline"] == "2027-05-04"
    assert officer.get(f"/enrolments/{after['id']}").get_json()["core_deadline"] == "2027-07-04"


@pytest.mark.parametrize(("body", "field"), [
    ({"core_modules": 0}, "core_modules"),
    ({"core_modules": 13}, "core_modules"),
    ({"session_minutes": 14}, "session_minutes"),
    ({"session_minutes": 481}, "session_minutes"),
    ({"core_months": 0}, "core_months"),
    ({"follow_up_months": 25}, "follow_up_months"),
    ({"follow_up_window_days": -1}, "follow_up_window_days"),
    ({"min_days_between_sessions": 61}, "min_days_between_sessions"),
    ({"reminder_hours": 0}, "reminder_hours"),
    ({"reminder_hours": 169}, "reminder_hours"),
    ({"self_service_cutoff_hours": 337}, "self_service_cutoff_hours"),
    ({"self_service_moves": 11}, "self_service_moves"),
    ({"retention_ineligible_months": 0}, "retention_ineligible_months"),
    ({"retention_ineligible_months": 121}, "retention_ineligible_months"),
    ({"retention_closed_months": 241}, "retention_closed_months"),
    ({"retention_closed_months": 6.5}, "retention_closed_months"),
    ({"retention_message_months": -1}, "retention_message_months"),
    ({"retention_audit_months": 35}, "retention_audit_months"),
    ({"retention_audit_months": "84"}, "retention_audit_months"),
    ({"core_months": "6"}, "core_months"),
    ({"core_months": 6.5}, "core_months"),
    ({"core_months": True}, "core_months"),
    ({"core_months": 2**70}, "core_months"),
    ({"core_months": None}, "core_months"),
    ({"modules_in_order": "yes"}, "modules_in_order"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"invite_title": ""}, "invite_title"),
    ({"invite_title_cy": "x" * 201}, "invite_title_cy"),
    ({"holiday_region": 7}, "holiday_region"),
    ({"id": 2}, "id"),
    ({"colour": "blue"}, "colour"),
])
def test_a_malformed_setting_is_a_400_naming_its_field_and_changes_nothing(admin, body, field):
    response = admin.patch("/programmes/1", body)
    assert response.status_code == 400
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert admin.get("/programmes/1").get_json()["core_months"] == 4


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"holiday_region": "FR"}, "holiday_region", "unknown_holiday_region"),
    ({"holiday_region": "GB-XX"}, "holiday_region", "unknown_holiday_region"),
    ({"timezone": "America/New_York"}, "timezone", "unsupported_timezone"),
    ({"invite_title": "Police appointment"}, "invite_title", "reveals_programme"),
    ({"invite_title_cy": "Prosecution"}, "invite_title_cy", "reveals_programme"),
    ({"name": "Indecent images course"}, "name", "reveals_programme"),
    ({"name": "   "}, "name", "invalid_text"),
    ({"invite_title": "Appointment\r\nBcc: x@example.com"}, "invite_title", "invalid_text"),
    ({"organizer_email": "diversion@met.police.uk"}, "organizer_email", "reveals_programme"),
])
def test_a_setting_a_rule_refuses_is_a_422_naming_its_field_and_changes_nothing(
        admin, body, field, code):
    response = admin.patch("/programmes/1", {**body, "core_months": 6})
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.get_json()["errors"]] == [(field, code)]
    assert admin.get("/programmes/1").get_json()["core_months"] == 4


def test_every_refused_setting_is_named_in_one_answer(admin):
    response = admin.patch("/programmes/1", {"holiday_region": "FR", "invite_title": "Police"})
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"holiday_region",
                                                                   "invite_title"}


def test_a_new_programme_needs_a_name_and_is_held_to_the_same_rules(admin):
    missing = admin.post("/programmes", {"core_months": 6})
    assert missing.status_code == 400
    assert [e["field"] for e in missing.get_json()["errors"]] == ["name"]
    refused = admin.post("/programmes", {"name": "Scotland", "holiday_region": "SCT"})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "holiday_region"
    assert len(admin.get("/programmes").get_json()["items"]) == 1


def test_changing_the_number_of_modules_while_enrolments_are_in_progress_is_refused(
        admin, api_as):
    enrol_case(api_as("case_officer", force="MET"))
    response = admin.patch("/programmes/1", {"core_modules": 6})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["code"] == "programme_in_use"


@pytest.mark.parametrize("path", ["/programmes/2", "/programmes/99999999999",
                                  "/programmes/0"])
def test_a_programme_that_does_not_exist_is_a_404(admin, path):
    assert admin.get(path).status_code == 404
    assert admin.patch(path, {"core_months": 6}).status_code == 404


def test_a_body_that_is_not_json_is_a_400(admin):
    response = admin.patch("/programmes/1", data="core_months=6",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_the_openapi_document_describes_reading_adding_and_changing_programmes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/programmes"])
    assert {"get", "patch"} <= set(paths["/api/v1/programmes/{programme_id}"])


def test_an_administrator_sets_the_retention_schedule_and_it_is_audited(admin):
    assert {k: v for k, v in admin.get("/programmes/1").get_json().items()
            if k.startswith("retention_")} == {
        "retention_ineligible_months": 12, "retention_closed_months": 72,
        "retention_message_months": 12, "retention_audit_months": 84}
    response = admin.patch("/programmes/1", {"retention_ineligible_months": 6,
                                             "retention_audit_months": 120})
    assert response.status_code == 200
    assert (response.get_json()["retention_ineligible_months"],
            response.get_json()["retention_audit_months"]) == (6, 120)
    [change] = [e for e in admin.get("/audit").get_json()["items"]
                if e["action"] == "update" and e["object_type"] == "programme"]
    assert change["detail"] == {
        "before": {"retention_ineligible_months": 12, "retention_audit_months": 84},
        "after": {"retention_ineligible_months": 6, "retention_audit_months": 120}}


def test_a_new_programme_starts_from_the_default_retention_schedule(admin):
    created = admin.post("/programmes", {"name": "Wales course", "holiday_region": "GB-WLS"})
    assert created.status_code == 201
    assert (created.get_json()["retention_closed_months"],
            created.get_json()["retention_message_months"]) == (72, 12)
