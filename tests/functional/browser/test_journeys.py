"""The three user journeys in Chromium, using only what a person sees on the page.

Data the journey does not itself create is prepared through the JSON API (as
another system would), and time is moved with ``clock.set_now``: the server runs
in this process, so it reads the same clock. Moving the clock more than 30
minutes ends a staff web session, so the person signs in again afterwards.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Error as PlaywrightError

from diversion import clock
from diversion.calendar.events import DISCLOSING_WORDS
from tests.conftest import PASSWORD, case_body, make_user
from tests.functional.browser.conftest import ARTIFACTS

MONDAY = "2027-01-04T09:00:00+00:00"  # a Monday in winter (GMT)


# ---- what a person does with a mouse ---------------------------------------

def sign_in(tab, email: str) -> None:
    page = tab.page
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if page.url.endswith("/login/code"):
        # An administrator: read the setup key as a person would and type the app's code.
        import pyotp

        tab.check("second factor")
        secret = page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
        code = pyotp.TOTP(secret).at(clock.unmoved_now())
        page.get_by_label("Code from your authenticator app").fill(code)
        page.get_by_role("button", name="Continue").click()


def answer(page, question: str, choice: str) -> None:
    page.get_by_role("group", name=question).get_by_label(choice, exact=True).check()


def enter_date(page, group: str, day: int, month: int, year: int) -> None:
    dates = page.get_by_role("group", name=group)
    dates.get_by_label("Day").fill(str(day))
    dates.get_by_label("Month").fill(str(month))
    dates.get_by_label("Year").fill(str(year))


def fill_case(page, *, reference: str, given: str, family: str, eligible: bool) -> None:
    page.get_by_label("Case reference").fill(reference)
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    enter_date(page, "Date of birth", 2, 4, 1990)
    page.get_by_label("Email address").fill(f"{given.lower()}@example.com")
    answers = {
        "Any previous conviction for a sexual or violent offence?": "No",
        "Is this a first offence?": "Yes",
        "Highest image category": "Category C",
        "Is contact offending, or trying to contact children, suspected?": "No",
        "Are any children at risk (safeguarding checks)?": "No",
        "Has the prosecutor agreed to defer prosecution?": "Yes",
        "Has the participant consented to the agreement?": "Yes",
    }
    if not eligible:
        answers["Any previous conviction for a sexual or violent offence?"] = "Yes"
        answers["Highest image category"] = "Category A"
    for question, choice in answers.items():
        answer(page, question, choice)


def banner(page) -> str:
    return " ".join(page.locator(".govuk-notification-banner").inner_text().split())


def summary_value(page, key: str) -> str:
    row = page.locator(".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key", has_text=key))
    return " ".join(row.locator(".govuk-summary-list__value").inner_text().split())


# ---- what a person does with only a keyboard -------------------------------

FOCUSED = """() => {
  const e = document.activeElement;
  const ring = (s) => (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0 &&
                       s.outlineColor !== "rgba(0, 0, 0, 0)") ||
                      (s.boxShadow && s.boxShadow !== "none");
  const label = e.labels && e.labels.length ? e.labels[0] : null;
  const visible = ring(getComputedStyle(e)) ||
      getComputedStyle(e).backgroundColor === "rgb(255, 221, 0)" ||
      (label !== null && (ring(getComputedStyle(label, "::before")) ||
                          ring(getComputedStyle(label, "::after"))));
  const legend = e.closest("fieldset")?.querySelector("legend");
  return {
    tag: e.tagName.toLowerCase(),
    text: (e.innerText || e.value || "").replace(/\\s+/g, " ").trim(),
    label: label ? label.innerText.replace(/\\s+/g, " ").trim() : "",
    legend: legend ? legend.innerText.replace(/\\s+/g, " ").trim() : "",
    checked: !!e.checked,
    visible: visible,
  };
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, name: str, *, legend: str | None = None, limit: int = 80) -> dict:
    """Press Tab until the control called ``name`` has focus; each stop must show focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["tag"] == "body":
            continue
        assert now["visible"], f"no visible focus on {now}"
        if name in (now["text"], now["label"]) and (legend is None or now["legend"] == legend):
            return now
    raise AssertionError(f"Tab never reached {name!r} on {page.url}")


def type_into(page, name: str, text: str) -> None:
    """Tab to a text box (Chromium selects what it holds) and type over it."""
    tab_to(page, name)
    page.keyboard.type(text)


def keyboard_sign_in(tab, email: str) -> None:
    page = tab.page
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to main content"
    page.keyboard.press("Enter")
    type_into(page, "Email address", email)
    page.keyboard.press("Tab")
    assert focused(page)["label"] == "Password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def follow(page, name: str, key: str = "Enter") -> None:
    """Tab to a link or button and activate it, waiting for the next page."""
    tab_to(page, name)
    with page.expect_navigation():
        page.keyboard.press(key)


def assert_banner_has_focus(page) -> None:
    # GOV.UK Frontend moves focus to a success banner so a screen reader reads it.
    assert page.evaluate(
        "() => document.activeElement.classList.contains('govuk-notification-banner')")


def fill_of(page, text: str) -> str:
    """Return the fill level (low, mid, full) of the week view's cell reading ``text``."""
    cell = page.locator("td.app-fill", has_text=text)
    assert cell.count() == 1, f"no single cell reads {text!r}"
    return re.search(r"app-fill--(\w+)", cell.get_attribute("class")).group(1)


# ---- the journeys ------------------------------------------------------------

def test_a_case_officer_screens_enrols_acts_on_a_flag_and_downloads_the_referral_summary(
    open_tab, api_as,
):
    clock.set_now(MONDAY)
    officer = make_user(role="case_officer", force="MET")
    coordinator = api_as("coordinator", force=None)
    tab = open_tab("case-officer")
    page = tab.page

    tab.goto("/")
    tab.check("Sign in")
    sign_in(tab, officer.email)
    tab.check("Dashboard")

    page.get_by_role("link", name="Record a case").click()
    tab.check("Record a case")
    page.get_by_role("button", name="Record case").click()
    tab.check("Record a case with errors")
    errors = page.get_by_role("alert").filter(has_text="There is a problem")
    errors.get_by_role("link", name="Enter the case reference").click()
    assert page.evaluate("() => document.activeElement.id") == "reference"

    fill_case(page, reference="MET/1001", given="Alex", family="Reed", eligible=False)
    page.get_by_role("button", name="Record case").click()
    assert "Case recorded: not eligible" in banner(page)
    reasons = page.locator("#ineligible-reasons").inner_text()
    assert "Has a previous conviction for a sexual or violent offence" in reasons
    assert "Images are above the lowest level of seriousness (Category C)" in reasons
    assert page.get_by_role("link", name="Enrol on a programme").count() == 0
    tab.check("Ineligible case with reasons")

    page.get_by_role("link", name="Cases", exact=True).click()
    tab.check("Cases")
    page.get_by_role("link", name="Record a case").click()
    fill_case(page, reference="MET/1002", given="Sam", family="Taylor", eligible=True)
    page.get_by_role("button", name="Record case").click()
    assert "Case recorded: eligible" in banner(page)
    tab.check("Eligible case")

    page.get_by_role("link", name="Enrol on a programme").click()
    tab.check("Enrol")
    enter_date(page, "Start date", 4, 1, 2027)
    page.get_by_role("button", name="Enrol").click()
    assert "Enrolled" in banner(page)
    assert summary_value(page, "Status") == "Enrolled"
    assert summary_value(page, "Core deadline") == "4 May 2027"
    tab.check("Enrolled case")
    href = page.get_by_role("link", name="View enrolment and timeline").get_attribute("href")
    enrolment_id = int(href.rsplit("/", 1)[1])

    # The coordinator's side, through the API: a booking, then an unexcused absence.
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High St"})
    session = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-05T18:00:00",
        "venue_id": venue.get_json()["id"], "capacity": 10}).get_json()
    booking = coordinator.post(f"/enrolments/{enrolment_id}/bookings",
                               {"session_id": session["id"]}).get_json()
    clock.set_now("2027-01-05T19:45:00+00:00")
    marked = coordinator.put(f"/bookings/{booking['id']}/attendance",
                             {"outcome": "absent_unexcused"})
    assert marked.status_code == 200, marked.get_json()

    page.reload()
    assert "You were signed out because your session ended" in banner(page)
    tab.check("Signed out after being idle")
    sign_in(tab, officer.email)
    page.get_by_role("link", name="Dashboard", exact=True).click()
    flags = page.get_by_role("table").filter(has_text="Flags waiting for a decision")
    assert "At risk" in flags.inner_text()
    tab.check("Dashboard with a flag")

    flags.get_by_role("link", name="MET/1002").click()
    assert "A flag is open" in page.locator("#what-happens-next").inner_text()
    tab.check("Enrolment with a flag")
    page.get_by_label("Refer back to prosecution").check()
    page.get_by_label("Reason", exact=True).fill("Missed module 1 without excuse")
    page.get_by_role("button", name="Record decision").click()
    assert "1 open flag is closed." in page.locator("#what-will-happen").inner_text()
    tab.check("Confirm the referral")
    page.get_by_role("button", name="Yes, refer back to prosecution").click()
    assert "Decision recorded: referred back to prosecution" in banner(page)
    assert "Referred back to prosecution on 5 January 2027" in page.locator(
        "#what-happens-next").inner_text()
    tab.check("Enrolment referred")

    page.get_by_role("link", name="View referral summary").click()
    assert "Missed module 1 without excuse" in page.get_by_role("main").inner_text()
    tab.check("Referral summary")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"referral-summary-{enrolment_id}.pdf"
    pdf = ARTIFACTS / f"case-officer-{download.suggested_filename}"
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    page.get_by_role("link", name="Enrolments", exact=True).click()
    page.get_by_label("Status", exact=True).select_option(label="Referred")
    page.get_by_role("button", name="Filter").click()
    tab.check("Enrolments filtered")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download these enrolments (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(
        download_info.value.path().read_text(encoding="utf-8-sig"))))
    assert [(r["Case reference"], r["Status"]) for r in rows] == [("MET/1002", "Referred")]


def test_a_coordinator_publishes_plans_moves_and_marks_a_register_with_only_a_keyboard(
    open_tab, api_as,
):
    clock.set_now(MONDAY)
    coordinator = make_user(role="coordinator", force=None)
    officer = api_as("case_officer")
    api = api_as("coordinator", force=None, email="api.coordinator@example.gov.uk")
    venue = api.post("/venues", {"name": "Civic Centre", "address": "1 High St"}).get_json()
    for module, day in ((2, 12), (3, 19), (4, 26)):
        api.post("/sessions", {"programme_id": 1, "module": module, "venue_id": venue["id"],
                               "starts_at": f"2027-01-{day}T18:00:00", "capacity": 8})
    api.post("/sessions", {"programme_id": 1, "module": 5, "venue_id": venue["id"],
                           "starts_at": "2027-02-02T18:00:00", "capacity": 8})
    case = officer.post("/cases", case_body(reference="MET/2001")).get_json()
    officer.post(f"/cases/{case['id']}/enrolment", {"programme_id": 1, "start_date": "2027-01-04"})
    tab = open_tab("coordinator")
    page = tab.page

    tab.goto("/login")
    tab.check("Sign in")
    keyboard_sign_in(tab, coordinator.email)
    tab.check("Week view")

    follow(page, "Publish a series")
    tab.check("Publish a series")
    type_into(page, "Day", "5")
    type_into(page, "Month", "1")
    type_into(page, "Year", "2027")
    type_into(page, "Start time", "18:00")
    type_into(page, "Number of sessions", "4")
    type_into(page, "Capacity", "2")
    type_into(page, "Facilitator (optional)", "Ann Lee")
    follow(page, "Publish series")
    assert_banner_has_focus(page)
    assert "4 sessions of Module 1 published, from 5 January 2027 to 26 January 2027" in banner(
        page)
    assert fill_of(page, "0 of 2 booked") == "low"
    tab.check("Series published")

    follow(page, "Participants")
    tab.check("Participants")
    follow(page, "Sam Taylor")
    tab.check("Participant")
    follow(page, "Plan remaining modules")
    assert_banner_has_focus(page)
    assert "Planned and booked 5 sessions: Module 1 on Tuesday 5 January 2027 at 6pm" in banner(
        page)
    tab.check("Participant planned")

    follow(page, "Tuesday 5 January 2027 at 6pm")
    tab.check("Session")
    follow(page, "Change date, time or venue")
    tab.check("Change the session")
    type_into(page, "Day", "4")
    follow(page, "Save changes")
    assert_banner_has_focus(page)
    assert "Session changed: Monday 4 January 2027 at 6pm at Civic Centre, 2 places" in banner(
        page)
    tab.check("Session moved")

    clock.set_now("2027-01-04T18:40:00+00:00")  # the session has started
    follow(page, "Back to sessions")
    assert "You were signed out because your session ended" in banner(page)
    tab.check("Signed out after being idle")
    keyboard_sign_in(tab, coordinator.email)
    assert fill_of(page, "1 of 2 booked") == "mid"
    tab.check("Week view after planning")

    follow(page, "Monday 4 January 2027 : Module 1")
    tab.check("Register")
    assert tab_to(page, "Attended", legend="Sam Taylor")["checked"] is False
    page.keyboard.press("Space")
    assert focused(page)["checked"] is True
    follow(page, "Save register")
    assert_banner_has_focus(page)
    assert "Register saved: 1 participant marked" in banner(page)
    tab.check("Register saved")

    follow(page, "Back to sessions")
    assert fill_of(page, "1 of 2 booked") == "mid"
    tab.check("Week view after the register")
    tab_to(page, "Download these sessions (CSV)")
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    rows = list(csv.DictReader(io.StringIO(
        download_info.value.path().read_text(encoding="utf-8-sig"))))
    assert [(r["Date"], r["Start"], r["Module"], r["Booked"], r["Capacity"]) for r in rows] == [
        ("2027-01-04", "18:00", "Module 1", "1", "2")]


def test_a_participant_reaches_their_own_calendar_and_nothing_else(open_tab, api_as, app):
    clock.set_now(MONDAY)
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High St"})
    venue_id = venue.get_json()["id"]

    def enrolled(name: str, starts: list[str]) -> tuple[int, list[int], str]:
        given, family = name.split()
        body = case_body(reference=f"MET/{given.upper()}", email=f"{given.lower()}@example.com")
        body["participant"].update(given_name=given, family_name=family)
        case = officer.post("/cases", body).get_json()
        enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                                 {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
        booked = []
        for module, starts_at in enumerate(starts, start=1):
            session = coordinator.post("/sessions", {
                "programme_id": 1, "module": module, "starts_at": starts_at,
                "venue_id": venue_id, "capacity": 10}).get_json()
            booked.append(coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                           {"session_id": session["id"]}).get_json()["id"])
        link = coordinator.post(f"/enrolments/{enrolment['id']}/calendar-token").get_json()
        return enrolment["id"], booked, link["url"].rsplit("/", 1)[1].removesuffix(".ics")

    _, sam_bookings, sam_token = enrolled(
        "Sam Taylor", ["2027-01-05T18:00:00", "2027-01-12T18:00:00"])
    _, jo_bookings, jo_token = enrolled("Jo Brown", ["2027-01-06T10:30:00"])
    tab = open_tab("participant")
    page = tab.page

    feed = page.request.get(f"{tab.base_url}/calendar/{sam_token}.ics")
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    body = feed.text()
    (ARTIFACTS / "participant-feed.ics").write_text(body)
    assert body.count("BEGIN:VEVENT") == 2
    assert "DTSTART;TZID=Europe/London:20270105T180000" in body
    assert "DTSTART;TZID=Europe/London:20270112T180000" in body
    assert "20270106T103000" not in body  # Jo's appointment
    assert "SUMMARY:Appointment" in body and "Civic Centre" in body
    words = set(re.findall(r"[a-z]+", body.lower()))
    assert not words & DISCLOSING_WORDS
    assert "taylor" not in words and "brown" not in words

    invite = invitation_sent(app, sam_bookings[0])
    assert "METHOD:REQUEST" in invite
    uid = re.search(r"^UID:(.+)$", invite, re.M).group(1).strip()
    assert f"UID:{uid}" in body  # the emailed invitation and the feed are one appointment

    with page.expect_download() as download_info, pytest.raises(PlaywrightError):
        tab.goto(f"/calendar/{sam_token}.ics")  # a calendar file: the browser hands it on
    assert download_info.value.path().read_text().startswith("BEGIN:VCALENDAR")

    for path in ("/cases", "/cases/dashboard", "/coordinator/sessions",
                 "/coordinator/participants", "/admin/users"):
        tab.goto(path)
        assert page.url.startswith(f"{tab.base_url}/login"), path
    tab.check("Sign in instead of staff pages")
    for path in ("/api/v1/enrolments", f"/api/v1/bookings/{sam_bookings[0]}/invite.ics",
                 "/api/v1/sessions"):
        assert page.request.get(tab.base_url + path).status == 401, path
    for token in (sam_token[:-1] + ("A" if sam_token[-1] != "A" else "B"), "x" * 43, ""):
        assert page.request.get(f"{tab.base_url}/calendar/{token}.ics").status == 404
    assert jo_token not in body and len(jo_bookings) == 1
    tab.goto("/calendar/not-a-real-link.ics")
    tab.check("Calendar link not found")


def invitation_sent(app, booking_id: int) -> str:
    """Return the calendar object in the invitation email queued for this booking."""
    import sqlalchemy as sa

    from diversion.extensions import db
    from diversion.models import OutboxMessage
    from diversion.notify.messages import build

    with app.app_context():
        row = db.session.scalar(sa.select(OutboxMessage).where(
            OutboxMessage.booking_id == booking_id, OutboxMessage.kind == "invitation"))
        email = build(row, sender="appointments@diversion.invalid", now=clock.now()).message
        db.session.remove()
    attachment = next(p for p in email.iter_attachments() if p.get_filename() == "invite.ics")
    content = attachment.get_content()
    return content if isinstance(content, str) else content.decode()


# These pages' markup does not depend on the database: SQLite alone keeps the run short.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_pages_outside_the_journeys_pass_the_same_checks(open_tab, api_as):
    clock.set_now(MONDAY)
    officer = api_as("case_officer")
    api = api_as("coordinator", force=None, email="api.coordinator@example.gov.uk")
    venue = api.post("/venues", {"name": "Civic Centre", "address": "1 High St",
                                 "rooms": ["Room 2"]}).get_json()
    session = api.post("/sessions", {"programme_id": 1, "module": 1, "venue_id": venue["id"],
                                     "starts_at": "2027-01-05T18:00:00", "capacity": 8})
    case = officer.post("/cases", case_body(reference="MET/3001")).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    booking = api.post(f"/enrolments/{enrolment['id']}/bookings",
                       {"session_id": session.get_json()["id"]}).get_json()
    people = {
        "case_officer": ["/cases", "/cases?q=nobody", "/cases/enrolments"],
        "coordinator": [
            "/coordinator/sessions?week=2027-01-04&view=month", "/coordinator/venues",
            "/coordinator/sessions/new", f"/coordinator/sessions/{booking['session_id']}/cancel",
            f"/coordinator/bookings/{booking['id']}/cancel", "/coordinator/participants?q=no",
        ],
        "admin": ["/admin/users", "/admin/users/new", "/admin/forces"],
    }
    for role, paths in people.items():
        user = make_user(role=role, force="MET" if role == "case_officer" else None,
                         email=f"web.{role}@example.gov.uk")
        tab = open_tab(f"pages-{role.replace('_', '-')}")
        tab.goto("/login")
        sign_in(tab, user.email)
        for path in paths:
            tab.goto(path)
            tab.check(path)
    tab = open_tab("pages-errors")
    tab.goto("/login")
    sign_in(tab, make_user(role="coordinator", force=None, email="c2@example.gov.uk").email)
    tab.goto("/coordinator/participants")
    tab.check("Participants with the plan button")
    tab.page.get_by_role("button", name="Plan everyone on this page").click()
    tab.page.wait_for_load_state()
    tab.check("Check who you are planning for")
    tab.page.get_by_role("button", name="Plan and send invitations").click()
    tab.page.wait_for_load_state()
    assert "0 participants were booked, 1 could not be planned" in tab.page.inner_text("main")
    tab.check("Planning results")
    tab.goto("/coordinator/sessions/new")
    tab.page.get_by_role("button", name="Publish session").click()
    assert "There is a problem" in tab.page.get_by_role("alert").first.inner_text()
    tab.check("Publish a session with errors")
