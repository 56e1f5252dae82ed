"""Exactly-once job runs.

Two scheduler processes started by mistake must never run the same job twice.
Each run takes a PostgreSQL advisory lock (held on a connection of its own for
the whole run) and records itself in ``job_runs`` with UNIQUE(job,
scheduled_for). On SQLite the unique row is the lease. A run that crashed stays
"running"; the next attempt for the same slot takes it over (on PostgreSQL at
once, since holding the lock proves its owner is gone; on SQLite once the lease
is stale), and the jobs are idempotent, so resuming sends nothing twice.

The run's bookkeeping is kept apart from the job's work: claiming the slot and
recording how the run ended are each a transaction of their own. The claim must
be committed before the work starts, for another scheduler to see the slot taken
while it runs; a failure must be recorded although the work was rolled back. The
work's use cases own their own transactions.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from diversion import clock
from diversion.database import transaction
from diversion.domain.vocabulary import JobOutcome
from diversion.extensions import db
from diversion.models import JobRun

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)
SUMMARY_LENGTH = 500


class Counted(Protocol):
    """What a job's work may return instead of a line: the line and the counts behind it."""

    def summary(self) -> str: ...

    def counts(self) -> dict[str, int]: ...


def _lock_key(job: str) -> int:
    # A stable signed 64-bit key per job name for pg_try_advisory_xact_lock.
    return int.from_bytes(hashlib.sha256(job.encode()).digest()[:8], "big", signed=True)


def _claim(job: str, scheduled_for: datetime, *, locked: bool) -> int | None:
    """Record the run in a transaction of its own and return its id; return None when
    this slot is done or running elsewhere.

    ``locked``: this process holds the job's advisory lock, so no other process
    can be running it and a "running" row is left over from a crash.
    """
    now = clock.now()
    try:
        with transaction():
            existing = db.session.scalar(
                sa.select(JobRun).where(JobRun.job == job, JobRun.scheduled_for == scheduled_for)
                .with_for_update()
            )
            if existing is None:
                run = JobRun(job=job, scheduled_for=scheduled_for, started_at=now,
                             outcome=JobOutcome.RUNNING)
                db.session.add(run)
                db.session.flush()
                return run.id
            if existing.outcome == JobOutcome.SUCCEEDED:
                return None
            if (existing.outcome == JobOutcome.RUNNING and not locked
                    and now - existing.started_at < LEASE):
                return None
            existing.outcome = JobOutcome.RUNNING
            existing.started_at = now
            existing.finished_at = None
            return existing.id
    except sa_exc.IntegrityError:
        return None  # another scheduler recorded this slot first


def _finish(run_id: int, outcome: JobOutcome, summary: str,
            counts: dict[str, int] | None = None) -> None:
    """Record how the run ended, in a transaction of its own."""
    with transaction():
        run = db.session.get_one(JobRun, run_id)
        run.outcome = outcome
        run.finished_at = clock.now()
        run.summary = summary[:SUMMARY_LENGTH]
        run.counts = counts


def run_once(job: str, scheduled_for: datetime,
             work: Callable[[], str | Counted | None]) -> str | None:
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
        run_id = _claim(job, scheduled_for, locked=lock_connection is not None)
        if run_id is None:
            return None
        try:
            result = work()
        except Exception as error:
            # Nothing the failed work left open is kept; only its failure is recorded.
            db.session.rollback()
            _finish(run_id, JobOutcome.FAILED, f"{type(error).__name__}: {error}")
            raise
        if result is None or isinstance(result, str):
            summary, counts = result, None
        else:
            summary, counts = result.summary(), result.counts()
        _finish(run_id, JobOutcome.SUCCEEDED, summary or "", counts)
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
