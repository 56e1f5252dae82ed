"""The rules hold on the messy path, on the pages: overdue registers, sessions that fit, and
lists that show who needs attention."""

from __future__ import annotations

import re
from html import unescape

import pytest

from diversion import clock
from tests.conftest import PASSWORD, case_body, csrf_from

NOW = "2027-01-04T09:00:00+00:00"  # a Monday in winter (GMT)


def text_of(response) -> str:
    """Return the page's visible text with tags removed and spaces collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def main_of(response) -> str:
    """The visible text of the page's main content only."""
    html = response.get_data(as_text=True)
    main = re.search(r'<main[^>]*id="main-content"[^>]*>(.*)</main>', html, flags=re.S)
    return text_of(type("Page", (), {"get_data": lambda self, as_text: main.group(1)})())


@pytest.fixture
def world(client, api_as, login_as):
    """A signed-in coordinator, a venue, and helpers that act through the API and pages."""
    clock.set_now(NOW)
    officer = api_as("case_officer")
    api = api_as("coordinator", force=None, email="api.coordinator@example.gov.uk")
    venue = api.post("/venues", {"name": "Civic Centre", "address": "1 High St"}).get_json()
    user = login_as("coordinator", force=None)
    token = {"csrf": csrf_from(client.get("/coordinator/sessions").get_data(as_text=True))}
    references = iter(range(1, 1000))

    def enrol(name="Sam Taylor", start="2027-01-04", born="1990-04-02"):
        given, family = name.split(" ", 1)
        body = case_body(reference=f"MET/{next(references)}", email=f"{given.lower()}@example.com")
        body["participant"].update(given_name=given, family_name=family, date_of_birth=born)
        now = clock.now()
        if start < now.date().isoformat():
            # An enrolment long under way was recorded when it started, not today.
            clock.set_now(f"{start}T09:00:00+00:00")
        case = officer.post("/cases", body).get_json()
        response = officer.post(f"/cases/{case['id']}/enrolment",
                                {"programme_id": 1, "start_date": start})
        clock.set_now(now)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def session(module, day, capacity=10, hour=18):
        response = api.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": f"{day}T{hour}:00:00",
            "venue_id": venue["id"], "capacity": capacity})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def book(enrolment_id, session_id):
        response = api.post(f"/enrolments/{enrolment_id}/bookings", {"session_id": session_id})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def mark(booking_id, outcome, reason=None):
        response = api.put(f"/bookings/{booking_id}/attendance",
                           {"outcome": outcome, **({"reason": reason} if reason else {})})
        assert response.status_code == 200, response.get_json()

    def post(path, data=None):
        return client.post(path, data={"csrf_token": token["csrf"], **(data or {})})

    def later(instant):
        """Move the clock on and sign in again (the idle timeout has passed)."""
        clock.set_now(instant)
        page = client.get("/login")
        signed_in = client.post("/login", data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "email": user.email, "password": PASSWORD})
        assert signed_in.status_code == 302
        token["csrf"] = csrf_from(client.get("/coordinator/sessions").get_data(as_text=True))

    return {"client": client, "api": api, "officer": officer, "enrol": enrol,
            "session": session, "book": book, "mark": mark, "post": post, "later": later}


def bookings_of(world, enrolment_id):
    body = world["officer"].get(f"/enrolments/{enrolment_id}").get_json()
    return sorted((b["module"], b["session_id"], b["status"]) for b in body["bookings"])


# ---- overdue registers -------------------------------------------------------

def test_the_coordinators_home_leads_with_each_overdue_register_and_the_outcomes_missing(
        world):
    sam, jo = world["enrol"]("Sam Taylor"), world["enrol"]("Jo Brown")
    tuesday = world["session"](1, "2027-01-05")
    thursday = world["session"](1, "2027-01-07")
    sam_booking = world["book"](sam, tuesday)
    world["book"](jo, tuesday)
    world["book"](world["enrol"]("Kim Jones"), thursday)
    world["later"]("2027-01-08T09:00:00+00:00")
    world["mark"](sam_booking, "attended")

    home = main_of(world["client"].get("/coordinator/sessions"))

    assert home.startswith("Sessions Publish a session Publish a series Registers overdue")
    assert "2 sessions have ended without a complete register" in home
    assert ("Module 1 Tuesday 5 January 2027, 6pm Civic Centre 1 of 2 Record the register "
            "for Module 1 on Tuesday 5 January 2027") in home
    assert "Module 1 Thursday 7 January 2027, 6pm Civic Centre 1 of 1" in home
    html = world["client"].get("/coordinator/sessions").get_data(as_text=True)
    assert f'href="/coordinator/sessions/{tuesday}#register"' in html


def test_a_session_that_ended_without_its_register_says_so_until_it_is_taken_then_held(world):
    enrolment = world["enrol"]()
    session_id = world["session"](1, "2027-01-05")
    world["book"](enrolment, session_id)
    world["later"]("2027-01-05T18:30:00+00:00")
    page = main_of(world["client"].get(f"/coordinator/sessions/{session_id}"))
    assert "Status In progress" in page

    world["later"]("2027-01-06T09:00:00+00:00")
    page = main_of(world["client"].get(f"/coordinator/sessions/{session_id}"))
    assert "Status Register overdue" in page and "Scheduled" not in page
    assert "This session has ended with no outcome recorded for the one person booked" in page
    week = main_of(world["client"].get("/coordinator/sessions?week=2027-01-04"))
    assert ("Tuesday 5 January 2027 : Module 1 6pm to 7:30pm Module 1 Civic Centre "
            "1 of 10 booked Register overdue") in week

    response = world["post"](f"/coordinator/sessions/{session_id}/register",
                             {"mark_all": "Mark all as attended"})
    assert response.status_code == 302, text_of(response)
    page = main_of(world["client"].get(f"/coordinator/sessions/{session_id}"))
    assert "Status Held" in page
    home = main_of(world["client"].get("/coordinator/sessions"))
    assert "No registers are overdue" in home


def test_the_participants_page_names_the_register_that_blocks_them_and_takes_it_there(world):
    enrolment = world["enrol"]()
    first = world["book"](enrolment, world["session"](1, "2027-01-05"))
    missed = world["book"](enrolment, world["session"](2, "2027-01-12"))
    third = world["book"](enrolment, world["session"](3, "2027-01-19"))
    for module, day in ((4, "2027-01-26"), (5, "2027-02-02")):
        world["book"](enrolment, world["session"](module, day))
    again = {m: world["session"](m, day) for m, day in
             ((2, "2027-01-27"), (3, "2027-02-03"), (4, "2027-02-10"), (5, "2027-02-17"))}
    world["later"]("2027-01-20T09:00:00+00:00")
    world["mark"](first, "attended")
    world["mark"](missed, "absent_unexcused")
    client = world["client"]

    page = main_of(client.get(f"/coordinator/participants/{enrolment}"))

    blocker = ("Record the register for module 3 on 19 January 2027 first: until then nobody "
               "knows whether it was attended.")
    assert page.count(blocker) == 1
    assert "Module 3 Register overdue Tuesday 19 January 2027 at 6pm Record outcome" in page
    assert "No Module 2 session can be booked until the outcomes above are recorded" in page
    assert "Planning waits for the outcomes above" in page
    html = client.get(f"/coordinator/participants/{enrolment}").get_data(as_text=True)
    assert f'action="/coordinator/participants/{enrolment}/plan"' not in html

    prefix = f"booking-{third}-"
    response = world["post"](
        f"/coordinator/participants/{enrolment}/bookings/{third}/outcome",
        {f"{prefix}outcome": "absent_excused", f"{prefix}reason": "In hospital"})
    assert response.status_code == 302, text_of(response)
    page = main_of(client.get(response.headers["Location"]))
    assert "Outcome recorded: Module 3 on Tuesday 19 January 2027 at 6pm, absent (excused)" in page
    assert blocker not in page

    planned = world["post"](f"/coordinator/participants/{enrolment}/plan")
    assert planned.status_code == 302, text_of(planned)
    held = [(m, s) for m, s, status in bookings_of(world, enrolment) if status == "booked"]
    assert held == [(m, again[m]) for m in (2, 3, 4, 5)]


def test_an_excused_absence_without_a_reason_is_refused_beside_its_field_and_nothing_changes(
        world):
    enrolment = world["enrol"]()
    booking = world["book"](enrolment, world["session"](1, "2027-01-05"))
    world["later"]("2027-01-06T09:00:00+00:00")

    prefix = f"booking-{booking}-"
    response = world["post"](f"/coordinator/participants/{enrolment}/bookings/{booking}/outcome",
                             {f"{prefix}outcome": "absent_excused"})

    assert response.status_code == 200
    page = main_of(response)
    assert page.startswith("There is a problem Give the reason the absence is excused.")
    assert f'href="#{prefix}reason"' in response.get_data(as_text=True)
    assert [status for _, _, status in bookings_of(world, enrolment)] == ["booked"]


def test_booking_into_a_session_an_unrecorded_one_is_in_the_way_of_asks_for_its_register(world):
    enrolment = world["enrol"]()
    world["book"](enrolment, world["session"](1, "2027-01-05"))
    module_1_again = world["session"](1, "2027-01-20")
    world["later"]("2027-01-06T09:00:00+00:00")

    response = world["api"].post(f"/enrolments/{enrolment}/bookings",
                                 {"session_id": module_1_again})

    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["code"] == "register_overdue"
    assert error["message"].startswith("Record the register for module 1 on 5 January 2027")


def test_a_plan_that_cannot_be_made_is_explained_once(world):
    enrolment = world["enrol"]()
    world["session"](1, "2027-01-05")

    response = world["post"](f"/coordinator/participants/{enrolment}/plan")

    page = main_of(response)
    assert page.startswith("There is a problem Nothing was booked. No complete plan exists")
    assert page.count("No complete plan exists") == 1
    assert 'href="#plan"' in response.get_data(as_text=True)


# ---- only what fits is offered ---------------------------------------------

def test_the_participants_page_offers_only_sessions_that_fit_with_the_places_left(world):
    enrolment = world["enrol"]()
    world["book"](enrolment, world["session"](1, "2027-01-05"))
    world["session"](2, "2027-01-08")  # three days after module 1
    fits = world["session"](2, "2027-01-12", capacity=4)
    full = world["session"](2, "2027-01-13", capacity=1)
    for name, taken in (("Jo Brown", fits), ("Lee Hall", full)):
        other = world["enrol"](name)
        world["book"](other, world["session"](1, "2027-01-04", hour=19))
        world["book"](other, taken)
    world["session"](3, "2027-01-19")  # not the module due next

    page = main_of(world["client"].get(f"/coordinator/participants/{enrolment}"))

    offered = page[page.index("Book Module 2"):page.index("Plan remaining modules")]
    assert ("Module 2 sessions that meet every booking rule Date and time Venue Places left "
            "Book Tuesday 12 January 2027 at 6pm Civic Centre 3 Book Module 2 on Tuesday "
            "12 January 2027 at 6pm") in offered
    assert "8 January" not in offered and "13 January" not in offered
    assert "Module 3" not in offered


def test_the_first_five_sessions_are_shown_and_the_rest_on_asking(world):
    enrolment = world["enrol"]()
    for week in range(8):
        world["session"](1, f"2027-01-{5 + week:02d}" if week < 5 else f"2027-02-0{week - 4}")

    first = main_of(world["client"].get(f"/coordinator/participants/{enrolment}"))
    everything = main_of(world["client"].get(f"/coordinator/participants/{enrolment}?all=1"))

    assert "Module 1 sessions that meet every booking rule: the first 5 of 8" in first
    assert first.count("Book Module 1 on") == 5
    assert "Show all 8 Module 1 sessions that fit" in first
    assert everything.count("Book Module 1 on") == 8


def test_with_no_session_before_the_deadline_the_page_says_so_instead_of_offering_one(world):
    enrolment = world["enrol"]()
    world["book"](enrolment, world["session"](1, "2027-01-05"))
    world["session"](2, "2027-05-11")  # after the core deadline, 4 May

    page = main_of(world["client"].get(f"/coordinator/participants/{enrolment}"))

    assert ("No module 2 session is published before the core deadline (4 May 2027)."
            in page)
    assert "Book Module 2 on" not in page


def test_a_missed_module_before_later_bookings_says_none_fits_in_order_and_points_to_planning(
        world):
    enrolment = world["enrol"]()
    first = world["book"](enrolment, world["session"](1, "2027-01-05"))
    missed = world["book"](enrolment, world["session"](2, "2027-01-12"))
    for module, day in ((3, "2027-01-19"), (4, "2027-01-26"), (5, "2027-02-02")):
        world["book"](enrolment, world["session"](module, day))
    world["session"](2, "2027-01-20")
    world["later"]("2027-01-13T09:00:00+00:00")
    world["mark"](first, "attended")
    world["mark"](missed, "absent_unexcused")

    page = main_of(world["client"].get(f"/coordinator/participants/{enrolment}"))

    assert ("The only module 2 session published up to 4 May 2027 cannot be booked. Modules "
            "are taken in order: module 2 must come before module 3, which is on 19 January "
            "2027.") in page
    assert "“Plan remaining modules” below can release later bookings" in page


# ---- lists that show risk ----------------------------------------------------

def _row(page: str, name: str) -> str:
    start = page.index(name)
    return page[start:start + 160]


def test_the_participants_list_tags_risk_and_never_shows_a_past_next_session(world):
    on_track = world["enrol"]("Sam Taylor")
    unrecorded = world["enrol"]("Jo Brown")
    absent = world["enrol"]("Kim Jones")
    module_1 = world["session"](1, "2027-01-05")
    world["book"](on_track, module_1)
    world["book"](on_track, world["session"](2, "2027-01-12"))
    world["book"](unrecorded, module_1)
    absence = world["book"](absent, module_1)
    world["later"]("2027-01-06T09:00:00+00:00")
    world["mark"](absence, "absent_unexcused")
    sam_booking = [b for b in world["api"].get(f"/enrolments/{on_track}").get_json()["bookings"]
                   if b["module"] == 1][0]["id"]
    world["mark"](sam_booking, "attended")

    page = main_of(world["client"].get("/coordinator/participants"))

    assert (f"Sam Taylor P-{on_track:06d} Enrolled 4 May 2027 Module 2: Tuesday 12 January "
            "2027 at 6pm 1 of 5") in page
    assert (f"Jo Brown P-{unrecorded:06d} Enrolled Register overdue 4 May 2027 None booked "
            "0 of 5") in page
    assert f"Kim Jones P-{absent:06d} Enrolled At risk 4 May 2027 None booked" in page


def test_a_passed_deadline_shows_on_both_lists_before_any_sweep(world, login_as, client):
    late = world["enrol"]("Sam Taylor", start="2026-08-03")  # deadline 3 December 2026
    world["enrol"]("Jo Brown")

    coordinator_page = main_of(client.get("/coordinator/participants?flag=deadline_passed"))
    assert f"Sam Taylor P-{late:06d} Enrolled Deadline passed 3 December 2026" in coordinator_page
    assert "Jo Brown" not in coordinator_page

    world["post"]("/logout")
    login_as("case_officer", email="officer.pages@example.gov.uk")
    officer_page = main_of(client.get("/cases/enrolments?flag=deadline_passed"))
    assert "Sam Taylor 2 April 1990 Enrolled Deadline passed 3 December 2026" in officer_page
    assert "Jo Brown" not in officer_page


def test_two_people_of_the_same_name_are_told_apart_by_reference_or_date_of_birth(
        world, login_as, client):
    first = world["enrol"]("Sam Jones", born="1980-05-06")
    second = world["enrol"]("Sam Jones", born="1992-11-30")

    coordinator_page = main_of(client.get("/coordinator/participants"))
    assert f"Sam Jones P-{first:06d}" in coordinator_page
    assert f"Sam Jones P-{second:06d}" in coordinator_page
    assert "1980" not in coordinator_page  # a date of birth is the case officer's to see
    found = main_of(client.get(f"/coordinator/participants?q=P-{second:06d}"))
    assert f"P-{second:06d}" in found and f"P-{first:06d}" not in found

    world["post"]("/logout")
    login_as("case_officer", email="officer.pages@example.gov.uk")
    officer_page = main_of(client.get("/cases/enrolments"))
    assert "Sam Jones 6 May 1980" in officer_page and "Sam Jones 30 November 1992" in officer_page


def test_the_participants_list_filters_by_status_and_register_overdue(world):
    done = world["enrol"]("Sam Taylor")
    waiting = world["enrol"]("Jo Brown")
    module_1 = world["session"](1, "2027-01-05")
    marked = world["book"](done, module_1)
    world["book"](waiting, module_1)
    world["later"]("2027-01-06T09:00:00+00:00")
    world["mark"](marked, "attended")
    client = world["client"]

    overdue = main_of(client.get("/coordinator/participants?flag=register_overdue"))
    assert "Jo Brown" in overdue and "Sam Taylor" not in overdue
    assert "No participants match these filters" in main_of(
        client.get("/coordinator/participants?status=completed"))
    html = client.get("/coordinator/participants?flag=register_overdue").get_data(as_text=True)
    assert '<option value="register_overdue" selected>Register overdue</option>' in html


def test_sorted_by_deadline_the_list_pages_forward_and_back_without_losing_anyone(
        world, monkeypatch):
    from diversion.web.coordinator import enrolments

    monkeypatch.setattr(enrolments, "PER_PAGE", 2)
    starts = {"Ann Lee": "2027-01-20", "Ben Cole": "2027-01-04", "Cat Daly": "2027-01-11",
              "Dan Eve": "2027-01-04", "Eli Fox": "2027-01-18", "Fay Gee": "2026-09-01"}
    ids = {name: world["enrol"](name, start=start) for name, start in starts.items()}
    # A closed enrolment's deadline is long gone: it comes after every open one.
    world["officer"].post(f"/enrolments/{ids['Fay Gee']}/decisions",
                          {"decision": "refer", "reason": "Agreement ended"})
    client = world["client"]
    order = []
    path = "/coordinator/participants?sort=deadline"
    pages = []
    while path:
        response = client.get(path)
        pages.append(response)
        page = main_of(response)
        order += sorted((name for name in starts if name in page), key=page.index)
        following = re.search(r'href="(/coordinator/participants\?[^"]*after=[^"]+)"',
                              response.get_data(as_text=True))
        path = unescape(following.group(1)) if following else None

    assert order == ["Ben Cole", "Dan Eve", "Cat Daly", "Eli Fox", "Ann Lee", "Fay Gee"]
    back = re.search(r'href="(/coordinator/participants\?[^"]*before=[^"]+)"',
                     pages[-1].get_data(as_text=True))
    previous = main_of(client.get(unescape(back.group(1))))
    assert "Cat Daly" in previous and "Eli Fox" in previous and "Ann Lee" not in previous


def test_a_hand_made_list_address_is_read_as_the_first_page_not_an_error(world):
    world["enrol"]()
    for query in ("after=x", "before=2027-13-01.5", "sort=deadline&after=abc",
                  "flag=nonsense&status=nonsense", "after=99999999999999"):
        response = world["client"].get(f"/coordinator/participants?{query}")
        assert response.status_code == 200, query
        assert "Sam Taylor" in main_of(response), query


def test_the_case_officers_enrolment_page_never_gives_a_past_date_as_the_next_session(
        world, login_as, client):
    enrolment = world["enrol"]()
    world["book"](enrolment, world["session"](1, "2027-01-05"))
    world["book"](enrolment, world["session"](2, "2027-01-12"))
    clock.set_now("2027-01-06T09:00:00+00:00")
    world["post"]("/logout")
    login_as("case_officer", email="officer.pages@example.gov.uk")

    page = main_of(client.get(f"/cases/enrolments/{enrolment}"))

    assert "Next session: Tuesday 12 January 2027 at 6pm" in page
    assert ("The register for Module 1 on 5 January 2027 has not been taken: the coordinator "
            "records whether it was attended.") in page
