"""The dedicated scheduler process: ``flask --app wsgi scheduler``.

APScheduler 3 must not share a job store between processes, and must never run
inside web workers: this process keeps its jobs in memory, and the exactly-once
guard lives in the database (see runs.py), so a second scheduler is safe: it runs
only what the first leaves, and takes over when the first dies.
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
from diversion.memory import freeze_long_lived

log = logging.getLogger(__name__)
# Interval runs start on multiples of the interval since the Unix epoch, the
# same boundaries as tasks.mail_slot, so each tick is one slot.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _in_app(app: Flask, job):
    def run():
        from diversion.extensions import db
        from diversion.jobs.runs import GuardLost

        with app.app_context():
            try:
                summary = job()
            except GuardLost as error:
                # Expected when the database ends the lock's session: recorded as
                # failed, and the slot is left to whoever holds the job now.
                log.error("%s: %s", job.__name__, error)
                return
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
    for job_id in tasks.DAILY_AT:
        # A daily time that cannot be read stops the scheduler now, not at every tick.
        tasks.time_of_day(tasks.daily_at(app.config, job_id))
    # Every job is looked at on each tick: its slot comes from the application's clock,
    # so the day's jobs run at the first tick after their time by that clock (moved,
    # pinned or real; after a restart too), a slot left by a process that died is taken
    # over by whichever scheduler is running, and a slot already done costs one read.
    for job_id, job in (("send_mail", tasks.deliver_mail), ("sweep", tasks.sweep),
                        ("digest", tasks.digest), ("retention", tasks.retention)):
        scheduler.add_job(_in_app(app, job), "interval",
                          seconds=app.config["SCHEDULER_MAIL_INTERVAL_SECONDS"],
                          start_date=EPOCH, id=job_id, name=job_id, replace_existing=True)

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
    # Every job is looked at on each tick, mostly to find its slot done: APScheduler's
    # two lines per look would bury the runs that did something (logged above).
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = build(app)
    freeze_long_lived()
    scheduler.start()
    try:
        received = signal.sigwait(STOP_SIGNALS)
        log.info("signal %s: stopping the scheduler", received)
    finally:
        # A run in progress finishes (its SMTP sends are bounded by timeouts).
        scheduler.shutdown(wait=True)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        log.info("scheduler stopped")
