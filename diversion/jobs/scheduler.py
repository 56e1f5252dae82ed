"""The dedicated scheduler process: ``flask --app wsgi scheduler``.

APScheduler 3 must not share a job store between processes, and must never run
inside web workers: this process keeps its jobs in memory, and the exactly-once
guard lives in the database (see runs.py), so a second scheduler started by
mistake does nothing.
"""

from __future__ import annotations

import logging
import signal
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from diversion.jobs import tasks

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")


def _in_app(app: Flask, job):
    def run():
        with app.app_context():
            try:
                summary = job()
            finally:
                from diversion.extensions import db

                db.session.remove()
            if summary:
                log.info("%s: %s", job.__name__, summary)

    run.__name__ = job.__name__
    return run


def build(app: Flask) -> BlockingScheduler:
    """Create the scheduler with every job registered under a fixed id."""
    scheduler = BlockingScheduler(
        timezone=LONDON,
        job_defaults={"misfire_grace_time": 600, "coalesce": True, "max_instances": 1},
    )
    interval = app.config["SCHEDULER_MAIL_INTERVAL_SECONDS"]
    hour, minute = (int(p) for p in app.config["SCHEDULER_SWEEP_AT"].split(":"))
    scheduler.add_job(_in_app(app, tasks.deliver_mail), "interval", seconds=interval,
                      id="send_mail", replace_existing=True)
    scheduler.add_job(_in_app(app, tasks.sweep), "cron", hour=hour, minute=minute,
                      id="sweep", replace_existing=True)
    scheduler.add_job(_in_app(app, tasks.digest), "cron", hour=7, minute=0,
                      id="digest", replace_existing=True)
    scheduler.add_job(_in_app(app, tasks.retention), "cron", hour=2, minute=30,
                      id="retention", replace_existing=True)

    def listener(event):
        if event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
        elif event.exception is not None:
            log.error("job %s failed: %r", event.job_id, event.exception)

    scheduler.add_listener(listener, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    return scheduler


def run(app: Flask) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C."""
    scheduler = build(app)

    def stop(signum, _frame):
        log.info("signal %s: stopping the scheduler", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
