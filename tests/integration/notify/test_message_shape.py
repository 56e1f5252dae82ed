"""What arrives at the SMTP server: MIME shape, headers and a calendar object clients accept."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
import vobject

from diversion.extensions import db
from diversion.models import AuditEvent, OutboxMessage
from tests.integration.notify.conftest import deliver, kind_of


@pytest.fixture
def three_kinds(world):
    """One participant's invitation, update and cancellation, delivered."""
    enrolment = world["enrol"]("sam@example.com")
    session = world["session"]("2027-01-12T18:00:00")
    booking = world["book"](enrolment, session)
    coordinator = world["coordinator"]
    assert coordinator.patch(f"/sessions/{session['id']}",
                             {"starts_at": "2027-01-13T18:30:00"}).status_code == 200
    assert coordinator.delete(f"/bookings/{booking['id']}",
                              json={"reason": "Asked to rearrange"}).status_code == 200
    result = deliver(world["app"])
    assert (result.sent, result.failed, result.retrying) == (3, 0, 0)
    return world


def by_kind(mailbox, kind):
    [received] = [m for m in mailbox.messages if kind_of(m) == kind]
    return received


@pytest.mark.parametrize("kind", ["invitation", "update", "cancellation"])
def test_each_calendar_message_is_mixed_around_alternative_text_html_and_calendar(
    three_kinds, mailbox, kind
):
    message = by_kind(mailbox, kind).message
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = list(message.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain", "text/html", "text/calendar"]
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "invite.ics"
    calendar_part = list(alternative.iter_parts())[2]
    assert calendar_part.get_content_charset() == "utf-8"
    assert attachment.get_payload(decode=True) == calendar_part.get_payload(decode=True)


@pytest.mark.parametrize(("kind", "method"), [("invitation", "REQUEST"), ("update", "REQUEST"),
                                              ("cancellation", "CANCEL")])
def test_the_content_type_method_equals_the_calendar_objects_method(
    three_kinds, mailbox, kind, method
):
    received = by_kind(mailbox, kind)
    part = received.part("text/calendar")
    assert part.get_param("method") == method
    assert str(received.calendar()["METHOD"]) == method


@pytest.mark.parametrize("kind", ["invitation", "update", "cancellation"])
def test_each_message_goes_to_one_recipient_and_copies_nobody(three_kinds, mailbox, kind):
    received = by_kind(mailbox, kind)
    assert received.rcpt_tos == ["sam@example.com"]
    assert received.mail_from == "appointments@diversion.invalid"
    headers = received.message
    assert headers.get_all("To") == ["sam@example.com"]
    assert headers["Cc"] is None and headers["Bcc"] is None
    assert headers["From"] == "Appointments <appointments@diversion.invalid>"
    assert headers["Date"]
    assert re.fullmatch(r"<[0-9a-f]{32}@diversion\.invalid>", received.message_id)


@pytest.mark.parametrize("kind", ["invitation", "update", "cancellation"])
def test_the_calendar_part_uses_crlf_only_and_folds_every_line_within_75_octets(
    three_kinds, mailbox, kind
):
    raw = by_kind(mailbox, kind).calendar_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    assert raw.endswith(b"\r\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))


@pytest.mark.parametrize("kind", ["invitation", "update", "cancellation"])
def test_the_calendar_part_parses_with_icalendar_and_validates_with_vobject(
    three_kinds, mailbox, kind
):
    raw = by_kind(mailbox, kind).calendar_bytes()
    assert vobject.readOne(raw.decode("utf-8")).validate(raiseException=True)
    [event] = by_kind(mailbox, kind).calendar().walk("VEVENT")
    assert len([line for line in raw.split(b"\r\n") if line.startswith(b"SEQUENCE")]) == 1
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a) for a in attendees] == ["mailto:sam@example.com"]


def test_the_update_and_cancellation_keep_the_uid_and_raise_the_sequence(three_kinds, mailbox):
    events = [by_kind(mailbox, k).calendar().walk("VEVENT")[0]
              for k in ("invitation", "update", "cancellation")]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert [str(e["STATUS"]) for e in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert events[1].decoded("DTSTART").isoformat() == "2027-01-13T18:30:00+00:00"


def test_a_sent_row_records_its_message_id_subject_and_a_disclosure_in_the_audit_trail(
    three_kinds, mailbox
):
    with three_kinds["app"].app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind != "reminder")
                                  .order_by(OutboxMessage.id)).all()
        assert [r.status for r in rows] == ["sent"] * 3
        assert {r.message_id for r in rows} == {m.message_id for m in mailbox.messages}
        assert [r.subject for r in rows] == [m.message["Subject"] for m in mailbox.messages]
        events = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "disclose", AuditEvent.object_type == "message")).all()
        assert sorted(e.object_id for e in events) == sorted(str(r.id) for r in rows)
        assert {e.actor for e in events} == {"mailer"}
        assert all(e.case_id is not None for e in events)
        assert sorted(e.detail["kind"] for e in events) == ["cancellation", "invitation",
                                                             "update"]
        assert {e.detail["recipient"] for e in events} == {"sam@example.com"}
