"""What the service itself did to a participant's chances, for the referral summary.

The rows are read here and judged by diversion.domain.referral; each item is given
as data and as a sentence (London time with the weekday). Also the small helpers the
summary writes every time and module with.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from diversion.domain.dates import format_london, format_weekday_date
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.progress import CLOSED_BY_DECISION
from diversion.domain.referral import (
    BookingRecord,
    Notice,
    cancelled_by_the_service,
    modules_in_words,
    moves,
    replacement,
    week_bounds,
    weeks_checked,
    weeks_without_a_place,
)
from diversion.domain.vocabulary import (
    LONDON,
    BookingStatus,
    MessageKind,
    MessageStatus,
    SessionStatus,
    in_words,
)
from diversion.extensions import db
from diversion.models import Booking, CourseSession, Enrolment, Extension, OutboxMessage
from diversion.services.facts import SESSION_FACT_COLUMNS, session_facts
from diversion.services.programmes import rules_for

PLACES_AS_RECORDED = (
    "A week counts when the participant had core modules still to attend and no session "
    "booked, and no session of a module they needed, at any venue, had a free place and "
    "passed every booking rule (order, spacing, deadline) given their bookings at the start "
    "of that week. Places are as recorded when this summary was produced, not as they stood "
    "that week."
)


def iso(value: date | datetime | None) -> str | None:
    """Write a date, or an instant at London's offset, as ISO 8601 for programs."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(LONDON).isoformat()
    return value.isoformat()


def when(value: datetime | None) -> str:
    """Write an instant for people: Tuesday 5 January 2027 at 6pm, London time."""
    return format_london(value) if value is not None else ""


def day(value: date | None) -> str:
    """Write a date for people, with its weekday."""
    return format_weekday_date(value) if value is not None else ""


def module_label(module: int) -> str:
    """Name a module as a heading does: Module 3, or Follow-up."""
    return "Follow-up" if module == FOLLOW_UP else f"Module {module}"


def module_key(module: int | None) -> int | str | None:
    """Give a module as the API does: its number, or "follow_up"."""
    return "follow_up" if module == FOLLOW_UP else module


def extension(x: Extension) -> dict:
    """Give an extension as data and as a sentence."""
    target = in_words(x.target).lower()
    return {
        "target": x.target, "target_text": in_words(x.target), "days": x.days,
        "reason": x.reason, "previous_date": iso(x.previous_date),
        "new_date": iso(x.new_date), "granted_at": iso(x.granted_at),
        "granted_at_text": when(x.granted_at),
        "text": (f"The {target} was extended by {x.days} day{'' if x.days == 1 else 's'}, "
                 f"from {day(x.previous_date)} to {day(x.new_date)}, on "
                 f"{when(x.granted_at)}: {x.reason}"),
    }


# ---- what the service did -------------------------------------------------------------

def _records(enrolment: Enrolment) -> list[BookingRecord]:
    return [
        BookingRecord(
            id=b.id, session_id=b.session_id, module=b.module,
            starts_at=b.session.starts_at, status=b.status, booked_at=b.created_at,
            cancelled_at=b.cancelled_at,
            # The session's own cancellation cancelled this booking, not an earlier one.
            session_cancelled=(b.session.status == SessionStatus.CANCELLED
                               and b.cancelled_at is not None
                               and b.cancelled_at >= b.session.updated_at),
            requested_by=b.cancel_requested_by)
        for b in enrolment.bookings
    ]


def asked_by(who: str | None) -> str:
    """Say who asked for a cancellation: a role chosen on the form, or the staff member."""
    if not who:
        return ""
    return f" by {who}" if "@" in who else f" (asked by the {who})"


def _closed_by_decision_at(enrolment: Enrolment) -> datetime | None:
    return enrolment.closed_at if enrolment.status in CLOSED_BY_DECISION else None


def service_record(enrolment: Enrolment, moved: dict[int, list[dict]], now: datetime) -> dict:
    """Gather what the service did: cancellations, moves, weeks without a place, excused
    absences and extensions, with a few sentences that sum them up."""
    records = _records(enrolment)
    by_id = {b.id: b for b in enrolment.bookings}
    closed_at = _closed_by_decision_at(enrolment)
    until = min(closed_at, now) if closed_at else now
    cancelled = [_cancellation(b, by_id, records)
                 for b in cancelled_by_the_service(records, closed_at)]
    moves_ = [m for b in enrolment.bookings for m in moved.get(b.id, [])]
    weeks = _weeks(enrolment, records, until)
    excused = [
        {"booking_id": b.id, "module": b.module, "starts_at": iso(b.session.starts_at),
         "reason": b.reason,
         "text": f"{module_label(b.module)} on {when(b.session.starts_at)}: absence excused"
                 + (f": {b.reason}" if b.reason else ".")}
        for b in enrolment.bookings if b.status == BookingStatus.ABSENT_EXCUSED
    ]
    extensions = [extension(x) for x in enrolment.extensions]
    return {
        "headline": _headline(cancelled, moves_, weeks, excused, extensions),
        "cancelled": cancelled,
        "moved": moves_,
        "weeks_without_a_place": weeks["items"],
        "weeks_checked": weeks["checked"],
        "weeks_method": PLACES_AS_RECORDED,
        "excused_absences": excused,
        "extensions": extensions,
    }


def _cancellation(record: BookingRecord, by_id: dict[int, Booking],
                  records: list[BookingRecord]) -> dict:
    booking = by_id[record.id]
    instead = replacement(record, records)
    what = ("the service cancelled the session" if record.session_cancelled
            else "the booking was cancelled" + asked_by(record.requested_by))
    reason = booking.session.cancel_reason if record.session_cancelled else booking.cancel_reason
    text = f"{module_label(record.module)} on {when(record.starts_at)}: {what}"
    text += f" on {when(record.cancelled_at)}" if record.cancelled_at else ""
    text += f" ({reason})." if reason else "."
    if instead is not None:
        text += (f" Booked again on {when(instead.booked_at)}, into the session on "
                 f"{when(instead.starts_at)}.")
    else:
        text += " Not rebooked."
    return {
        "booking_id": record.id, "module": record.module,
        "starts_at": iso(record.starts_at), "cancelled_at": iso(record.cancelled_at),
        "session_cancelled": record.session_cancelled, "reason": reason,
        "requested_by": record.requested_by,
        "rebooked_into": None if instead is None else {
            "booking_id": instead.id, "starts_at": iso(instead.starts_at),
            "booked_at": iso(instead.booked_at)},
        "text": text,
    }


def booking_moves(enrolment: Enrolment, messages: list[OutboxMessage]) -> dict[int, list[dict]]:
    """Read each booking's moves from the invitation and updates it was sent."""
    notices: dict[int, list[Notice]] = {}
    for m in messages:
        if m.booking_id is None or m.kind not in (MessageKind.INVITATION, MessageKind.UPDATE):
            continue
        starts_at = payload_instant(m.payload, "starts_at")
        if starts_at is None:
            continue
        notices.setdefault(m.booking_id, []).append(Notice(
            m.kind, m.created_at, starts_at, str(m.payload.get("location") or ""), m.id))
    by_id = {m.id: m for m in messages}
    modules = {b.id: b.module for b in enrolment.bookings}
    found: dict[int, list[dict]] = {}
    for booking_id, sent in notices.items():
        for move in moves(sent):
            change = (f"from {when(move.from_starts_at)} to {when(move.to_starts_at)}"
                      if move.from_starts_at != move.to_starts_at
                      else f"from {move.from_location} to {move.to_location}")
            told = _update_fate(by_id[move.update_id])
            found.setdefault(booking_id, []).append({
                "booking_id": booking_id, "module": modules.get(booking_id),
                "from": iso(move.from_starts_at), "to": iso(move.to_starts_at),
                "from_location": move.from_location, "to_location": move.to_location,
                "told_at": iso(move.told_at), "change": change, "told": told,
                "text": f"{module_label(modules[booking_id])} moved by the service {change}; "
                        f"{told}.",
            })
    return found


def _update_fate(update: OutboxMessage) -> str:
    """Say whether the update about a move reached the participant."""
    if update.status == MessageStatus.SENT:
        return f"an update was sent to the participant on {when(update.sent_at)}"
    if update.status == MessageStatus.FAILED:
        return (f"the update to the participant failed on {when(update.failed_at)}: never "
                "delivered")
    if update.status == MessageStatus.SUPERSEDED:
        return "the update to the participant was withdrawn before sending: never delivered"
    return "the update to the participant has not been sent yet"


def payload_instant(payload: dict | None, key: str) -> datetime | None:
    """Read an instant a message's payload froze, or None if it holds none."""
    try:
        value = datetime.fromisoformat(str((payload or {})[key]))
    except (KeyError, ValueError):
        return None
    return value if value.tzinfo is not None else None


def _weeks(enrolment: Enrolment, records: list[BookingRecord], until: datetime) -> dict:
    rules = rules_for(enrolment.programme)
    checked = weeks_checked(rules, start_date=enrolment.start_date,
                            core_deadline=enrolment.core_deadline, until=until)
    if not checked:
        return {"items": [], "checked": {"count": 0, "from": None, "to": None}}
    bounds = [week_bounds(rules, week, enrolment.core_deadline) for week in checked]

    def judge(sessions: sa.Select) -> list:
        return weeks_without_a_place(
            rules, start_date=enrolment.start_date, core_deadline=enrolment.core_deadline,
            bookings=records, sessions=[session_facts(r) for r in db.session.execute(sessions)],
            until=until)

    # A week with a place is settled by one session that passes, and nationally
    # thousands of sessions fall in a participant's weeks. So the rules first see the
    # earliest few sessions with a free place of each module each week; only a week
    # none of those settles is judged again on every one of its sessions, which is
    # what the summary reports for it.
    maybe = {w.week_start for w in judge(_earliest_free(enrolment.programme_id, bounds))}
    unsettled = [b for w, b in zip(checked, bounds, strict=True) if w in maybe]
    found = [w for w in judge(_sessions_in(enrolment.programme_id, unsettled))
             if w.week_start in maybe] if maybe else []
    return {
        "items": [{"week_start": iso(w.week_start), "week_start_text": day(w.week_start),
                   "modules": list(w.modules), "refusals": list(w.refusals),
                   "by_module": [{"module": m, "refusals": list(codes)}
                                 for m, codes in w.by_module],
                   "needed": modules_in_words(w.modules), "why": w.why(),
                   "text": f"Week beginning {day(w.week_start)}: {w.in_words()}"}
                  for w in found],
        "checked": {"count": len(checked), "from": iso(checked[0]),
                    "to": iso(checked[-1])},
    }


EARLIEST_FREE = 3


def _earliest_free(programme_id: int, bounds: list[tuple[datetime, datetime]]) -> sa.Select:
    """The first few sessions with a free place of each core module in each week."""
    s = CourseSession
    week = sa.case(*((s.starts_at < ends, n) for n, (_, ends) in enumerate(bounds)))
    ranked = (
        sa.select(*SESSION_FACT_COLUMNS, sa.func.row_number().over(
            partition_by=(s.module, week), order_by=(s.starts_at, s.id)).label("nth"))
        .where(s.programme_id == programme_id, s.module != FOLLOW_UP,
               s.status == SessionStatus.SCHEDULED, s.booked < s.capacity,
               s.starts_at > bounds[0][0], s.starts_at < bounds[-1][1])
        .subquery())
    return sa.select(*(ranked.c[c.key] for c in SESSION_FACT_COLUMNS)).where(
        ranked.c.nth <= EARLIEST_FREE)


def _sessions_in(programme_id: int, bounds: list[tuple[datetime, datetime]]) -> sa.Select:
    """Every core session in the given weeks, whatever its places."""
    s = CourseSession
    return sa.select(*SESSION_FACT_COLUMNS).where(
        s.programme_id == programme_id, s.module != FOLLOW_UP,
        sa.or_(*(sa.and_(s.starts_at > opens, s.starts_at < ends) for opens, ends in bounds)))


def _headline(cancelled, moved, weeks, excused, extensions) -> list[str]:
    """Say in a few sentences what the service did to the participant's chances."""
    lines = []
    n_sessions = sum(1 for c in cancelled if c["session_cancelled"])
    n_bookings = len(cancelled) - n_sessions
    if cancelled or moved:
        parts = []
        if n_sessions:
            parts.append(f"cancelled {_count(n_sessions, 'session')} the participant was "
                         "booked into")
        if n_bookings:
            parts.append(f"cancelled {_count(n_bookings, 'booking')} the participant did not "
                         "ask to cancel")
        if moved:
            parts.append(f"moved {_count(len(moved), 'booked session')}")
        lines.append("The service " + " and ".join(parts) + ".")
    else:
        lines.append("The service cancelled or moved none of the participant's sessions.")
    checked = weeks["checked"]["count"]
    gaps = len(weeks["items"])
    if gaps:
        lines.append(f"In {_number(gaps)} of the {_count(checked, 'week')} checked, no "
                     "session with a free place fitted the participant's rules.")
    elif checked:
        lines.append(f"In each of the {_count(checked, 'week')} checked, the participant had "
                     "a session booked or a session with a free place fitted their rules.")
    lines.append(f"{_count(len(excused), 'absence').capitalize()} excused."
                 if excused else "No absence was excused.")
    lines.append(f"{_count(len(extensions), 'extension').capitalize()} granted."
                 if extensions else "No deadline was extended.")
    return lines


def _number(n: int) -> str:
    # GOV.UK style: numbers below ten in words.
    words = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    return words[n] if 0 <= n < len(words) else str(n)


def _count(n: int, noun: str) -> str:
    return f"{_number(n)} {noun if n == 1 else noun + 's'}"
