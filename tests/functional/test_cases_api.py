"""Cases, screening and enrolment through the JSON API."""

import pytest

from diversion import clock
from tests.conftest import case_body


@pytest.fixture(autouse=True)
def _early_november():
    # Start dates of 31 October and 1 December both lie within an enrolment's range.
    clock.set_now("2026-11-02T09:00:00+00:00")


def test_an_eligible_case_is_recorded_with_its_force_and_no_reasons(api_as):
    api = api_as("case_officer")
    response = api.post("/cases", case_body())
    assert response.status_code == 201
    body = response.get_json()
    assert body["eligible"] is True
    assert body["ineligible_reasons"] == []
    assert body["force"] == "MET"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"image_category": "B"}, "image_category_above_c"),
        ({"children_at_risk": True}, "children_at_risk"),
        ({"prosecutor_agreed": False}, "prosecutor_not_agreed"),
    ],
)
def test_an_ineligible_case_keeps_its_reason_and_cannot_be_enrolled(api_as, answer, reason):
    api = api_as("case_officer")
    case = api.post("/cases", case_body(**answer)).get_json()
    assert case["eligible"] is False
    assert case["ineligible_reasons"] == [reason]
    response = api.post(f"/cases/{case['id']}/enrolment",
                        {"programme_id": 1, "start_date": "2026-12-01"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["code"] == "ineligible"
    assert api.get(f"/cases/{case['id']}").get_json()["enrolment_id"] is None


def test_enrolling_on_31_october_gives_a_core_deadline_of_28_february(api_as):
    api = api_as("case_officer")
    case = api.post("/cases", case_body()).get_json()
    response = api.post(f"/cases/{case['id']}/enrolment",
                        {"programme_id": 1, "start_date": "2026-10-31"})
    assert response.status_code == 201
    enrolment = response.get_json()
    assert enrolment["core_deadline"] == "2027-02-28"
    assert enrolment["status"] == "enrolled"
    assert api.get(f"/cases/{case['id']}").get_json()["enrolment_id"] == enrolment["id"]


def test_a_case_cannot_be_enrolled_twice(api_as):
    api = api_as("case_officer")
    case = api.post("/cases", case_body()).get_json()
    body = {"programme_id": 1, "start_date": "2026-12-01"}
    assert api.post(f"/cases/{case['id']}/enrolment", body).status_code == 201
    again = api.post(f"/cases/{case['id']}/enrolment", body)
    assert again.status_code == 409
    assert again.get_json()["errors"][0]["code"] == "already_enrolled"


def test_another_forces_case_and_enrolment_do_not_exist_for_a_case_officer(api_as):
    mine = api_as("case_officer", force="MET")
    theirs = api_as("case_officer", force="KENT")
    case = mine.post("/cases", case_body()).get_json()
    enrolment = mine.post(f"/cases/{case['id']}/enrolment",
                          {"programme_id": 1, "start_date": "2026-12-01"}).get_json()
    assert theirs.get(f"/cases/{case['id']}").status_code == 404
    assert theirs.get(f"/enrolments/{enrolment['id']}").status_code == 404
    assert theirs.post(f"/cases/{case['id']}/enrolment",
                       {"programme_id": 1, "start_date": "2026-12-01"}).status_code == 404
    assert theirs.get("/enrolments").get_json()["items"] == []
    assert theirs.get("/cases/999999").status_code == 404


def test_the_coordinators_view_of_an_enrolment_has_no_case_or_screening_detail(api_as):
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    case = officer.post("/cases", case_body(reference="SECRET/REF")).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2026-12-01"}).get_json()
    response = coordinator.get(f"/enrolments/{enrolment['id']}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    body = response.get_json()
    assert "SECRET/REF" not in text
    for hidden in ("reference", "screening", "ineligible_reasons", "image_category"):
        assert hidden not in text
    assert body["core_deadline"] == enrolment["core_deadline"]
    listed = coordinator.get("/enrolments").get_json()["items"]
    assert [e["id"] for e in listed] == [enrolment["id"]]
    assert "SECRET/REF" not in str(listed)
    assert coordinator.get(f"/cases/{case['id']}").status_code == 403


def test_reads_and_lists_of_cases_and_enrolments_are_audited(api_as):
    officer = api_as("case_officer", email="officer@example.gov.uk")
    admin = api_as("admin", force=None)
    case = officer.post("/cases", case_body()).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2026-12-01"}).get_json()
    officer.get(f"/cases/{case['id']}")
    officer.get(f"/enrolments/{enrolment['id']}")
    officer.get("/enrolments")
    items = admin.get("/audit?actor=officer@example.gov.uk").get_json()["items"]
    seen = {(i["action"], i["object_type"]) for i in items}
    assert {("create", "case"), ("create", "enrolment"), ("read", "case"),
            ("read", "enrolment"), ("read", "enrolment_list")} <= seen
    for item in items:
        assert item["at"].endswith("Z")
        assert item["actor"] == "officer@example.gov.uk"
    by_case = admin.get(f"/audit?case_id={case['id']}").get_json()["items"]
    assert {i["action"] for i in by_case} >= {"create", "read"}


def test_a_refused_read_of_another_forces_case_is_logged(api_as):
    mine = api_as("case_officer", force="MET")
    theirs = api_as("case_officer", force="KENT", email="nosy@example.gov.uk")
    admin = api_as("admin", force=None)
    case = mine.post("/cases", case_body()).get_json()
    theirs.get(f"/cases/{case['id']}")
    items = admin.get("/audit?actor=nosy@example.gov.uk").get_json()["items"]
    assert [(i["action"], i["object_id"]) for i in items] == [("refused", str(case["id"]))]


def test_only_admins_read_the_audit_trail(api_as):
    assert api_as("case_officer").get("/audit").status_code == 403
    assert api_as("coordinator", force=None).get("/audit").status_code == 403


def test_no_token_or_a_wrong_token_is_401_and_a_wrong_role_is_403(client, api_as):
    assert client.get("/api/v1/programmes").status_code == 401
    response = client.get("/api/v1/programmes", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["code"] == "unauthenticated"
    coordinator = api_as("coordinator", force=None)
    assert coordinator.post("/cases", case_body()).status_code == 403


def test_a_revoked_token_stops_working(runner, api_as):
    api = api_as("case_officer", email="revoked@example.gov.uk")
    assert api.get("/programmes").status_code == 200
    result = runner.invoke(args=["revoke-tokens", "revoked@example.gov.uk"])
    assert result.exit_code == 0
    assert api.get("/programmes").status_code == 401


def test_malformed_json_is_a_400_in_the_error_format(client, api_as):
    api = api_as("case_officer")
    response = client.post("/api/v1/cases", data="{not json",
                           headers={**api.headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["code"] == "malformed"


def test_validation_errors_name_each_field(api_as):
    api = api_as("case_officer")
    body = case_body()
    body["participant"]["email"] = "not-an-email"
    body["screening"]["image_category"] = "D"
    del body["screening"]["first_offence"]
    response = api.post("/cases", body)
    assert response.status_code == 400
    assert {e["code"] for e in response.get_json()["errors"]} == {"invalid"}
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"participant.email", "screening.image_category", "screening.first_offence"} <= fields
    assert api.get("/enrolments").get_json()["items"] == []


def test_unknown_fields_are_refused_not_stored(api_as):
    api = api_as("case_officer")
    body = case_body()
    body["force_id"] = 99
    response = api.post("/cases", body)
    assert response.status_code == 400
    assert {e["field"] for e in response.get_json()["errors"]} == {"force_id"}


def test_a_100_kb_name_is_refused_with_a_4xx_not_a_500(api_as):
    api = api_as("case_officer")
    body = case_body()
    body["participant"]["given_name"] = "x" * 100_000
    response = api.post("/cases", body)
    assert 400 <= response.status_code < 500
    body["participant"]["given_name"] = "x" * 101
    response = api.post("/cases", body)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "participant.given_name"


def test_programmes_list_the_domain_defaults(api_as):
    items = api_as("coordinator", force=None).get("/programmes").get_json()["items"]
    programme = items[0]
    assert programme["core_modules"] == 5
    assert programme["session_minutes"] == 90
    assert programme["core_months"] == 4
    assert programme["follow_up_months"] == 8
    assert programme["follow_up_window_days"] == 14
    assert programme["min_days_between_sessions"] == 7
    assert programme["reminder_hours"] == 48
    assert programme["timezone"] == "Europe/London"
    assert programme["invite_title"] == "Appointment"


def test_the_openapi_document_describes_the_operations(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/cases" in document["paths"]
    assert "post" in document["paths"]["/api/v1/cases/{case_id}/enrolment"]
    schemas = document["components"]["schemas"]
    assert "screening" in schemas["CaseIn"]["properties"]


def test_health_says_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_enrolment_lists_page_with_a_next_link(api_as):
    api = api_as("case_officer")
    for n in range(3):
        case = api.post("/cases", case_body(reference=f"P/{n}")).get_json()
        api.post(f"/cases/{case['id']}/enrolment", {"programme_id": 1, "start_date": "2026-12-01"})
    first = api.get("/enrolments?limit=2").get_json()
    assert len(first["items"]) == 2
    assert first["next"]
    second = api.client.get(first["next"], headers=api.headers).get_json()
    assert len(second["items"]) == 1
    assert second["next"] is None
