"""What a case officer watches: counts by status, completion over time, the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.dates import format_date, format_time
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.vocabulary import (
    LONDON,
    Channel,
    EnrolmentStatus,
    ExtensionTarget,
    MessageStatus,
    Role,
    in_words,
    text_delivery_in_words,
    values,
)
from diversion.extensions import db
from diversion.models import AttendanceRecord, Enrolment, OutboxMessage
from diversion.services import Actor, audit, notices
from diversion.services.enrolments import enrolment_filter, get_enrolment


def status_counts(actor: Actor) -> dict[str, int]:
    """Count the force's enrolments by status (one grouped query)."""
    actor.require(Role.CASE_OFFICER)
    rows = db.session.execute(
        sa.select(Enrolment.status, sa.func.count())
        .where(Enrolment.force_id == actor.force_id)
        .group_by(Enrolment.status)
    )
    counts = dict.fromkeys(values(EnrolmentStatus), 0)
    counts.update({status: count for status, count in rows})
    return counts


def closures_by_month(actor: Actor, months: int = 12) -> list[dict]:
    """Completions and referrals per month for the last ``months`` months."""
    actor.require(Role.CASE_OFFICER)
    today = clock.today()
    first = date(today.year, today.month, 1)
    starts = []
    for _ in range(months):
        starts.append(first)
        first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    starts.reverse()
    since = datetime.combine(starts[0], datetime.min.time(), tzinfo=LONDON)
    rows = db.session.execute(
        sa.select(Enrolment.status, Enrolment.closed_at)
        .where(Enrolment.force_id == actor.force_id,
               Enrolment.status.in_((EnrolmentStatus.COMPLETED, EnrolmentStatus.REFERRED)),
               Enrolment.closed_at >= since)
    )
    buckets: dict[date, dict] = {
        s: {"month": s, EnrolmentStatus.COMPLETED: 0, EnrolmentStatus.REFERRED: 0}
        for s in starts}
    for status, closed_at in rows:
        if closed_at is None:
            continue
        local = closed_at.astimezone(LONDON).date()
        key = date(local.year, local.month, 1)
        if key in buckets:
            buckets[key][status] += 1
    return [buckets[s] for s in starts]


def completed_since(actor: Actor, since: datetime, limit: int = 50) -> list[Enrolment]:
    """List the force's enrolments completed since a time, latest first (an audited read)."""
    actor.require(Role.CASE_OFFICER)
    query = (
        enrolment_filter(actor, status=EnrolmentStatus.COMPLETED)
        .where(Enrolment.closed_at >= since)
        .options(so.contains_eager(Enrolment.case))
        .order_by(Enrolment.closed_at.desc(), Enrolment.id.desc())
        .limit(limit)
    )
    rows = list(db.session.scalars(query))
    with transaction():
        audit.record(actor, "read", "enrolment_list", None,
                     detail={"status": EnrolmentStatus.COMPLETED, "since": since.isoformat(),
                             "ids": [e.id for e in rows]})
    return rows


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    text: str


def timeline(actor: Actor, enrolment_id: int) -> tuple[Enrolment, list[Event]]:
    """Everything that happened to an enrolment, oldest first (an audited read)."""
    enrolment = get_enrolment(actor, enrolment_id)
    events = [Event(enrolment.created_at, "enrolled",
                    f"Enrolled from {format_date(enrolment.start_date)}; core deadline "
                    f"{format_date(enrolment.original_core_deadline)}")]
    bookings = {b.id: b for b in enrolment.bookings}
    for b in enrolment.bookings:
        name = "Follow-up" if b.module == FOLLOW_UP else f"Module {b.module}"
        local = b.session.starts_at.astimezone(LONDON)
        events.append(Event(b.created_at, "booked",
                            f"{name} booked for {format_date(local.date())} at "
                            f"{format_time(local)} ({b.session.venue.name})"))
        if b.cancelled_at:
            events.append(Event(b.cancelled_at, "cancelled",
                                f"{name} booking cancelled: {b.cancel_reason or 'no reason'}"
                                + (f" (asked by {b.cancel_requested_by})"
                                   if b.cancel_requested_by else "")))
    if bookings:
        for record in db.session.scalars(
            sa.select(AttendanceRecord).where(AttendanceRecord.booking_id.in_(list(bookings)))
        ):
            b = bookings[record.booking_id]
            name = "Follow-up" if b.module == FOLLOW_UP else f"Module {b.module}"
            outcome = in_words(record.outcome).lower()
            events.append(Event(record.recorded_at, "attendance",
                                f"{name}: {outcome}"
                                + (f" — {record.reason}" if record.reason else "")))
    for message in db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.enrolment_id == enrolment.id,
                                       OutboxMessage.status == MessageStatus.SENT)
    ):
        said = f"{in_words(message.kind)} sent to {message.recipient}"
        if message.channel == Channel.SMS:
            said += (" by text message: "
                     + text_delivery_in_words(message.delivery_status))
        events.append(Event(message.sent_at or message.created_at, "message", said))
    for handover in notices.handovers_of(enrolment.id):
        events.append(Event(handover.recorded_at, "warning_letter",
                            f"Warning letter handed over in person on "
                            f"{format_date(handover.handed_over_on)} by "
                            f"{handover.handed_over_by}"))
    for flag in enrolment.flags:
        events.append(Event(flag.raised_at, "flag", f"Flag raised: {flag.detail}"))
    for decision in enrolment.decisions:
        events.append(Event(decision.decided_at, "decision",
                            f"Decision: {decision.decision} by {decision.decided_by.email} — "
                            f"{decision.reason}"))
    for extension in enrolment.extensions:
        target = ("Core deadline" if extension.target == ExtensionTarget.CORE_DEADLINE
                  else "Follow-up window")
        events.append(Event(extension.granted_at, "extension",
                            f"{target} extended by {extension.days} days to "
                            f"{format_date(extension.new_date)}"))
    if enrolment.status == EnrolmentStatus.COMPLETED and enrolment.closed_at is not None:
        events.append(Event(enrolment.closed_at, "completed",
                            "Completed: every module and the follow-up attended"))
    events.sort(key=lambda e: e.at)
    return enrolment, events
