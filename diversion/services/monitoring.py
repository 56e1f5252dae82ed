"""What an operator watches, read from the database when Prometheus asks.

Each reading is one statement that an index answers, so a scrape stays cheap at
national volume: the pending and failed outbox rows (never the sent ones), the
latest successful run of each job, and the flags by kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from diversion import clock
from diversion.domain.vocabulary import Channel, JobOutcome, MessageStatus
from diversion.extensions import db
from diversion.models import Flag, JobRun, OutboxMessage


@dataclass(frozen=True)
class OutboxReading:
    """One channel's outbox: messages due and not yet sent, and those given up on."""

    due: int = 0
    oldest_due_at: datetime | None = None
    failed: int = 0


@dataclass(frozen=True)
class JobReading:
    """A job's latest successful run."""

    finished_at: datetime
    seconds: float


@dataclass
class Readings:
    now: datetime
    outbox: dict[str, OutboxReading] = field(default_factory=dict)
    jobs: dict[str, JobReading] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)




def readings(jobs: Iterable[str]) -> Readings:
    """Read the outbox, the jobs' latest successes and the flags, as of the clock."""
    now = clock.now()
    result = Readings(now=now)
    result.outbox = _outbox(now)
    result.jobs = _jobs(list(jobs))
    result.flags = {kind: count for kind, count in db.session.execute(
        sa.select(Flag.kind, sa.func.count()).group_by(Flag.kind))}
    return result


def _outbox(now: datetime) -> dict[str, OutboxReading]:
    channel = OutboxMessage.channel.label("channel")
    pending = OutboxMessage.status == MessageStatus.PENDING
    rows = db.session.execute(
        sa.select(channel, OutboxMessage.status, sa.func.count(),
                  sa.func.min(OutboxMessage.due_at))
        .where(OutboxMessage.status.in_([MessageStatus.PENDING, MessageStatus.FAILED]),
               sa.or_(~pending, OutboxMessage.due_at <= now))
        .group_by(channel, OutboxMessage.status)
    ).all()
    # Every channel is reported, an idle one as zero, so a dashboard never loses a line.
    found: dict[str, dict] = {channel.value: {} for channel in Channel}
    for name, status, count, oldest in rows:
        entry = found.setdefault(name, {})
        if status == MessageStatus.PENDING:
            entry.update(due=count, oldest_due_at=oldest)
        else:
            entry["failed"] = count
    return {name: OutboxReading(**entry) for name, entry in found.items()}


def _jobs(jobs: list[str]) -> dict[str, JobReading]:
    if not jobs:
        return {}
    # Each job's newest slot first, down the unique (job, scheduled_for) index.
    latest = [
        sa.select(JobRun.job, JobRun.started_at, JobRun.finished_at)
        .where(JobRun.job == job, JobRun.outcome == JobOutcome.SUCCEEDED)
        .order_by(JobRun.scheduled_for.desc()).limit(1).subquery().select()
        for job in jobs
    ]
    rows = db.session.execute(sa.union_all(*latest)).all()
    return {job: JobReading(finished_at=finished,
                            seconds=max((finished - started).total_seconds(), 0.0))
            for job, started, finished in rows if finished is not None}
