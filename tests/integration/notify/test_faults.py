"""SMTP down, a sender killed mid-batch, broken settings: nothing lost, nothing sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.config import ROOT
from diversion.extensions import db
from diversion.models import OutboxMessage
from diversion.notify.delivery import MAX_ATTEMPTS
from tests.integration.notify.conftest import (
    deliver,
    deliver_side_by_side,
    free_port,
    kind_of,
)


def rows(app) -> list[OutboxMessage]:
    with app.app_context():
        found = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return list(found)


def later(**delta) -> None:
    clock.set_now(clock.now() + timedelta(**delta))


def test_with_smtp_down_nothing_is_lost_and_once_it_is_back_each_message_arrives_once(
    world, mailbox
):
    app = world["app"]
    session = world["session"]("2027-01-12T18:00:00")
    world["book"](world["enrol"]("sam@example.com"), session)
    world["book"](world["enrol"]("alex@example.com"), session)
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    failed_at = clock.now()

    result = deliver(app)
    assert (result.sent, result.failed, result.retrying) == (0, 0, 2)
    pending = [r for r in rows(app) if r.kind == "invitation"]
    assert [(r.status, r.attempts) for r in pending] == [("pending", 1)] * 2
    assert all(r.next_attempt_at == failed_at + timedelta(minutes=1) for r in pending)
    assert all(r.last_error and "Error" in r.last_error for r in pending)
    assert all(r.claimed_at is None for r in pending)

    app.config["MAIL_PORT"] = mailbox.port
    assert deliver(app).sent == 0  # not due again until the backoff has passed
    later(minutes=1)
    assert deliver(app).sent == 2
    later(hours=1)
    assert deliver(app).sent == 0
    assert sorted(r for m in mailbox.messages for r in m.rcpt_tos) == [
        "alex@example.com", "sam@example.com"]
    assert len({m.message_id for m in mailbox.messages}) == 2
    assert {r.status for r in rows(app) if r.kind == "invitation"} == {"sent"}


def test_a_message_that_never_gets_through_is_retried_with_growing_waits_then_failed(world):
    app = world["app"]
    world["book"](world["enrol"](), world["session"]("2027-01-12T18:00:00"))
    app.config["MAIL_PORT"] = free_port()
    waits = []
    for _ in range(MAX_ATTEMPTS):
        before = clock.now()
        deliver(app)
        [row] = [r for r in rows(app) if r.kind == "invitation"]
        waits.append(row.next_attempt_at - before)
        later(hours=2)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert (row.failed_at, row.sent_at) == (before, None)
    assert [w.total_seconds() / 60 for w in waits[:7]] == [1, 2, 4, 8, 16, 32, 60]
    assert deliver(app).handled == 0


def test_a_cancellation_waits_until_the_invitation_it_follows_has_gone(world, mailbox):
    app = world["app"]
    app.config["MAIL_PORT"] = free_port()
    booking = world["book"](world["enrol"]("sam@example.com"),
                            world["session"]("2027-01-12T18:00:00"))
    deliver(app)  # the invitation fails and waits a minute
    world["coordinator"].delete(f"/bookings/{booking['id']}", json={"reason": "Ill"})
    app.config["MAIL_PORT"] = mailbox.port
    deliver(app)
    assert mailbox.messages == []  # a CANCEL before its REQUEST would be dropped by clients
    later(minutes=1)
    deliver(app)
    assert [kind_of(m) for m in mailbox.messages] == ["invitation", "cancellation"]


def test_a_sender_killed_mid_batch_leaves_nothing_unsent_and_sends_no_sent_row_twice(
    world, mailbox, database_url
):
    app = world["app"]
    session = world["session"]("2027-01-12T18:00:00")
    for name in ("sam", "alex", "kim", "lee"):
        world["book"](world["enrol"](f"{name}@example.com"), session)
    mailbox.hang_after = 1  # takes the first message, then never answers the second
    env = {**os.environ, "DATABASE_URL": database_url,
           "DIVERSION_NOW": clock.now().isoformat(), "MAIL_SERVER": "127.0.0.1",
           "MAIL_PORT": str(mailbox.port), "MAIL_SENDER": "appointments@diversion.invalid",
           "SECRET_KEY": "test-secret"}
    sender = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "send-mail"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert mailbox.hanging.wait(timeout=60), sender.stderr.read1().decode()
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=10)
    finally:
        if sender.poll() is None:
            sender.kill()
        sender.stdout.close()
        sender.stderr.close()
    mailbox.hang_after = None

    invitations = [r for r in rows(app) if r.kind == "invitation"]
    assert Counter(r.status for r in invitations) == {"sent": 1, "pending": 3}
    interrupted = [r for r in invitations if r.status == "pending"]
    assert all(r.claimed_at is not None for r in interrupted)

    assert deliver(app).sent == 0  # another sender's lease is respected while it runs
    later(minutes=6)  # the killed sender's lease has run out
    result = deliver(app)
    assert (result.sent, result.failed, result.retrying) == (3, 0, 0)
    assert sorted(r for m in mailbox.messages for r in m.rcpt_tos) == [
        "alex@example.com", "kim@example.com", "lee@example.com", "sam@example.com"]
    assert max(Counter(m.message_id for m in mailbox.messages).values()) == 1
    assert {r.message_id for r in rows(app) if r.kind == "invitation"} == {
        m.message_id for m in mailbox.messages}


def test_send_mail_exits_1_and_claims_nothing_when_the_sender_address_is_broken(world, runner):
    world["book"](world["enrol"](), world["session"]("2027-01-12T18:00:00"))
    world["app"].config["MAIL_SENDER"] = "not an address"
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 1
    assert "MAIL_SENDER" in result.output
    assert {(r.status, r.attempts) for r in rows(world["app"])} == {("pending", 0)}


@pytest.mark.parametrize("setting", [{"MAIL_SERVER": ""}, {"MAIL_PORT": "smtp"},
                                     {"MAIL_USERNAME": "user", "MAIL_PASSWORD": None}])
def test_send_mail_exits_1_when_the_mail_settings_cannot_work(app, runner, setting):
    app.config.update(setting)
    assert runner.invoke(args=["send-mail"]).exit_code == 1


def test_send_mail_exits_0_with_a_summary_when_the_server_is_down(world, runner):
    world["book"](world["enrol"](), world["session"]("2027-01-12T18:00:00"))
    world["app"].config["MAIL_PORT"] = free_port()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0
    assert result.output.strip() == "sent 0, failed 0, retry later 1, superseded 0"


def test_senders_running_side_by_side_share_the_outbox_and_send_each_message_once(
    world, mailbox
):
    app = world["app"]
    session = world["session"]("2027-01-12T18:00:00", capacity=20)
    for n in range(12):
        world["book"](world["enrol"](f"p{n}@example.com"), session)
    results = deliver_side_by_side(app, senders=4, batch=2)
    assert sum(r.sent for r in results) == 12
    assert len(mailbox.messages) == 12
    assert len({m.message_id for m in mailbox.messages}) == 12


def test_smtp_down_for_75_minutes_of_the_clock_then_back_loses_nothing_and_sends_nothing_twice(
    world, figures
):
    from aiosmtpd.controller import Controller

    from diversion.jobs import tasks
    from tests.integration.notify.conftest import Mailbox

    app = world["app"]
    session = world["session"]("2027-01-12T18:00:00", capacity=25)
    sink, port = Mailbox(), free_port()
    app.config["MAIL_PORT"] = port

    step = 3  # minutes of the clock between two runs of the scheduler's mail job

    def tick() -> None:
        with app.app_context():
            try:
                tasks.deliver_mail()
            finally:
                db.session.remove()
        later(minutes=step)

    server = Controller(sink, hostname="127.0.0.1", port=port)
    server.start()
    for n in range(5):
        world["book"](world["enrol"](f"before{n}@example.com"), session)
    tick()
    server.stop()  # the relay goes down
    down_at = clock.now()
    for n in range(75 // step):
        if n < 15:  # bookings go on while it is down
            world["book"](world["enrol"](f"during{n}@example.com"), session)
        tick()
    assert len(sink.messages) == 5
    assert {r.status for r in rows(app)} == {"sent", "pending"}  # nothing failed for good

    server = Controller(sink, hostname="127.0.0.1", port=port)
    server.start()  # back
    back_at = clock.now()
    try:
        ticks = 0
        while any(r.status == "pending" and r.kind == "invitation" for r in rows(app)):
            tick()
            ticks += 1
            assert ticks * step <= 120, "still pending two hours after the relay came back"
    finally:
        server.stop()

    invitations = [r for r in rows(app) if r.kind == "invitation"]
    received = Counter(m.message_id for m in sink.messages)
    assert len(invitations) == 20 and {r.status for r in invitations} == {"sent"}
    assert len(received) == 20 and set(received.values()) == {1}
    assert {r.message_id for r in invitations} == set(received)
    waits = sorted({r.attempts for r in invitations})
    database = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0].split("+")[0]
    figures(f"{database}: SMTP down {(back_at - down_at).total_seconds() / 60:.0f} minutes "
            f"of the clock: 20 queued (15 while down), {len(received)} delivered, "
            f"{sum(received.values()) - len(received)} duplicated, 0 failed; the last "
            f"delivered {ticks * step} minutes after the relay came back; attempts per "
            f"message {waits[0]}-{waits[-1]} (backoff 1, 2, 4 … 60 minutes)")
