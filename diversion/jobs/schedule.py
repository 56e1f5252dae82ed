"""When each job last ran and when it runs next, for admins and /healthz."""

from __future__ import annotations

from datetime import timedelta

from diversion import clock
from diversion.jobs.runs import latest_runs
from diversion.jobs.tasks import DAILY_AT, daily_at, mail_slot, next_daily

JOBS = ("send_mail", "sweep", "digest", "retention")


def next_run(job: str, config) -> str:
    """Return when the scheduler next runs a job, as an ISO 8601 instant."""
    now = clock.now()
    if job == "send_mail":
        interval = config["SCHEDULER_MAIL_INTERVAL_SECONDS"]
        return (mail_slot(now, interval) + timedelta(seconds=interval)).isoformat()
    return next_daily(now, daily_at(config, job)).isoformat()


def job_overview(config) -> list[dict]:
    """Return each job's last run, outcome and next run."""
    last = {run.job: run for run in latest_runs()}
    overview = []
    for job in JOBS:
        run = last.get(job)
        overview.append({
            "job": job,
            "daily_at": daily_at(config, job) if job in DAILY_AT else None,
            "last_scheduled_for": run.scheduled_for.isoformat() if run else None,
            "last_started_at": run.started_at.isoformat() if run else None,
            "last_finished_at": run.finished_at.isoformat() if run and run.finished_at else None,
            "outcome": run.outcome if run else None,
            "summary": run.summary if run else None,
            "next_run": next_run(job, config),
        })
    return overview
