"""Reminders: sent once, reminder_hours (48) before the session as it stands."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import CourseSession, OutboxMessage
from tests.integration.notify.conftest import deliver, kind_of

STARTS = datetime.fromisoformat("2027-01-12T18:00:00+00:00")


def at(hours_before: float, starts: datetime = STARTS) -> None:
    clock.set_now(starts - timedelta(hours=hours_before))


def reminders(mailbox) -> list:
    return [m for m in mailbox.messages if kind_of(m) == "reminder"]


@pytest.fixture
def booked(world):
    enrolment = world["enrol"]("sam@example.com")
    session = world["session"]("2027-01-12T18:00:00")
    booking = world["book"](enrolment, session)
    deliver(world["app"])  # the invitation
    return {**world, "session_": session, "booking": booking}


def test_a_reminder_is_not_sent_49_hours_before_and_is_sent_47_hours_before(booked, mailbox):
    at(49)
    deliver(booked["app"])
    assert reminders(mailbox) == []
    at(47)
    result = deliver(booked["app"])
    assert result.sent == 1
    [reminder] = reminders(mailbox)
    assert reminder.rcpt_tos == ["sam@example.com"]
    assert reminder.message["Subject"] == "Reminder: your appointment on Tuesday 12 January at 6pm"
    assert reminder.message.get_content_type() == "multipart/alternative"
    text = reminder.message.get_body(("plain",)).get_content()
    assert "Tuesday 12 January 2027, 6pm to 7:30pm" in text
    assert "Civic Centre, 1 High Street, Leeds" in text
    assert "0300 123 4567" in text


def test_a_reminder_falls_due_exactly_reminder_hours_before_the_session(booked, mailbox):
    with booked["app"].app_context():
        row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
        assert row.due_at == STARTS - timedelta(hours=48)
    at(48)
    assert deliver(booked["app"]).sent == 1


def test_running_send_mail_twice_never_sends_a_reminder_twice(booked, mailbox, runner):
    at(47)
    first = runner.invoke(args=["send-mail"])
    second = runner.invoke(args=["send-mail"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert first.output.strip() == "sent 1, failed 0, retry later 0, superseded 0"
    assert second.output.strip() == "sent 0, failed 0, retry later 0, superseded 0"
    assert len(reminders(mailbox)) == 1


def test_a_cancelled_booking_gets_no_reminder(booked, mailbox):
    booked["coordinator"].delete(f"/bookings/{booked['booking']['id']}", json={"reason": "Ill"})
    at(47)
    deliver(booked["app"])
    at(1)
    deliver(booked["app"])
    assert reminders(mailbox) == []
    assert [kind_of(m) for m in mailbox.messages] == ["invitation", "cancellation"]


def test_a_moved_booking_is_reminded_of_the_new_time_and_never_the_old(booked, mailbox):
    later = STARTS + timedelta(days=1, hours=1)
    response = booked["coordinator"].patch(f"/sessions/{booked['session_']['id']}",
                                           {"starts_at": "2027-01-13T19:00:00"})
    assert response.status_code == 200, response.get_json()
    at(47)  # before the old time
    deliver(booked["app"])
    assert reminders(mailbox) == []
    at(47, later)
    deliver(booked["app"])
    at(1, later)
    deliver(booked["app"])
    [reminder] = reminders(mailbox)
    assert reminder.message["Subject"] == (
        "Reminder: your appointment on Wednesday 13 January at 7pm")


def test_a_reminder_whose_session_moved_without_a_new_reminder_is_withdrawn_not_sent(
    booked, mailbox
):
    # Belt and braces: if some path moved the session but left the old reminder
    # pending, the mailer itself must notice that the time no longer holds.
    with booked["app"].app_context():
        db.session.execute(sa.update(CourseSession)
                           .where(CourseSession.id == booked["session_"]["id"])
                           .values(starts_at=STARTS + timedelta(hours=2),
                                   ends_at=STARTS + timedelta(hours=3, minutes=30)))
        db.session.commit()
    at(47)
    result = deliver(booked["app"])
    assert (result.sent, result.superseded) == (0, 1)
    assert reminders(mailbox) == []
    with booked["app"].app_context():
        row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
        assert row.status == "superseded"


def test_a_reminder_held_up_until_after_the_session_started_is_withdrawn(booked, mailbox):
    clock.set_now(STARTS + timedelta(minutes=5))
    result = deliver(booked["app"])
    assert (result.sent, result.superseded) == (0, 1)
    assert reminders(mailbox) == []
