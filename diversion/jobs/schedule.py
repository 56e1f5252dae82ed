"""When each job last ran and when it runs next, for admins and /healthz."""

from __future__ import annotations

from datetime import timedelta

from diversion import clock
from diversion.jobs.runs import latest_runs
from diversion.jobs.tasks import daily_slot, mail_slot

DAILY = {"sweep": "SCHEDULER_SWEEP_AT", "digest": None, "retention": None}
DEFAULT_AT = {"sweep": "06:00", "digest": "07:00", "retention": "02:30"}


def next_run(job: str, config) -> str:
    now = clock.now()
    if job == "send_mail":
        interval = config["SCHEDULER_MAIL_INTERVAL_SECONDS"]
        return (mail_slot(now, interval) + timedelta(seconds=interval)).isoformat()
    at = config.get(DAILY.get(job) or "", None) or DEFAULT_AT[job]
    slot = daily_slot(now, at)
    if slot <= now:
        slot = daily_slot(now + timedelta(days=1), at)
    return slot.isoformat()


def job_overview(config) -> list[dict]:
    """Return each job's last run, outcome and next run."""
    last = {run.job: run for run in latest_runs()}
    overview = []
    for job in ("send_mail", "sweep", "digest", "retention"):
        run = last.get(job)
        overview.append({
            "job": job,
            "last_scheduled_for": run.scheduled_for.isoformat() if run else None,
            "last_finished_at": run.finished_at.isoformat() if run and run.finished_at else None,
            "outcome": run.outcome if run else None,
            "summary": run.summary if run else None,
            "next_run": next_run(job, config),
        })
    return overview
