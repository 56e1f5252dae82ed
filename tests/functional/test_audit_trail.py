"""The audit trail answers "who consulted this case?": refusals, lists, exports and itself."""

from __future__ import annotations

import pytest

from tests.conftest import Api, enrol_case, make_token


@pytest.fixture
def people(client):
    """A MET officer with an enrolled case, a nosy KENT officer, a coordinator, an admin."""
    officer = Api(client, make_token(role="case_officer", force="MET"))
    nosy = Api(client, make_token(role="case_officer", force="KENT", email="nosy@example.gov.uk"))
    coordinator = Api(client, make_token(role="coordinator", force=None,
                                         email="coord@example.gov.uk"))
    admin = Api(client, make_token(role="admin", force=None, email="auditor@example.gov.uk"))
    enrolment = enrol_case(officer)
    return {"officer": officer, "nosy": nosy, "coordinator": coordinator, "admin": admin,
            "enrolment": enrolment, "case_id": enrolment["case_id"]}


def trail(people, **query) -> list[dict]:
    params = "&".join(f"{key}={value}" for key, value in query.items())
    response = people["admin"].get(f"/audit?limit=500&{params}")
    assert response.status_code == 200
    return response.get_json()["items"]


def by(items: list[dict], actor: str, action: str) -> list[dict]:
    return [i for i in items if i["actor"] == actor and i["action"] == action]


# ---- refusals --------------------------------------------------------------------


def test_another_forces_refused_read_of_a_case_is_found_by_its_case_id(people):
    case_id = people["case_id"]
    assert people["nosy"].get(f"/cases/{case_id}").status_code == 404
    (row,) = by(trail(people, case_id=case_id), "nosy@example.gov.uk", "refused")
    assert (row["object_type"], row["object_id"]) == ("case", str(case_id))
    assert row["detail"]["status"] == 404


def test_another_forces_refused_read_of_an_enrolment_is_found_by_its_case_id(people):
    enrolment_id = people["enrolment"]["id"]
    assert people["nosy"].get(f"/enrolments/{enrolment_id}").status_code == 404
    (row,) = by(trail(people, case_id=people["case_id"]), "nosy@example.gov.uk", "refused")
    assert (row["object_type"], row["object_id"]) == ("enrolment", str(enrolment_id))


def test_another_forces_refused_decision_is_audited_with_the_case_and_changes_nothing(people):
    enrolment_id = people["enrolment"]["id"]
    response = people["nosy"].post(f"/enrolments/{enrolment_id}/decisions",
                                   {"decision": "refer", "reason": "curious"})
    assert response.status_code == 404
    (row,) = by(trail(people, case_id=people["case_id"]), "nosy@example.gov.uk", "refused")
    assert row["detail"]["method"] == "POST"
    assert people["officer"].get(f"/enrolments/{enrolment_id}").get_json()["status"] == (
        "enrolled")


def test_a_role_refused_an_api_record_is_audited_with_the_records_case(people):
    case_id = people["case_id"]
    assert people["coordinator"].get(f"/cases/{case_id}").status_code == 403
    (row,) = by(trail(people, case_id=case_id), "coord@example.gov.uk", "refused")
    assert (row["object_type"], row["object_id"]) == ("case", str(case_id))
    assert row["detail"]["status"] == 403


def test_a_role_refused_an_operation_without_a_record_is_audited_too(people):
    assert people["officer"].get("/audit").status_code == 403
    rows = by(trail(people, actor="case_officer.met@example.gov.uk"),
              "case_officer.met@example.gov.uk", "refused")
    assert [(r["object_type"], r["case_id"], r["detail"]["path"]) for r in rows] == [
        ("request", None, "/api/v1/audit")]


def test_a_refused_read_of_a_case_that_does_not_exist_is_audited_without_a_case(people):
    assert people["officer"].get("/cases/987654").status_code == 404
    assert people["officer"].get("/enrolments/987655").status_code == 404
    rows = by(trail(people, actor="case_officer.met@example.gov.uk"),
              "case_officer.met@example.gov.uk", "refused")
    assert [(r["object_id"], r["case_id"]) for r in rows] == [
        ("987654", None), ("987655", None)]


def test_a_page_refused_to_a_role_is_audited_with_the_records_case(people, client, login_as):
    login_as("coordinator", force=None, email="page.coord@example.gov.uk")
    assert client.get(f"/cases/{people['case_id']}").status_code == 403
    (row,) = by(trail(people, case_id=people["case_id"]), "page.coord@example.gov.uk",
                "refused")
    assert row["detail"] == {"status": 403, "method": "GET",
                             "path": f"/cases/{people['case_id']}"}


def test_another_forces_case_page_is_a_404_audited_with_the_case(people, client, login_as):
    login_as("case_officer", force="KENT", email="page.nosy@example.gov.uk")
    assert client.get(f"/cases/{people['case_id']}").status_code == 404
    assert len(by(trail(people, case_id=people["case_id"]), "page.nosy@example.gov.uk",
                  "refused")) == 1


# ---- lists, searches and exports ----------------------------------------------------


def _reads_of_case(people, actor: str) -> list[str]:
    return [r["detail"].get("via") for r in by(trail(people, case_id=people["case_id"]),
                                               actor, "read")]


def test_each_enrolment_an_api_list_returns_is_a_read_of_its_case(people):
    assert people["coordinator"].get("/enrolments").status_code == 200
    assert _reads_of_case(people, "coord@example.gov.uk") == ["enrolment_list"]


def test_a_case_found_by_a_search_is_a_read_of_that_case(people, client, login_as):
    login_as("case_officer", force="MET", email="searcher@example.gov.uk")
    assert "Taylor" in client.get("/cases?q=taylor").get_data(as_text=True)
    assert client.get("/cases?q=nobody-matches").status_code == 200
    assert _reads_of_case(people, "searcher@example.gov.uk") == ["case_list"]
    searches = [r["detail"]["search"] for r in by(trail(people, actor="searcher@example.gov.uk"),
                                                  "searcher@example.gov.uk", "read")
                if r["object_type"] == "case_list"]
    assert searches == ["taylor", "nobody-matches"]


def test_each_case_an_export_holds_is_a_read_of_that_case(people, client, login_as):
    login_as("coordinator", force=None, email="exporter@example.gov.uk")
    assert "Sam Taylor" in client.get("/coordinator/participants.csv").get_data(as_text=True)
    assert _reads_of_case(people, "exporter@example.gov.uk") == ["export"]


def test_the_flag_queue_is_a_read_of_each_flagged_case(people, app):
    from diversion import clock
    from diversion.extensions import db
    from diversion.models import Flag

    with app.app_context():
        db.session.add(Flag(enrolment_id=people["enrolment"]["id"], kind="at_risk",
                            cause="unexcused_absence", detail="Missed module 1",
                            raised_at=clock.now()))
        db.session.commit()
        db.session.remove()
    assert len(people["officer"].get("/flags?status=open").get_json()["items"]) == 1
    assert _reads_of_case(people, "case_officer.met@example.gov.uk") == ["flag_list"]


# ---- reading the trail -------------------------------------------------------------


def test_reading_the_audit_trail_is_itself_audited_with_what_was_asked(people):
    case_id = people["case_id"]
    first = people["admin"].get(f"/audit?case_id={case_id}").get_json()["items"]
    assert not any(i["object_type"] == "audit_events" for i in first)
    again = by(trail(people, case_id=case_id), "auditor@example.gov.uk", "read")
    assert [(r["object_type"], r["case_id"], r["detail"]["case_id"], r["detail"]["count"])
            for r in again] == [("audit_events", case_id, case_id, len(first))]
