"""The job guard: a run that loses its lock stops, a slow batch is never sent twice,
send-mail shares the guard, a clock that stands still still delivers, and slots left by
dead processes are closed or taken over.

Each test reproduces one finding of the experiments in issue 21 (two schedulers, a
terminated connection, a lease shorter than a batch, a pinned clock).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.jobs import tasks
from diversion.jobs.runs import SCHEDULED_ATTEMPTS, GuardLost, run_once
from diversion.models import Flag, JobRun, OutboxMessage
from diversion.notify import delivery
from tests.conftest import Api, enrol_case, make_token
from tests.integration.jobs.conftest import SENDER, wait_until

postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _plain(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://")


def terminate_lock_holders(database_url: str) -> int:
    """End every session holding an advisory lock in this database, as a failover would;
    return how many there were."""
    with psycopg.connect(_plain(database_url), autocommit=True) as connection:
        return connection.execute(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_locks "
            "WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()[0]


def mail_to(app, smtp, **settings) -> None:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SENDER=SENDER,
                      **settings)


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        db.session.remove()
        return list(rows)


def job_runs(app, job: str) -> list[JobRun]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(JobRun).where(JobRun.job == job).order_by(JobRun.scheduled_for)).all()
        db.session.expunge_all()
        db.session.remove()
        return list(rows)


def db_name(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0].split("+")[0]


def in_app(app, function, *args, **kwargs):
    with app.app_context():
        try:
            return function(*args, **kwargs)
        finally:
            db.session.remove()


@postgresql_only
def test_a_mail_run_whose_lock_the_database_ends_stops_before_its_next_send(
        app, smtp, bookings, database_url):
    expected = bookings(6)
    mail_to(app, smtp)
    # The database ends the lock's session while the second message is being taken.
    smtp.on_message = lambda taken: taken == 2 and terminate_lock_holders(database_url)

    with pytest.raises(GuardLost):
        in_app(app, tasks.deliver_mail)

    assert len(smtp.messages) == 2  # the third was never sent
    [run] = job_runs(app, "send_mail")
    assert run.outcome == "failed"  # not "succeeded"
    assert "lost its lock" in run.summary
    rows = [row for row in outbox(app) if row.kind == "invitation"]
    assert Counter(row.status for row in rows) == {"sent": 2, "pending": 4}
    # The rest of the batch is handed back, due at once, for whoever holds the job now.
    handed_back = [row for row in rows if row.status == "pending"]
    assert all(row.claimed_at is None and row.next_attempt_at <= clock.now()
               for row in handed_back)

    smtp.on_message = None
    assert in_app(app, tasks.deliver_mail) == "sent 4, failed 0, retry later 0, superseded 0"
    received = Counter(message.message_id for message in smtp.messages)
    assert len(received) == 6 and set(received.values()) == {1}
    assert sorted(message.rcpt_tos[0] for message in smtp.messages) == sorted(expected)


def overdue_enrolments(client, count: int) -> None:
    """Enrolments whose four months ran out unbooked: the sweep flags each of them."""
    officer = Api(client, make_token(role="case_officer"))
    for n in range(count):
        enrol_case(officer, f"LATE/{n}", start="2026-08-03")


@postgresql_only
def test_a_sweep_that_loses_its_lock_commits_nothing_and_the_resumed_one_reports_every_flag(
        app, client, database_url):
    clock.set_now("2027-01-12T09:00:00+00:00")
    overdue_enrolments(client, 3)
    with app.app_context():
        def lose_the_lock_once(_conn, _cursor, statement, *_args):
            if statement.startswith("INSERT INTO flags") and not lost:
                lost.append(terminate_lock_holders(database_url))

        lost: list[int] = []
        sa.event.listen(db.engine, "before_cursor_execute", lose_the_lock_once)
        try:
            with pytest.raises(GuardLost):
                tasks.sweep()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", lose_the_lock_once)
            db.session.remove()
    assert lost == [1]
    # The flags it had written were rolled back with it: none was counted by a run
    # then recorded as failed.
    assert in_app(app, lambda: db.session.scalar(sa.select(sa.func.count(Flag.id)))) == 0
    [run] = job_runs(app, "sweep")
    assert (run.outcome, run.attempts) == ("failed", 1)
    assert "lost its lock" in run.summary

    summary = in_app(app, tasks.sweep)
    raised = in_app(app, lambda: db.session.scalar(sa.select(sa.func.count(Flag.id))))
    assert raised >= 3
    assert f"{raised} new flags" in summary
    [run] = job_runs(app, "sweep")
    assert (run.outcome, run.attempts, run.summary) == ("succeeded", 2, summary)


def test_a_batch_longer_than_its_lease_is_never_sent_twice_by_a_second_sender(
        app, smtp, bookings, figures):
    expected = bookings(16)
    mail_to(app, smtp, MAIL_CLAIM_LEASE_SECONDS=2)
    smtp.delay = 0.2  # the batch takes over three seconds, its lease two
    results, errors = [], []

    def send() -> None:
        try:
            results.append(in_app(app, delivery.deliver_all))
        except Exception as error:  # surfaced below: a thread cannot fail the test
            errors.append(error)

    first = threading.Thread(target=send)
    first.start()
    # Past the first claim's lease: without renewal its last rows would be due again.
    wait_until(lambda: len(smtp.messages) >= 11, timeout=60, what="eleven messages")
    send()
    first.join(60)

    assert errors == []
    assert sum(result.sent for result in results) == 16
    received = Counter(message.message_id for message in smtp.messages)
    assert len(received) == 16 and set(received.values()) == {1}
    assert sorted(message.rcpt_tos[0] for message in smtp.messages) == sorted(expected)
    assert {row.status for row in outbox(app) if row.kind == "invitation"} == {"sent"}
    figures(f"{db_name(app)}: a batch of 16 over a 2-second lease, a second sender at "
            f"2.2 s: {len(received)} delivered, {sum(received.values()) - len(received)} "
            "duplicated")


def test_a_row_claimed_by_another_sender_after_its_lease_ran_out_is_left_to_it(
        app, smtp, bookings):
    bookings(3)
    mail_to(app, smtp)
    clock.set_now(clock.now())
    taken = []

    def another_sender_takes_the_last_row(count: int) -> None:
        # While the first message is sent, the clock passes the lease and another
        # sender claims the last row.
        if count == 1:
            clock.set_now(clock.now() + timedelta(minutes=6))
            with app.app_context():
                last = db.session.scalar(sa.select(OutboxMessage)
                                         .where(OutboxMessage.claimed_at.is_not(None))
                                         .order_by(OutboxMessage.id.desc()).limit(1))
                last.attempts += 1
                last.next_attempt_at = clock.now() + timedelta(minutes=5)
                taken.append(last.id)
                db.session.commit()
                db.session.remove()

    smtp.on_message = another_sender_takes_the_last_row
    result = in_app(app, delivery.deliver_all)
    assert (result.sent, result.retrying, result.failed) == (2, 0, 0)
    rows = {row.id: row for row in outbox(app)}
    assert rows[taken[0]].status == "pending" and rows[taken[0]].attempts == 2
    assert len(smtp.messages) == 2


def test_send_mail_goes_through_the_mail_jobs_guard(app, smtp, bookings, runner):
    bookings(2)
    mail_to(app, smtp)
    said = []

    def while_another_process_delivers(_guard) -> str:
        said.append(runner.invoke(args=["send-mail"]))
        return "the other process"

    in_app(app, run_once, "send_mail", tasks.mail_slot(clock.now(), 60),
           while_another_process_delivers)
    [held] = said
    assert held.exit_code == 0, held.output
    assert "another process is delivering mail now" in held.output
    assert smtp.messages == []

    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 2, failed 0, retry later 0, superseded 0"
    assert len(smtp.messages) == 2
    assert job_runs(app, "send_mail")[-1].summary == result.output.strip()


def test_under_a_pinned_clock_mail_goes_at_every_tick_in_one_slot(app, smtp, bookings):
    book = bookings
    mail_to(app, smtp)
    clock.set_now(clock.now())  # the clock stands still from here on (DIVERSION_NOW)
    book(2)
    assert in_app(app, tasks.deliver_mail) == "sent 2, failed 0, retry later 0, superseded 0"
    assert in_app(app, tasks.deliver_mail) is None  # nothing due: nothing to run
    book(1)
    assert in_app(app, tasks.deliver_mail) == "sent 1, failed 0, retry later 0, superseded 0"
    assert len(smtp.messages) == 3
    [run] = job_runs(app, "send_mail")  # one slot, run once per tick with mail due
    assert (run.outcome, run.attempts) == ("succeeded", 2)


def test_runs_left_running_by_a_dead_process_are_closed_by_the_next_run_of_the_job(
        app, smtp):
    mail_to(app, smtp)
    clock.set_now("2027-01-12T09:00:30+00:00")
    with app.app_context():
        for minutes in (50, 20):
            slot = datetime(2027, 1, 12, 8, minutes, tzinfo=clock.now().tzinfo)
            db.session.add(JobRun(job="send_mail", scheduled_for=slot, started_at=slot,
                                  outcome="running"))
        db.session.commit()
        db.session.remove()
    in_app(app, tasks.deliver_mail)
    runs = job_runs(app, "send_mail")
    assert [run.outcome for run in runs] == ["failed", "failed", "succeeded"]
    assert all(run.summary.startswith("abandoned:") and run.finished_at == clock.now()
               for run in runs[:2])


def test_the_scheduler_gives_a_failing_slot_three_starts_and_run_job_another(
        app, runner, monkeypatch):
    from diversion.services import compliance

    clock.set_now("2027-01-12T09:00:00+00:00")
    real_sweep = compliance.sweep

    def broken():
        raise RuntimeError("the sweep broke")

    monkeypatch.setattr(compliance, "sweep", broken)
    for _ in range(SCHEDULED_ATTEMPTS):
        with pytest.raises(RuntimeError):
            in_app(app, tasks.sweep)
    assert in_app(app, tasks.sweep) is None  # left failed until its next slot
    [run] = job_runs(app, "sweep")
    assert (run.outcome, run.attempts) == ("failed", SCHEDULED_ATTEMPTS)

    monkeypatch.setattr(compliance, "sweep", real_sweep)
    result = runner.invoke(args=["run-job", "sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("sweep as of 2027-01-12")
    [run] = job_runs(app, "sweep")
    assert (run.outcome, run.attempts) == ("succeeded", SCHEDULED_ATTEMPTS + 1)
