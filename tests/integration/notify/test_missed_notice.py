"""After an unexcused absence the participant is sent a notice, queued with the outcome."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.domain.errors import RuleViolation
from diversion.domain.privacy import disclosing_words
from diversion.extensions import db
from diversion.models import OutboxMessage, User
from diversion.services import Actor, attendance
from tests.integration.notify.conftest import deliver, kind_of

AFTER_THE_SESSION = "2027-01-05T19:45:00+00:00"


@pytest.fixture
def missed(world):
    """Sam, booked into module 1 on Tuesday 5 January 2027 at 6pm; the invitation sent."""
    enrolment = world["enrol"]("sam@example.com")
    session = world["session"]("2027-01-05T18:00:00")
    booking = world["book"](enrolment, session)
    deliver(world["app"])
    clock.set_now(AFTER_THE_SESSION)

    def record(outcome: str, reason: str | None = None, booking_id: int | None = None):
        response = world["coordinator"].put(
            f"/bookings/{booking_id or booking['id']}/attendance",
            {"outcome": outcome, "reason": reason})
        assert response.status_code == 200, response.get_json()

    return {**world, "enrolment": enrolment, "booking": booking, "record": record}


def notices(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.kind == "missed_notice").order_by(OutboxMessage.id)))
        db.session.remove()
    return rows


def notices_received(mailbox) -> list:
    return [m for m in mailbox.messages if kind_of(m) == "missed_notice"]


def test_an_unexcused_absence_queues_a_notice_to_the_participant_with_the_outcome(missed):
    missed["record"]("absent_unexcused")
    [notice] = notices(missed["app"])
    assert (notice.status, notice.recipient, notice.booking_id) == (
        "pending", "sam@example.com", missed["booking"]["id"])
    # Module 1 missed: modules 2 to 5 must still fit, 7 days apart, by the core deadline
    # of Tuesday 4 May 2027.
    assert notice.payload["rebook_by"] == "2027-04-06"


@pytest.mark.parametrize(("outcome", "reason"), [("attended", None),
                                                 ("absent_excused", "In hospital")])
def test_attendance_or_an_excused_absence_sends_no_notice(missed, mailbox, outcome, reason):
    missed["record"](outcome, reason)
    assert notices(missed["app"]) == []
    deliver(missed["app"])
    assert notices_received(mailbox) == []


def test_the_notice_is_written_in_the_outcomes_own_transaction(missed):
    # A register is recorded all or nothing: a refused row takes the absence's notice with it.
    other = missed["enrol"]("alex@example.com")
    clock.set_now("2027-01-04T10:00:00+00:00")
    second = missed["book"](other, {"id": missed["booking"]["session_id"]})
    clock.set_now(AFTER_THE_SESSION)
    with missed["app"].app_context():
        user = db.session.scalar(sa.select(User).where(User.role == "coordinator"))
        coordinator = Actor(user.id, user.email, user.role)
        with pytest.raises(RuleViolation):
            attendance.record_register(coordinator, {
                missed["booking"]["id"]: ("absent_unexcused", None),
                second["id"]: ("absent_excused", None)})
        db.session.remove()
    assert notices(missed["app"]) == []


def test_the_notice_arrives_as_text_and_html_with_no_calendar_and_the_dates_and_number(
    missed, mailbox
):
    missed["record"]("absent_unexcused")
    result = deliver(missed["app"])
    assert result.sent == 1
    [received] = notices_received(mailbox)
    assert received.rcpt_tos == ["sam@example.com"]
    message = received.message
    assert message["Subject"] == "Missed appointment on Tuesday 5 January"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert received.part("text/calendar") is None
    assert not any(p.get_filename() for p in message.walk())
    text = message.get_body(("plain",)).get_content()
    assert "You missed your appointment on Tuesday 5 January 2027 at 6pm." in text
    assert "Your new appointment must be on or before Tuesday 6 April 2027." in text
    assert "Please call 0300 123 4567 as soon as you can." in text
    assert f"P-{missed['enrolment']['id']:06d}" in text
    html = message.get_body(("html",)).get_content()
    assert "Tuesday 6 April 2027" in html and 'href="tel:03001234567"' in html
    [notice] = notices(missed["app"])
    assert (notice.status, notice.message_id) == ("sent", message["Message-ID"])


def test_an_absence_corrected_before_the_notice_went_is_never_sent(missed, mailbox):
    missed["record"]("absent_unexcused")
    missed["record"]("attended", "Signed in late; the register was wrong")
    [notice] = notices(missed["app"])
    assert notice.status == "superseded"
    deliver(missed["app"])
    assert notices_received(mailbox) == []


def test_an_absence_corrected_to_excused_and_back_is_told_once(missed, mailbox):
    missed["record"]("absent_unexcused")
    deliver(missed["app"])
    missed["record"]("absent_excused", "Phoned in sick")
    missed["record"]("absent_unexcused", "The excuse did not check out")
    deliver(missed["app"])
    assert len(notices_received(mailbox)) == 1
    assert [n.status for n in notices(missed["app"])] == ["sent"]


def test_a_referral_before_the_notice_went_withdraws_it(missed, mailbox):
    missed["record"]("absent_unexcused")
    response = missed["officer"].post(f"/enrolments/{missed['enrolment']['id']}/decisions", {
        "decision": "refer", "reason": "Did not attend"})
    assert response.status_code == 201, response.get_json()
    assert [n.status for n in notices(missed["app"])] == ["superseded"]
    deliver(missed["app"])
    assert notices_received(mailbox) == []


def test_a_notice_the_sender_finds_no_longer_due_is_withdrawn_not_sent(missed, mailbox):
    missed["record"]("absent_unexcused")
    # Changed by another path than the attendance service: the sender checks again.
    with missed["app"].app_context():
        db.session.execute(sa.text("UPDATE enrolments SET status = 'withdrawn'"))
        db.session.commit()
        db.session.remove()
    result = deliver(missed["app"])
    assert (result.sent, result.superseded) == (0, 1)
    assert notices_received(mailbox) == []


def test_a_welsh_participant_is_told_of_the_missed_session_in_welsh_by_email_and_text(
        texting, mailbox):
    app, notify = texting["app"], texting["notify"]
    enrolment = texting["enrol"]("cai@example.com", language="cy", sms_consent=True)
    session = texting["session"]("2027-01-05T18:00:00")
    booking = texting["book"](enrolment, session)
    deliver(app)
    clock.set_now(AFTER_THE_SESSION)
    response = texting["coordinator"].put(f"/bookings/{booking['id']}/attendance",
                                          {"outcome": "absent_unexcused", "reason": None})
    assert response.status_code == 200, response.get_json()
    deliver(app)

    [received] = notices_received(mailbox)
    message = received.message
    assert message["Subject"] == "Apwyntiad a gollwyd: Dydd Mawrth 5 Ionawr"
    assert message["Content-Language"] == "cy"
    reference = f"P-{enrolment['id']:06d}"
    text = message.get_body(("plain",)).get_content()
    assert text.splitlines()[0] == (
        "Fe wnaethoch chi golli eich apwyntiad: Dydd Mawrth 5 Ionawr 2027 am 18:00.")
    assert "Rhaid i chi gysylltu â ni i'w aildrefnu." in text
    assert "Rhaid i'ch apwyntiad newydd fod erbyn Dydd Mawrth 6 Ebrill 2027 fan bellaf." in text
    assert "Ffoniwch 0300 123 4567 cyn gynted ag y gallwch." in text
    assert f"rhowch eich cyfeirnod: {reference}." in text
    html = message.get_body(("html",)).get_content()
    assert '<html lang="cy">' in html
    assert "erbyn <strong>Dydd Mawrth 6 Ebrill 2027</strong> fan bellaf" in html
    assert 'Ffoniwch <a href="tel:03001234567">0300 123 4567</a> cyn gynted' in html

    [sms] = [n for n in notify.notifications if "golli" in n["body"]]
    assert sms["body"] == (
        "Fe wnaethoch chi golli eich apwyntiad: Dydd Mawrth 5 Ionawr 2027 am 18:00. "
        "Ffoniwch 0300 123 4567 i aildrefnu erbyn Dydd Mawrth 6 Ebrill 2027. "
        f"Cyf {reference}.")
    for part in (message["Subject"], text, html, sms["body"]):
        assert disclosing_words(part) == []
        for english in ("You missed", "Please", "rebook", "January", "6pm"):
            assert english not in part, english
