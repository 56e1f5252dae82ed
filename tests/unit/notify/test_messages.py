"""Building one email from one outbox row: no app, no database, no network."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from types import SimpleNamespace

import pytest
from icalendar import Calendar

from diversion.notify.delivery import MailConfigError, backoff, mail_settings
from diversion.notify.messages import KINDS, LETTERS, TEMPLATES, build, render, when
from diversion.notify.sms import build_text

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
SENDER = "Appointments <appointments@diversion.invalid>"
DISCLOSING = re.compile(
    r"\b(offence|prosecution|police|child|abuse|images|court|sexual)\b", re.IGNORECASE)


def payload(**changes) -> dict:
    return {
        "uid": "3f2a9c1e0b7d4e5f8a6b2c1d0e9f8a7b@diversion",
        "sequence": 0,
        "starts_at": "2027-01-05T18:00:00+00:00",
        "ends_at": "2027-01-05T19:30:00+00:00",
        "summary": "Appointment",
        "location": "Civic Centre, Room 2, 1 High Street, Leeds LS1 1AA",
        "contact_phone": "0300 123 4567",
        "organizer": "appointments@diversion.invalid",
        "timezone": "Europe/London",
        "attendee_name": "Sam Taylor",
        **changes,
    }


def notice_payload(**changes) -> dict:
    """A missed-session notice's payload, as the outbox freezes it."""
    return {
        "uid": "3f2a9c1e0b7d4e5f8a6b2c1d0e9f8a7b@diversion",
        "starts_at": "2027-01-05T18:00:00+00:00",
        "ends_at": "2027-01-05T19:30:00+00:00",
        "summary": "Appointment",
        "contact_phone": "0300 123 4567",
        "timezone": "Europe/London",
        "rebook_by": "2027-02-09",
        "reference": "P-000007",
        **changes,
    }


def row(kind: str = "invitation", **changes) -> SimpleNamespace:
    sequence = {"invitation": 0, "update": 1, "cancellation": 2, "reminder": 0}.get(kind, 0)
    fields = {"kind": kind, "recipient": "sam@example.com",
              "payload": notice_payload() if kind == "missed_notice" else payload(
                  sequence=sequence),
              "idempotency_key": f"{kind}:7:{sequence}",
              "created_at": NOW - timedelta(minutes=3)}
    return SimpleNamespace(**{**fields, **changes})


def texts_of(message) -> list[str]:
    found = [message["Subject"]]
    for part in message.walk():
        if not part.is_multipart():
            found.append(part.get_payload(decode=True).decode("utf-8"))
    return found


@pytest.mark.parametrize(("kind", "subject"), [
    ("invitation", "Your appointment on Tuesday 5 January at 6pm"),
    ("update", "Updated: your appointment is now on Tuesday 5 January at 6pm"),
    ("cancellation", "Cancelled: your appointment on Tuesday 5 January at 6pm"),
    ("reminder", "Reminder: your appointment on Tuesday 5 January at 6pm"),
])
def test_each_kind_has_a_neutral_subject_naming_the_day_and_time(kind, subject):
    built = build(row(kind), sender=SENDER, now=NOW)
    assert built.subject == subject
    assert built.message["Subject"] == subject


def test_times_are_said_in_london_time_across_the_clock_change():
    summer = payload(starts_at="2027-04-06T17:30:00+00:00", ends_at="2027-04-06T19:00:00+00:00")
    built = build(row(payload=summer), sender=SENDER, now=NOW)
    assert built.subject == "Your appointment on Tuesday 6 April at 6:30pm"
    assert "Tuesday 6 April 2027, 6:30pm to 8pm" in built.message.get_body(("plain",)).get_content()


def test_when_gives_weekday_date_year_and_both_times():
    start = datetime(2027, 1, 5, 18, 0, tzinfo=UTC)
    assert when(start, start + timedelta(minutes=90)) == "Tuesday 5 January 2027, 6pm to 7:30pm"


def test_the_message_id_is_the_same_on_every_attempt_and_differs_between_rows():
    first = build(row(), sender=SENDER, now=NOW)
    again = build(row(), sender=SENDER, now=NOW + timedelta(hours=3))
    other = build(row(idempotency_key="invitation:8:0"), sender=SENDER, now=NOW)
    assert first.message_id == again.message_id == first.message["Message-ID"]
    assert re.fullmatch(r"<[0-9a-f]{32}@diversion\.invalid>", first.message_id)
    assert other.message_id != first.message_id
    assert first.message["Date"] != again.message["Date"]


def test_a_resend_carries_the_same_calendar_dtstamp_as_the_first_attempt():
    first = build(row(), sender=SENDER, now=NOW)
    again = build(row(), sender=SENDER, now=NOW + timedelta(hours=3))

    def ics(built) -> bytes:
        part = next(p for p in built.message.walk() if p.get_content_type() == "text/calendar")
        return part.get_payload(decode=True)

    assert ics(first) == ics(again)


def test_line_breaks_in_the_sender_setting_cannot_add_a_header():
    built = build(row(), sender="Appointments\r\nBcc: spy@example.com <appointments@x.invalid>",
                  now=NOW)
    raw = built.message.as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None and parsed["Cc"] is None
    assert "\r" not in parsed["From"] and "\n" not in parsed["From"]
    assert parsed.get_all("To") == ["sam@example.com"]


@pytest.mark.parametrize("recipient", [
    "sam@example.com\r\nBcc: spy@example.com", "sam@example.com, spy@example.com",
    "Sam <sam@example.com>", ""])
def test_anything_but_one_plain_recipient_address_is_refused(recipient):
    with pytest.raises(ValueError):
        build(row(recipient=recipient), sender=SENDER, now=NOW)


def test_a_reminder_is_text_and_html_with_no_calendar_part():
    message = build(row("reminder"), sender=SENDER, now=NOW).message
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(("plain",)).get_content()
    assert "Tuesday 5 January 2027, 6pm to 7:30pm" in text
    assert "Civic Centre, Room 2, 1 High Street, Leeds LS1 1AA" in text
    assert "0300 123 4567" in text


def test_a_cancellation_carries_method_cancel_with_the_payloads_higher_sequence():
    message = build(row("cancellation"), sender=SENDER, now=NOW).message
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == "CANCEL"
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    assert (str(calendar["METHOD"]), int(event["SEQUENCE"]), str(event["STATUS"])) == (
        "CANCEL", 2, "CANCELLED")
    assert str(event["UID"]) == payload()["uid"]
    assert not calendar.walk("VALARM")


def test_only_the_top_level_carries_mime_version():
    message = build(row(), sender=SENDER, now=NOW).message
    assert message["MIME-Version"] == "1.0"
    assert all(p["MIME-Version"] is None for p in list(message.walk())[1:])


def test_venue_text_is_escaped_in_the_html_body():
    built = build(row(payload=payload(location="Hall <b>A</b> & Annexe")), sender=SENDER, now=NOW)
    html = built.message.get_body(("html",)).get_content()
    assert "Hall &lt;b&gt;A&lt;/b&gt; &amp; Annexe" in html


def test_a_title_that_would_disclose_the_programme_is_refused_rather_than_sent():
    with pytest.raises(ValueError, match="reveal"):
        build(row(payload=payload(summary="Police diversion course")), sender=SENDER, now=NOW)


@pytest.mark.parametrize("kind", KINDS)
def test_no_message_of_any_kind_uses_a_disclosing_word(kind):
    message = build(row(kind), sender=SENDER, now=NOW).message
    for text in texts_of(message):
        assert not DISCLOSING.search(text), text


def test_the_participants_name_appears_in_the_calendar_but_not_the_email_text():
    message = build(row(), sender=SENDER, now=NOW).message
    assert "Taylor" not in message.get_body(("plain",)).get_content()
    assert "Taylor" not in message.get_body(("html",)).get_content()


@pytest.mark.parametrize("template", sorted(
    p.relative_to(folder).as_posix() for folder in (TEMPLATES, LETTERS)
    for p in Path(folder).rglob("*") if p.is_file()))
def test_no_email_text_message_or_letter_template_uses_a_disclosing_word(template):
    context = {"title": "Appointment", "when": "Tuesday 5 January 2027, 6pm to 7:30pm",
               "where": "Civic Centre, Room 2, 1 High Street, Leeds LS1 1AA",
               "phone": "0300 123 4567", "link": "https://example.org/appointments/WzEsMF0.x",
               "name": "Sam Taylor", "reference": "P-000007",
               "today": "Wednesday 6 January 2027", "rebook_by": "Tuesday 9 February 2027"}
    rendered = render(template, context)
    assert rendered.strip()
    assert not DISCLOSING.search(rendered), rendered


def test_backoff_doubles_from_one_minute_and_stops_at_an_hour():
    assert [backoff(n) / timedelta(minutes=1) for n in range(1, 10)] == [
        1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_mail_settings_accept_a_named_sender_and_refuse_a_broken_one():
    good = {"MAIL_SERVER": "smtp.example.com", "MAIL_PORT": 587, "MAIL_SENDER": SENDER,
            "MAIL_USE_TLS": True, "MAIL_USERNAME": "u", "MAIL_PASSWORD": "p"}
    assert mail_settings(good).use_tls is True
    for broken in ({"MAIL_SENDER": "nobody"}, {"MAIL_PORT": 0}, {"MAIL_SERVER": " "},
                   {"MAIL_PASSWORD": ""}):
        with pytest.raises(MailConfigError):
            mail_settings({**good, **broken})


def digest_row(**counts) -> SimpleNamespace:
    return SimpleNamespace(
        kind="digest", recipient="officer@example.gov.uk", idempotency_key="digest:3:2027-01-04",
        created_at=NOW, payload={"sign_in_url": "https://appointments.example.gov.uk",
                                 "uid": "0f1e2d3c", **counts})


@pytest.mark.parametrize(("counts", "text"), [
    ({"new_flags": 2}, "2 new items need your attention. Sign in to see them"),
    ({"new_flags": 0, "completed": 1}, "1 enrolment was completed. Sign in to see it"),
    ({"new_flags": 1, "completed": 3},
     "1 new item needs your attention. 3 enrolments were completed. Sign in to see them"),
])
def test_a_digest_says_how_many_new_items_and_completions_and_nothing_more(counts, text):
    message = build(digest_row(**counts), sender=SENDER, now=NOW).message

    plain = message.get_body(("plain",)).get_content().strip()
    html = message.get_body(("html",)).get_content()
    assert plain == f"{text}: https://appointments.example.gov.uk"
    for sentence in text.split(". ")[:-1]:
        assert sentence in html


@pytest.mark.parametrize("counts", [
    {"new_flags": 0, "completed": 0}, {"new_flags": 0}, {"new_flags": 1, "completed": -1},
    {"new_flags": 0, "completed": True},
])
def test_a_digest_with_nothing_to_tell_or_a_count_that_is_not_one_is_refused(counts):
    with pytest.raises(ValueError):
        build(digest_row(**counts), sender=SENDER, now=NOW)


LINK = "https://appointments.example.org/appointments/WzcsMF0.c2lnbmF0dXJl"


@pytest.mark.parametrize("kind", ["invitation", "update", "reminder"])
def test_the_participants_link_is_in_the_text_and_html_parts_but_not_the_calendar(kind):
    message = build(row(kind, payload=payload(link=LINK)), sender=SENDER, now=NOW).message

    assert LINK in message.get_body(("plain",)).get_content()
    assert f'<a href="{LINK}">{LINK}</a>' in message.get_body(("html",)).get_content()
    calendar = next((p for p in message.walk() if p.get_content_type() == "text/calendar"),
                    None)
    # A calendar entry may sit in a shared calendar: the link stays in the mail.
    assert calendar is None or b"appointments.example.org" not in calendar.get_payload(
        decode=True).replace(b"\r\n ", b"")


def test_a_link_whose_token_spells_a_disclosing_word_is_still_sent():
    link = "https://appointments.example.org/appointments/WzcsMF0.PoliceChild"
    message = build(row(payload=payload(link=link)), sender=SENDER, now=NOW).message
    assert link in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("link", ["javascript:alert(1)", "http://example.org/a b", ""])
def test_a_link_that_is_not_a_plain_web_address_is_left_out(link):
    message = build(row(payload=payload(link=link)), sender=SENDER, now=NOW).message
    text = message.get_body(("plain",)).get_content()
    assert "personal link" not in text
    assert "javascript" not in message.get_body(("html",)).get_content()


# ---- the notice after a missed session ------------------------------------------------------

def test_a_missed_session_notice_is_text_and_html_with_no_calendar_part():
    built = build(row("missed_notice"), sender=SENDER, now=NOW)
    message = built.message
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert built.subject == "Missed appointment on Tuesday 5 January"


def test_a_missed_session_notice_says_when_it_was_missed_the_day_to_rebook_by_and_whom_to_call():
    message = build(row("missed_notice"), sender=SENDER, now=NOW).message
    for body in (message.get_body(("plain",)).get_content(),
                 " ".join(message.get_body(("html",)).get_content().split())):
        assert "You missed your appointment on Tuesday 5 January 2027 at 6pm." in body
        assert "You must contact us to rebook it." in body
        assert "on or before Tuesday 9 February 2027" in body or (
            "on or before <strong>Tuesday 9 February 2027</strong>" in body)
        assert "0300 123 4567" in body
        assert "P-000007" in body
        assert "Taylor" not in body


def test_a_missed_session_notice_with_no_day_left_asks_for_a_call_without_a_date():
    built = build(row("missed_notice", payload=notice_payload(rebook_by=None)),
                  sender=SENDER, now=NOW)
    text = built.message.get_body(("plain",)).get_content()
    assert "You must contact us to rebook it." in text
    assert "on or before" not in text
    assert "Please call 0300 123 4567 as soon as you can." in text


def test_a_missed_session_notice_reads_in_one_short_text_message():
    text = build_text("missed_notice", "+447700900982", notice_payload())
    assert text == ("You missed your appointment on Tuesday 5 January 2027 at 6pm. Please call "
                    "0300 123 4567 to rebook by Tuesday 9 February 2027. Ref P-000007.")
    assert len(text) <= 160
    assert not DISCLOSING.search(text)


def test_a_notice_that_would_disclose_the_programme_is_refused_rather_than_sent():
    with pytest.raises(ValueError, match="reveal"):
        build(row("missed_notice", payload=notice_payload(contact_phone="Police 101")),
              sender=SENDER, now=NOW)
