"""The jobs themselves: thin, each one service call inside an exactly-once run."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from flask import current_app

from diversion import clock
from diversion.domain.vocabulary import LONDON
from diversion.jobs.runs import SCHEDULED_ATTEMPTS, committed_under_guard, run_once

log = logging.getLogger(__name__)

# Each daily job's setting and its default local time (Europe/London).
DAILY_AT = {
    "sweep": ("SCHEDULER_SWEEP_AT", "06:00"),
    "digest": ("SCHEDULER_DIGEST_AT", "07:00"),
    "retention": ("SCHEDULER_RETENTION_AT", "02:30"),
}


def daily_at(config, job: str) -> str:
    """Return the local time ("HH:MM") a daily job runs at."""
    key, default = DAILY_AT[job]
    return config.get(key) or default


def mail_slot(now: datetime, interval_seconds: int) -> datetime:
    """Return the start of the mail interval containing ``now``."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % interval_seconds, tz=now.tzinfo)


def daily_slot(now: datetime, at: str) -> datetime:
    """Return the latest scheduled local time of a daily job at or before ``now``."""
    local_day = now.astimezone(LONDON).date()
    slot = _local(local_day, at)
    if slot > now:
        # Fired early (run-job before the hour): yesterday's run, not today's.
        slot = _local(local_day - timedelta(days=1), at)
    return slot


def next_daily(now: datetime, at: str) -> datetime:
    """Return the first scheduled local time of a daily job after ``now``."""
    local_day = now.astimezone(LONDON).date()
    slot = _local(local_day, at)
    if slot <= now:
        slot = _local(local_day + timedelta(days=1), at)
    return slot


def time_of_day(at: str) -> time:
    """Read a daily job's "HH:MM"; raise ValueError when it is no time of day."""
    hour, minute = (int(part) for part in at.split(":"))
    return time(hour, minute)


def _local(day, at: str) -> datetime:
    # Local wall-clock arithmetic, so 06:00 stays 06:00 across the clock changes.
    return datetime.combine(day, time_of_day(at), tzinfo=LONDON)


def deliver_mail() -> str | None:
    """Deliver what is due in the outbox, stopping before the next send if the job's
    lock is lost.

    A slot runs again while mail is due: a clock that stands still (DIVERSION_NOW)
    keeps one slot for ever, and mail must still go at every tick.
    """
    from diversion.notify import delivery

    slot = mail_slot(clock.now(), current_app.config["SCHEDULER_MAIL_INTERVAL_SECONDS"])
    return run_once("send_mail", slot,
                    lambda guard: delivery.deliver_all(guard=guard.check),
                    again_if=delivery.anything_due)


def sweep(attempts: int | None = SCHEDULED_ATTEMPTS) -> str | None:
    """Run the compliance sweep once for this slot."""
    from diversion.services import compliance

    slot = daily_slot(clock.now(), daily_at(current_app.config, "sweep"))
    return run_once("sweep", slot,
                    committed_under_guard(compliance.sweep),
                    attempts=attempts)


def digest_window(now: datetime, at: str) -> tuple[datetime, datetime]:
    """Return what the latest digest at or before ``now`` covers: (since, until)."""
    slot = daily_slot(now, at)
    return daily_slot(slot - timedelta(seconds=1), at), slot


def digest(attempts: int | None = SCHEDULED_ATTEMPTS) -> str | None:
    """Queue each case officer's daily digest of the flags and completions since the last slot."""
    from diversion.services import digests

    since, slot = digest_window(clock.now(), daily_at(current_app.config, "digest"))
    return run_once("digest", slot,
                    committed_under_guard(lambda: digests.queue_digests(since, slot)),
                    attempts=attempts)


def retention(attempts: int | None = SCHEDULED_ATTEMPTS) -> str | None:
    """Erase personal data past its retention date."""
    from diversion.services import retention as retention_service

    slot = daily_slot(clock.now(), daily_at(current_app.config, "retention"))
    return run_once("retention", slot,
                    committed_under_guard(lambda: retention_service.erase_expired().summary()),
                    attempts=attempts)


def catch_up() -> list[str]:
    """Run each daily job's latest slot now, in the order of their hours; return the jobs
    that failed (each failure is recorded in its run).

    After the training clock moved, the days it skipped would otherwise have their
    sweep, digest and retention only when the real clock next reaches each hour.
    """
    failed = []
    for name, job in sorted((("retention", retention), ("sweep", sweep), ("digest", digest)),
                            key=lambda pair: daily_at(current_app.config, pair[0])):
        try:
            job()
        except Exception:  # recorded as the run's outcome; the others still run
            log.exception("catch-up: %s failed", name)
            failed.append(name)
    return failed
