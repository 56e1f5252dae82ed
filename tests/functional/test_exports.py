"""CSV exports of the lists: same filters as the page, formula-safe cells, recorded reads."""

from __future__ import annotations

import csv
import io

import pytest

from diversion import clock
from diversion.services.exports import Export, safe_cell
from tests.conftest import Api, case_body, make_token

NOW = "2027-01-04T09:00:00+00:00"


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def enrol(officer: Api, *, reference: str, given: str, family: str = "Taylor") -> int:
    body = case_body(reference=reference, email=f"{reference.replace('/', '.')}@example.com")
    body["participant"].update(given_name=given, family_name=family)
    case = officer.post("/cases", body).get_json()
    response = officer.post(f"/cases/{case['id']}/enrolment",
                            {"programme_id": 1, "start_date": "2027-01-04"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def audit_rows(client, object_type: str) -> list[dict]:
    admin = Api(client, make_token(role="admin", force=None, email="admin@example.gov.uk"))
    return [e for e in admin.get("/audit?limit=500").get_json()["items"]
            if e["object_type"] == object_type and (e.get("detail") or {}).get("export")]


@pytest.mark.parametrize("value, written", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+44 7700 900982", "'+44 7700 900982"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tTab", "'\tTab"),
    ("Sam", "Sam"),
    (7, "7"),
    (None, ""),
])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_starts_with_a_quote(value, written):
    assert safe_cell(value) == written


def test_an_export_writes_a_byte_order_mark_a_header_and_crlf_lines():
    export = Export("x.csv", ("Name", "Note"), [("=1+1", "a, b")])
    assert export.as_csv() == "\ufeffName,Note\r\n'=1+1,\"a, b\"\r\n"


def test_a_case_officer_exports_the_forces_enrolments_with_the_lists_filters(
    client, api_as, login_as,
):
    clock.set_now(NOW)
    officer = api_as("case_officer")
    enrol(officer, reference="MET/1", given="Sam")
    enrol(officer, reference="MET/2", given="=cmd|'/C calc'!A0")
    enrol(api_as("case_officer", force="KENT", email="kent@example.gov.uk"),
          reference="KENT/1", given="Kim")
    login_as("case_officer", email="web.officer@example.gov.uk")

    everyone = rows_of(client.get("/cases/enrolments.csv"))
    assert [r["Case reference"] for r in everyone] == ["MET/1", "MET/2"]
    assert everyone[0]["Status"] == "Enrolled"
    assert everyone[0]["Core deadline"] == "2027-05-04"
    assert everyone[1]["Participant"] == "'=cmd|'/C calc'!A0 Taylor"

    searched = rows_of(client.get("/cases/enrolments.csv?q=met/1"))
    assert [r["Case reference"] for r in searched] == ["MET/1"]
    assert rows_of(client.get("/cases/enrolments.csv?status=referred")) == []
    assert rows_of(client.get("/cases/enrolments.csv?flag=at_risk")) == []

    page = client.get("/cases/enrolments?q=met/1&status=enrolled").get_data(as_text=True)
    assert 'href="/cases/enrolments.csv?status=enrolled&amp;q=met/1"' in page

    reads = audit_rows(client, "enrolment_list")
    assert len(reads) == 4
    assert reads[1]["detail"]["search"] == "met/1"


def test_the_coordinators_session_export_is_the_week_shown_with_its_filters(
    client, api_as, login_as,
):
    clock.set_now(NOW)
    api = api_as("coordinator", force=None, email="api.coordinator@example.gov.uk")
    venue = api.post("/venues", {"name": "Civic Centre", "address": "1 High St"}).get_json()
    for module, starts_at in ((1, "2027-01-05T18:00:00"), (2, "2027-01-07T10:30:00"),
                              (1, "2027-01-12T18:00:00")):
        api.post("/sessions", {"programme_id": 1, "module": module, "starts_at": starts_at,
                               "venue_id": venue["id"], "capacity": 8, "facilitator": "@Ann"})
    login_as("coordinator", force=None)

    week = client.get("/coordinator/sessions.csv?week=2027-01-06")
    assert 'filename="sessions-2027-01-04-to-2027-01-10.csv"' in week.headers[
        "Content-Disposition"]
    rows = rows_of(week)
    assert [(r["Date"], r["Start"], r["End"], r["Module"]) for r in rows] == [
        ("2027-01-05", "18:00", "19:30", "Module 1"), ("2027-01-07", "10:30", "12:00", "Module 2")]
    assert rows[0]["Facilitator"] == "'@Ann"
    assert rows[0]["Places left"] == "8" and rows[0]["Status"] == "Scheduled"
    filtered = rows_of(client.get("/coordinator/sessions.csv?week=2027-01-06&module=2"))
    assert [r["Module"] for r in filtered] == ["Module 2"]
    month = rows_of(client.get("/coordinator/sessions.csv?week=2027-01-20&view=month"))
    assert len(month) == 3
    assert 'href="/coordinator/sessions.csv?week=2027-01-04&amp;module=2"' in client.get(
        "/coordinator/sessions?module=2").get_data(as_text=True)
    assert len(audit_rows(client, "session_list")) == 3


def test_the_coordinators_participant_export_has_no_case_reference_and_follows_the_search(
    client, api_as, login_as,
):
    clock.set_now(NOW)
    officer = api_as("case_officer")
    enrol(officer, reference="MET/1", given="Sam")
    enrol(officer, reference="MET/2", given="Jo", family="Brown")
    login_as("coordinator", force=None)

    rows = rows_of(client.get("/coordinator/participants.csv"))
    assert [r["Participant"] for r in rows] == ["Sam Taylor", "Jo Brown"]
    assert "Case reference" not in rows[0]
    assert "MET/1" not in client.get("/coordinator/participants.csv").get_data(as_text=True)
    assert [r["Participant"] for r in rows_of(
        client.get("/coordinator/participants.csv?q=brown"))] == ["Jo Brown"]
    reads = audit_rows(client, "enrolment_list")
    assert [r["detail"]["search"] for r in reads] == [None, None, "name"]


def test_each_export_is_for_its_own_role_only(client, login_as):
    login_as("coordinator", force=None)
    assert client.get("/cases/enrolments.csv").status_code == 403
    with client.session_transaction() as session:
        session.clear()
    login_as("case_officer")
    assert client.get("/coordinator/sessions.csv").status_code == 403
    assert client.get("/coordinator/participants.csv").status_code == 403
    with client.session_transaction() as session:
        session.clear()
    assert client.get("/cases/enrolments.csv").status_code == 302
