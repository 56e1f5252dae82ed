"""Reminders by text message through GOV.UK Notify: queued only with consent, delivered
exactly once by send-mail, retried or given up as Notify answers, and proved by Notify's
delivery receipt. Notify is a fake on loopback that checks the client's signed token."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.config import ROOT
from diversion.domain.privacy import disclosing_words
from diversion.extensions import db
from diversion.models import Case, OutboxMessage, User
from diversion.services import Actor, cases
from tests.integration.notify.conftest import (
    CALLBACK_TOKEN,
    deliver,
    deliver_side_by_side,
    kind_of,
    notify_settings,
)

STARTS = datetime.fromisoformat("2027-01-12T18:00:00+00:00")
MOBILE = "+447700900982"  # case_body's "07700 900982", as stored
REMINDER_TEXT = ("Reminder: Appointment, Tuesday 12 January 2027, 6pm to 7:30pm, at Civic "
                 "Centre, 1 High Street, Leeds. If you cannot attend, call 0300 123 4567.")


def at(hours_before: float) -> None:
    clock.set_now(STARTS - timedelta(hours=hours_before))


def later(**delta) -> None:
    clock.set_now(clock.now() + timedelta(**delta))


def texts(app) -> list[OutboxMessage]:
    with app.app_context():
        found = db.session.scalars(sa.select(OutboxMessage)
                                   .where(OutboxMessage.channel == "sms")
                                   .order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return list(found)


def book_participant(world, *, sms_consent: bool, email: str = "sam@example.com") -> dict:
    enrolment = world["enrol"](email, sms_consent=sms_consent)
    session = world.get("session_") or world["session"]("2027-01-12T18:00:00")
    world["session_"] = session
    world["book"](enrolment, session)
    return enrolment


def receipt_post(client, body: dict, token: str = CALLBACK_TOKEN):
    return client.post("/notify/callback", json=body,
                       headers={"Authorization": f"Bearer {token}"})


def proof_of_notice(world, enrolment: dict) -> list[dict]:
    response = world["officer"].get(f"/enrolments/{enrolment['id']}/referral-summary")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["messages"]


# ---- queued only where a text may go ------------------------------------------------------

def test_a_reminder_goes_by_text_too_when_the_participant_agreed_to_texts(texting, mailbox):
    app, notify = texting["app"], texting["notify"]
    book_participant(texting, sms_consent=True)
    deliver(app)  # the invitation goes by email only
    assert notify.notifications == []
    at(49)
    deliver(app)
    assert notify.notifications == []  # not due yet, like the email

    at(47)
    result = deliver(app)
    assert result.sent == 2
    assert [kind_of(m) for m in mailbox.messages] == ["invitation", "reminder"]
    [sms] = notify.notifications
    [row] = texts(app)
    assert sms["phone_number"] == MOBILE
    # The same private appointment link as the reminder email's, to move or ask for a call.
    reminder_mail = mailbox.messages[-1].message.get_body(("plain",)).get_content()
    assert sms["body"].startswith(REMINDER_TEXT + " Your appointment: http://localhost/appointments/")
    assert sms["body"].rpartition(" ")[2] in reminder_mail
    assert sms["reference"] == str(row.id)
    assert (row.kind, row.status, row.notify_id) == ("reminder", "sent", sms["id"])
    assert notify.refused_tokens == 0


def test_a_welsh_participants_reminder_text_is_welsh(texting):
    app, notify = texting["app"], texting["notify"]
    enrolment = texting["enrol"]("cai@example.com", language="cy", sms_consent=True)
    texting["book"](enrolment, texting["session"]("2027-01-12T18:00:00"))
    at(47)
    deliver(app)
    [sms] = notify.notifications
    welsh, _, link = sms["body"].rpartition(" ")
    assert welsh == (
        "Nodyn atgoffa: Apwyntiad, Dydd Mawrth 12 Ionawr 2027, 18:00 tan 19:30. "
        "Lle: Civic Centre, 1 High Street, Leeds. Os na allwch ddod, ffoniwch "
        "0300 123 4567. Eich apwyntiad:")
    assert link.startswith("http://localhost/appointments/")
    assert disclosing_words(sms["body"]) == []


def test_no_text_is_queued_or_sent_without_the_participants_consent(texting, mailbox):
    app, notify = texting["app"], texting["notify"]
    book_participant(texting, sms_consent=False)
    at(47)
    deliver(app)
    assert texts(app) == []
    assert notify.notifications == []
    assert [kind_of(m) for m in mailbox.messages] == ["invitation", "reminder"]


def test_no_text_is_queued_without_a_notify_api_key_even_once_one_is_set(world, notify,
                                                                         mailbox):
    app = world["app"]
    book_participant(world, sms_consent=True)
    assert texts(app) == []
    app.config.update(notify_settings(notify))
    at(47)
    deliver(app)
    assert texts(app) == []
    assert notify.notifications == []
    assert [kind_of(m) for m in mailbox.messages] == ["invitation", "reminder"]


def test_a_text_queued_before_consent_was_withdrawn_is_never_sent(texting, mailbox):
    app, notify = texting["app"], texting["notify"]
    enrolment = book_participant(texting, sms_consent=True)
    with app.app_context():
        officer = db.session.scalar(sa.select(User).where(User.role == "case_officer"))
        case = db.session.scalar(sa.select(Case).where(Case.email == "sam@example.com"))
        cases.change_contact(Actor(user_id=officer.id, email=officer.email, role=officer.role,
                                   force_id=officer.force_id),
                             case.id, {"phone": "07700 900982", "language": "en",
                                       "sms_consent": False})
        db.session.remove()
    at(47)
    result = deliver(app)
    assert (result.sent, result.superseded) == (2, 1)  # the invitation and email reminder go
    assert notify.notifications == []
    [notice] = [m for m in proof_of_notice(texting, enrolment) if m["channel_code"] == "sms"]
    assert notice["status"] == "superseded"
    assert "consent to texts" in notice["outcome_text"]


def test_a_text_waits_while_notify_is_switched_off_and_goes_once_it_is_back(texting,
                                                                            mailbox):
    app, notify = texting["app"], texting["notify"]
    book_participant(texting, sms_consent=True)
    at(47)
    app.config["NOTIFY_API_KEY"] = None
    assert deliver(app).sent == 2  # the invitation and the email reminder
    assert [r.status for r in texts(app)] == ["pending"]
    app.config.update(notify_settings(notify))
    assert deliver(app).sent == 1
    assert len(notify.notifications) == 1


# ---- exactly once --------------------------------------------------------------------------

def test_two_send_mail_runs_at_once_hand_each_text_to_notify_exactly_once(
    texting, mailbox, database_url
):
    app, notify = texting["app"], texting["notify"]
    for n in range(6):
        book_participant(texting, sms_consent=True, email=f"p{n}@example.com")
    at(47)
    notify.delay = 0.1  # each message takes a while, so the two runs overlap
    env = {**os.environ, "DATABASE_URL": database_url, "DIVERSION_NOW": clock.now().isoformat(),
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(mailbox.port),
           "MAIL_SENDER": "appointments@diversion.invalid", "SECRET_KEY": "test-secret",
           **notify_settings(notify)}
    runs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "send-mail"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs

    rows = texts(app)
    assert len(rows) == 6
    assert {r.status for r in rows} == {"sent"}
    references = Counter(n["reference"] for n in notify.notifications)
    assert references == Counter({str(r.id): 1 for r in rows})
    assert {r.notify_id for r in rows} == {n["id"] for n in notify.notifications}
    assert notify.posts == 6
    assert Counter(kind_of(m) for m in mailbox.messages) == {"invitation": 6, "reminder": 6}


def test_senders_side_by_side_in_small_batches_share_the_texts_and_send_each_once(texting,
                                                                                 mailbox):
    app, notify = texting["app"], texting["notify"]
    for n in range(6):
        book_participant(texting, sms_consent=True, email=f"p{n}@example.com")
    at(47)
    notify.delay = 0.05
    results = deliver_side_by_side(app, senders=4, batch=2)
    assert sum(r.sent for r in results) == 18  # 6 invitations, 6 email and 6 text reminders
    assert sum(1 for r in results if r.sent) > 1  # the senders did share the work
    rows = texts(app)
    assert Counter(n["reference"] for n in notify.notifications) == Counter(
        {str(r.id): 1 for r in rows})
    assert notify.posts == 6


def test_after_a_notify_500_the_text_is_sent_later_once_with_the_same_reference(texting):
    app, notify = texting["app"], texting["notify"]
    book_participant(texting, sms_consent=True)
    at(47)
    notify.answers = [500]
    result = deliver(app)
    assert (result.sent, result.retrying, result.failed) == (2, 1, 0)
    [row] = texts(app)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "GOV.UK Notify 500: Internal server error"
    assert row.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert notify.notifications == []

    assert deliver(app).handled == 0  # not before the backoff has passed
    later(minutes=1)
    assert deliver(app).sent == 1
    later(hours=1)
    assert deliver(app).handled == 0
    [sms] = notify.notifications
    [row] = texts(app)
    assert sms["reference"] == str(row.id)
    assert (row.status, row.notify_id, row.last_error) == ("sent", sms["id"], None)
    assert notify.posts == 2  # the refused one and the one Notify took


def test_a_text_notify_took_but_answered_too_late_for_is_not_sent_again(texting):
    app, notify = texting["app"], texting["notify"]
    app.config["NOTIFY_TIMEOUT_SECONDS"] = 0.5
    book_participant(texting, sms_consent=True)
    at(47)
    notify.answers = ["accept_slowly"]
    result = deliver(app)
    assert result.retrying == 1
    [row] = texts(app)
    assert row.status == "pending"
    assert "Timeout" in row.last_error
    assert len(notify.notifications) == 1  # Notify has it, though we could not tell

    later(minutes=1)
    assert deliver(app).sent == 1
    [sms] = notify.notifications
    [row] = texts(app)
    assert (row.status, row.notify_id) == ("sent", sms["id"])
    assert notify.posts == 1  # asked for by its reference, never sent twice


def test_a_text_notify_refuses_with_400_is_given_up_at_once_and_shown_as_failed(texting):
    app, notify = texting["app"], texting["notify"]
    enrolment = book_participant(texting, sms_consent=True)
    at(47)
    notify.answers = [400]
    result = deliver(app)
    assert (result.sent, result.failed, result.retrying) == (2, 1, 0)
    [row] = texts(app)
    assert (row.status, row.attempts, row.failed_at) == ("failed", 1, clock.now())
    assert row.last_error == "GOV.UK Notify 400: phone_number Not a UK mobile number"
    later(hours=2)
    assert deliver(app).handled == 0
    assert notify.posts == 1
    assert notify.notifications == []

    [notice] = [m for m in proof_of_notice(texting, enrolment) if m["channel_code"] == "sms"]
    assert notice["channel"] == "Text message"
    assert notice["recipient"] == MOBILE
    assert notice["never_delivered"] is True
    assert notice["outcome_text"].endswith(
        "never delivered (GOV.UK Notify 400: phone_number Not a UK mobile number)")


# ---- Notify's delivery receipt --------------------------------------------------------------

@pytest.fixture
def sent_text(texting, mailbox):
    enrolment = book_participant(texting, sms_consent=True)
    at(47)
    deliver(texting["app"])
    [sms] = texting["notify"].notifications
    return {**texting, "enrolment": enrolment, "sms": sms}


def test_notifys_delivery_receipt_is_recorded_and_shown_in_the_proof_of_notice(
    sent_text, client, login_as
):
    app, notify, sms = sent_text["app"], sent_text["notify"], sent_text["sms"]
    [notice] = [m for m in proof_of_notice(sent_text, sent_text["enrolment"])
                if m["channel_code"] == "sms"]
    assert notice["delivery_status"] is None
    assert "no report from the phone network yet" in notice["outcome_text"]

    response = receipt_post(client, notify.receipt(sms, "delivered"))
    assert response.status_code == 204
    [row] = texts(app)
    assert (row.delivery_status, row.notify_id) == ("delivered", sms["id"])
    assert row.delivery_reported_at is not None

    [notice] = [m for m in proof_of_notice(sent_text, sent_text["enrolment"])
                if m["channel_code"] == "sms"]
    assert notice["delivery_status"] == "delivered"
    assert notice["notify_id"] == sms["id"]
    assert "through GOV.UK Notify: delivered to the phone" in notice["outcome_text"]

    login_as("case_officer", email="reader.met@example.gov.uk")
    page = client.get(f"/cases/enrolments/{sent_text['enrolment']['id']}/referral-summary")
    html = page.get_data(as_text=True)
    assert "Text message to +447700900982" in html
    assert "delivered to the phone" in html
    assert sms["id"] in html
    pdf = client.get(f"/cases/enrolments/{sent_text['enrolment']['id']}/referral-summary"
                     "?format=pdf")
    text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=pdf.data,
                                   capture_output=True, check=True).stdout.decode().split())
    assert "delivered to the phone" in text
    assert f"GOV.UK Notify id: {sms['id']}" in text
    enrolment_page = client.get(f"/cases/enrolments/{sent_text['enrolment']['id']}")
    assert ("Reminder sent to +447700900982 by text message: delivered to the phone"
            in enrolment_page.get_data(as_text=True))


def test_a_failed_delivery_is_shown_and_a_late_lesser_receipt_does_not_replace_it(
    sent_text, client
):
    app, notify, sms = sent_text["app"], sent_text["notify"], sent_text["sms"]
    assert receipt_post(client, notify.receipt(sms, "permanent-failure")).status_code == 204
    assert receipt_post(client, notify.receipt(sms, "sending")).status_code == 204
    [row] = texts(app)
    assert row.delivery_status == "permanent-failure"
    [notice] = [m for m in proof_of_notice(sent_text, sent_text["enrolment"])
                if m["channel_code"] == "sms"]
    assert "not delivered: the number is wrong" in notice["outcome_text"]


def test_a_receipt_without_notifys_token_or_for_another_message_changes_nothing(
    sent_text, client
):
    app, notify, sms = sent_text["app"], sent_text["notify"], sent_text["sms"]
    body = notify.receipt(sms, "delivered")
    assert receipt_post(client, body, token="not-the-token").status_code == 401
    assert client.post("/notify/callback", json=body).status_code == 401
    other = {**body, "id": "0b6f6f5e-3f0c-4a53-9a4e-2d3f8f1f6b7e"}
    assert receipt_post(client, other).status_code == 204  # acknowledged, not ours
    [email_row] = [r for r in _all(app) if r.channel == "email" and r.kind == "reminder"]
    assert receipt_post(client, {**body, "reference": str(email_row.id)}).status_code == 204
    assert [r.delivery_status for r in texts(app)] == [None]


@pytest.mark.parametrize("body", [
    [], "delivered", {"id": "not-a-uuid", "status": "delivered"},
    {"id": "0b6f6f5e-3f0c-4a53-9a4e-2d3f8f1f6b7e", "status": "lost"},
    {"id": "0b6f6f5e-3f0c-4a53-9a4e-2d3f8f1f6b7e", "status": "delivered",
     "completed_at": "yesterday"},
])
def test_a_malformed_receipt_is_a_400_that_changes_nothing(sent_text, client, body):
    response = receipt_post(client, body)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["code"] == "invalid"
    assert [r.delivery_status for r in texts(sent_text["app"])] == [None]


def test_receipts_are_not_taken_at_all_without_a_callback_token(sent_text, client):
    sent_text["app"].config["NOTIFY_CALLBACK_TOKEN"] = None
    body = sent_text["notify"].receipt(sent_text["sms"], "delivered")
    assert receipt_post(client, body).status_code == 404
    assert [r.delivery_status for r in texts(sent_text["app"])] == [None]


# ---- settings ---------------------------------------------------------------------------

@pytest.mark.parametrize(("setting", "named"), [
    ({"NOTIFY_SMS_TEMPLATE_ID": None}, "NOTIFY_SMS_TEMPLATE_ID"),
    ({"NOTIFY_API_KEY": "not-a-key"}, "NOTIFY_API_KEY"),
    ({"NOTIFY_BASE_URL": "ftp://notify.invalid"}, "NOTIFY_BASE_URL"),
])
def test_send_mail_exits_1_and_claims_nothing_when_the_notify_settings_cannot_work(
    texting, runner, setting, named
):
    book_participant(texting, sms_consent=True)
    texting["app"].config.update(setting)
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 1
    assert named in result.output
    assert {(r.status, r.attempts) for r in _all(texting["app"])} == {("pending", 0)}


def _all(app) -> list[OutboxMessage]:
    with app.app_context():
        found = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return list(found)
