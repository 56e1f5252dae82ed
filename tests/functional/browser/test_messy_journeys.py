"""The messy path in Chromium: an overdue register, a missed module with later ones booked,
and a move that breaks the rules for some of the six people booked.

As in ``test_journeys.py``, data the journey does not itself create is prepared through
the JSON API, time is moved with ``clock.set_now`` before the person signs in, and every
page visited passes ``Pages.check`` (axe, one h1, reflow at 320px, no script errors).
"""

from __future__ import annotations

from diversion import clock
from tests.conftest import case_body, make_user
from tests.functional.browser.test_journeys import banner, sign_in, summary_value

MONDAY = "2027-01-04T09:00:00+00:00"  # a Monday in winter (GMT)


def _setup(api_as):
    """A case officer and a coordinator's API, a venue, and helpers to enrol and publish."""
    clock.set_now(MONDAY)
    officer = api_as("case_officer")
    api = api_as("coordinator", force=None, email="api.coordinator@example.gov.uk")
    venue = api.post("/venues", {"name": "Civic Centre", "address": "1 High St"}).get_json()
    references = iter(range(1, 100))

    def enrol(name: str) -> int:
        given, family = name.split()
        body = case_body(reference=f"MET/{next(references)}", email=f"{given.lower()}@example.com")
        body["participant"].update(given_name=given, family_name=family)
        case = officer.post("/cases", body).get_json()
        return officer.post(f"/cases/{case['id']}/enrolment",
                            {"programme_id": 1, "start_date": "2027-01-04"}).get_json()["id"]

    def session(module: int, day: str, capacity: int = 10) -> int:
        return api.post("/sessions", {"programme_id": 1, "module": module, "venue_id": venue["id"],
                                      "starts_at": f"{day}T18:00:00",
                                      "capacity": capacity}).get_json()["id"]

    def book(enrolment_id: int, session_id: int) -> int:
        response = api.post(f"/enrolments/{enrolment_id}/bookings", {"session_id": session_id})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def mark(booking_id: int, outcome: str) -> None:
        response = api.put(f"/bookings/{booking_id}/attendance", {"outcome": outcome})
        assert response.status_code == 200, response.get_json()

    return enrol, session, book, mark


def _main(page) -> str:
    return " ".join(page.get_by_role("main").inner_text().split())


def test_a_coordinator_clears_an_overdue_register_from_the_home_page(open_tab, api_as):
    enrol, session, book, _ = _setup(api_as)
    tuesday = session(1, "2027-01-05")
    book(enrol("Sam Taylor"), tuesday)
    book(enrol("Jo Brown"), tuesday)
    clock.set_now("2027-01-06T09:00:00+00:00")
    coordinator = make_user(role="coordinator", force=None)
    tab = open_tab("overdue-register")
    page = tab.page

    tab.goto("/login")
    sign_in(tab, coordinator.email)
    overdue = page.get_by_role("table").filter(has_text="Outcomes missing")
    assert "Module 1 Tuesday 5 January 2027, 6pm Civic Centre 2 of 2" in " ".join(
        overdue.inner_text().split())
    tab.check("Home with an overdue register")

    overdue.get_by_role("link", name="Record the register for Module 1 on Tuesday 5 January 2027"
                        ).click()
    assert summary_value(page, "Status") == "Register overdue"
    tab.check("Session with its register overdue")

    page.get_by_role("group", name="Sam Taylor").get_by_label("Attended", exact=True).check()
    page.get_by_role("group", name="Jo Brown").get_by_label(
        "Absent (unexcused)", exact=True).check()
    page.get_by_role("button", name="Save register").click()
    assert "Register saved: 2 participants marked" in banner(page)
    assert summary_value(page, "Status") == "Held"
    tab.check("Session held")

    page.get_by_role("link", name="Sessions", exact=True).click()
    assert "No registers are overdue" in _main(page)
    tab.check("Home with every register taken")


def test_a_coordinator_re_plans_a_participant_who_missed_module_2_from_their_page(
        open_tab, api_as):
    enrol, session, book, mark = _setup(api_as)
    sam = enrol("Sam Taylor")
    enrol("Jo Brown")
    first = book(sam, session(1, "2027-01-05"))
    missed = book(sam, session(2, "2027-01-12"))
    for module, day in ((3, "2027-01-19"), (4, "2027-01-26"), (5, "2027-02-02")):
        book(sam, session(module, day))
    for module, day in ((2, "2027-01-27"), (3, "2027-02-03"), (4, "2027-02-10"),
                        (5, "2027-02-17")):
        session(module, day)
    clock.set_now("2027-01-20T09:00:00+00:00")  # module 3 has happened; no register taken
    mark(first, "attended")
    mark(missed, "absent_unexcused")
    coordinator = make_user(role="coordinator", force=None)
    tab = open_tab("missed-module-2")
    page = tab.page

    tab.goto("/login")
    sign_in(tab, coordinator.email)
    page.get_by_role("link", name="Participants", exact=True).click()
    page.get_by_label("Needs attention").select_option(label="Register overdue")
    page.get_by_role("button", name="Filter").click()
    listed = " ".join(page.get_by_role("table").inner_text().split())
    assert "Sam Taylor" in listed and "At risk" in listed and "Register overdue" in listed
    assert "Jo Brown" not in listed
    tab.check("Participants needing a register")

    page.get_by_role("link", name="Sam Taylor").click()
    blocker = "Record the register for module 3 on 19 January 2027 first"
    assert _main(page).count(blocker) == 1
    assert "No Module 2 session can be booked until the outcomes above are recorded" in _main(
        page)
    tab.check("Participant blocked by a register")

    outcome = page.get_by_role("group", name="Module 3: Tuesday 19 January 2027 at 6pm")
    outcome.get_by_label("Absent (excused)").check()
    page.get_by_role("button", name="Save outcome").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    assert "Give the reason the absence is excused" in summary.inner_text()
    tab.check("Outcome needing a reason")

    page.get_by_label("Reason for Module 3 (needed for an excused absence)").fill("In hospital")
    page.get_by_role("button", name="Save outcome").click()
    assert "Outcome recorded: Module 3 on Tuesday 19 January 2027 at 6pm, absent (excused)" in (
        banner(page))
    assert blocker not in _main(page)
    assert ("Modules are taken in order: module 2 must come before module 4, which is on "
            "26 January 2027.") in _main(page)
    tab.check("Participant with module 2 out of order")

    page.get_by_role("button", name="Plan remaining modules").click()
    assert ("Planned and booked 4 sessions: Module 2 on Wednesday 27 January 2027 at 6pm; "
            "Module 3 on Wednesday 3 February 2027 at 6pm; Module 4 on Wednesday 10 February "
            "2027 at 6pm; Module 5 on Wednesday 17 February 2027 at 6pm") in banner(page)
    modules = " ".join(page.locator("table.app-modules").inner_text().split())
    assert "Module 4 Cancelled Tuesday 26 January 2027 at 6pm" in modules
    assert "Booked Wednesday 10 February 2027 at 6pm" in modules
    tab.check("Participant re-planned")


def test_a_coordinator_moves_a_session_six_people_are_booked_into_and_confirms_it(
        open_tab, api_as):
    enrol, session, book, _ = _setup(api_as)
    tuesday, thursday = session(1, "2027-01-05"), session(1, "2027-01-07")
    module_2 = session(2, "2027-01-14")
    later = session(2, "2027-01-21")
    names = ["Sam Taylor", "Jo Brown", "Kim Jones", "Lee Hall", "Ann Wood", "Ben Cole"]
    for n, name in enumerate(names):
        enrolment = enrol(name)
        book(enrolment, tuesday if n < 3 else thursday)
        book(enrolment, module_2)
    coordinator = make_user(role="coordinator", force=None)
    tab = open_tab("move-six")
    page = tab.page

    tab.goto("/login")
    sign_in(tab, coordinator.email)
    tab.goto(f"/coordinator/sessions/{module_2}")
    assert summary_value(page, "Places") == "6 of 10 booked"
    tab.check("Session with six people")

    page.get_by_role("link", name="Change date, time or venue").click()
    page.get_by_role("group", name="New date").get_by_label("Day").fill("13")
    page.get_by_role("button", name="Save changes").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check what this change does"
    people = " ".join(page.get_by_role("table").inner_text().split())
    for name in names[:3]:
        assert f"{name} None Kept Sent the new details" in people
    for name in names[3:]:
        assert f"{name} Module 2 on 13 January 2027 would be 6 days from module 1" in people
    assert people.count("Re-planned Module 2 on Thursday 21 January 2027 at 6pm") == 3
    tab.check("Confirm the move")

    page.get_by_role("button", name="Move the session and re-plan these people").click()
    assert ("Session changed: Wednesday 13 January 2027 at 6pm at Civic Centre, 10 places. "
            "Booked participants are sent the new details. 3 re-planned into the earliest "
            "sessions that fit.") in banner(page)
    assert summary_value(page, "Places") == "3 of 10 booked"
    tab.check("Session moved")

    tab.goto(f"/coordinator/sessions/{later}")
    assert summary_value(page, "Places") == "3 of 10 booked"
    register = " ".join(page.locator("table.app-register").inner_text().split())
    assert all(name in register for name in names[3:])
    tab.check("Later session with the people re-planned")
