"""The dedicated scheduler process: ``flask --app wsgi scheduler``.

APScheduler 3 must not share a job store between processes, and must never run
inside web workers: this process keeps its jobs in memory, and the exactly-once
guard lives in the database (see runs.py), so a second scheduler started by
mistake does nothing.
"""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from diversion.domain.vocabulary import LONDON
from diversion.jobs import tasks

log = logging.getLogger(__name__)
# Interval runs start on multiples of the interval since the Unix epoch, the
# same boundaries as tasks.mail_slot, so each tick is one slot.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _in_app(app: Flask, job):
    def run():
        from diversion.extensions import db

        with app.app_context():
            try:
                summary = job()
            finally:
                db.session.remove()
            if summary:
                log.info("%s: %s", job.__name__, summary)

    run.__name__ = job.__name__
    return run


def build(app: Flask) -> BackgroundScheduler:
    """Create the scheduler with every job registered under a fixed id."""
    scheduler = BackgroundScheduler(
        timezone=LONDON,
        job_defaults={"misfire_grace_time": 600, "coalesce": True, "max_instances": 1},
    )
    scheduler.add_job(_in_app(app, tasks.deliver_mail), "interval",
                      seconds=app.config["SCHEDULER_MAIL_INTERVAL_SECONDS"], start_date=EPOCH,
                      id="send_mail", replace_existing=True)
    for job_id, job in (("sweep", tasks.sweep), ("digest", tasks.digest),
                        ("retention", tasks.retention)):
        hour, minute = (int(p) for p in tasks.daily_at(app.config, job_id).split(":"))
        scheduler.add_job(_in_app(app, job), "cron", hour=hour, minute=minute,
                          id=job_id, replace_existing=True)
        # Jobs live in memory, so a scheduler started (or restarted after a crash)
        # after the hour would wait a day: run the latest slot now instead. If it
        # already ran, run_once makes this do nothing.
        scheduler.add_job(_in_app(app, job), "date", id=f"{job_id}_on_start",
                          replace_existing=True)

    def listener(event):
        if event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
        elif event.exception is not None:
            log.error("job %s failed: %r", event.job_id, event.exception)

    scheduler.add_listener(listener, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    return scheduler


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def run(app: Flask) -> None:
    """Run the scheduler until SIGTERM or Ctrl-C, then let a run in progress finish."""
    # The stop signals are blocked before any thread starts, so every thread inherits
    # the mask and only sigwait below takes them, in ordinary code. A handler that
    # raised instead could land between a lock's acquire and its release, and the
    # shutdown then waited on that lock for ever.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    scheduler = build(app)
    scheduler.start()
    try:
        received = signal.sigwait(STOP_SIGNALS)
        log.info("signal %s: stopping the scheduler", received)
    finally:
        # A run in progress finishes (its SMTP sends are bounded by timeouts).
        scheduler.shutdown(wait=True)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        log.info("scheduler stopped")
