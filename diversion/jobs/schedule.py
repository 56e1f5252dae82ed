"""When each job last ran, what it did and when it runs next, for admins and /healthz."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from diversion import clock
from diversion.domain.vocabulary import JobOutcome, in_words
from diversion.extensions import db
from diversion.jobs.runs import latest_runs
from diversion.jobs.tasks import DAILY_AT, daily_at, mail_slot, next_daily
from diversion.models import JobRun

JOBS = ("send_mail", "sweep", "digest", "retention")
# What a count of each job means, in the order a person reads them.
COUNT_WORDS = {
    "send_mail": (("sent", "sent"), ("failed", "failed"), ("retrying", "to retry"),
                  ("superseded", "withdrawn before sending")),
}
LAST_DAY = timedelta(hours=24)


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
            "counts": run.counts if run else None,
            "next_run": next_run(job, config),
        })
    return overview


def what_it_did(job: str, counts: dict[str, int] | None, summary: str | None) -> str:
    """Say what a run did as a person reads it: "12 sent, 1 failed", "3 new flags"."""
    if counts is None:
        return summary or ""
    if job == "sweep":
        raised = counts.get("raised", 0)
        kinds = ", ".join(f"{in_words(kind).lower()} {n}" for kind, n in sorted(counts.items())
                          if kind not in ("raised", "evaluated") and n)
        flags = f"{raised} new flag{'' if raised == 1 else 's'}" if raised else "No new flags"
        return (f"{flags}{f' ({kinds})' if kinds else ''} among "
                f"{counts.get('evaluated', 0)} open enrolments")
    said = [f"{counts[key]} {words}" for key, words in COUNT_WORDS.get(job, ())
            if counts.get(key)]
    return ", ".join(said) if said else "Nothing due"


def counts_since(job: str, since) -> dict[str, int]:
    """Add up what a job's successful runs for the slots since ``since`` did."""
    total: Counter[str] = Counter()
    for counts in db.session.scalars(
            sa.select(JobRun.counts).where(JobRun.job == job, JobRun.scheduled_for >= since,
                                           JobRun.outcome == JobOutcome.SUCCEEDED)):
        total.update(counts or {})
    return dict(total)


def last_day_of_mail() -> str:
    """Say what the mail runs of the last 24 hours did together."""
    return what_it_did("send_mail", counts_since("send_mail", clock.now() - LAST_DAY), None)
