"""A coordinator reads the capacity forecast and publishes a suggested session from it,
in Chromium, using only what a person sees on the page."""

from __future__ import annotations

from playwright.sync_api import expect

from diversion import clock
from tests.conftest import enrol_case, make_user
from tests.functional.browser.test_journeys import MONDAY, sign_in

# Pages load slowly on a busy machine: assertions about a page just opened wait for it.
SLOW = 15_000


def week_row(page, module: str, week: str):
    """Return the row of a module's forecast table for the week starting on ``week``."""
    table = page.get_by_role("region", name=f"{module} by week")
    return table.get_by_role("row").filter(has=page.get_by_role("cell", name=week, exact=True))


def figures(row) -> list[str]:
    return [row.get_by_role("cell").nth(n).inner_text().strip() for n in range(1, 4)]


def test_a_coordinator_publishes_a_suggested_session_from_the_forecast(open_tab, api_as):
    clock.set_now(MONDAY)
    coordinator = make_user(role="coordinator", force=None)
    officer = api_as("case_officer")
    api = api_as("coordinator", force=None, email="api.coordinator@example.gov.uk")
    venue = api.post("/venues", {"name": "Civic Centre", "address": "1 High St"}).get_json()
    enrolments = [enrol_case(officer, reference=f"MET/{n}") for n in range(3)]
    session = api.post("/sessions", {"programme_id": 1, "module": 1, "venue_id": venue["id"],
                                     "starts_at": "2027-01-05T18:00:00", "capacity": 2})
    api.post(f"/enrolments/{enrolments[0]['id']}/bookings",
             {"session_id": session.get_json()["id"]})
    tab = open_tab("forecast")
    page = tab.page

    tab.goto("/login")
    sign_in(tab, coordinator.email)
    page.get_by_role("link", name="Forecast", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Capacity forecast", timeout=SLOW)
    chart = page.get_by_role("img", name="Module 1: places needed and places free, by week")
    expect(chart).to_have_count(1)
    assert figures(week_row(page, "Module 1", "4 Jan 2027")) == ["2", "1", "1"]
    tab.check("Forecast")

    page.get_by_label("Weeks ahead").fill("60")
    page.get_by_role("button", name="Show forecast").click()
    page.get_by_role("alert").get_by_role(
        "link", name="Weeks ahead must be between 1 and 52").click()
    assert page.evaluate("() => document.activeElement.id") == "weeks"
    tab.check("Forecast with an error")
    page.get_by_label("Weeks ahead").fill("4")
    page.get_by_role("button", name="Show forecast").click()
    expect(page.get_by_role("heading", name="4 weeks from Monday 4 January 2027")).to_have_count(
        1, timeout=SLOW)

    page.get_by_role(
        "link", name="Publish a session of module 1 in the week of 4 January 2027").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish a session", timeout=SLOW)
    assert page.get_by_label("Module").input_value() == "1"
    dates = page.get_by_role("group", name="Date")
    assert [dates.get_by_label(part).input_value() for part in ("Day", "Month", "Year")] == [
        "05", "01", "2027"]
    assert page.get_by_label("Start time").input_value() == "18:00"
    assert page.get_by_label("Capacity").input_value() == "2"
    assert page.get_by_label("Venue").input_value() == str(venue["id"])
    tab.check("Publish form filled in from the forecast")
    page.get_by_label("Room (optional)").fill("Room 2")
    page.get_by_role("button", name="Publish session").click()

    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Module 1 published for Tuesday 5 January 2027 at 6pm", timeout=SLOW)
    expect(page.get_by_role("heading", name="4 weeks from Monday 4 January 2027")).to_have_count(1)
    assert figures(week_row(page, "Module 1", "4 Jan 2027")) == ["2", "3", "0"]
    assert page.get_by_role(
        "link", name="Publish a session of module 1 in the week of 4 January 2027").count() == 0
    tab.check("Forecast after publishing")
    published = api.get("/sessions?from=2027-01-05&to=2027-01-05").get_json()["items"]
    assert [(s["module"], s["capacity"], s["room"]) for s in published] == [
        (1, 2, ""), (1, 2, "Room 2")]
