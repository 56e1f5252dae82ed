"""An administrator changes a programme's settings, and adds one for Wales, in Chromium.

Every page goes through the same checks as the other journeys (axe, one h1, a skip
link, no sideways scrolling at 320px, no script errors) and leaves a screenshot.
"""

from __future__ import annotations

from diversion import clock
from tests.conftest import enrol_case, make_user
from tests.functional.browser.test_journeys import MONDAY, banner, sign_in, summary_value


def test_an_administrator_lengthens_the_core_deadline_and_adds_a_programme_for_wales(
        open_tab, api_as):
    clock.set_now(MONDAY)
    officer = api_as("case_officer")
    enrolled_before = enrol_case(officer, "MET/4001")
    admin = make_user(role="admin", force=None, email="settings.admin@example.gov.uk")
    tab = open_tab("programme-settings")
    page = tab.page
    tab.goto("/login")
    sign_in(tab, admin.email)

    page.get_by_role("link", name="Programmes", exact=True).click()
    tab.check("programmes")
    page.get_by_role("link", name="Online safety course").click()
    tab.check("programme")
    assert summary_value(page, "Months to finish the core modules") == "4 months"
    assert "1 enrolment is in progress" in page.locator("main").inner_text()

    page.get_by_role("link", name="Change settings").click()
    tab.check("settings form")
    page.get_by_label("Months to finish the core modules").fill("6")
    page.get_by_label("Calendar title", exact=True).fill("Police appointment")
    page.get_by_role("button", name="Continue").click()
    tab.check("settings refused")
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "must not contain words that reveal what the programme is: police" in summary
    assert page.get_by_label("Months to finish the core modules").input_value() == "6"

    page.get_by_label("Calendar title", exact=True).fill("Appointment")
    page.get_by_role("button", name="Continue").click()
    tab.check("check your changes")
    row = page.locator("tr", has_text="Months to finish the core modules")
    assert " ".join(row.inner_text().split()).startswith(
        "Months to finish the core modules 4 months 6 months The core deadline of new "
        "enrolments. Existing enrolments keep the deadline they were enrolled under.")
    assert page.locator("tbody tr").count() == 1

    page.get_by_role("button", name="Save changes").click()
    tab.check("settings saved")
    assert "Settings saved for Online safety course: Months to finish the core modules" in (
        banner(page))
    assert summary_value(page, "Months to finish the core modules") == "6 months"

    # The participant enrolled before the change keeps the deadline they were told.
    kept = officer.get(f"/enrolments/{enrolled_before['id']}").get_json()
    assert kept["core_deadline"] == enrolled_before["core_deadline"] == "2027-05-04"
    assert enrol_case(officer, "MET/4002")["core_deadline"] == "2027-07-04"

    page.get_by_role("link", name="Programmes", exact=True).click()
    page.get_by_role("link", name="Add a programme").click()
    tab.check("add a programme")
    page.get_by_label("Name", exact=True).fill("Online safety course (Wales)")
    page.get_by_role("group", name="Public holidays of").get_by_label("Wales (GB-WLS)").check()
    page.get_by_role("button", name="Add programme").click()
    tab.check("programme added")
    assert "Online safety course (Wales) added" in banner(page)
    assert summary_value(page, "Public holidays of") == "Wales (GB-WLS)"
    assert summary_value(page, "Calendar title in Welsh") == "Apwyntiad"


def test_a_coordinator_chooses_the_programme_a_new_session_belongs_to(open_tab, api_as):
    clock.set_now(MONDAY)
    admin = api_as("admin", force=None)
    wales = admin.post("/programmes", {"name": "Online safety course (Wales)",
                                       "holiday_region": "GB-WLS"}).get_json()
    coordinator_api = api_as("coordinator", force=None, email="api.coordinator@example.gov.uk")
    coordinator_api.post("/venues", {"name": "Civic Centre", "address": "1 High St"})
    coordinator = make_user(role="coordinator", force=None,
                            email="web.coordinator@example.gov.uk")
    tab = open_tab("publish-choose-programme")
    page = tab.page
    tab.goto("/login")
    sign_in(tab, coordinator.email)

    tab.goto("/coordinator/sessions/new")
    tab.check("publish a session")
    programme = page.get_by_label("Programme")
    assert programme.input_value() == ""  # with two programmes, nothing is chosen for you
    programme.select_option(label="Online safety course (Wales)")
    page.get_by_label("Module").select_option(value="1")
    dates = page.get_by_role("group", name="Date")
    dates.get_by_label("Day").fill("12")
    dates.get_by_label("Month").fill("1")
    dates.get_by_label("Year").fill("2027")
    page.get_by_label("Start time").fill("18:00")
    page.get_by_label("Capacity").fill("8")
    page.get_by_role("button", name="Publish session").click()
    tab.check("session published")
    assert "module 1 published" in banner(page).lower()
    sessions = coordinator_api.get("/sessions", query_string={"programme_id": wales["id"]})
    assert [s["programme_id"] for s in sessions.get_json()["items"]] == [wales["id"]]
