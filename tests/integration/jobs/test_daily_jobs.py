"""Daily jobs: one run a night at the local time, and a digest that says nothing of a case."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from diversion import clock
from diversion.domain.vocabulary import LONDON
from diversion.extensions import db
from diversion.jobs import tasks
from diversion.models import Flag, JobRun, OutboxMessage
from diversion.notify.delivery import deliver_all
from tests.conftest import case_body
from tests.integration.jobs.conftest import SENDER

DAILY = {"sweep": time(6, 0), "digest": time(7, 0), "retention": time(2, 30)}
DISCLOSING = re.compile(r"\b(offence|prosecution|police|child|abuse|images|court|sexual|"
                        r"flag|risk|diversion|case)\b", re.IGNORECASE)


def _nights(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


def test_every_daily_job_runs_once_a_night_at_its_local_time_across_both_2027_clock_changes(ctx):
    nights = _nights(date(2027, 3, 13), 30) + _nights(date(2027, 10, 17), 30)
    for night in nights:
        for job, at in DAILY.items():
            # Fired on the hour by two schedulers, then by a restart late in the day.
            firings = [at, at, time(23, 59)]
            if night - timedelta(days=1) in nights:
                # Fired an hour early (run-job by hand): that is last night's run, done.
                firings.insert(0, time(at.hour - 1, at.minute))
            for fired in firings:
                clock.set_now(datetime.combine(night, fired, tzinfo=LONDON))
                getattr(tasks, job)()
    for job, at in DAILY.items():
        runs = db.session.scalars(
            sa.select(JobRun).where(JobRun.job == job).order_by(JobRun.scheduled_for)).all()
        assert [r.scheduled_for.astimezone(LONDON).date() for r in runs] == nights, job
        assert {r.scheduled_for.astimezone(LONDON).time() for r in runs} == {at}, job
        assert {r.outcome for r in runs} == {"succeeded"}, job


def test_a_case_officer_gets_one_neutral_daily_summary_of_new_flags_and_no_case_detail(
        ctx, api_as, smtp):
    ctx.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SENDER=SENDER,
                      PUBLIC_BASE_URL="https://appointments.example.gov.uk")
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = api_as("case_officer")
    api_as("case_officer", force="KENT", email="kent@example.gov.uk")  # no new flags: no mail
    case = officer.post("/cases", case_body(reference="MET/42")).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    for cause in ("missed module 1", "missed module 2"):
        db.session.add(Flag(enrolment_id=enrolment["id"], kind="at_risk", cause=cause,
                            detail=f"Sam Taylor {cause}", status="open",
                            raised_at=datetime(2027, 1, 4, 15, tzinfo=LONDON)))
    db.session.commit()

    clock.set_now(datetime(2027, 1, 5, 7, 0, 20, tzinfo=LONDON))
    assert tasks.digest() == "1 digests queued"
    assert tasks.digest() is None  # the same slot again: nothing more
    assert deliver_all().sent == 1

    [received] = smtp.messages
    assert received.rcpt_tos == ["case_officer.met@example.gov.uk"]
    assert received.message["Subject"] == "Daily summary"
    text = received.message.get_body(("plain",)).get_content()
    assert text.strip() == ("2 new items need your attention. "
                            "Sign in to see them: https://appointments.example.gov.uk")
    html = received.message.get_body(("html",)).get_content()
    for body in (text, html):
        assert not re.search(r"Sam|Taylor|MET/42|missed|module", body), body
        assert not DISCLOSING.search(body.replace("https://appointments.example.gov.uk", ""))

    clock.set_now(datetime(2027, 1, 6, 7, 0, tzinfo=LONDON))
    assert tasks.digest() == "no new flags or completions"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.kind == "digest")) == 1


def test_a_run_a_dead_process_left_running_is_taken_over_at_the_next_tick(ctx):
    slot = datetime(2027, 3, 1, 6, tzinfo=LONDON)
    clock.set_now(slot + timedelta(minutes=1))
    db.session.add(JobRun(job="sweep", scheduled_for=slot, started_at=slot, outcome="running"))
    db.session.commit()
    # Holding the job's lock proves no live process is running it: no lease to wait out.
    assert tasks.sweep() is not None
    run = db.session.scalar(sa.select(JobRun).where(JobRun.job == "sweep"))
    db.session.refresh(run)
    assert (run.outcome, run.attempts) == ("succeeded", 2)


def test_a_scheduler_started_after_the_hour_runs_the_days_jobs_at_its_first_tick_and_once(ctx):
    from diversion.jobs.scheduler import build

    scheduler = build(ctx)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["digest", "retention", "send_mail", "sweep"]
    # Each one looked at every tick, on the clock's slots: none waits for a time of day.
    assert {type(job.trigger).__name__ for job in jobs.values()} == {"IntervalTrigger"}
    clock.set_now(datetime(2027, 3, 1, 9, tzinfo=LONDON))
    for _ in range(2):  # two ticks (or two schedulers)
        for job in jobs.values():
            job.func()
    runs = db.session.execute(sa.select(JobRun.job, JobRun.scheduled_for)).all()
    assert sorted(job for job, _ in runs) == ["digest", "retention", "send_mail", "sweep"]
