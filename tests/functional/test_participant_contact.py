"""How a participant is reached: a UK phone number kept in one form, their language and
their consent to text messages, at intake (API and form) and changed later by the case
officer."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import AuditEvent, Case
from tests.conftest import case_body, csrf_from

NOW = "2027-01-04T09:00:00+00:00"


def text_of(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


@pytest.fixture
def officer(api_as):
    clock.set_now(NOW)
    return api_as("case_officer")


def _body(**participant):
    body = case_body(reference="MET/501")
    body["participant"].update(participant)
    return body


def test_a_welsh_speaker_who_agrees_to_texts_is_recorded_so(officer):
    created = officer.post("/cases", _body(language="cy", sms_consent=True,
                                           phone="+44 7700 900982"))
    assert created.status_code == 201, created.get_json()
    participant = officer.get(f"/cases/{created.get_json()['id']}").get_json()["participant"]
    assert participant["language"] == "cy"
    assert participant["sms_consent"] is True
    assert participant["phone"] == "+447700900982"


def test_without_a_choice_messages_are_in_english_and_there_are_no_texts(officer):
    body = _body()
    body["participant"].pop("phone")
    created = officer.post("/cases", body)
    assert created.status_code == 201, created.get_json()
    participant = officer.get(f"/cases/{created.get_json()['id']}").get_json()["participant"]
    assert (participant["language"], participant["sms_consent"], participant["phone"]) == (
        "en", False, None)


@pytest.mark.parametrize(("participant", "field", "words"), [
    ({"language": "fr"}, "language", None),
    ({"sms_consent": "yes"}, "sms_consent", None),
    ({"phone": "12345"}, "phone", "Enter a UK phone number, like 07700 900982"),
    ({"phone": "+33 6 12 34 56 78"}, "phone", "Enter a UK phone number, like 07700 900982"),
    ({"phone": None, "sms_consent": True}, "phone", "Enter a mobile number to send text"),
    ({"phone": "020 7946 0018", "sms_consent": True}, "phone",
     "Text messages need a UK mobile number, starting 07"),
])
def test_contact_details_that_cannot_work_are_refused_and_nothing_is_stored(
        officer, app, participant, field, words):
    response = officer.post("/cases", _body(**participant))
    assert response.status_code == 400, response.get_json()
    [error] = response.get_json()["errors"]
    assert error["field"].endswith(field)
    if words:
        assert error["message"].startswith(words)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def _form(client, path: str, data: dict):
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


INTAKE = {
    "reference": "MET/77", "given_name": "Sam", "family_name": "Taylor",
    "date_of_birth": ["2", "4", "1990"],
    "email": "sam@example.com",
    "previous_sexual_or_violent_conviction": "no", "first_offence": "yes",
    "image_category": "C", "contact_offending_suspected": "no", "children_at_risk": "no",
    "prosecutor_agreed": "yes", "participant_consented": "yes",
}


def test_the_intake_form_records_language_and_consent_and_the_officer_changes_them(
        client, login_as, app):
    clock.set_now(NOW)
    login_as("case_officer")
    response = _form(client, "/cases/new", {**INTAKE, "phone": "07700 900982",
                                             "language": "cy", "sms_consent": "y"})
    assert response.status_code == 302, text_of(response)
    case_url = response.headers["Location"]
    page = text_of(client.get(case_url))
    assert "Phone 07700 900982" in page
    assert "Language for messages Welsh (Cymraeg)" in page
    assert "Text messages Agreed" in page

    contact_url = case_url.rstrip("/") + "/contact"
    refused = _form(client, contact_url, {"phone": "", "language": "en", "sms_consent": "y"})
    assert refused.status_code == 200
    assert "There is a problem" in text_of(refused)
    assert "Enter a mobile number to send text messages to" in text_of(refused)
    assert "Language for messages Welsh (Cymraeg)" in text_of(client.get(case_url))

    saved = _form(client, contact_url, {"phone": "07700 900983", "language": "en"})
    assert saved.status_code == 302
    page = text_of(client.get(case_url))
    assert "Phone 07700 900983" in page
    assert "Language for messages English" in page
    assert "Text messages Not agreed" in page
    with app.app_context():
        changed = db.session.scalars(sa.select(AuditEvent.detail).where(
            AuditEvent.action == "update", AuditEvent.object_type == "case")).all()
    assert len(changed) == 1
    assert changed[0]["changed"] == ["language", "phone", "sms_consent"]
    assert "07700" not in str(changed[0]), "the audit row names fields, never their values"


def test_the_intake_form_refuses_texts_without_a_mobile_number(client, login_as, app):
    clock.set_now(NOW)
    login_as("case_officer")
    response = _form(client, "/cases/new", {**INTAKE, "phone": "020 7946 0018",
                                             "language": "en", "sms_consent": "y"})
    assert response.status_code == 200
    page = text_of(response)
    assert "There is a problem" in page
    assert "Text messages need a UK mobile number, starting 07" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0
