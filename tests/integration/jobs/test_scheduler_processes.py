"""Real scheduler processes, a real SMTP server, the real clock: each message goes once.

Every process is started through ``flask scheduler`` exactly as in production and
is killed at the end of its test whatever happens; every wait has a deadline.
"""

from __future__ import annotations

import signal
import time

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import Flag, JobRun, OutboxMessage
from tests.integration.jobs.conftest import scheduler_env, wait_until
from tests.integration.jobs.test_guard import overdue_enrolments, terminate_lock_holders

# Outbox leases shortened from five minutes so a restart can resume within the test.
SHORT_LEASE_APP = "diversion:create_app({'MAIL_CLAIM_LEASE_SECONDS': 2})"
STALLING_APP = "tests.integration.jobs.stalling:create_app()"


def invitations(app) -> list[tuple[str, str, str | None]]:
    """Return (recipient, status, Message-ID) of every invitation in the outbox."""
    with app.app_context():
        try:
            return [tuple(row) for row in db.session.execute(
                sa.select(OutboxMessage.recipient, OutboxMessage.status,
                          OutboxMessage.message_id)
                .where(OutboxMessage.kind == "invitation").order_by(OutboxMessage.id))]
        finally:
            db.session.remove()


def mail_runs(app) -> list[tuple[str, str | None]]:
    with app.app_context():
        try:
            return [tuple(row) for row in db.session.execute(
                sa.select(JobRun.outcome, JobRun.summary)
                .where(JobRun.job == "send_mail").order_by(JobRun.scheduled_for))]
        finally:
            db.session.remove()


def all_sent(app) -> bool:
    return {status for _, status, _ in invitations(app)} == {"sent"}


def test_two_schedulers_running_together_deliver_each_message_exactly_once_and_stop_on_sigterm(
        app, smtp, bookings, start_scheduler):
    smtp.delay = 0.1  # a run outlasts its one-second interval, so the two overlap
    expected = bookings(8)
    env = scheduler_env(app, smtp, interval=1)
    schedulers = [start_scheduler(env), start_scheduler(env)]

    # Each deadline allows for starting the processes on a busy machine.
    wait_until(lambda: len(smtp.messages) >= len(expected), timeout=60, what="the first wave")
    expected += bookings(4)  # booked while both run: a later interval sends them
    wait_until(lambda: len(smtp.messages) >= len(expected), timeout=30, what="every message")
    time.sleep(3)  # three more intervals, in which a duplicate would show

    codes = [scheduler.terminate(timeout=10) for scheduler in schedulers]
    assert codes == [0, 0], "\n".join(s.log() for s in schedulers)
    assert all("scheduler stopped" in s.log() for s in schedulers)

    received = smtp.message_ids()
    assert len(received) == len(expected)
    assert set(received.values()) == {1}
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted(expected)
    rows = invitations(app)
    assert {status for _, status, _ in rows} == {"sent"}
    assert {message_id for _, _, message_id in rows} == set(received)
    runs = mail_runs(app)
    assert len(runs) >= 3, runs  # several intervals, each run once
    assert {outcome for outcome, _ in runs} == {"succeeded"}


def test_a_scheduler_killed_mid_send_then_restarted_loses_nothing_and_resends_at_most_one(
        app, smtp, bookings, start_scheduler):
    smtp.delay = 0.3
    expected = bookings(6)
    env = scheduler_env(app, smtp, interval=1)
    first = start_scheduler(env, SHORT_LEASE_APP)

    wait_until(lambda: len(smtp.messages) >= 3, timeout=60, what="the third message")
    time.sleep(smtp.delay / 2)  # while the server holds the reply to the next one
    first.process.send_signal(signal.SIGKILL)
    assert first.process.wait(5) == -signal.SIGKILL
    assert len(smtp.messages) < len(expected)
    assert not all_sent(app), "the kill landed after the batch, not during it"
    assert ("running", None) in mail_runs(app)  # the run it died in

    second = start_scheduler(env, SHORT_LEASE_APP)
    wait_until(lambda: all_sent(app), timeout=60, what="every invitation to be sent")
    time.sleep(1.5)  # a duplicate sent late would show
    assert second.terminate(timeout=10) == 0, second.log()
    # The run the first one died in does not stay "running" for good.
    assert "running" not in {outcome for outcome, _ in mail_runs(app)}
    assert any(outcome == "failed" and summary.startswith("abandoned:")
               for outcome, summary in mail_runs(app))

    received = smtp.message_ids()
    rows = invitations(app)
    assert set(received) == {message_id for _, _, message_id in rows}
    assert sorted({m.rcpt_tos[0] for m in smtp.messages}) == sorted(expected)
    # The message in flight may go twice (same Message-ID): never more, never another.
    assert max(received.values()) <= 2
    assert sum(1 for count in received.values() if count == 2) <= 1
    assert [outcome for outcome, _ in mail_runs(app)][-1] == "succeeded"


def test_ctrl_c_stops_a_scheduler_cleanly_after_its_run_in_progress(
        app, smtp, bookings, start_scheduler):
    smtp.delay = 0.3  # the batch is still sending when Ctrl-C arrives
    expected = bookings(4)
    scheduler = start_scheduler(scheduler_env(app, smtp, interval=1))
    wait_until(lambda: len(smtp.messages) >= 1, timeout=60, what="the first message")
    scheduler.process.send_signal(signal.SIGINT)
    assert scheduler.process.wait(10) == 0, scheduler.log()
    assert "scheduler stopped" in scheduler.log()
    # The run it was in finished: what it claimed went out, nothing is left half-sent.
    sent = {recipient for recipient, status, _ in invitations(app) if status == "sent"}
    assert sent == {m.rcpt_tos[0] for m in smtp.messages}
    assert sent <= set(expected)
    assert {status for _, status, _ in invitations(app)} <= {"sent", "pending"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_when_the_database_ends_the_lock_of_a_sending_scheduler_the_other_finishes_once(
        app, smtp, bookings, start_scheduler, database_url, figures):
    smtp.delay = 0.1
    expected = bookings(16)
    env = scheduler_env(app, smtp, interval=1)
    schedulers = [start_scheduler(env), start_scheduler(env)]
    wait_until(lambda: len(smtp.messages) >= 4, timeout=60, what="the fourth message")
    # An idle timeout, a failover or an administrator ends the lock's session mid-batch.
    assert terminate_lock_holders(database_url) >= 1

    wait_until(lambda: all_sent(app), timeout=60, what="every invitation to be sent")
    time.sleep(2)  # a duplicate sent late would show
    assert [s.terminate(timeout=10) for s in schedulers] == [0, 0]

    received = smtp.message_ids()
    assert len(received) == len(expected) and set(received.values()) == {1}
    assert {message_id for _, _, message_id in invitations(app)} == set(received)
    # The run that lost its lock says so: failed, not succeeded.
    assert any(outcome == "failed" and "lost its lock" in summary
               for outcome, summary in mail_runs(app))
    assert "running" not in {outcome for outcome, _ in mail_runs(app)}
    figures(f"postgresql: two schedulers, the sender's lock session ended mid-batch: "
            f"{len(expected)} queued, {len(received)} delivered, "
            f"{sum(received.values()) - len(received)} duplicated")


def test_under_a_pinned_clock_a_scheduler_delivers_mail_at_every_tick(
        app, smtp, bookings, start_scheduler):
    now = clock.now().replace(microsecond=0)
    clock.set_now(now)  # the scheduler's clock and ours stand still at the same instant
    expected = bookings(2)
    scheduler = start_scheduler(scheduler_env(app, smtp, interval=1, now=now.isoformat()))
    wait_until(lambda: len(smtp.messages) >= 2, timeout=60, what="the first two messages")
    time.sleep(2)  # ticks with nothing due
    expected += bookings(2)
    wait_until(lambda: len(smtp.messages) >= 4, timeout=30, what="the later two messages")
    assert scheduler.terminate(timeout=10) == 0, scheduler.log()

    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted(expected)
    assert set(smtp.message_ids().values()) == {1}
    runs = mail_runs(app)
    assert len(runs) == 1 and runs[0][0] == "succeeded"  # one slot while the clock stands


def _flag_count(app) -> int:
    with app.app_context():
        try:
            return db.session.scalar(sa.select(sa.func.count(Flag.id)))
        finally:
            db.session.remove()


def _sweep_run(app) -> JobRun | None:
    with app.app_context():
        try:
            run = db.session.scalar(sa.select(JobRun).where(JobRun.job == "sweep"))
            db.session.expunge_all()
            return run
        finally:
            db.session.remove()


def test_a_running_scheduler_takes_over_a_sweep_whose_process_died_and_reports_every_flag(
        app, client, smtp, start_scheduler):
    now = "2027-01-12T09:00:00+00:00"
    clock.set_now(now)
    overdue_enrolments(client, 3)
    env = scheduler_env(app, smtp, interval=1, now=now)
    dying = start_scheduler(env, STALLING_APP, command=("run-job", "sweep"))
    wait_until(lambda: (run := _sweep_run(app)) is not None and run.outcome == "running",
               timeout=60, what="the stalling sweep to start")

    survivor = start_scheduler(env)
    wait_until(lambda: mail_runs(app), timeout=60, what="the survivor's first tick")
    time.sleep(2)  # ticks at which the sweep's owner is alive: it is left alone
    run = _sweep_run(app)
    assert (run.outcome, run.attempts) == ("running", 1)

    dying.kill()  # dies mid-sweep, holding the slot
    wait_until(lambda: _sweep_run(app).outcome != "running", timeout=30,
               what="the survivor to take the sweep over")
    assert survivor.terminate(timeout=10) == 0, survivor.log()
    run = _sweep_run(app)
    raised = _flag_count(app)
    assert (run.outcome, run.attempts) == ("succeeded", 2)
    assert raised >= 3 and f"{raised} new flags" in run.summary
