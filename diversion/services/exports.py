"""CSV exports of the lists staff see: the same filters, every matching row, recorded as a read.

A cell that a spreadsheet would run as a formula (starting = + - @, tab or carriage
return) is written with a leading single quote, so an exported name or reference
can never become a formula on the reader's computer (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.vocabulary import (
    LONDON,
    BookingStatus,
    EnrolmentStatus,
    FlagStatus,
    Role,
    values,
)
from diversion.extensions import db
from diversion.models import Booking, CourseSession, Enrolment
from diversion.services import Actor, audit
from diversion.services.enrolments import (
    FLAG_FILTERS,
    enrolment_filter,
    participant_reference,
)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000


def safe_cell(value: object) -> str:
    """Return a cell's text, with a leading ' if a spreadsheet would run it as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@dataclass(frozen=True)
class Export:
    """A table to download: its file name, column names and rows."""

    filename: str
    header: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)

    def as_csv(self) -> str:
        """Write the table as CSV (with a byte-order mark, so spreadsheets read UTF-8)."""
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([safe_cell(name) for name in self.header])
        writer.writerows([safe_cell(value) for value in row] for row in self.rows)
        return buffer.getvalue()


def _words(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _module(number: int) -> str:
    return "Follow-up" if number == FOLLOW_UP else f"Module {number}"


def _attended(enrolment: Enrolment) -> int:
    return sum(1 for b in enrolment.bookings if b.status == BookingStatus.ATTENDED
               and b.module != FOLLOW_UP)


def _in_batches(query: sa.Select) -> Iterator[Enrolment]:
    """Walk an enrolment query by id, a batch at a time (keyset), so no query grows unbounded."""
    after = 0
    while True:
        batch = list(db.session.scalars(
            query.where(Enrolment.id > after).order_by(Enrolment.id).limit(BATCH)).unique())
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].id


def enrolments(
    actor: Actor, *, status: str | None = None, flag: str | None = None, search: str = ""
) -> Export:
    """Export the force's enrolments with the enrolment list's filters; record the read."""
    actor.require(Role.CASE_OFFICER)
    query = enrolment_filter(actor, status=status if status in values(EnrolmentStatus) else None,
                             flag=flag if flag in FLAG_FILTERS else None,
                             search=search).options(
        so.contains_eager(Enrolment.case), so.joinedload(Enrolment.programme),
        so.selectinload(Enrolment.bookings), so.selectinload(Enrolment.flags))
    rows, read = [], []
    for e in _in_batches(query):
        read.append((e.id, e.case_id))
        rows.append((
            e.case.reference, e.case.participant_name, _words(e.status),
            "; ".join(_words(f.kind) for f in e.flags if f.status == FlagStatus.OPEN),
            e.programme.name, e.start_date, e.core_deadline, _attended(e), e.follow_up_due,
        ))
    with transaction():
        audit.record(actor, "read", "enrolment_list", None, detail={
            "export": "csv", "status": status, "flag": flag, "search": search,
            "ids": [enrolment_id for enrolment_id, _ in read]})
        audit.record_reads(actor, "enrolment", read, "export")
    return Export(
        filename=f"enrolments-{clock.today().isoformat()}.csv",
        header=("Case reference", "Participant", "Status", "Open flags", "Programme",
                "Start date", "Core deadline", "Modules attended", "Follow-up due"),
        rows=rows,
    )


def participants(actor: Actor, *, name: str = "", status: str | None = None,
                 flag: str | None = None) -> Export:
    """Export participants for a coordinator (no case reference or screening); record the read.

    The list's filters apply: the name or participant reference searched, the status and
    what needs attention.
    """
    actor.require(Role.COORDINATOR)
    term = name.strip().lower()
    query = enrolment_filter(actor, search=term,
                             status=status if status in values(EnrolmentStatus) else None,
                             flag=flag if flag in FLAG_FILTERS else None).options(
        so.contains_eager(Enrolment.case), so.joinedload(Enrolment.programme),
        so.selectinload(Enrolment.bookings).joinedload(Booking.session))
    now = clock.now()
    rows, read = [], []
    for e in _in_batches(query):
        read.append((e.id, e.case_id))
        upcoming = sorted((b.session.starts_at, b.module) for b in e.bookings
                          if b.status == BookingStatus.BOOKED and b.session.starts_at > now)
        next_session = upcoming[0] if upcoming else None
        rows.append((
            e.case.participant_name, participant_reference(e.id),
            e.programme.name, _words(e.status), e.start_date, e.core_deadline, _attended(e),
            _module(next_session[1]) if next_session else "",
            next_session[0] if next_session else None,
        ))
    with transaction():
        audit.record(actor, "read", "enrolment_list", None, detail={
            "export": "csv", "search": "name" if term else None, "status": status,
            "flag": flag, "ids": [enrolment_id for enrolment_id, _ in read]})
        audit.record_reads(actor, "enrolment", read, "export")
    return Export(
        filename=f"participants-{clock.today().isoformat()}.csv",
        header=("Participant", "Reference", "Programme", "Status", "Start date", "Core deadline",
                "Modules attended", "Next module booked", "Next session"),
        rows=rows,
    )


def sessions(
    actor: Actor, *, start: datetime, end: datetime, first_day: date, last_day: date,
    module: int | None = None, venue_id: int | None = None,
) -> Export:
    """Export the sessions starting in [start, end) with the calendar's filters; record it."""
    actor.require(Role.COORDINATOR)
    query = (
        sa.select(CourseSession)
        .where(CourseSession.starts_at >= start, CourseSession.starts_at < end)
        .options(so.joinedload(CourseSession.venue), so.joinedload(CourseSession.programme))
        .order_by(CourseSession.starts_at, CourseSession.id)
    )
    if module is not None:
        query = query.where(CourseSession.module == module)
    if venue_id is not None:
        query = query.where(CourseSession.venue_id == venue_id)
    found = list(db.session.scalars(query))
    rows = [_session_row(s) for s in found]
    with transaction():
        audit.record(actor, "read", "session_list", None, detail={
            "export": "csv", "from": first_day.isoformat(), "to": last_day.isoformat(),
            "module": module, "venue": venue_id, "ids": [s.id for s in found]})
    return Export(
        filename=f"sessions-{first_day.isoformat()}-to-{last_day.isoformat()}.csv",
        header=("Date", "Start", "End", "Module", "Programme", "Venue", "Room", "Facilitator",
                "Capacity", "Booked", "Places left", "Status"),
        rows=rows,
    )


def _session_row(s: CourseSession) -> tuple:
    starts = s.starts_at.astimezone(LONDON)
    ends = s.ends_at.astimezone(LONDON)
    return (starts.date(), f"{starts:%H:%M}", f"{ends:%H:%M}", _module(s.module),
            s.programme.name, s.venue.name, s.room, s.facilitator, s.capacity, s.booked,
            max(s.capacity - s.booked, 0), _words(s.status))
