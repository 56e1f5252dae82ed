"""Exactly-once job runs, guarded so that a run which lost its guard stops.

Each job has one guard, held by at most one run at a time, which lives exactly as
long as the process holding it can still act on the database:

- On PostgreSQL, a session-level advisory lock (``pg_try_advisory_lock``) taken on a
  connection of its own, in autocommit, with both idle timeouts off for that session:
  nothing sits idle in a transaction for the length of the run. PostgreSQL ends the
  lock with the session: a failover, a restart or ``pg_terminate_backend`` releases
  it, and another scheduler may then take it. So the run asks that session whether
  it still holds the lock before each step with effects outside the run's own
  transaction (each batch of mail, each message, the commit of a daily job's work),
  and stops at the first "no": the rest of its batch is handed back, its work is
  rolled back, and the run is recorded as failed. The lock is a session's: the
  scheduler must reach PostgreSQL directly or through a pool in session mode (behind
  a pool in transaction mode the check finds no lock and every run stops).
- On SQLite (one machine: development and demos), an exclusive lock on a file beside
  the database, which the operating system releases when its process ends.

Each slot of a job is one row of ``job_runs`` (UNIQUE(job, scheduled_for)), whose
``attempts`` counts the runs that started it. Every record a run writes names its
attempt, so a run that lost its guard never overwrites what a successor wrote.

Holding the guard proves that no live process is running the job, so every row of
the job still "running" was left by a process that died or lost its guard: it is
closed as failed. Then the slot runs when it has no row; when it failed (or was
just closed), again, up to SCHEDULED_ATTEMPTS starts from the scheduler and as often
as ``run-job`` asks; when it succeeded, only if the job says there is more to do
(``again_if``: mail falls due while the clock stands still).

The run's bookkeeping is kept apart from the job's work: claiming the slot and
recording how the run ended are each a transaction of their own. The claim is
committed before the work starts, for another process to see the slot taken while
it runs; a failure is recorded although the work was rolled back. The work's use
cases own their own transactions.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from flask import current_app

from diversion import clock
from diversion.database import transaction
from diversion.domain.vocabulary import JobOutcome
from diversion.extensions import db
from diversion.models import JobRun

log = logging.getLogger(__name__)

SUMMARY_LENGTH = 500
# Starts the scheduler gives a slot that keeps failing (or whose process keeps dying)
# before leaving it failed until its next slot; `run-job` may always start it again.
SCHEDULED_ATTEMPTS = 3
ABANDONED = "abandoned: the process running it ended or lost the job's lock first"

T = TypeVar("T")


class GuardLost(Exception):
    """The run no longer holds its job's lock: another process may be running the job."""


class Counted(Protocol):
    """What a job's work may return instead of a line: the line and the counts behind it."""

    def summary(self) -> str: ...

    def counts(self) -> dict[str, int]: ...


def _lock_key(job: str) -> int:
    # A stable signed 64-bit key per job name for pg_try_advisory_lock.
    return int.from_bytes(hashlib.sha256(job.encode()).digest()[:8], "big", signed=True)


class _AdvisoryLock:
    """A PostgreSQL session-level advisory lock on a connection of its own."""

    def __init__(self, job: str) -> None:
        self.key = _lock_key(job)
        self.connection: sa.Connection | None = None

    def acquire(self) -> bool:
        connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            # The session waits between checks: no idle timeout may end it (and the lock).
            connection.execute(sa.text("SET idle_session_timeout = 0"))
            got = connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"),
                                     {"key": self.key}).scalar()
        except BaseException:
            connection.invalidate()
            connection.close()
            raise
        if not got:
            connection.invalidate()
            connection.close()
            return False
        self.connection = connection
        return True

    def held(self) -> bool:
        assert self.connection is not None
        # pg_locks shows a bigint key as its high and low 32 bits.
        high, low = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        try:
            return bool(self.connection.execute(sa.text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() AND granted AND objsubid = 1 "
                "AND classid::bigint = :high AND objid::bigint = :low)"),
                {"high": high, "low": low}).scalar())
        except sa_exc.SQLAlchemyError as error:
            log.warning("the connection holding the lock is gone: %s",
                        getattr(error, "orig", None) or error)
            return False

    def release(self) -> None:
        if self.connection is not None:
            # Closing the session releases its lock; the connection is never pooled again.
            self.connection.invalidate()
            self.connection.close()
            self.connection = None


class _FileLock:
    """An exclusive lock on a file beside the SQLite database, released when its process ends."""

    def __init__(self, job: str) -> None:
        database = db.engine.url.database
        folder = Path(database).parent if database and database != ":memory:" \
            else Path(current_app.instance_path)
        name = Path(database).name if database and database != ":memory:" else "memory"
        self.path = folder / f".{name}.{job}.lock"
        self.descriptor: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self.descriptor = descriptor
        return True

    def held(self) -> bool:
        return self.descriptor is not None  # only its own process can let it go

    def release(self) -> None:
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None


class Guard:
    """What a run holds while it works: ask ``check()`` before each step with effects."""

    def __init__(self, job: str, lock: _AdvisoryLock | _FileLock) -> None:
        self.job = job
        self._lock = lock

    def check(self) -> None:
        """Raise GuardLost unless this run still holds its job's lock."""
        if not self._lock.held():
            raise GuardLost(f"job {self.job} lost its lock (the database ended the "
                            "session holding it); stopped before doing more")

    @contextmanager
    def every_commit(self) -> Iterator[None]:
        """Let the work commit only while the lock is held: a lost lock rolls it back."""
        session = db.session()

        def fence(_session) -> None:
            self.check()

        sa.event.listen(session, "before_commit", fence)
        try:
            yield
        finally:
            sa.event.remove(session, "before_commit", fence)


def committed_under_guard(service: Callable[[], T]) -> Callable[[Guard], T]:
    """Make a one-transaction use case a job's work whose commit needs the lock held.

    A run that lost its lock while another took over must not commit beside it: the
    sweep's flags would be counted by the run that is then recorded as failed.
    """
    def work(guard: Guard) -> T:
        with guard.every_commit():
            return service()

    return work


@dataclass(frozen=True)
class _Run:
    id: int
    attempt: int


def _lock(job: str) -> _AdvisoryLock | _FileLock:
    return _AdvisoryLock(job) if db.engine.dialect.name == "postgresql" else _FileLock(job)


def _worth_a_look(job: str, scheduled_for: datetime, again_if: Callable[[], bool] | None,
                  attempts: int | None) -> bool:
    """Say, without the lock, whether this slot might need a run (most ticks find it done)."""
    with transaction():
        existing = db.session.execute(
            sa.select(JobRun.outcome, JobRun.attempts)
            .where(JobRun.job == job, JobRun.scheduled_for == scheduled_for)
        ).first()
        if existing is None or existing.outcome == JobOutcome.RUNNING:
            return True
        if again_if is not None:
            return again_if()
        return existing.outcome == JobOutcome.FAILED and (
            attempts is None or existing.attempts < attempts)


def _close_abandoned(job: str, now: datetime) -> None:
    """Close every run of the job left running (the caller holds the job's lock)."""
    for run in db.session.scalars(
            sa.select(JobRun).where(JobRun.job == job, JobRun.outcome == JobOutcome.RUNNING)
            .with_for_update()):
        log.warning("job %s: closing the run for %s left running", job,
                    run.scheduled_for.isoformat())
        run.outcome = JobOutcome.FAILED
        run.finished_at = now
        run.summary = ABANDONED


def _claim(job: str, scheduled_for: datetime, again_if: Callable[[], bool] | None,
           attempts: int | None) -> _Run | None:
    """Record the run in a transaction of its own (the caller holds the job's lock);
    return None when this slot needs no run."""
    now = clock.now()
    try:
        with transaction():
            _close_abandoned(job, now)
            existing = db.session.scalar(
                sa.select(JobRun).where(JobRun.job == job, JobRun.scheduled_for == scheduled_for)
                .with_for_update()
            )
            if existing is None:
                run = JobRun(job=job, scheduled_for=scheduled_for, started_at=now,
                             outcome=JobOutcome.RUNNING, attempts=1)
                db.session.add(run)
                db.session.flush()
                return _Run(run.id, run.attempts)
            if again_if is not None:
                if not again_if():
                    return None
            elif existing.outcome == JobOutcome.SUCCEEDED:
                return None
            elif attempts is not None and existing.attempts >= attempts:
                return None
            existing.attempts += 1
            existing.outcome = JobOutcome.RUNNING
            existing.started_at = now
            existing.finished_at = None
            existing.summary = None
            return _Run(existing.id, existing.attempts)
    except sa_exc.IntegrityError:
        return None  # another process recorded this slot first


def _finish(run: _Run, outcome: JobOutcome, summary: str,
            counts: dict[str, int] | None = None) -> None:
    """Record how this attempt ended, in a transaction of its own, unless a later one
    has taken the slot over."""
    with transaction():
        recorded = db.session.scalar(
            sa.update(JobRun).where(JobRun.id == run.id, JobRun.attempts == run.attempt)
            .values(outcome=outcome, finished_at=clock.now(), summary=summary[:SUMMARY_LENGTH],
                    counts=counts)
            .returning(JobRun.id)
        )
    if recorded is None:
        log.warning("job run %s: a later attempt took the slot over; its record stands",
                    run.id)


def run_once(job: str, scheduled_for: datetime,
             work: Callable[[Guard], str | Counted | None], *,
             again_if: Callable[[], bool] | None = None,
             attempts: int | None = SCHEDULED_ATTEMPTS) -> str | None:
    """Run ``work`` for this slot unless it needs no run or another process holds the
    job; return its summary, or None when it did not run.

    ``again_if``: a slot that ran may run again while this says there is work.
    ``attempts``: how many starts a failing slot gets (None: no limit, as by hand).
    """
    if not _worth_a_look(job, scheduled_for, again_if, attempts):
        return None
    lock = _lock(job)
    if not lock.acquire():
        log.info("job %s: another process holds it; skipping", job)
        return None
    try:
        run = _claim(job, scheduled_for, again_if, attempts)
        if run is None:
            return None
        try:
            result = work(Guard(job, lock))
        except Exception as error:
            # Nothing the failed work left open is kept; only its failure is recorded.
            db.session.rollback()
            try:
                _finish(run, JobOutcome.FAILED, f"{type(error).__name__}: {error}")
            except Exception:  # the database may be what failed: the error still surfaces
                log.exception("job %s: could not record the failure", job)
            raise
        if result is None or isinstance(result, str):
            summary, counts = result, None
        else:
            summary, counts = result.summary(), result.counts()
        _finish(run, JobOutcome.SUCCEEDED, summary or "", counts)
        return summary
    finally:
        lock.release()


def latest_runs() -> list[JobRun]:
    """Return the most recent run of each job."""
    latest = (
        sa.select(JobRun.job, sa.func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    )
    return list(db.session.scalars(
        sa.select(JobRun).join(latest, latest.c.id == JobRun.id).order_by(JobRun.job)
    ))
