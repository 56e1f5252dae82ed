"""Exactly-once job runs.

Two scheduler processes started by mistake must never run the same job twice.
Each run takes a PostgreSQL advisory lock (held on a connection of its own for
the whole run) and records itself in ``job_runs`` with UNIQUE(job,
scheduled_for). On SQLite the unique row is the lease. A run that crashed stays
"running"; the next attempt for the same slot takes it over (on PostgreSQL at
once, since holding the lock proves its owner is gone; on SQLite once the lease
is stale), and the jobs are idempotent, so resuming sends nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from diversion import clock
from diversion.domain.vocabulary import JobOutcome
from diversion.extensions import db
from diversion.models import JobRun

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)


def _lock_key(job: str) -> int:
    # A stable signed 64-bit key per job name for pg_try_advisory_xact_lock.
    return int.from_bytes(hashlib.sha256(job.encode()).digest()[:8], "big", signed=True)


def _claim(job: str, scheduled_for: datetime, *, locked: bool) -> JobRun | None:
    """Record the run, or return None when this slot is done or running elsewhere.

    ``locked``: this process holds the job's advisory lock, so no other process
    can be running it and a "running" row is left over from a crash.
    """
    now = clock.now()
    existing = db.session.scalar(
        sa.select(JobRun).where(JobRun.job == job, JobRun.scheduled_for == scheduled_for)
        .with_for_update()
    )
    if existing is not None:
        if existing.outcome == JobOutcome.SUCCEEDED:
            db.session.rollback()
            return None
        if (existing.outcome == JobOutcome.RUNNING and not locked
                and now - existing.started_at < LEASE):
            db.session.rollback()
            return None
        existing.outcome = JobOutcome.RUNNING
        existing.started_at = now
        existing.finished_at = None
        db.session.commit()
        return existing
    run = JobRun(job=job, scheduled_for=scheduled_for, started_at=now,
                 outcome=JobOutcome.RUNNING)
    db.session.add(run)
    try:
        db.session.commit()
    except sa_exc.IntegrityError:
        db.session.rollback()
        return None
    return run


def run_once(job: str, scheduled_for: datetime, work: Callable[[], str]) -> str | None:
    """Run ``work`` for this slot unless it already ran; return its summary or None."""
    lock_connection = None
    try:
        if db.engine.dialect.name == "postgresql":
            lock_connection = db.engine.connect()
            lock_connection.begin()
            got = lock_connection.execute(
                sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _lock_key(job)}
            ).scalar()
            if not got:
                log.info("job %s: another scheduler holds it; skipping", job)
                return None
        run = _claim(job, scheduled_for, locked=lock_connection is not None)
        if run is None:
            return None
        try:
            summary = work()
        except Exception as error:
            db.session.rollback()
            run = db.session.get(JobRun, run.id)
            run.outcome = JobOutcome.FAILED
            run.finished_at = clock.now()
            run.summary = f"{type(error).__name__}: {error}"[:500]
            db.session.commit()
            raise
        run = db.session.get(JobRun, run.id)
        run.outcome = JobOutcome.SUCCEEDED
        run.finished_at = clock.now()
        run.summary = (summary or "")[:500]
        db.session.commit()
        return summary
    finally:
        if lock_connection is not None:
            lock_connection.rollback()  # releases the advisory lock
            lock_connection.close()


def latest_runs() -> list[JobRun]:
    """Return the most recent run of each job."""
    latest = (
        sa.select(JobRun.job, sa.func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    )
    return list(db.session.scalars(
        sa.select(JobRun).join(latest, latest.c.id == JobRun.id).order_by(JobRun.job)
    ))
