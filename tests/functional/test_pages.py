"""Staff pages through the browser's eyes: forms, errors, navigation, headers."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.domain.errors import RuleViolation
from diversion.extensions import db
from diversion.models import Case, Enrolment, Force, User
from tests.conftest import PASSWORD, csrf_from, make_force, make_user

CASE_FIELDS = {
    "reference": "MET/2026/0001",
    "given_name": "Sam",
    "family_name": "Taylor",
    "date_of_birth": ["2", "4", "1990"],
    "email": "sam@example.com",
    "phone": "07700 900982",
    "previous_sexual_or_violent_conviction": "no",
    "first_offence": "yes",
    "image_category": "C",
    "contact_offending_suspected": "no",
    "children_at_risk": "no",
    "prosecutor_agreed": "yes",
    "participant_consented": "yes",
}


def text_of(response) -> str:
    """Return the page's visible text with tags removed and spaces collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def main_html(response) -> str:
    """Return the HTML inside <main>, where each page puts its own content."""
    match = re.search(r'<main[^>]*id="main-content"[^>]*>(.*)</main>',
                      response.get_data(as_text=True), re.S)
    assert match, "page has no <main id=\"main-content\">"
    return match.group(1)


def navigation(response) -> list[str]:
    """Return the link texts of the service navigation."""
    html = response.get_data(as_text=True)
    nav = re.search(r'<nav[^>]*govuk-service-navigation__wrapper.*?</nav>', html, re.S)
    assert nav, "page has no service navigation"
    links = re.findall(r"<a[^>]*govuk-service-navigation__link[^>]*>(.*?)</a>", nav.group(0), re.S)
    return [re.sub(r"<[^>]+>|\s+", " ", link).strip() for link in links]


def count(app, model) -> int:
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.remove()
        return total


def submit_case(client, **changes):
    token = csrf_from(client.get("/cases/new").get_data(as_text=True))
    data = {**CASE_FIELDS, **changes, "csrf_token": token}
    return client.post("/cases/new", data={k: v for k, v in data.items() if v is not None})


def record_case(client, **changes) -> int:
    response = submit_case(client, **changes)
    assert response.status_code == 302, text_of(response)
    match = re.fullmatch(r"/cases/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def enrol(client, case_id: int, day: str, month: str, year: str):
    page = client.get(f"/cases/{case_id}/enrol")
    html = page.get_data(as_text=True)
    programme = re.search(r'<option value="(\d+)"', html).group(1)
    return client.post(f"/cases/{case_id}/enrol", data={
        "csrf_token": csrf_from(html),
        "programme_id": programme,
        "start_date": [day, month, year],
    })


# ---- signing in and navigation ---------------------------------------------


def test_a_case_officer_signs_in_and_lands_on_the_dashboard(client):
    make_user(role="case_officer")
    page = client.get("/login")
    response = client.post("/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "email": "case_officer.met@example.gov.uk",
        "password": PASSWORD,
    }, follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/cases/dashboard"
    assert "Your force's enrolments" in text_of(response)


def test_a_wrong_password_keeps_the_person_on_the_sign_in_page_with_an_error(client):
    make_user(role="case_officer")
    page = client.get("/login")
    response = client.post("/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "email": "case_officer.met@example.gov.uk",
        "password": "not the password at all",
    })
    assert response.status_code == 200
    assert "There is a problem" in text_of(response)
    assert "Enter a correct email address and password" in text_of(response)
    assert client.get("/cases/dashboard").status_code == 302


def test_a_case_officer_sees_dashboard_cases_and_enrolments_in_the_navigation(client, login_as):
    login_as("case_officer")
    assert navigation(client.get("/cases/dashboard")) == [
        "Dashboard", "Cases", "Enrolments", "Outcomes"]


def test_the_dashboard_names_the_last_twelve_months_in_english(client, login_as):
    clock.set_now("2027-03-10T12:00:00+00:00")
    login_as("case_officer")
    html = client.get("/cases/dashboard").get_data(as_text=True)
    described = re.search(r'<desc id="closure-chart-desc">(.*?)</desc>', html, re.S).group(1)
    assert described.startswith("April 2026: 0 completed, 0 referred. May 2026:")
    assert described.endswith("March 2027: 0 completed, 0 referred. ")
    assert re.findall(r'class="app-chart__axis">([^<]*)<', html) == [
        "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar"]
    table = re.search(r'<table class="govuk-table".*?</table>', html, re.S).group(0)
    assert re.search(r">\s*September 2026\s*<", table)


def test_an_administrator_sees_users_and_forces_in_the_navigation(client, login_as):
    login_as("admin", force=None)
    # Mail: the mail sink's messages, here where mail goes to the sink.
    assert navigation(client.get("/admin/users")) == [
        "Users", "Forces", "Programmes", "Jobs", "Outcomes", "Mail"]


def test_the_sign_out_button_is_a_working_form_beside_the_signed_in_email(client, login_as):
    login_as("case_officer")
    html = client.get("/cases/dashboard").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/logout"[^>]*>(.*?)</form>', html, re.S)
    assert form, "no sign-out form"
    assert 'name="csrf_token"' in form.group(1)
    assert "case_officer.met@example.gov.uk" in form.group(1)
    assert "&lt;form" not in html


def test_page_content_sits_in_main_so_the_skip_link_works(client, login_as):
    login_as("case_officer")
    page = client.get("/cases/new")
    assert 'href="#main-content"' in page.get_data(as_text=True)
    assert "<h1" in main_html(page)
    assert 'class="govuk-back-link"' in page.get_data(as_text=True)


def test_the_start_page_sends_each_role_to_its_own_home(client, login_as):
    login_as("admin", force=None)
    assert client.get("/").headers["Location"] == "/admin/users"


# ---- recording a case ------------------------------------------------------


def test_an_empty_case_form_shows_an_error_summary_linking_to_each_field(app, client, login_as):
    login_as("case_officer")
    token = csrf_from(client.get("/cases/new").get_data(as_text=True))
    response = client.post("/cases/new", data={"csrf_token": token})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S)
    assert summary, "no error summary"
    assert "There is a problem" in summary.group(0)
    for field in ("reference", "given_name", "family_name", "email", "first_offence",
                  "image_category", "children_at_risk", "participant_consented"):
        assert f'href="#{field}"' in summary.group(0), field
        assert f'id="{field}"' in html, f"the summary links to #{field}, which is not on the page"
    assert 'href="#date_of_birth' in summary.group(0)
    target = re.search(r'href="#(date_of_birth[^"]*)"', summary.group(0)).group(1)
    assert f'id="{target}"' in html
    assert "Error: Enter the case reference" in text_of(response)
    assert "Error: Select whether this is a first offence" in text_of(response)
    assert response.get_data(as_text=True).count('class="govuk-error-message"') >= 12
    assert "<title>Error:" in html
    assert count(app, Case) == 0


def test_a_reference_longer_than_64_characters_and_a_bad_email_get_field_errors(
    app, client, login_as
):
    login_as("case_officer")
    response = submit_case(client, reference="R" * 65, email="not an email")
    assert response.status_code == 200
    text = text_of(response)
    assert "Error: Case reference must be 64 characters or fewer" in text
    assert "Error: Enter an email address in the correct format, like name@example.com" in text
    assert 'href="#reference"' in response.get_data(as_text=True)
    assert 'href="#email"' in response.get_data(as_text=True)
    assert count(app, Case) == 0


def test_a_date_of_birth_that_is_not_a_real_date_is_refused(app, client, login_as):
    login_as("case_officer")
    response = submit_case(client, date_of_birth=["31", "2", "1990"])
    assert response.status_code == 200
    assert "Enter the date of birth as a real date" in text_of(response)
    assert count(app, Case) == 0


def test_the_form_keeps_what_was_typed_when_it_shows_errors(client, login_as):
    login_as("case_officer")
    response = submit_case(client, email="bad", given_name="Alex")
    html = response.get_data(as_text=True)
    assert re.search(r'name="given_name"[^>]*value="Alex"', html)
    assert re.search(r'name="date_of_birth"[^>]*value="1990"', html)


def test_a_reference_already_used_in_the_force_gets_a_field_error(app, client, login_as):
    login_as("case_officer")
    record_case(client)
    response = submit_case(client)
    assert response.status_code == 200
    assert "A case with this reference already exists in your force" in text_of(response)
    assert count(app, Case) == 1


def test_a_valid_eligible_case_opens_its_page_showing_eligible(client, login_as):
    login_as("case_officer")
    response = submit_case(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    text = text_of(page)
    assert "Success Case recorded: eligible" in text
    assert "Case MET/2026/0001" in text
    assert "Sam Taylor" in text
    assert "Eligible" in text
    assert "Not eligible" not in text
    assert "2 April 1990" in text
    assert "Enrol on a programme" in text


def test_an_ineligible_case_shows_the_reasons_and_offers_no_enrol_button(client, login_as):
    login_as("case_officer")
    case_id = record_case(client, image_category="B", children_at_risk="yes")
    page = client.get(f"/cases/{case_id}")
    text = text_of(page)
    assert "Not eligible" in text
    assert "Images are above the lowest level of seriousness (Category C)" in text
    assert "Children are at risk (safeguarding checks)" in text
    assert "An ineligible case cannot be enrolled" in text
    assert "Enrol on a programme" not in text
    assert not re.search(r"<(a|button)[^>]*>\s*Enrol", main_html(page))
    assert f"/cases/{case_id}/enrol" not in page.get_data(as_text=True)


def test_posting_the_enrol_form_for_an_ineligible_case_explains_and_enrols_nothing(
    app, client, login_as
):
    login_as("case_officer")
    case_id = record_case(client, image_category="B")
    response = enrol(client, case_id, "1", "12", "2026")
    assert response.status_code in (200, 422)
    assert "This case is not eligible for the programme, so it cannot be enrolled" in text_of(
        response)
    assert count(app, Enrolment) == 0


def test_enrolling_on_31_october_shows_enrolled_and_a_core_deadline_of_28_february(
    client, login_as
):
    clock.set_now("2026-11-02T09:00:00+00:00")  # 31 October is two days back
    login_as("case_officer")
    case_id = record_case(client)
    response = enrol(client, case_id, "31", "10", "2026")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{case_id}"
    text = text_of(client.get(f"/cases/{case_id}"))
    assert "Status Enrolled" in text
    assert "Start date 31 October 2026" in text
    assert "Core deadline 28 February 2027" in text
    assert "Enrol on a programme" not in text


def test_an_enrolment_start_date_that_is_not_a_real_date_is_refused(app, client, login_as):
    login_as("case_officer")
    case_id = record_case(client)
    response = enrol(client, case_id, "31", "11", "2026")
    assert response.status_code == 200
    assert "There is a problem" in text_of(response)
    assert "Enter the start date as a real date" in text_of(response)
    assert count(app, Enrolment) == 0


def test_the_enrolment_list_links_each_enrolment_to_its_page(client, login_as):
    clock.set_now("2026-11-02T09:00:00+00:00")  # 31 October is two days back
    login_as("case_officer")
    case_id = record_case(client)
    enrol(client, case_id, "31", "10", "2026")
    page = client.get("/cases/enrolments")
    link = re.search(r'<a class="govuk-link" href="(/cases/enrolments/\d+)">MET/2026/0001</a>',
                     page.get_data(as_text=True))
    assert link
    assert "Sam Taylor" in text_of(client.get(link.group(1)))
    row = text_of(page)
    assert "MET/2026/0001 Sam Taylor 2 April 1990 Enrolled" in row
    assert "28 February 2027 None booked 0 of 5" in row


def test_a_hand_made_post_without_the_date_boxes_gets_an_error_not_a_crash(app, client, login_as):
    login_as("case_officer")
    response = submit_case(client, date_of_birth=None)
    assert response.status_code == 200
    assert "Enter the date of birth as a real date" in text_of(response)
    four = submit_case(client, date_of_birth=["1", "2", "1990", "4"])
    assert four.status_code == 200
    assert count(app, Case) == 0


def test_markup_typed_into_a_name_is_shown_as_text_not_run(client, login_as):
    login_as("case_officer")
    case_id = record_case(client, given_name='<script>alert("x")</script>', family_name="<b>B</b>")
    for path in (f"/cases/{case_id}", "/cases"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html
        assert "<b>B</b>" not in html
        assert "&lt;b&gt;B&lt;/b&gt;" in html


# ---- the case list ---------------------------------------------------------


def _record_directly(app, user, n: int, *, family_name: str = "Taylor") -> None:
    from diversion.services import accounts, cases

    with app.app_context():
        actor = accounts.actor_for(db.session.get(User, user.id))
        for i in range(n):
            cases.record_case(
                actor, f"MET/{i:04d}",
                {"given_name": f"Person{i}", "family_name": family_name,
                 "date_of_birth": __import__("datetime").date(1990, 1, 1),
                 "email": f"p{i}@example.com"},
                {"previous_sexual_or_violent_conviction": False, "first_offence": True,
                 "image_category": "C", "contact_offending_suspected": False,
                 "children_at_risk": False, "prosecutor_agreed": True,
                 "participant_consented": True},
            )
        db.session.remove()


def test_the_case_list_finds_a_case_by_reference(client, login_as):
    login_as("case_officer")
    record_case(client, reference="MET/ALPHA/1", given_name="Robin", family_name="Hood")
    record_case(client, reference="MET/BETA/2", given_name="Maid", family_name="Marian")
    text = text_of(client.get("/cases?q=alpha"))
    assert "MET/ALPHA/1" in text
    assert "MET/BETA/2" not in text


def test_the_case_list_finds_a_case_by_participant_name(client, login_as):
    login_as("case_officer")
    record_case(client, reference="MET/ALPHA/1", given_name="Robin", family_name="Hood")
    record_case(client, reference="MET/BETA/2", given_name="Maid", family_name="Marian")
    text = text_of(client.get("/cases?q=Maid+Marian"))
    assert "MET/BETA/2" in text
    assert "MET/ALPHA/1" not in text
    assert "MET/ALPHA/1" in text_of(client.get("/cases?q=hood"))


def test_a_search_that_matches_nothing_says_so(client, login_as):
    login_as("case_officer")
    record_case(client)
    assert "No cases match “zebra”" in text_of(client.get("/cases?q=zebra"))


def test_thirty_cases_spread_over_two_pages(app, client, login_as):
    user = login_as("case_officer")
    _record_directly(app, user, 30)
    first = client.get("/cases")
    html = first.get_data(as_text=True)
    assert "30 cases" in text_of(first)
    assert len(re.findall(r'href="/cases/\d+"', html)) == 25
    assert 'href="/cases?q=&amp;page=2"' in html or 'href="/cases?page=2' in html
    second = client.get("/cases?page=2")
    assert len(re.findall(r'href="/cases/\d+"', second.get_data(as_text=True))) == 5
    assert "MET/0000" in text_of(second)
    assert "MET/0000" not in text_of(first)
    assert "&lt;a" not in html


def test_a_case_officer_never_sees_another_forces_cases_in_the_list(app, client, login_as):
    other = make_user(role="case_officer", force="WMP", email="wmp@example.gov.uk")
    _record_directly(app, other, 1, family_name="Elsewhere")
    login_as("case_officer")
    text = text_of(client.get("/cases"))
    assert "Elsewhere" not in text
    assert "No cases" in text


# ---- access ----------------------------------------------------------------


def test_another_forces_case_page_is_not_found(app, client, login_as):
    other = make_user(role="case_officer", force="WMP", email="wmp@example.gov.uk")
    _record_directly(app, other, 1)
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id))
    login_as("case_officer")
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 404
    assert "MET/0000" not in response.get_data(as_text=True)
    assert client.get(f"/cases/{case_id}/enrol").status_code == 404


def test_a_coordinator_opening_the_case_list_is_refused(client, login_as):
    login_as("coordinator", force=None)
    response = client.get("/cases")
    assert response.status_code == 403
    assert "Your role may not do this" in text_of(response)


def test_a_case_officer_opening_the_admin_pages_is_refused(client, login_as):
    login_as("case_officer")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/forces").status_code == 403


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back_afterwards(client):
    make_user(role="case_officer")
    response = client.get("/cases")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    page = client.get(response.headers["Location"])
    signed_in = client.post(response.headers["Location"], data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "email": "case_officer.met@example.gov.uk",
        "password": PASSWORD,
    })
    assert signed_in.headers["Location"] == "/cases"


# ---- administration --------------------------------------------------------


def _new_user_form(client) -> str:
    return client.get("/admin/users/new").get_data(as_text=True)


def test_an_administrator_creates_a_case_officer_who_can_then_sign_in(app, client, login_as):
    login_as("admin", force=None)
    make_force("WMP")
    html = _new_user_form(client)
    assert '<option value="WMP">' in html
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_from(html),
        "email": "New.Officer@Example.gov.uk",
        "name": "New Officer",
        "role": "case_officer",
        "force": "WMP",
        "password": "correct horse battery staple",
    })
    assert response.status_code == 302
    listing = text_of(client.get(response.headers["Location"]))
    assert "Account created for New.Officer@Example.gov.uk" in listing
    assert "new.officer@example.gov.uk New Officer Case officer WMP Active" in listing

    other = app.test_client()
    page = other.get("/login")
    signed_in = other.post("/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "email": "new.officer@example.gov.uk",
        "password": "correct horse battery staple",
    })
    assert signed_in.status_code == 302


def test_a_well_known_breached_password_is_refused_with_a_field_error(app, client, login_as):
    login_as("admin", force=None)
    before = count(app, User)
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_from(_new_user_form(client)),
        "email": "coordinator2@example.gov.uk",
        "name": "A Coordinator",
        "role": "coordinator",
        "force": "",
        "password": "password123",
    })
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'href="#password"' in html
    assert "Error: This password is well known from data breaches; choose another" in text_of(
        response)
    assert count(app, User) == before


def test_a_short_password_is_refused_with_a_field_error(app, client, login_as):
    login_as("admin", force=None)
    before = count(app, User)
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_from(_new_user_form(client)),
        "email": "coordinator2@example.gov.uk",
        "name": "A Coordinator",
        "role": "coordinator",
        "force": "",
        "password": "short",
    })
    assert response.status_code == 200
    assert "Error: Password must be 8 characters or more" in text_of(response)
    assert count(app, User) == before


def test_a_case_officer_account_without_a_force_is_refused(app, client, login_as):
    login_as("admin", force=None)
    before = count(app, User)
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_from(_new_user_form(client)),
        "email": "officer2@example.gov.uk",
        "name": "An Officer",
        "role": "case_officer",
        "force": "",
        "password": "correct horse battery staple",
    })
    assert response.status_code == 200
    assert 'href="#force"' in response.get_data(as_text=True)
    assert "A case officer must belong to a force" in text_of(response)
    assert count(app, User) == before


def test_an_administrator_adds_a_force_that_then_appears_in_the_list(app, client, login_as):
    login_as("admin", force=None)
    page = client.get("/admin/forces")
    response = client.post("/admin/forces", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "code": "gmp",
        "name": "Greater Manchester Police",
    }, follow_redirects=True)
    text = text_of(response)
    assert "Force GMP added" in text
    assert "GMP Greater Manchester Police" in text
    with app.app_context():
        assert db.session.scalar(sa.select(Force.name).where(Force.code == "GMP")) == (
            "Greater Manchester Police")


def test_a_duplicate_force_code_gets_a_field_error(app, client, login_as):
    login_as("admin", force=None)
    make_force("GMP")
    page = client.get("/admin/forces")
    response = client.post("/admin/forces", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "code": "GMP",
        "name": "Another",
    })
    assert response.status_code == 200
    assert 'href="#code"' in response.get_data(as_text=True)
    assert "A force with code GMP already exists" in text_of(response)
    assert count(app, Force) == 1


def test_disabling_a_user_ends_their_existing_session_at_once(app, client, login_as):
    officer_client = app.test_client()
    officer = make_user(role="case_officer")
    page = officer_client.get("/login")
    officer_client.post("/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "email": officer.email, "password": PASSWORD,
    })
    assert officer_client.get("/cases").status_code == 200

    login_as("admin", force=None)
    users = client.get("/admin/users").get_data(as_text=True)
    assert f'href="/admin/users/{officer.id}/disable"' in users
    confirm = client.get(f"/admin/users/{officer.id}/disable")
    assert f"Disable {officer.email}?" in text_of(confirm)
    assert officer_client.get("/cases").status_code == 200  # asking changed nothing
    confirm_html = confirm.get_data(as_text=True)
    assert f'action="/admin/users/{officer.id}/active/0"' in confirm_html
    response = client.post(f"/admin/users/{officer.id}/active/0",
                           data={"csrf_token": csrf_from(confirm_html)})
    assert response.status_code == 302
    assert f"{officer.email} disabled" in text_of(client.get("/admin/users"))

    after = officer_client.get("/cases")
    assert after.status_code == 302
    assert after.headers["Location"].startswith("/login")


def test_an_administrator_cannot_disable_their_own_account_or_the_last_administrator(
    app, client, login_as,
):
    admin = login_as("admin", force=None)
    token = csrf_from(client.get(f"/admin/users/{admin.id}/disable").get_data(as_text=True))
    response = client.post(f"/admin/users/{admin.id}/active/0", data={"csrf_token": token})
    assert response.status_code == 422
    assert "You cannot disable your own account" in text_of(response)
    assert "Active" in text_of(client.get("/admin/users"))
    with app.app_context():
        from diversion.services import Actor, accounts

        with pytest.raises(RuleViolation) as refused:
            accounts.set_active(admin.id, False, Actor.system("cli"))
        assert refused.value.code == "last_administrator"
        other = make_user(role="admin", email="second.admin@example.gov.uk")
        accounts.set_active(admin.id, False, Actor.system("cli"))
        with pytest.raises(RuleViolation):
            accounts.set_active(other.id, False, Actor.system("cli"))


# ---- headers ---------------------------------------------------------------


def assert_security_headers(response) -> None:
    headers = response.headers
    hsts = headers.get("Strict-Transport-Security", "")
    assert re.search(r"max-age=(\d+)", hsts) and int(
        re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    csp = headers.get("Content-Security-Policy", "")
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy")
    assert "no-store" in headers.get("Cache-Control", "")


def test_every_response_for_a_visitor_carries_the_security_headers(client):
    for path in ("/login", "/no-such-page", "/api/v1/cases/1", "/cases", "/"):
        assert_security_headers(client.get(path))


def test_a_missing_page_and_an_unauthenticated_api_call_carry_the_security_headers(client):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert_security_headers(missing)
    api = client.get("/api/v1/cases/1")
    assert api.status_code == 401
    assert_security_headers(api)


def test_signed_in_pages_carry_the_security_headers(client, login_as):
    login_as("case_officer")
    case_id = record_case(client)
    for path in ("/cases/dashboard", "/cases", "/cases/new", f"/cases/{case_id}",
                 f"/cases/{case_id}/enrol", "/cases/enrolments", "/cases/999999"):
        assert_security_headers(client.get(path))
    assert_security_headers(client.get("/admin/users"))


def test_staff_accounts_are_searched_by_email_or_name_and_paged(app, client, login_as,
                                                                 monkeypatch):
    from diversion.web.admin import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    make_user(role="coordinator", force=None, email="ann.lee@example.gov.uk", name="Ann Lee")
    make_user(role="case_officer", email="bo.khan@example.gov.uk", name="Bo Khan")
    make_user(role="case_officer", email="cy@example.gov.uk", name="Cy Jones")
    login_as("admin", force=None)  # admin.x@example.gov.uk: first by email
    first = client.get("/admin/users")
    page = text_of(first)
    assert "admin.x@example.gov.uk" in page and "ann.lee@example.gov.uk" in page
    assert "bo.khan@example.gov.uk" not in page
    after = re.search(r'href="(/admin/users\?after=[^"]+)"', first.get_data(as_text=True))
    second = client.get(unescape(after.group(1)))
    assert "bo.khan@example.gov.uk" in text_of(second)
    assert "cy@example.gov.uk" in text_of(second)
    assert "ann.lee@example.gov.uk" not in text_of(second)
    before = re.search(r'href="(/admin/users\?before=[^"]+)"', second.get_data(as_text=True))
    back = text_of(client.get(unescape(before.group(1))))
    assert "ann.lee@example.gov.uk" in back and "bo.khan@example.gov.uk" not in back
    found = text_of(client.get("/admin/users?q=JONES"))
    assert "cy@example.gov.uk" in found and "ann.lee@example.gov.uk" not in found
    assert 'No accounts match "50%_off"' in text_of(client.get("/admin/users?q=50%25_off"))


def test_a_missing_page_says_so_once(client):
    page = text_of(client.get("/no/such/page")).split("Skip to main content", 1)[1]
    assert page.count("No such thing") == 1


def test_the_service_name_is_one_link_in_the_header_when_signed_in(client, login_as):
    login_as("case_officer")
    html = client.get("/cases").get_data(as_text=True)
    assert html.count('href="/"') == 1


def test_page_titles_match_their_headings(client, login_as):
    login_as("admin", force=None)
    html = client.get("/admin/users").get_data(as_text=True)
    assert "<title>Staff accounts – Diversion</title>" in html
