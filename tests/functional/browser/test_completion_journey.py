"""A case officer sees a completion on the dashboard and on the enrolment page, in Chromium."""

from __future__ import annotations

import pytest

from diversion import clock
from tests.conftest import case_body, make_user
from tests.functional.browser.test_journeys import MONDAY, sign_in


# The pages' markup does not depend on the database: SQLite alone keeps the run short.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_case_officer_sees_a_completion_on_the_dashboard_and_the_enrolment(open_tab, api_as):
    clock.set_now(MONDAY)
    officer = make_user(role="case_officer", force="MET")
    api = api_as("case_officer", email="api.officer@example.gov.uk")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High St"})
    case = api.post("/cases", case_body(reference="MET/5001")).get_json()
    enrolment = api.post(f"/cases/{case['id']}/enrolment",
                         {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    starts = ["2027-02-02T10:00:00", "2027-02-09T10:00:00", "2027-02-16T10:00:00",
              "2027-02-23T10:00:00", "2027-03-02T10:00:00"]
    modules: list[int | str] = [1, 2, 3, 4, 5]
    for module, starts_at in [*zip(modules, starts, strict=True),
                              ("follow_up", "2027-11-02T10:00:00")]:
        session = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": starts_at,
            "venue_id": venue.get_json()["id"], "capacity": 10}).get_json()
        booking = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                   {"session_id": session["id"]}).get_json()
        clock.set_now(booking["ends_at"])
        coordinator.put(f"/bookings/{booking['id']}/attendance", {"outcome": "attended"})
    clock.set_now("2027-11-03T09:00:00+00:00")
    tab = open_tab("completion")
    page = tab.page

    tab.goto("/")
    sign_in(tab, officer.email)
    completed = page.get_by_role("table").filter(has_text="completed since the last daily")
    assert "MET/5001" in completed.inner_text()
    assert page.get_by_role(
        "heading", name="Completed since Tuesday 2 November 2027 at 7am").count() == 1
    tab.check("Dashboard with a completion")

    completed.get_by_role("link", name="MET/5001").click()
    banner = page.get_by_role("region", name="Completed")
    assert "This enrolment is completed" in banner.inner_text()
    tab.check("Completed enrolment")
