"""A case officer withdraws an enrolment in Chromium, through the confirmation page.

The bookings are made through the JSON API, as the coordinator's system would; the
case officer uses only what the pages show. Every page passes the checks in
``Pages.check`` (axe-core among them).
"""

from __future__ import annotations

from diversion import clock
from tests.conftest import case_body, make_user
from tests.functional.browser.test_journeys import MONDAY, banner, sign_in


def test_a_case_officer_withdraws_an_enrolment_after_confirming_what_will_happen(
    open_tab, api_as,
):
    clock.set_now(MONDAY)
    officer = make_user(role="case_officer", force="MET")
    api = api_as("case_officer", email="api.officer@example.gov.uk")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High St"})
    case = api.post("/cases", case_body(reference="MET/4001")).get_json()
    enrolment = api.post(f"/cases/{case['id']}/enrolment",
                         {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    for module, day in ((1, "05"), (2, "12")):
        session = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": f"2027-01-{day}T18:00:00",
            "venue_id": venue.get_json()["id"], "capacity": 10}).get_json()
        coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                         {"session_id": session["id"]})
    tab = open_tab("withdrawal")
    page = tab.page

    tab.goto("/")
    sign_in(tab, officer.email)
    page.get_by_role("link", name="Enrolments", exact=True).click()
    page.get_by_role("link", name="MET/4001").click()
    tab.check("Enrolment to withdraw")

    page.get_by_label("Withdraw from the programme").check()
    page.get_by_role("button", name="Record decision").click()
    assert "Give the reason for the decision" in page.get_by_role("alert").first.inner_text()
    tab.check("Withdrawal without a reason")

    page.get_by_label("Withdraw from the programme").check()
    page.get_by_label("Reason", exact=True).fill("The prosecutor ended the agreement")
    page.get_by_role("button", name="Record decision").click()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Are you sure you want to withdraw Sam Taylor from the programme?"
    happens = " ".join(page.locator("#what-will-happen").inner_text().split())
    assert "2 future sessions are cancelled" in happens
    assert "Sam Taylor is emailed a cancellation for each of them" in happens
    assert "There are no open flags to close." in happens
    tab.check("Confirm the withdrawal")

    page.get_by_role("button", name="Change the decision").click()
    assert page.get_by_label("Reason", exact=True).input_value() == (
        "The prosecutor ended the agreement")
    assert page.get_by_label("Withdraw from the programme").is_checked()
    page.get_by_role("button", name="Record decision").click()
    page.get_by_role("button", name="Yes, withdraw from the programme").click()

    assert "Decision recorded: withdrawn from the programme" in banner(page)
    assert "Withdrawn from the programme on 4 January 2027" in page.locator(
        "#what-happens-next").inner_text()
    timeline = page.locator("#timeline").inner_text()
    assert "Decision: withdraw by" in timeline
    assert "Module 2 booking cancelled: Arrangement ended" in timeline
    assert page.get_by_role("button", name="Record decision").count() == 0
    tab.check("Enrolment withdrawn")

    page.get_by_role("link", name="Enrolments", exact=True).click()
    page.get_by_label("Status", exact=True).select_option(label="Withdrawn")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert page.get_by_role("link", name="MET/4001").count() == 1
    tab.check("Withdrawn enrolments")
