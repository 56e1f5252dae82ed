"""An erased case shows as erased wherever it appears, and no page fails on it."""

from __future__ import annotations

import pytest

from diversion import clock
from diversion.jobs import tasks
from tests.conftest import case_body, in_app

PERSONAL = ("Sam", "Taylor", "sam@example.com", "ERASE/1", "1990", "Agreement ended")


@in_app
def _run_retention() -> str | None:
    return tasks.retention()


@pytest.fixture
def erased(client, api_as):
    """Sam's enrolment, referred in January 2027 and erased six years later."""
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = api_as("case_officer")
    case = officer.post("/cases", case_body(reference="ERASE/1")).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    decided = officer.post(f"/enrolments/{enrolment['id']}/decisions",
                           {"decision": "refer", "reason": "Agreement ended"})
    assert decided.status_code in (200, 201), decided.get_json()
    clock.set_now("2033-01-05T02:30:00+00:00")
    assert "1 closed enrolment" in _run_retention()
    return {"officer": officer, "enrolment": enrolment, "case": case}


def _shows_erased(response) -> str:
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert [value for value in PERSONAL if value in text] == []
    return text


def test_the_case_officers_pages_show_the_erased_enrolment_without_personal_data(
        erased, client, login_as):
    login_as("case_officer", email="web.officer@example.gov.uk")
    enrolment_id = erased["enrolment"]["id"]
    assert "Erased" in _shows_erased(client.get("/cases/enrolments?status=referred"))
    assert "Erased" in _shows_erased(client.get(f"/cases/enrolments/{enrolment_id}"))
    assert "erased" in _shows_erased(
        client.get(f"/cases/enrolments/{enrolment_id}/referral-summary"))
    _shows_erased(client.get("/cases/dashboard"))
    _shows_erased(client.get("/cases/enrolments.csv?status=referred"))


def test_the_coordinators_pages_show_the_erased_participant_as_erased(
        erased, client, login_as):
    login_as("coordinator", force=None)
    enrolment_id = erased["enrolment"]["id"]
    assert "Erased" in _shows_erased(client.get("/coordinator/participants?status=referred"))
    assert "Erased" in _shows_erased(client.get(f"/coordinator/participants/{enrolment_id}"))


def test_the_api_answers_for_an_erased_enrolment_without_personal_data(erased):
    officer, enrolment_id = erased["officer"], erased["enrolment"]["id"]
    shown = officer.get(f"/enrolments/{enrolment_id}")
    assert shown.status_code == 200
    assert [v for v in PERSONAL if v in shown.get_data(as_text=True)] == []
    summary = officer.get(f"/enrolments/{enrolment_id}/referral-summary")
    assert summary.status_code == 200
    body = summary.get_json()
    assert body["participant"]["erased"] is True
    assert body["participant"]["date_of_birth"] is None
    assert [v for v in PERSONAL if v in summary.get_data(as_text=True)] == []
    # The case itself is gone from the case officer's view.
    assert officer.get(f"/cases/{erased['case']['id']}").status_code == 404
