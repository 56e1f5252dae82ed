"""A participant who chose Welsh receives every message in Welsh over SMTP, and their feed
is in Welsh; an English participant booked beside them is written to as before."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from diversion import clock, i18n
from diversion.domain.privacy import disclosing_words
from diversion.extensions import db
from diversion.models import User
from diversion.services import accounts, cases
from tests.integration.notify.conftest import deliver, kind_of

WELSH = "cerys@example.com"
ENGLISH = "sam@example.com"
DESCRIPTION = ("Cyrhaeddwch 10 munud yn gynnar, a dewch â phrawf adnabod â llun gyda chi. "
               "Os na allwch ddod, ffoniwch 0300 123 4567 cyn gynted ag y gallwch.")


@pytest.fixture
def journey(world, api_as, mailbox):
    """A Welsh and an English participant invited, moved, reminded and cancelled."""
    admin = api_as("admin", force=None)
    changed = admin.patch("/programmes/1", {"invite_title_cy": "Cyfarfod",
                                            "contact_phone": "0300 123 4567"})
    assert changed.status_code == 200, changed.get_json()
    welsh = world["enrol"](WELSH, language="cy")
    english = world["enrol"](ENGLISH)
    session = world["session"]("2027-01-12T18:00:00")
    bookings = {WELSH: world["book"](welsh, session), ENGLISH: world["book"](english, session)}
    coordinator = world["coordinator"]
    moved = coordinator.patch(f"/sessions/{session['id']}", {"starts_at": "2027-01-13T18:30:00"})
    assert moved.status_code == 200, moved.get_json()
    deliver(world["app"])
    clock.set_now("2027-01-11T19:00:00+00:00")  # 47½ hours before the session
    deliver(world["app"])
    for booking in bookings.values():
        assert coordinator.delete(f"/bookings/{booking['id']}",
                                  json={"reason": "Asked to rearrange"}).status_code == 200
    deliver(world["app"])
    return {**world, "welsh": welsh, "english": english, "bookings": bookings}


def received(mailbox, address: str) -> dict:
    messages = mailbox.to(address)
    assert [kind_of(m) for m in messages] == ["invitation", "update", "reminder", "cancellation"]
    return {kind_of(m): m for m in messages}


def bodies(message) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def event_of(mail):
    [event] = mail.calendar().walk("VEVENT")
    return event


@pytest.mark.parametrize(("kind", "subject", "opening"), [
    ("invitation", "Eich apwyntiad: Dydd Mawrth 12 Ionawr am 18:00",
     "Mae eich apwyntiad wedi'i drefnu."),
    ("update", "Diweddarwyd: eich apwyntiad, Dydd Mercher 13 Ionawr am 18:30",
     "Mae eich apwyntiad wedi newid. Dyma'r amser a'r lle newydd:"),
    ("reminder", "Nodyn atgoffa: eich apwyntiad, Dydd Mercher 13 Ionawr am 18:30",
     "Dyma nodyn i'ch atgoffa am eich apwyntiad."),
    ("cancellation", "Wedi'i ganslo: eich apwyntiad, Dydd Mercher 13 Ionawr am 18:30",
     "Mae eich apwyntiad wedi'i ganslo. Does dim angen i chi ddod:"),
])
def test_a_welsh_participant_receives_each_message_in_welsh(journey, mailbox, kind, subject,
                                                            opening):
    mail = received(mailbox, WELSH)[kind]
    assert mail.message["Subject"] == subject
    assert mail.message["Content-Language"] == "cy"
    text, html = bodies(mail.message)
    day = "Dydd Mawrth 12 Ionawr 2027, 18:00 tan 19:30" if kind == "invitation" \
        else "Dydd Mercher 13 Ionawr 2027, 18:30 tan 20:00"
    assert text.splitlines()[0] == opening
    assert f"Pryd: {day}" in text
    assert "Ble: Civic Centre, 1 High Street, Leeds" in text
    assert "ffoniwch 0300 123 4567 cyn gynted ag y gallwch" in text
    assert '<html lang="cy">' in html
    assert f"<p>{opening}</p>" in html
    assert f">Pryd</th><td style=\"padding: 4px 0;\">{day}</td>" in html
    if kind != "cancellation":
        assert "defnyddiwch eich dolen bersonol:" in text
        assert "defnyddiwch eich dolen bersonol:<br>" in html
    for part in (mail.message["Subject"], text, html):
        assert disclosing_words(part) == []
        # The link's address is the service's, in whatever words its path has.
        assert "appointment" not in re.sub(r"https?://[^\s\"<]+", "", part).lower()


@pytest.mark.parametrize("kind", ["invitation", "update", "cancellation"])
def test_a_welsh_participants_calendar_entry_has_the_programmes_welsh_title(
        journey, mailbox, kind):
    event = event_of(received(mailbox, WELSH)[kind])
    assert str(event["SUMMARY"]) == "Cyfarfod"
    assert str(event["DESCRIPTION"]) == DESCRIPTION


def test_an_english_participant_booked_beside_them_is_written_to_in_english(journey, mailbox):
    mail = received(mailbox, ENGLISH)
    assert mail["invitation"].message["Subject"] == (
        "Your appointment on Tuesday 12 January at 6pm")
    assert mail["reminder"].message["Subject"] == (
        "Reminder: your appointment on Wednesday 13 January at 6:30pm")
    assert {m.message["Content-Language"] for m in mail.values()} == {"en"}
    text, html = bodies(mail["update"].message)
    assert "When: Wednesday 13 January 2027, 6:30pm to 8pm" in text
    assert '<html lang="en">' in html
    event = event_of(mail["invitation"])
    assert str(event["SUMMARY"]) == "Appointment"
    assert str(event["DESCRIPTION"]).startswith(
        "Please arrive 10 minutes early and bring photo identification.")


def test_a_welsh_participants_feed_and_the_coordinators_copy_of_the_invitation_are_welsh(
        world, api_as, client):
    admin = api_as("admin", force=None)
    assert admin.patch("/programmes/1", {"invite_title_cy": "Cyfarfod",
                                         "contact_phone": "0300 123 4567"}).status_code == 200
    welsh = world["enrol"](WELSH, language="cy")
    booking = world["book"](welsh, world["session"]("2027-01-12T18:00:00"))
    coordinator = world["coordinator"]
    url = coordinator.post(f"/enrolments/{welsh['id']}/calendar-token").get_json()["url"]

    response = client.get("/calendar/" + url.rsplit("/", 1)[1])
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["X-WR-CALNAME"]) == "Cyfarfod"
    [event] = calendar.walk("VEVENT")
    assert (str(event["SUMMARY"]), str(event["DESCRIPTION"])) == ("Cyfarfod", DESCRIPTION)

    invite = coordinator.get(f"/bookings/{booking['id']}/invite.ics")
    assert invite.status_code == 200
    [event] = Calendar.from_ical(invite.data).walk("VEVENT")
    assert (str(event["SUMMARY"]), str(event["DESCRIPTION"])) == ("Cyfarfod", DESCRIPTION)


def test_a_participant_who_changes_to_welsh_gets_their_next_message_in_welsh(
        world, mailbox):
    english = world["enrol"](ENGLISH)
    session = world["session"]("2027-01-12T18:00:00")
    world["book"](english, session)
    deliver(world["app"])
    with world["app"].app_context():
        officer = accounts.actor_for(
            db.session.scalar(sa.select(User).where(User.role == "case_officer")))
        cases.change_contact(officer, english["case_id"], {"language": "cy"})
        db.session.remove()
    world["coordinator"].patch(f"/sessions/{session['id']}", {"starts_at": "2027-01-13T18:30:00"})
    deliver(world["app"])
    first, second = mailbox.to(ENGLISH)
    assert first.message["Content-Language"] == "en"
    assert second.message["Subject"] == (
        "Diweddarwyd: eich apwyntiad, Dydd Mercher 13 Ionawr am 18:30")


def test_without_a_compiled_welsh_catalogue_welsh_mail_waits_and_english_mail_goes(
        world, mailbox, monkeypatch, tmp_path):
    welsh = world["enrol"](WELSH, language="cy")
    english = world["enrol"](ENGLISH)
    session = world["session"]("2027-01-12T18:00:00")
    world["book"](welsh, session)
    world["book"](english, session)
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path)
    i18n.translations.cache_clear()
    try:
        result = deliver(world["app"])
    finally:
        monkeypatch.undo()
        i18n.translations.cache_clear()
    assert (result.sent, result.failed, result.retrying) == (1, 0, 1)
    assert [m.rcpt_tos for m in mailbox.messages] == [[ENGLISH]]

    clock.set_now("2027-01-04T09:05:00+00:00")  # compiled meanwhile; the wait is over
    assert deliver(world["app"]).sent == 1
    assert mailbox.to(WELSH)[0].message["Content-Language"] == "cy"
