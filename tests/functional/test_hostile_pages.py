"""What a hostile or careless person types or edits into the staff pages: a field error
or the page's default, never a 500, never nonsense stored.

Runs on SQLite and PostgreSQL: huge numbers and NUL bytes fail differently in each.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import AuditEvent, Case, CourseSession, Enrolment, User, Venue
from tests.conftest import PASSWORD, csrf_from, make_user

NOW = "2027-01-04T09:00:00+00:00"  # a Monday
BEYOND = 2**31

CASE_FIELDS = {
    "reference": "MET/2027/0001",
    "given_name": "Sam",
    "family_name": "Taylor",
    "date_of_birth": ["2", "4", "1990"],
    "email": "sam@example.com",
    "previous_sexual_or_violent_conviction": "no",
    "first_offence": "yes",
    "image_category": "C",
    "contact_offending_suspected": "no",
    "children_at_risk": "no",
    "prosecutor_agreed": "yes",
    "participant_consented": "yes",
}


@pytest.fixture(autouse=True)
def _monday():
    clock.set_now(NOW)


def text_of(response) -> str:
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def field_error(response, field: str) -> str:
    """Return the GOV.UK error message shown next to a field."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', html, re.S)
    assert match, f"no error message on {field}: {text_of(response)[:400]}"
    return re.sub(r"<[^>]+>|\s+", " ", unescape(match.group(1))).replace("Error:", "").strip()


def rows(app, model) -> int:
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.remove()
    return total


def post_form(client, path: str, data: dict):
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


# ---- ids and numbers in addresses ------------------------------------------


@pytest.mark.parametrize("path", [f"/cases/{BEYOND}", f"/cases/{BEYOND}/enrol",
                                  "/cases/enrolments/99999999999",
                                  f"/cases/enrolments/{BEYOND}/referral-summary"])
def test_a_case_officer_page_for_an_id_beyond_the_range_is_not_found(client, login_as, path):
    login_as("case_officer")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", [f"/coordinator/sessions/{BEYOND}",
                                  f"/coordinator/participants/{BEYOND}",
                                  f"/coordinator/bookings/{BEYOND}/cancel"])
def test_a_coordinator_page_for_an_id_beyond_the_range_is_not_found(client, login_as, path):
    login_as("coordinator", force=None)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("query", [
    "page=99999999999999999999", "page=-5", "page=abc", "q=%00", "q=Sam%00Taylor",
])
def test_the_case_list_answers_any_page_number_or_search(client, login_as, query):
    login_as("case_officer")
    response = client.get(f"/cases?{query}")
    assert response.status_code == 200
    assert "Cases" in text_of(response)


@pytest.mark.parametrize("path", [
    "/cases/enrolments?after=99999999999", "/cases/enrolments?q=%00",
    "/cases/enrolments.csv?q=%00",
])
def test_the_enrolment_list_answers_a_cursor_beyond_the_range_or_a_nul(client, login_as, path):
    login_as("case_officer")
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", [
    "/coordinator/participants?after=99999999999&before=99999999999",
    "/coordinator/participants?q=%00", "/coordinator/participants.csv?q=%00",
    "/coordinator/sessions?venue=99999999999",
])
def test_the_coordinator_lists_answer_a_cursor_beyond_the_range_or_a_nul(client, login_as,
                                                                          path):
    login_as("coordinator", force=None)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"])
def test_a_week_outside_the_years_held_shows_this_week_instead(client, login_as, week):
    login_as("coordinator", force=None)
    for view in ("week", "month"):
        response = client.get(f"/coordinator/sessions?week={week}&view={view}")
        assert response.status_code == 200
        assert "2027" in text_of(response)
    assert client.get(f"/coordinator/sessions.csv?week={week}").status_code == 200


def test_the_user_list_answers_a_nul_in_its_search_and_cursors(client, login_as):
    login_as("admin", force=None)
    assert client.get("/admin/users?q=%00&after=a%00").status_code == 200
    assert client.get("/admin/users?before=%00").status_code == 200


def test_planning_ids_beyond_the_range_plan_nothing_and_do_not_crash(client, login_as):
    login_as("coordinator", force=None)
    token = csrf_from(client.get("/coordinator/participants").get_data(as_text=True))
    response = client.post("/coordinator/participants/plan", data={
        "csrf_token": token, "enrolment_id": [str(BEYOND), "99999999999999999999", "²"]})
    assert response.status_code == 302


# ---- text that cannot be stored --------------------------------------------


def test_a_venue_named_with_a_nul_byte_gets_a_field_error_and_nothing_is_stored(
        app, client, login_as):
    login_as("coordinator", force=None)
    response = post_form(client, "/coordinator/venues", {"name": "V\x00", "address": "1 St"})
    assert response.status_code == 200
    assert field_error(response, "name") == "Name must not include hidden or invalid characters"
    assert rows(app, Venue) == 0


def test_a_case_with_a_nul_byte_in_the_family_name_gets_a_field_error(app, client, login_as):
    login_as("case_officer")
    response = post_form(client, "/cases/new", {**CASE_FIELDS, "family_name": "Tay\x00lor"})
    assert field_error(response, "family_name") == (
        "Family name must not include hidden or invalid characters")
    assert rows(app, Case) == 0


def test_signing_in_with_a_nul_byte_in_the_email_fails_and_is_audited(app, client):
    user = make_user(role="coordinator", force=None)
    response = post_form(client, "/login", {"email": user.email + "\x00",
                                            "password": PASSWORD})
    assert response.status_code == 200
    assert "Enter a correct email address and password" in text_of(response)
    with app.app_context():
        failed = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "login_failed")).all()
        assert [(row.actor, row.actor_id) for row in failed] == [(user.email, None)]
        db.session.remove()


# ---- names, dates of birth and email addresses ------------------------------


def test_names_of_spaces_alone_are_refused_as_missing(app, client, login_as):
    login_as("case_officer")
    response = post_form(client, "/cases/new", {**CASE_FIELDS, "given_name": "   ",
                                                "family_name": " \t "})
    assert field_error(response, "given_name") == "Enter the participant's given name"
    assert field_error(response, "family_name") == "Enter the participant's family name"
    assert rows(app, Case) == 0


@pytest.mark.parametrize("born", [["1", "1", "2030"], ["31", "12", "9999"], ["4", "1", "2027"]])
def test_a_date_of_birth_today_or_later_is_refused_on_the_form(app, client, login_as, born):
    login_as("case_officer")
    response = post_form(client, "/cases/new", {**CASE_FIELDS, "date_of_birth": born})
    assert response.status_code == 200
    assert field_error(response, "date_of_birth") == "Enter a date of birth in the past"
    assert rows(app, Case) == 0


def test_a_participant_under_18_is_recorded_as_not_eligible_with_the_reason(client, login_as):
    login_as("case_officer")
    response = post_form(client, "/cases/new", {**CASE_FIELDS,
                                                "date_of_birth": ["5", "1", "2009"]})
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "Was under 18 on the day of screening" in page


def test_a_quoted_email_address_is_refused_on_the_form(app, client, login_as):
    login_as("case_officer")
    response = post_form(client, "/cases/new", {**CASE_FIELDS, "email": '"x"@example.com'})
    assert field_error(response, "email") == (
        "Enter an email address in the correct format, like name@example.com")
    assert rows(app, Case) == 0


def _eligible_case(client) -> int:
    response = post_form(client, "/cases/new", CASE_FIELDS)
    assert response.status_code == 302, text_of(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


@pytest.mark.parametrize("start", [["1", "1", "0001"], ["1", "1", "1900"], ["1", "1", "2100"],
                                   ["30", "9", "9999"]])
def test_an_enrolment_start_far_from_today_gets_an_error_on_the_start_date(
        app, client, login_as, start):
    login_as("case_officer")
    case_id = _eligible_case(client)
    page = client.get(f"/cases/{case_id}/enrol").get_data(as_text=True)
    programme = re.search(r'<option value="(\d+)"', page).group(1)
    response = client.post(f"/cases/{case_id}/enrol", data={
        "csrf_token": csrf_from(page), "programme_id": programme, "start_date": start})
    assert response.status_code == 200
    assert field_error(response, "start_date") == (
        "The start date must be between 5 December 2026 and 4 July 2027")
    assert rows(app, Enrolment) == 0


def test_a_coordinator_account_with_a_force_is_refused_on_the_force(app, client, login_as):
    login_as("admin", force=None)
    make_user(role="case_officer", force="MET", email="officer@example.gov.uk")
    response = post_form(client, "/admin/users/new", {
        "email": "cora@example.gov.uk", "name": "Cora", "role": "coordinator", "force": "MET",
        "password": "a long enough passphrase"})
    assert response.status_code == 200
    assert field_error(response, "force") == (
        "Only a case officer belongs to a force: choose no force")
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "cora@example.gov.uk")) \
            is None
        db.session.remove()


# ---- a session on the last minute of 9999 -----------------------------------


@pytest.mark.parametrize("path", ["/coordinator/sessions/new", "/coordinator/sessions/series"])
def test_a_session_dated_31_december_9999_gets_an_error_on_the_date(app, client, login_as,
                                                                     path):
    login_as("coordinator", force=None)
    with app.app_context():
        db.session.add(Venue(name="Hall", address="1 St", rooms="", created_at=clock.now()))
        db.session.commit()
        venue_id = db.session.scalar(sa.select(Venue.id))
        db.session.remove()
    response = post_form(client, path, {
        "programme_id": "1", "module": "1", "date": ["31", "12", "9999"], "time": "23:59",
        "venue_id": str(venue_id), "capacity": "10", "count": "3", "interval_days": "7"})
    assert response.status_code == 200
    assert field_error(response, "date") == (
        "Enter a date between 1 January 2000 and 31 December 2100")
    assert rows(app, CourseSession) == 0
