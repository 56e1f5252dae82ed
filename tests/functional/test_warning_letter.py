"""After an unexcused absence: the notice, the warning letter handed over in person, the
proof of notice, and the messages on the participant's pages."""

from __future__ import annotations

import re
import subprocess
from html import unescape

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.domain.privacy import disclosing_words
from diversion.extensions import db
from diversion.models import AuditEvent
from tests.conftest import Api, csrf_from, enrol_case, make_token
from tests.functional.conftest import VENUE
from tests.functional.test_case_officer_enrolment_pages import text_of

MISSED = "Tuesday 12 January 2027 at 6pm"
# Start 4 January 2027, core deadline Tuesday 4 May 2027: module 2 missed, so modules 3, 4
# and 5 must still fit after it, 7 days apart.
REBOOK_BY = "Tuesday 13 April 2027"


@pytest.fixture
def missed(app, client, login_as, mailbox, runner):
    """Module 1 attended, module 2 missed without excuse and the notice sent; a case officer
    of the enrolment's force signed in to the pages."""
    return miss(client, login_as, runner)


def miss(client, login_as, runner, language: str | None = None) -> dict:
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = Api(client, make_token(role="case_officer", email="api.officer@example.gov.uk"))
    coordinator = Api(client, make_token(role="coordinator", force=None))
    venue = coordinator.post("/venues", VENUE).get_json()
    enrolment = enrol_case(officer, "MET/77", language=language)
    bookings = []
    for module, day in ((1, 5), (2, 12)):
        session = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": f"2027-01-{day:02d}T18:00:00",
            "venue_id": venue["id"], "capacity": 10}).get_json()
        bookings.append(coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                         {"session_id": session["id"]}).get_json())
    for booking, outcome, at in ((bookings[0], "attended", "2027-01-05T19:30:00+00:00"),
                                 (bookings[1], "absent_unexcused", "2027-01-12T19:30:00+00:00")):
        clock.set_now(at)
        response = coordinator.put(f"/bookings/{booking['id']}/attendance", {"outcome": outcome})
        assert response.status_code == 200, response.get_json()
    # The invitations and the notice; the reminders fell due after their sessions.
    assert runner.invoke(args=["send-mail"]).output.startswith("sent 3, failed 0")
    clock.set_now("2027-01-13T10:00:00+00:00")
    login_as("case_officer", email="officer@example.gov.uk")
    return {"officer": officer, "coordinator": coordinator, "enrolment": enrolment,
            "bookings": bookings, "id": enrolment["id"]}


def pdf_text(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                         check=True).stdout.decode()
    return " ".join(out.split())


def letter(api: Api, enrolment_id: int):
    return api.get(f"/enrolments/{enrolment_id}/warning-letter",
                   headers={"Accept": "application/pdf"})


# ---- the letter -----------------------------------------------------------------------------

def test_the_letter_names_the_missed_appointment_the_day_to_rebook_by_and_the_number(missed):
    response = letter(missed["officer"], missed["id"])
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Missed appointment" in text
    assert "To: Sam Taylor" in text
    assert f"You missed your appointment on {MISSED}." in text
    assert f"Your new appointment must be on or before {REBOOK_BY}." in text
    assert "Please call 0300 123 4567 as soon as you can." in text
    assert f"Reference: P-{missed['id']:06d}" in text
    assert "Date: Wednesday 13 January 2027" in text
    # It goes into the participant's home: nothing about the case, no marking.
    for word in ("offence", "prosecution", "police", "child", "abuse", "images", "MET/77",
                 "OFFICIAL-SENSITIVE", "Diversion"):
        assert word.lower() not in text.lower(), word


def test_a_welsh_participants_letter_is_in_welsh(app, client, login_as, mailbox, runner):
    welsh = miss(client, login_as, runner, language="cy")
    response = letter(welsh["officer"], welsh["id"])
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert text.startswith("Apwyntiad a gollwyd At: Sam Taylor")
    assert "Fe wnaethoch chi golli eich apwyntiad: Dydd Mawrth 12 Ionawr 2027 am 18:00." in text
    assert "Beth sy'n rhaid i chi ei wneud Rhaid i chi gysylltu â ni i'w aildrefnu." in text
    assert ("Rhaid i'ch apwyntiad newydd fod erbyn Dydd Mawrth 13 Ebrill 2027 fan bellaf."
            in text)
    assert ("Ffoniwch 0300 123 4567 cyn gynted ag y gallwch. Pan fyddwch chi'n ffonio, "
            f"rhowch eich cyfeirnod: P-{welsh['id']:06d}.") in text
    assert "Dyddiad: Dydd Mercher 13 Ionawr 2027" in text
    assert "Cadwch y llythyr hwn." in text
    assert f"Cyfeirnod P-{welsh['id']:06d}" in text  # the footer
    for english in ("Missed appointment", "You missed", "Reference", "Please", "January"):
        assert english not in text, english
    assert disclosing_words(text.replace("Sam Taylor", "")) == []


def test_printing_the_letter_is_recorded_as_a_disclosure(missed, app):
    letter(missed["officer"], missed["id"])
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.object_type == "warning_letter")).all()
        assert (event.action, event.object_id, event.detail) == (
            "disclose", str(missed["id"]), {"booking_id": missed["bookings"][1]["id"]})


def test_there_is_no_letter_without_an_unexcused_absence_to_make_up(missed, client):
    other = enrol_case(missed["officer"], "MET/78", start="2027-01-13")
    response = letter(missed["officer"], other["id"])
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["code"] == "not_found"
    assert client.get(f"/cases/enrolments/{other['id']}/warning-letter").status_code == 404


def test_there_is_no_letter_once_the_missed_module_is_attended(missed):
    clock.set_now("2027-01-14T09:00:00+00:00")
    session = missed["coordinator"].post("/sessions", {
        "programme_id": 1, "module": 2, "starts_at": "2027-01-19T18:00:00",
        "venue_id": 1, "capacity": 10}).get_json()
    again = missed["coordinator"].post(f"/enrolments/{missed['id']}/bookings",
                                       {"session_id": session["id"]}).get_json()
    clock.set_now("2027-01-19T19:45:00+00:00")
    missed["coordinator"].put(f"/bookings/{again['id']}/attendance", {"outcome": "attended"})
    assert letter(missed["officer"], missed["id"]).status_code == 404


def test_only_a_case_officer_of_the_enrolments_force_can_print_the_letter(missed, api_as):
    kent = api_as("case_officer", force="KENT", email="kent@example.gov.uk")
    assert letter(kent, missed["id"]).status_code == 404
    assert letter(missed["coordinator"], missed["id"]).status_code == 403


def test_another_forces_officer_cannot_open_the_letter_or_record_its_handover(
    missed, client, login_as
):
    with client.session_transaction() as session:
        session.clear()
    login_as("case_officer", force="KENT", email="kent.page@example.gov.uk")
    assert client.get(f"/cases/enrolments/{missed['id']}/warning-letter").status_code == 404
    page = client.get("/cases/enrolments").get_data(as_text=True)
    response = client.post(f"/cases/enrolments/{missed['id']}/warning-letter/handover", data={
        "csrf_token": csrf_from(page), "handed_over_on": ["13", "1", "2027"],
        "handed_over_by": "PC Jones"})
    assert response.status_code == 404


# ---- the enrolment page: download, hand-over, messages ------------------------------------

def test_the_enrolment_page_offers_the_letter_to_download(missed, client):
    html = client.get(f"/cases/enrolments/{missed['id']}").get_data(as_text=True)
    href = f"/cases/enrolments/{missed['id']}/warning-letter"
    assert f'href="{href}"' in html
    assert "Download warning letter (PDF)" in html
    response = client.get(href)
    assert response.mimetype == "application/pdf"
    assert f"on or before {REBOOK_BY}" in pdf_text(response.data)


def _handover(client, enrolment_id, **fields):
    page = client.get(f"/cases/enrolments/{enrolment_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "handed_over_on": ["13", "1", "2027"],
            "handed_over_by": "PC Jones", **fields}
    return client.post(f"/cases/enrolments/{enrolment_id}/warning-letter/handover", data=data)


@pytest.mark.parametrize(("fields", "error", "href"), [
    ({"handed_over_on": ["", "", ""]},
     "Enter the date the letter was handed over", "#handed_over_on-day"),
    ({"handed_over_on": ["31", "2", "2027"]},
     "Enter the date the letter was handed over as a real date, like 13 1 2027",
     "#handed_over_on-day"),
    ({"handed_over_on": ["14", "1", "2027"]},
     "The date the letter was handed over must be today or in the past", "#handed_over_on-day"),
    ({"handed_over_on": ["11", "1", "2027"]},
     "The date the letter was handed over must be on or after the missed appointment, "
     "12 January 2027", "#handed_over_on-day"),
    ({"handed_over_by": "   "},
     "Enter the name of the person who handed the letter over", "#handed_over_by"),
    ({"handed_over_by": "x" * 201}, "The name must be 200 characters or fewer",
     "#handed_over_by"),
])
def test_a_handover_form_with_a_mistake_shows_it_beside_the_field_and_records_nothing(
    missed, client, app, fields, error, href
):
    response = _handover(client, missed["id"], **fields)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert f'<a href="{href}">{error}</a>' in html
    assert "govuk-error-message" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(
            sa.table("warning_letter_handovers"))) == 0


def test_every_mistake_in_the_handover_form_is_shown_at_once(missed, client):
    html = _handover(client, missed["id"], handed_over_on=["14", "1", "2027"],
                     handed_over_by="").get_data(as_text=True)
    summary = html[html.index("There is a problem"):html.index("</ul>", html.index(
        "There is a problem"))]
    assert "The date the letter was handed over must be today or in the past" in summary
    assert "Enter the name of the person who handed the letter over" in summary
    assert "<title>Error: " in html


def test_a_recorded_handover_shows_on_the_page_and_is_audited(missed, client, app):
    response = _handover(client, missed["id"])
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "Recorded: the warning letter was handed over on 13 January 2027" in page
    assert "13 January 2027 PC Jones Module 2 missed on " + MISSED in page
    assert "Warning letter handed over in person on 13 January 2027 by PC Jones" in page
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.object_type == "warning_letter_handover")).all()
        assert event.action == "create"
        assert event.detail == {"booking_id": missed["bookings"][1]["id"],
                                "handed_over_on": "2027-01-13"}


def test_the_case_officers_page_lists_the_messages_sent_newest_first(missed, client):
    html = client.get(f"/cases/enrolments/{missed['id']}").get_data(as_text=True)
    table = html[html.index('id="messages"'):html.index("Timeline")].replace("<wbr>", "")
    text = " ".join(re.sub(r"<[^>]+>", " ", table).split())
    assert text.index("Missed-session notice") < text.index("Invitation")
    assert ("Missed-session notice Module 2, " + MISSED +
            " Missed appointment on Tuesday 12 January Email sam@example.com") in text
    assert "Sent Tuesday 12 January 2027 at 7:30pm 1" in text
    assert "Attempts" in text


def test_the_coordinators_participant_page_lists_the_messages_sent(missed, client, login_as):
    with client.session_transaction() as session:
        session.clear()
    login_as("coordinator", force=None, email="coordinator.page@example.gov.uk")
    html = client.get(f"/coordinator/participants/{missed['id']}").get_data(as_text=True)
    page = " ".join(unescape(re.sub(r"<[^>]+>", " ", html.replace("<wbr>", ""))).split())
    assert "Messages to the participant" in page
    assert "Missed-session notice Module 2, " + MISSED in page
    assert "Your appointment on Tuesday 12 January at 6pm" in page
    # Two invitations, two reminders (withdrawn, as mail went after the sessions), the notice.
    assert page.count("sam@example.com") == 5
    assert "Withdrawn before sending Never delivered" in page


# ---- the proof of notice --------------------------------------------------------------------

def test_the_referral_summary_proves_the_notice_and_the_letter_handed_over(missed, client):
    _handover(client, missed["id"])
    summary = missed["officer"].get(f"/enrolments/{missed['id']}/referral-summary").get_json()
    [notice] = [m for m in summary["messages"] if m["kind"] == "missed_notice"]
    assert notice["kind_text"] == "Missed-session notice"
    assert notice["about"] == "Module 2, " + MISSED
    assert notice["outcome_text"] == "Sent Tuesday 12 January 2027 at 7:30pm"
    assert notice["message_id"]
    [handed] = summary["warning_letters"]
    assert handed["text"] == (f"Warning letter about module 2 missed on {MISSED}: handed to "
                              "the participant in person on Wednesday 13 January 2027 by "
                              "PC Jones.")
    page = text_of(client.get(f"/cases/enrolments/{missed['id']}/referral-summary"))
    assert "Missed-session notice Module 2, " + MISSED in page
    assert handed["text"] in page
    pdf = pdf_text(missed["officer"].get(f"/enrolments/{missed['id']}/referral-summary",
                                         headers={"Accept": "application/pdf"}).data)
    assert "Missed-session notice" in pdf
    assert "Warning letters handed over in person" in pdf
    assert "handed to the participant in person on Wednesday 13 January 2027 by PC Jones" in pdf


def test_a_notice_that_failed_is_shown_as_never_delivered(app, client, login_as, mailbox):
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = Api(client, make_token(role="case_officer"))
    coordinator = Api(client, make_token(role="coordinator", force=None))
    venue = coordinator.post("/venues", VENUE).get_json()
    enrolment = enrol_case(officer)
    session = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-05T18:00:00",
        "venue_id": venue["id"], "capacity": 10}).get_json()
    booking = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                               {"session_id": session["id"]}).get_json()
    clock.set_now("2027-01-05T19:30:00+00:00")
    coordinator.put(f"/bookings/{booking['id']}/attendance", {"outcome": "absent_unexcused"})
    mailbox.refusing = True
    app.test_cli_runner().invoke(args=["send-mail"])
    summary = officer.get(f"/enrolments/{enrolment['id']}/referral-summary").get_json()
    [notice] = [m for m in summary["messages"] if m["kind"] == "missed_notice"]
    assert notice["outcome_text"] == "Failed Tuesday 5 January 2027 at 7:30pm: never delivered"
    assert notice["attempts"] == 1
