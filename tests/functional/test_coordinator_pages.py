"""The course coordinator's pages: calendar, publishing, registers and bookings."""

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


@pytest.fixture
def world(client, api_as, login_as):
    """A signed-in coordinator, a venue, and helpers to enrol and publish through the API."""
    clock.set_now(NOW)
    officer = api_as("case_officer")
    api = api_as("coordinator", force=None, email="api.coordinator@example.gov.uk")
    venue = api.post("/venues", {"name": "Civic Centre", "address": "1 High St"}).get_json()
    user = login_as("coordinator", force=None)
    token = csrf_from(client.get("/coordinator/sessions").get_data(as_text=True))

    def enrol(name="Sam Taylor", reference=None, start="2027-01-04"):
        given, family = name.split(" ", 1)
        body = case_body(reference=reference or f"MET/{given.upper()}",
                         email=f"{given.lower()}@example.com")
        body["participant"].update(given_name=given, family_name=family)
        case = officer.post("/cases", body).get_json()
        response = officer.post(f"/cases/{case['id']}/enrolment",
                                {"programme_id": 1, "start_date": start})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def session(module=1, starts_at="2027-01-05T18:00:00", capacity=10):
        response = api.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": starts_at,
            "venue_id": venue["id"], "capacity": capacity})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def post(path, data=None):
        return client.post(path, data={"csrf_token": token, **(data or {})})

    def book(enrolment_id, session_id):
        response = post(f"/coordinator/participants/{enrolment_id}/book",
                        {"session_id": session_id})
        assert response.status_code == 302, text_of(response)

    def later(instant):
        """Move the clock on and sign in again (the idle timeout has passed)."""
        nonlocal token
        clock.set_now(instant)
        page = client.get("/login")
        signed_in = client.post("/login", data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "email": user.email, "password": PASSWORD})
        assert signed_in.status_code == 302
        token = csrf_from(client.get("/coordinator/sessions").get_data(as_text=True))

    return {"client": client, "api": api, "later": later, "venue": venue, "enrol": enrol,
            "session": session, "post": post, "book": book}


def session_form(world, **changes):
    data = {"programme_id": "1", "module": "1", "date": ["29", "3", "2027"], "time": "18:00",
            "venue_id": str(world["venue"]["id"]), "capacity": "10", "facilitator": "Ann Lee",
            "room": "Room 2"}
    return {**data, **changes}


def fill_cell(html: str, text: str) -> str:
    """Return the fill level class of the table cell that reads ``text``."""
    match = re.search(r'app-fill--(\w+)[^>]*>\s*' + re.escape(text), html)
    assert match, f"no fill level next to {text!r}"
    return match.group(1)


# ---- the week view ---------------------------------------------------------

def test_the_week_view_shows_fill_levels_as_text_and_colour_and_they_change_after_a_booking(
    world,
):
    client = world["client"]
    session_id = world["session"](capacity=2)
    world["session"](module=2, starts_at="2027-01-08T10:30:00", capacity=4)
    week = client.get("/coordinator/sessions")
    assert "Week of Monday 4 January 2027" in text_of(week)
    assert "Tuesday 5 January 2027 : Module 1 6pm to 7:30pm Module 1 Civic Centre" in text_of(week)
    assert fill_cell(week.get_data(as_text=True), "0 of 2 booked") == "low"

    world["book"](world["enrol"]("Sam Taylor"), session_id)
    week = client.get("/coordinator/sessions?week=2027-01-06")
    assert fill_cell(week.get_data(as_text=True), "1 of 2 booked") == "mid"

    world["book"](world["enrol"]("Jo Brown"), session_id)
    week = client.get("/coordinator/sessions")
    assert fill_cell(week.get_data(as_text=True), "2 of 2 booked (full)") == "full"


def test_the_week_view_filters_by_module_and_venue_and_moves_between_weeks(world):
    client = world["client"]
    world["session"](module=1)
    world["session"](module=2, starts_at="2027-01-06T18:00:00")
    world["session"](module=3, starts_at="2027-01-12T18:00:00")
    page = text_of(client.get("/coordinator/sessions?module=2"))
    assert "Module 2" in page and "Tuesday 5 January" not in page
    page = text_of(client.get(f"/coordinator/sessions?venue={world['venue']['id'] + 1}"))
    assert "No sessions this week match the filters" in page
    html = client.get("/coordinator/sessions").get_data(as_text=True)
    assert 'href="/coordinator/sessions?week=2027-01-11"' in html
    page = text_of(client.get("/coordinator/sessions?week=2027-01-11"))
    assert "Week of Monday 11 January 2027" in page and "Module 3" in page
    month = text_of(client.get("/coordinator/sessions?view=month&week=2027-01-20"))
    assert "January 2027" in month and "Module 1" in month and "Module 3" in month


# ---- publishing ------------------------------------------------------------

def test_publishing_a_session_on_easter_monday_shows_the_holiday_error_in_the_form(world):
    response = world["post"]("/coordinator/sessions/new", session_form(world))
    assert response.status_code == 200
    page = text_of(response)
    assert "There is a problem" in page
    message = "29 March 2027 is a public holiday; choose another day."
    assert page.count(message) == 2  # in the summary and next to the date
    html = response.get_data(as_text=True)
    assert "govuk-error-message" in html
    # The summary's link takes the reader to the Day input, which can take focus.
    assert re.search(r'<a href="#date-day"[^>]*>\s*' + re.escape(message), html)
    assert 'id="date-day"' in html
    assert "No sessions this week" in text_of(
        world["client"].get("/coordinator/sessions?week=2027-03-29"))


def test_publishing_a_session_shows_it_at_its_local_time(world):
    response = world["post"]("/coordinator/sessions/new",
                             session_form(world, date=["30", "3", "2027"]))
    assert response.status_code == 302, text_of(response)
    page = text_of(world["client"].get(response.headers["Location"]))
    assert "Module 1 published for Tuesday 30 March 2027 at 6pm" in page
    assert "Ann Lee" in page and "Room 2" in page and "0 of 10 booked" in page


def test_a_session_form_with_a_bad_time_and_no_capacity_says_what_to_fix(world):
    response = world["post"]("/coordinator/sessions/new",
                             session_form(world, time="6pm", capacity=""))
    page = text_of(response)
    assert "Enter the start time on the 24-hour clock, like 18:00" in page
    assert "Enter the capacity" in page


def test_publishing_a_series_lists_the_dates_moved_off_public_holidays(world):
    response = world["post"]("/coordinator/sessions/series", session_form(
        world, date=["15", "3", "2027"], count="4", interval_days="7"))
    assert response.status_code == 302, text_of(response)
    assert response.headers["Location"].endswith("/coordinator/sessions?week=2027-03-15")
    page = text_of(world["client"].get(response.headers["Location"]))
    assert "4 sessions of Module 1 published, from 15 March 2027 to 5 April 2027." in page
    assert "Moved off public holidays: Monday 29 March 2027 to Tuesday 30 March 2027." in page
    easter = text_of(world["client"].get("/coordinator/sessions?week=2027-03-29"))
    # The same wall-clock time after the clocks go forward.
    assert "Tuesday 30 March 2027 : Module 1 6pm to 7:30pm" in easter


# ---- venues ----------------------------------------------------------------

def test_a_coordinator_adds_a_venue_and_sees_it_listed(world):
    missing = world["post"]("/coordinator/venues", {"name": "", "address": ""})
    assert "Enter the venue's name" in text_of(missing)
    response = world["post"]("/coordinator/venues", {
        "name": "Riverside Hall", "address": "2 Quay St", "rooms": "Blue room\nGreen room"})
    assert response.status_code == 302
    page = text_of(world["client"].get("/coordinator/venues"))
    assert "Venue added: Riverside Hall" in page
    assert "Riverside Hall 2 Quay St Blue room, Green room" in page


# ---- the enrolment's booking page -------------------------------------------

def test_booking_from_the_enrolment_page_then_a_spacing_refusal_in_plain_words(world):
    client = world["client"]
    enrolment = world["enrol"]()
    first = world["session"](module=1)
    too_soon = world["session"](module=2, starts_at="2027-01-11T18:00:00")
    page = text_of(client.get(f"/coordinator/participants/{enrolment}"))
    assert "Book Module 1" in page
    assert "Core deadline 4 May 2027" in page
    assert ("Module 1 sessions that meet every booking rule Date and time Venue Places left "
            "Book Tuesday 5 January 2027 at 6pm Civic Centre 10 Book Module 1 on Tuesday "
            "5 January 2027 at 6pm") in page

    response = world["post"](f"/coordinator/participants/{enrolment}/book",
                             {"session_id": first})
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "Booked Module 1 on Tuesday 5 January 2027 at 6pm" in page
    assert "Module 1 Booked Tuesday 5 January 2027 at 6pm" in page
    assert "Book Module 2" in page
    # Six days after module 1: not offered, and the page says why.
    assert "Book Module 2 on Monday 11 January" not in page
    assert ("The only module 2 session published up to 4 May 2027 cannot be booked. Module 2 "
            "on 11 January 2027 would be 6 days from module 1 on 5 January 2027") in page

    refused = world["post"](f"/coordinator/participants/{enrolment}/book",
                            {"session_id": too_soon})
    page = text_of(refused)
    assert "There is a problem" in page
    assert page.count("Nothing was booked. Module 2 on 11 January 2027 would be 6 days") == 1
    assert "Module 2 Not booked" in page


def test_the_plan_button_books_all_five_modules_into_the_earliest_sessions(world):
    enrolment = world["enrol"]()
    for module in range(1, 6):
        for week in range(6):
            world["session"](module=module, starts_at=f"2027-{_day(5 + 7 * week)}T18:00:00")
    response = world["post"](f"/coordinator/participants/{enrolment}/plan")
    assert response.status_code == 302, text_of(response)
    page = text_of(world["client"].get(response.headers["Location"]))
    assert ("Planned and booked 5 sessions: Module 1 on Tuesday 5 January 2027 at 6pm; "
            "Module 2 on Tuesday 12 January 2027 at 6pm") in page
    for module, day in enumerate(["5", "12", "19", "26"], 1):
        assert f"Module {module} Booked Tuesday {day} January 2027 at 6pm" in page
    assert "Module 5 Booked Tuesday 2 February 2027 at 6pm" in page


def _day(day_of_year: int) -> str:
    from datetime import date, timedelta

    return (date(2027, 1, 1) + timedelta(days=day_of_year - 1)).strftime("%m-%d")


def test_the_plan_button_books_nothing_and_explains_when_no_complete_plan_exists(world):
    enrolment = world["enrol"]()
    for module in range(1, 5):
        world["session"](module=module, starts_at=f"2027-{_day(5 + 7 * (module - 1))}T18:00:00")
    response = world["post"](f"/coordinator/participants/{enrolment}/plan")
    page = text_of(response)
    assert "There is a problem" in page
    assert "Nothing was booked. No complete plan exists" in page
    assert "module 5" in page.lower()
    assert "Module 1 Not booked" in page


def test_planning_everyone_on_the_participants_page_books_each_in_turn_and_says_who_not(
        world):
    first = world["enrol"]("Sam Taylor")
    second = world["enrol"]("Alex Green")
    for module in range(1, 6):
        world["session"](module=module, capacity=1,
                         starts_at=f"2027-{_day(5 + 7 * (module - 1))}T18:00:00")
    listing = world["client"].get("/coordinator/participants")
    html = listing.get_data(as_text=True)
    assert "Plan everyone on this page" in html
    ids = re.findall(r'name="enrolment_id" value="(\d+)"', html)
    assert sorted(map(int, ids)) == sorted([first, second])
    check = text_of(world["post"]("/coordinator/participants/plan", {"enrolment_id": ids}))
    assert "Check who you are planning for" in check
    assert "Sam Taylor" in check and "Alex Green" in check
    unbooked = text_of(world["client"].get(f"/coordinator/participants/{first}"))
    assert "Module 1 Not booked" in unbooked, "nothing is booked before the check"
    response = world["post"]("/coordinator/participants/plan",
                             {"enrolment_id": ids, "confirmed": "yes"})
    assert response.status_code == 200
    page = text_of(response)
    assert "1 participant was booked, 1 could not be planned" in page
    not_booked = page[page.index("Not booked"):page.index("Sessions booked for each")]
    assert ("Participant Why not Alex Green No complete plan exists: module 1, module 2, "
            "module 3, module 4, module 5 cannot all be booked") in not_booked
    assert "Sam Taylor" not in not_booked
    assert ("Sam Taylor Module 1: Tuesday 5 January 2027 at 6pm Module 2: Tuesday 12 "
            "January 2027 at 6pm") in page
    detail = text_of(world["client"].get(f"/coordinator/participants/{second}"))
    assert "Module 1 Not booked" in detail


def test_planning_everyone_without_choosing_anyone_plans_nothing(world):
    world["enrol"]()
    response = world["post"]("/coordinator/participants/plan")
    assert response.status_code == 302
    page = text_of(world["client"].get(response.headers["Location"]))
    assert "Nothing was planned: choose the participants to plan from the list" in page


def test_issuing_a_calendar_link_shows_https_and_webcal_links_once(world):
    client = world["client"]
    enrolment = world["enrol"]()
    world["book"](enrolment, world["session"]())
    response = world["post"](f"/coordinator/participants/{enrolment}/calendar-link")
    html = response.get_data(as_text=True)
    link = re.search(r"http://localhost(/calendar/[\w-]+\.ics)", html)
    assert link, text_of(response)
    assert f"webcal://localhost{link.group(1)}" in html
    assert "/calendar/" not in client.get(f"/coordinator/participants/{enrolment}").get_data(
        as_text=True)
    feed = client.get(link.group(1))
    assert feed.status_code == 200 and feed.content_type.startswith("text/calendar")


def test_a_form_without_its_csrf_token_changes_nothing(world):
    enrolment = world["enrol"]()
    world["session"]()
    response = world["client"].post(f"/coordinator/participants/{enrolment}/plan")
    assert response.status_code == 400
    assert "Module 1 Not booked" in text_of(
        world["client"].get(f"/coordinator/participants/{enrolment}"))


# ---- the session page ------------------------------------------------------

def test_moving_a_session_shows_the_new_time_and_refuses_capacity_below_the_booked(world):
    client = world["client"]
    session_id = world["session"]()
    world["book"](world["enrol"](), session_id)
    form = client.get(f"/coordinator/sessions/{session_id}/move").get_data(as_text=True)
    assert 'value="18:00"' in form
    data = {"date": ["7", "1", "2027"], "time": "19:30", "venue_id": world["venue"]["id"],
            "capacity": "0"}
    refused = world["post"](f"/coordinator/sessions/{session_id}/move", data)
    assert "Capacity must be between 1 and 500" in text_of(refused)
    response = world["post"](f"/coordinator/sessions/{session_id}/move",
                             {**data, "capacity": "12"})
    assert response.status_code == 302, text_of(response)
    page = text_of(client.get(response.headers["Location"]))
    assert "Session changed: Thursday 7 January 2027 at 7:30pm at Civic Centre, 12 places" in page
    assert "Module 1: Thursday 7 January 2027 at 7:30pm" in page
    assert "1 of 12 booked" in page


def test_a_session_on_a_public_holiday_cannot_be_moved_there(world):
    session_id = world["session"]()
    response = world["post"](f"/coordinator/sessions/{session_id}/move", {
        "date": ["29", "3", "2027"], "time": "18:00", "venue_id": world["venue"]["id"],
        "capacity": "10"})
    assert "29 March 2027 is a public holiday" in text_of(response)


def test_cancelling_with_rebook_lists_who_was_rebooked_and_who_could_not_be(world):
    client = world["client"]
    cancelled = world["session"]()
    world["session"](starts_at="2027-01-12T18:00:00", capacity=1)
    alex, jo = world["enrol"]("Alex Smith"), world["enrol"]("Jo Brown")
    world["book"](alex, cancelled)
    world["book"](jo, cancelled)
    form = text_of(client.get(f"/coordinator/sessions/{cancelled}/cancel"))
    assert "2 people are booked" in form
    response = world["post"](f"/coordinator/sessions/{cancelled}/cancel",
                             {"reason": "Room flooded", "rebook": "y"})
    assert response.status_code == 302, text_of(response)
    page = text_of(client.get(response.headers["Location"]))
    # Not everyone was placed: an important banner, not a success, says who and why.
    assert "Success" not in page
    assert ("Important Session cancelled. 1 of 2 booked participants rebooked. 1 could not be "
            "re-planned and need a booking (Jo Brown: No complete plan exists: module 1 "
            "cannot all be booked") in page
    assert "Why it was cancelled Room flooded" in page
    assert "Alex Smith Rebooked Tuesday 12 January 2027 at 6pm , Civic Centre" in page
    assert "Jo Brown Not rebooked Needs a new booking: book Jo Brown" in page


def test_cancelling_one_booking_records_who_asked_and_frees_the_place(world):
    client = world["client"]
    session_id = world["session"]()
    world["book"](world["enrol"](), session_id)
    page = client.get(f"/coordinator/sessions/{session_id}").get_data(as_text=True)
    cancel_path = re.search(r'href="(/coordinator/bookings/\d+/cancel)"', page).group(1)
    assert "Enter why the booking is cancelled" in text_of(world["post"](cancel_path, {}))
    response = world["post"](cancel_path, {"reason": "Works shifts", "requested_by":
                                           "participant"})
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "Booking cancelled: Sam Taylor, Module 1" in page
    assert "0 of 10 booked" in page
    assert "No one is booked on this session yet" in page


def test_opening_a_session_register_is_recorded_as_a_read_of_its_participants(world, app):
    import sqlalchemy as sa

    from diversion.extensions import db

    sam, alex = world["enrol"]("Sam Taylor"), world["enrol"]("Alex Green")
    session_id = world["session"]()
    world["book"](sam, session_id)
    world["book"](alex, session_id)
    page = text_of(world["client"].get(f"/coordinator/sessions/{session_id}"))
    assert "Sam Taylor" in page and "Alex Green" in page
    with app.app_context():
        reads = db.session.execute(sa.text(
            "SELECT actor, object_id, detail FROM audit_events WHERE action = 'read' "
            "AND object_type = 'session_register'")).all()
    assert len(reads) == 1
    actor, object_id, detail = reads[0]
    assert actor.startswith("coordinator") and object_id == str(session_id)
    assert str(sorted([sam, alex])).replace(" ", "") in str(detail).replace(" ", "")


def test_the_register_form_appears_only_after_the_start_and_records_each_outcome(world):
    client = world["client"]
    session_id = world["session"]()
    world["book"](world["enrol"]("Alex Smith"), session_id)
    world["book"](world["enrol"]("Jo Brown"), session_id)
    before = text_of(client.get(f"/coordinator/sessions/{session_id}"))
    assert ("You can record attendance once the session has started, on Tuesday 5 January "
            "2027 at 6pm.") in before
    assert "Mark all as attended" not in before

    world["later"]("2027-01-05T18:05:00+00:00")
    html = client.get(f"/coordinator/sessions/{session_id}").get_data(as_text=True)
    assert "Mark all as attended" in text_of_html(html)
    first, second = (int(i) for i in re.findall(r'name="outcome_(\d+)"', html)[::3])
    refused = world["post"](f"/coordinator/sessions/{session_id}/register", {
        f"outcome_{first}": "attended", f"outcome_{second}": "absent_excused"})
    page = text_of(refused)
    assert "There is a problem" in page
    assert "Give the reason the absence is excused. (Jo Brown)" in page
    unchanged = client.get(f"/coordinator/sessions/{session_id}").get_data(as_text=True)
    assert f'name="outcome_{first}"' in unchanged  # all outcomes or none: still to record

    response = world["post"](f"/coordinator/sessions/{session_id}/register", {
        f"outcome_{first}": "attended", f"outcome_{second}": "absent_excused",
        f"reason_{second}": "In hospital"})
    assert response.status_code == 302, text_of(response)
    page = text_of(client.get(response.headers["Location"]))
    assert "Register saved: 2 participants marked" in page
    assert "Alex Smith Recorded: Attended" in page
    assert "Jo Brown Recorded: Absent (excused) (In hospital)" in page


def test_mark_all_as_attended_marks_everyone_not_yet_marked(world):
    client = world["client"]
    session_id = world["session"]()
    alex = world["enrol"]("Alex Smith")
    world["book"](alex, session_id)
    world["book"](world["enrol"]("Jo Brown"), session_id)
    world["later"]("2027-01-05T19:00:00+00:00")
    response = world["post"](f"/coordinator/sessions/{session_id}/register", {"mark_all": "y"})
    assert response.status_code == 302
    page = text_of(client.get(f"/coordinator/sessions/{session_id}"))
    assert page.count("Recorded: Attended") == 2
    assert "Module 1 Attended Tuesday 5 January 2027 at 6pm" in text_of(
        client.get(f"/coordinator/participants/{alex}"))


def test_recording_attendance_before_the_start_is_refused_with_the_reason(world):
    session_id = world["session"]()
    world["book"](world["enrol"](), session_id)
    html = world["client"].get(f"/coordinator/sessions/{session_id}").get_data(as_text=True)
    booking = re.search(r"/coordinator/bookings/(\d+)/cancel", html).group(1)
    response = world["post"](f"/coordinator/sessions/{session_id}/register",
                             {f"outcome_{booking}": "attended"})
    assert "Attendance can only be recorded once the session has started." in text_of(response)


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# ---- participants and privacy ----------------------------------------------

def test_participants_are_searched_by_name_and_paged(world, monkeypatch):
    from diversion.web.coordinator import enrolments

    monkeypatch.setattr(enrolments, "PER_PAGE", 2)
    client = world["client"]
    for name in ("Alex Smith", "Jo Brown", "Kim Jones"):
        world["enrol"](name)
    first = client.get("/coordinator/participants")
    page = text_of(first)
    assert "Alex Smith" in page and "Jo Brown" in page and "Kim Jones" not in page
    after = re.search(r'href="(/coordinator/participants\?after=\d+)"',
                      first.get_data(as_text=True)).group(1)
    second = client.get(after)
    assert "Kim Jones" in text_of(second) and "Alex Smith" not in text_of(second)
    assert "before=" in second.get_data(as_text=True)
    found = text_of(client.get("/coordinator/participants?q=BROWN"))
    assert "Jo Brown" in found and "Alex Smith" not in found
    assert 'No participants match "nobody"' in text_of(
        client.get("/coordinator/participants?q=nobody"))


def test_a_case_officer_is_refused_every_coordinator_page(client, login_as):
    login_as("case_officer")
    for path in ("/coordinator/sessions", "/coordinator/sessions/new",
                 "/coordinator/sessions/series", "/coordinator/venues",
                 "/coordinator/participants", "/coordinator/participants/1",
                 "/coordinator/sessions/1", "/coordinator/sessions/1/move",
                 "/coordinator/sessions/1/cancel", "/coordinator/bookings/1/cancel"):
        assert client.get(path).status_code == 403, path
    token = csrf_from(client.get("/cases").get_data(as_text=True))
    for path in ("/coordinator/participants/1/plan", "/coordinator/participants/1/book",
                 "/coordinator/sessions/1/register", "/coordinator/venues"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path


def test_the_coordinators_pages_never_show_the_case_reference_or_screening_answers(world):
    client = world["client"]
    enrolment = world["enrol"]("Sam Taylor", reference="MET/SECRET/0042")
    session_id = world["session"]()
    world["book"](enrolment, session_id)
    world["later"]("2027-01-05T18:05:00+00:00")
    pages = [client.get(path) for path in (
        "/coordinator/sessions", f"/coordinator/sessions/{session_id}",
        "/coordinator/participants", "/coordinator/participants?q=sam",
        f"/coordinator/participants/{enrolment}")]
    assert "Sam Taylor" in text_of(pages[1]) and "Sam Taylor" in text_of(pages[4])
    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "SECRET" not in html and "0042" not in html
        for word in ("Category", "screening", "eligib", "offence", "prosecut", "conviction",
                     "safeguarding", "sam@example.com", "07700"):
            assert word.lower() not in html.lower(), (word, response.request.path)
