"""The administrator's programme pages, and choosing a programme on the publish pages."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from diversion.extensions import db
from diversion.models import AuditEvent, Programme
from tests.conftest import csrf_from, in_app
from tests.functional.test_pages import main_html, text_of

SETTINGS = {
    "name": "Online safety course", "invite_title": "Appointment",
    "invite_title_cy": "Apwyntiad", "contact_phone": "0300 123 4567",
    "organizer_email": "appointments@appointments.invalid", "core_modules": "5",
    "session_minutes": "90", "modules_in_order": "yes", "core_months": "4",
    "follow_up_months": "8", "follow_up_window_days": "14", "min_days_between_sessions": "7",
    "reminder_hours": "48", "holiday_region": "GB-ENG", "self_service_cutoff_hours": "24",
    "self_service_moves": "2", "retention_ineligible_months": "12",
    "retention_closed_months": "72", "retention_message_months": "12",
    "retention_audit_months": "84",
}


@in_app
def programme_settings(programme_id: int = 1) -> dict:
    programme = db.session.get(Programme, programme_id)
    return {column: getattr(programme, column) for column in (
        "core_months", "invite_title", "holiday_region", "name", "retention_ineligible_months",
        "retention_audit_months")}


@in_app
def programme_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Programme))


@in_app
def programme_audit() -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.object_type == "programme").order_by(AuditEvent.id)))


@in_app
def change_settings_elsewhere(**values) -> None:
    programme = db.session.get(Programme, 1)
    for name, value in values.items():
        setattr(programme, name, value)
    db.session.commit()


@pytest.fixture
def admin(client, login_as):
    login_as("admin", force=None)
    return client


def check_changes(client, **changes):
    """Fill the settings form with some changes and continue to the check page."""
    page = client.get("/admin/programmes/1/edit")
    return client.post("/admin/programmes/1/edit", data={
        **SETTINGS, **changes, "csrf_token": csrf_from(page.get_data(as_text=True))})


def hidden_fields(response) -> dict:
    html = response.get_data(as_text=True)
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))


def test_the_programme_list_links_each_programme_to_its_settings(admin):
    html = main_html(admin.get("/admin/programmes"))
    assert '<a class="govuk-link" href="/admin/programmes/1">Online safety course</a>' in html
    assert "England (GB-ENG)" in html


def test_a_programme_page_shows_every_setting_in_words(admin):
    text = text_of(admin.get("/admin/programmes/1"))
    for expected in ("Months to finish the core modules 4 months", "Calendar title Appointment",
                     "Calendar title in Welsh Apwyntiad", "Public holidays of England (GB-ENG)",
                     "Days between sessions (at least) 7 days", "Modules taken in order Yes",
                     "Self-service moves per enrolment 2 moves", "Time zone Europe/London",
                     "0 enrolments are in progress"):
        assert expected in text


def test_the_settings_form_starts_from_the_programmes_settings(admin):
    html = admin.get("/admin/programmes/1/edit").get_data(as_text=True)
    assert re.search(r'name="core_months"[^>]*value="4"', html)
    assert re.search(r'value="GB-ENG"[^>]*checked', html)


def test_a_change_is_shown_with_what_it_affects_before_anything_is_saved(admin):
    response = check_changes(admin, core_months="6", min_days_between_sessions="10")
    assert response.status_code == 200
    text = text_of(response)
    assert "Check your changes" in text
    assert ("Months to finish the core modules 4 months 6 months The core deadline of new "
            "enrolments. Existing enrolments keep the deadline they were enrolled under.") in text
    assert "Days between sessions (at least) 7 days 10 days Bookings made from now on" in text
    assert "Calendar title" not in text  # only what changes is listed
    assert programme_settings()["core_months"] == 4
    assert programme_audit() == []


def test_confirming_saves_the_change_and_audits_its_before_and_after(admin):
    check = check_changes(admin, core_months="6", holiday_region="GB-WLS")
    response = admin.post("/admin/programmes/1/confirm", data={
        **hidden_fields(check), "confirm": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/programmes/1")
    page = text_of(admin.get("/admin/programmes/1"))
    assert ("Settings saved for Online safety course: Months to finish the core modules; "
            "Public holidays of") in page
    assert programme_settings()["core_months"] == 6
    assert programme_settings()["holiday_region"] == "GB-WLS"
    (event,) = programme_audit()
    assert event.action == "update"
    assert event.detail == {"before": {"core_months": 4, "holiday_region": "GB-ENG"},
                            "after": {"core_months": 6, "holiday_region": "GB-WLS"}}


def test_going_back_to_change_keeps_what_was_typed_and_saves_nothing(admin):
    check = check_changes(admin, core_months="6")
    response = admin.post("/admin/programmes/1/confirm", data={
        **hidden_fields(check), "change": "y"})
    assert response.status_code == 200
    assert re.search(r'name="core_months"[^>]*value="6"', response.get_data(as_text=True))
    assert programme_settings()["core_months"] == 4


def test_a_value_out_of_range_gets_a_field_error_and_changes_nothing(admin):
    response = check_changes(admin, core_months="0", reminder_hours="many")
    text = text_of(response)
    assert "There is a problem" in text
    assert "Months to finish the core modules must be a whole number from 1 to 24" in text
    assert "Enter the reminder (hours before a session) as a whole number" in text
    assert 'href="#core_months"' in response.get_data(as_text=True)
    assert programme_settings()["core_months"] == 4


def test_a_retention_period_out_of_range_gets_a_govuk_field_error_and_changes_nothing(admin):
    response = check_changes(admin, retention_audit_months="12",
                             retention_message_months="a year")
    text = text_of(response)
    html = response.get_data(as_text=True)
    assert "There is a problem" in text
    assert "Months to keep the audit trail must be a whole number from 36 to 240" in text
    assert "Enter the months to keep message contents as a whole number" in text
    assert 'href="#retention_audit_months"' in html
    assert 'id="retention_audit_months-error"' in html
    assert programme_settings()["retention_audit_months"] == 84


def test_an_administrator_shortens_how_long_ineligible_screenings_are_kept(admin):
    response = check_changes(admin, retention_ineligible_months="6")
    text = text_of(response)
    assert "Months to keep ineligible screenings" in text
    assert "12 months" in text and "6 months" in text
    page = admin.post("/admin/programmes/1/confirm", data={
        **hidden_fields(response), "confirm": "y"})
    assert page.status_code == 302
    assert programme_settings()["retention_ineligible_months"] == 6


def test_a_title_that_reveals_the_programme_gets_a_field_error(admin):
    response = check_changes(admin, invite_title="Police appointment", core_months="6")
    text = text_of(response)
    assert "Calendar title must not contain words that reveal what the programme is: police" \
        in text
    assert "Check your changes" not in text
    assert programme_settings()["invite_title"] == "Appointment"


def test_a_holiday_region_outside_the_uk_is_refused_even_from_a_hand_made_post(admin):
    response = check_changes(admin, holiday_region="FR")
    assert "There is a problem" in text_of(response)
    assert programme_settings()["holiday_region"] == "GB-ENG"


def test_a_tampered_confirmation_is_checked_again_and_refused(admin):
    check = check_changes(admin, core_months="6")
    response = admin.post("/admin/programmes/1/confirm", data={
        **hidden_fields(check), "invite_title": "Prosecution", "confirm": "y"})
    assert response.status_code == 200
    assert "must not contain words that reveal" in text_of(response)
    assert programme_settings() == {"core_months": 4, "invite_title": "Appointment",
                                    "holiday_region": "GB-ENG", "name": "Online safety course",
                                    "retention_ineligible_months": 12,
                                    "retention_audit_months": 84}


def test_continuing_without_a_change_says_so(admin):
    response = check_changes(admin)
    assert response.status_code == 302
    assert "No settings were changed" in text_of(admin.get("/admin/programmes/1"))


def test_a_change_made_by_someone_else_meanwhile_is_shown_again_before_saving(admin):
    check = check_changes(admin, core_months="6")
    change_settings_elsewhere(core_months=5)
    response = admin.post("/admin/programmes/1/confirm", data={
        **hidden_fields(check), "confirm": "y"})
    assert response.status_code == 200
    text = text_of(response)
    assert "Someone else changed this programme's settings" in text
    assert "Months to finish the core modules 5 months 6 months" in text
    assert programme_settings()["core_months"] == 5
    assert programme_audit() == []


def test_a_confirmation_without_its_csrf_token_is_refused_and_changes_nothing(admin):
    check = check_changes(admin, core_months="6")
    data = {**hidden_fields(check), "confirm": "y"}
    data.pop("csrf_token")
    assert admin.post("/admin/programmes/1/confirm", data=data).status_code == 400
    assert programme_settings()["core_months"] == 4


def test_an_administrator_adds_a_programme_for_wales(admin):
    page = admin.get("/admin/programmes/new")
    html = page.get_data(as_text=True)
    assert re.search(r'name="core_months"[^>]*value="4"', html)  # the defaults to start from
    response = admin.post("/admin/programmes/new", data={
        **SETTINGS, "name": "Online safety course (Wales)", "holiday_region": "GB-WLS",
        "csrf_token": csrf_from(html)})
    assert response.status_code == 302
    shown = text_of(admin.get(response.headers["Location"]))
    assert "Online safety course (Wales) added" in shown
    assert "Public holidays of Wales (GB-WLS)" in shown
    assert programme_settings(2)["name"] == "Online safety course (Wales)"
    assert [e.action for e in programme_audit()] == ["create"]


def test_a_new_programme_without_a_name_is_refused_with_a_field_error(admin):
    page = admin.get("/admin/programmes/new")
    response = admin.post("/admin/programmes/new", data={
        **SETTINGS, "name": " ", "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 200
    assert "Enter the name" in text_of(response)
    assert programme_count() == 1


@pytest.mark.parametrize("path", ["/admin/programmes", "/admin/programmes/1",
                                  "/admin/programmes/1/edit", "/admin/programmes/new"])
def test_other_staff_may_not_open_the_programme_pages(client, login_as, path):
    login_as("coordinator", force=None)
    assert client.get(path).status_code == 403


def test_a_programme_that_does_not_exist_is_not_found(admin):
    assert admin.get("/admin/programmes/2").status_code == 404
    assert admin.get("/admin/programmes/99999999999/edit").status_code == 404


# ---- choosing the programme when publishing --------------------------------

@in_app
def add_programme(name: str, region: str = "GB-WLS") -> None:
    db.session.add(Programme(name=name, holiday_region=region, contact_phone="1",
                             organizer_email="a@b.example"))
    db.session.commit()


@pytest.mark.parametrize("path", ["/coordinator/sessions/new", "/coordinator/sessions/series"])
def test_with_one_programme_the_publish_pages_choose_it(client, login_as, path):
    login_as("coordinator", force=None)
    html = client.get(path).get_data(as_text=True)
    select = re.search(r'<select[^>]*name="programme_id".*?</select>', html, re.S).group(0)
    assert re.findall(r"<option[^>]*>([^<]*)</option>", select) == ["Online safety course"]
    assert ("Online safety course: 90-minute sessions, never on a public holiday in England"
            in text_of(client.get(path)))


@pytest.mark.parametrize("path", ["/coordinator/sessions/new", "/coordinator/sessions/series"])
def test_with_several_programmes_the_coordinator_must_choose_one(client, login_as, path):
    add_programme("Online safety course (Wales)")
    login_as("coordinator", force=None)
    page = client.get(path)
    html = page.get_data(as_text=True)
    select = re.search(r'<select[^>]*name="programme_id".*?</select>', html, re.S).group(0)
    assert re.findall(r"<option[^>]*>([^<]*)</option>", select) == [
        "Choose a programme", "Online safety course", "Online safety course (Wales)"]
    response = client.post(path, data={"csrf_token": csrf_from(html), "programme_id": "",
                                       "module": "1"})
    errors = text_of(response)
    assert "Select a programme" in errors
    assert "Not a valid choice" not in errors
