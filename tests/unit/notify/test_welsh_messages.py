"""A Welsh-speaking participant's email, built from one outbox row: Welsh throughout, with
Content-Language saying so; an English one says it is English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from diversion.domain.privacy import disclosing_words
from diversion.domain.vocabulary import LONDON
from diversion.notify.messages import KINDS, TEMPLATES, build, render, when
from tests.unit.notify.test_messages import NOW, SENDER, digest_row, payload, row, texts_of


def welsh(kind: str = "invitation", **changes):
    sequence = {"invitation": 0, "update": 1, "cancellation": 2, "reminder": 0,
                "missed_notice": 0}[kind]
    fields = {"sequence": sequence, "language": "cy", "summary": "Apwyntiad", **changes}
    return row(kind, payload=payload(**fields))


def calendar_event(message):
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    [event] = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    return event


@pytest.mark.parametrize(("kind", "subject"), [
    ("invitation", "Eich apwyntiad: Dydd Mawrth 5 Ionawr am 18:00"),
    ("update", "Diweddarwyd: eich apwyntiad, Dydd Mawrth 5 Ionawr am 18:00"),
    ("cancellation", "Wedi'i ganslo: eich apwyntiad, Dydd Mawrth 5 Ionawr am 18:00"),
    ("reminder", "Nodyn atgoffa: eich apwyntiad, Dydd Mawrth 5 Ionawr am 18:00"),
])
def test_each_kind_has_a_welsh_subject_with_babels_welsh_day_and_time(kind, subject):
    built = build(welsh(kind), sender=SENDER, now=NOW)
    assert built.message["Subject"] == subject
    assert built.message["Content-Language"] == "cy"


def test_the_welsh_invitation_is_welsh_in_text_html_and_calendar():
    message = build(welsh(), sender=SENDER, now=NOW).message
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.startswith("Mae eich apwyntiad wedi'i drefnu.\n")
    assert "Pryd: Dydd Mawrth 5 Ionawr 2027, 18:00 tan 19:30" in text
    assert "Ble: Civic Centre, Room 2, 1 High Street, Leeds LS1 1AA" in text
    assert "ffoniwch 0300 123 4567 cyn gynted ag y gallwch" in text
    assert '<html lang="cy">' in html
    assert "<title>Apwyntiad</title>" in html
    assert '<a href="tel:03001234567">0300 123 4567</a> cyn gynted ag y gallwch' in html
    event = calendar_event(message)
    assert str(event["SUMMARY"]) == "Apwyntiad"
    assert str(event["DESCRIPTION"]) == (
        "Cyrhaeddwch 10 munud yn gynnar, a dewch â phrawf adnabod â llun gyda chi. "
        "Os na allwch ddod, ffoniwch 0300 123 4567 cyn gynted ag y gallwch.")


def test_an_english_participants_message_says_it_is_english_and_a_staff_digest_too():
    assert build(row(), sender=SENDER, now=NOW).message["Content-Language"] == "en"
    digest = digest_row(new_flags=1)
    assert build(digest, sender=SENDER, now=NOW).message["Content-Language"] == "en"


def test_a_row_queued_before_languages_were_recorded_is_sent_in_english():
    legacy = payload()
    assert "language" not in legacy
    built = build(row(payload=legacy), sender=SENDER, now=NOW)
    assert built.subject == "Your appointment on Tuesday 5 January at 6pm"


def test_when_in_welsh_is_babels_date_and_24_hour_times_in_london():
    start = datetime(2027, 7, 6, 17, 0, tzinfo=UTC).astimezone(LONDON)
    assert when(start, start + timedelta(minutes=90), "cy") == (
        "Dydd Mawrth 6 Gorffennaf 2027, 18:00 tan 19:30")


@pytest.mark.parametrize("kind", KINDS)
def test_no_welsh_message_of_any_kind_uses_a_disclosing_word(kind):
    for text in texts_of(build(welsh(kind), sender=SENDER, now=NOW).message):
        assert disclosing_words(text) == [], text


@pytest.mark.parametrize("title", ["Cwrs troseddwyr", "Apwyntiad yr heddlu", "Diogelu plant"])
def test_a_welsh_title_that_would_reveal_the_programme_is_refused_rather_than_sent(title):
    with pytest.raises(ValueError, match="reveal"):
        build(welsh(summary=title), sender=SENDER, now=NOW)


@pytest.mark.parametrize("template", sorted(
    p.relative_to(TEMPLATES).as_posix() for p in Path(TEMPLATES).rglob("*")
    if p.is_file() and not p.name.startswith("digest")))
def test_every_participant_template_renders_in_welsh_without_english_sentences(template):
    context = {"title": "Apwyntiad", "when": "Dydd Mawrth 5 Ionawr 2027, 18:00 tan 19:30",
               "where": "Canolfan Ddinesig", "phone": "0300 123 4567",
               "link": "https://appointments.example/appointments/abc"}
    english = render(template, context)
    cymraeg = render(template, context, "cy")
    assert disclosing_words(cymraeg) == []
    for sentence in ("Your appointment", "Please arrive", "If you cannot attend", "When",
                     "Where", "attached", "personal link", "You missed", "Reminder"):
        assert sentence not in cymraeg
    assert english != cymraeg
