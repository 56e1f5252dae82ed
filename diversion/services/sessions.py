"""Publishing, listing, moving and cancelling sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.dates import format_date
from diversion.domain.errors import RuleViolation
from diversion.domain.holidays import is_public_holiday, series_dates
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.vocabulary import (
    HOLDS_MODULE,
    BookingStatus,
    MessageKind,
    Role,
    SessionStatus,
)
from diversion.extensions import db
from diversion.models import Booking, CourseSession, Enrolment, Programme
from diversion.services import Actor, InvalidInput, NotFound, audit, outbox, progress
from diversion.services.programmes import get_programme
from diversion.services.venues import get_venue

MAX_CAPACITY = 500



def in_programme_time(programme: Programme, value: datetime) -> datetime:
    """Read a date-time without an offset as the programme's local wall-clock time."""
    zone = ZoneInfo(programme.timezone)
    if value.tzinfo is None or value.utcoffset() is None:
        # Round-trip through UTC so a time in the spring-forward gap becomes real.
        return value.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")).astimezone(zone)
    return value


def _check_module(programme: Programme, module: int) -> None:
    if module != FOLLOW_UP and not 1 <= module <= programme.core_modules:
        raise InvalidInput(
            f"Module must be 1 to {programme.core_modules} or follow_up", field="module"
        )


def _check_capacity(capacity: int) -> None:
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(f"Capacity must be between 1 and {MAX_CAPACITY}", field="capacity")


def _check_slot(programme: Programme, starts_at: datetime, field: str = "starts_at") -> None:
    if starts_at <= clock.now():
        raise RuleViolation("session_in_past", "A session cannot start in the past.", field)
    local_day = starts_at.astimezone(ZoneInfo(programme.timezone)).date()
    if is_public_holiday(local_day, programme.holiday_region):
        raise RuleViolation(
            "public_holiday",
            f"{format_date(local_day)} is a public holiday; choose another day.",
            field,
        )


def _new_session(programme, module, starts_at, venue, capacity, facilitator, room) -> CourseSession:
    now = clock.now()
    return CourseSession(
        programme_id=programme.id,
        module=module,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=programme.session_minutes),
        venue_id=venue.id,
        room=(room or "").strip(),
        capacity=capacity,
        booked=0,
        facilitator=(facilitator or "").strip(),
        status=SessionStatus.SCHEDULED,
        created_at=now,
        updated_at=now,
    )


def publish_session(
    actor: Actor,
    *,
    programme_id: int,
    module: int,
    starts_at: datetime,
    venue_id: int,
    capacity: int,
    facilitator: str | None = None,
    room: str | None = None,
) -> CourseSession:
    """Publish one session; never in the past or on a public holiday."""
    actor.require(Role.COORDINATOR)
    with transaction():
        programme = get_programme(programme_id)
        venue = get_venue(venue_id)
        _check_module(programme, module)
        _check_capacity(capacity)
        starts_at = in_programme_time(programme, starts_at)
        _check_slot(programme, starts_at)
        session = _new_session(programme, module, starts_at, venue, capacity, facilitator, room)
        db.session.add(session)
        db.session.flush()
        audit.record(actor, "create", "session", session.id)
    return session


def publish_series(
    actor: Actor,
    *,
    programme_id: int,
    module: int,
    first_starts_at: datetime,
    count: int,
    interval_days: int,
    venue_id: int,
    capacity: int,
    facilitator: str | None = None,
    room: str | None = None,
) -> tuple[list[CourseSession], list[dict]]:
    """Publish a series at one local wall-clock time; holidays move to the next day."""
    actor.require(Role.COORDINATOR)
    with transaction():
        programme = get_programme(programme_id)
        venue = get_venue(venue_id)
        _check_module(programme, module)
        _check_capacity(capacity)
        if not 1 <= count <= 200:
            raise InvalidInput("Count must be between 1 and 200", field="count")
        if not 1 <= interval_days <= 365:
            raise InvalidInput("Interval must be between 1 and 365 days", field="interval_days")
        first = in_programme_time(programme, first_starts_at)
        if first <= clock.now():
            raise RuleViolation("session_in_past", "A series cannot start in the past.",
                                "first_starts_at")
        dates = series_dates(first, count, interval_days, programme.holiday_region,
                             programme.timezone)
        sessions, moved = [], []
        for item in dates:
            session = _new_session(programme, module, item.starts_at, venue, capacity,
                                   facilitator, room)
            db.session.add(session)
            sessions.append(session)
        db.session.flush()
        for item, session in zip(dates, sessions, strict=True):
            if item.moved_from is not None:
                moved.append({
                    "session_id": session.id,
                    "from": item.moved_from,
                    "to": item.starts_at.date(),
                    "starts_at": session.starts_at,
                })
        audit.record(actor, "create", "session_series", sessions[0].id,
                     detail={"ids": [s.id for s in sessions]})
    return sessions, moved


def list_sessions(
    *,
    programme_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    module: int | None = None,
    venue_id: int | None = None,
    include_cancelled: bool = True,
    after_id: int | None = None,
    limit: int = 100,
) -> list[CourseSession]:
    """List sessions by start time (keyset on id within the filter)."""
    query = sa.select(CourseSession).options(so.joinedload(CourseSession.venue))
    if programme_id is not None:
        query = query.where(CourseSession.programme_id == programme_id)
    if start is not None:
        query = query.where(CourseSession.starts_at >= start)
    if end is not None:
        query = query.where(CourseSession.starts_at < end)
    if module is not None:
        query = query.where(CourseSession.module == module)
    if venue_id is not None:
        query = query.where(CourseSession.venue_id == venue_id)
    if not include_cancelled:
        query = query.where(CourseSession.status == SessionStatus.SCHEDULED)
    if after_id is not None:
        anchor = db.session.get(CourseSession, after_id)
        if anchor is not None:
            query = query.where(
                sa.or_(
                    CourseSession.starts_at > anchor.starts_at,
                    sa.and_(CourseSession.starts_at == anchor.starts_at,
                        CourseSession.id > anchor.id),
                )
            )
    query = query.order_by(CourseSession.starts_at, CourseSession.id).limit(limit)
    return list(db.session.scalars(query))


def bookable_sessions(enrolment: Enrolment, modules: list[int],
                      limit: int = 40) -> list[CourseSession]:
    """Return the upcoming sessions of these modules that still have a place."""
    if not modules:
        return []
    return list(db.session.scalars(
        sa.select(CourseSession)
        .where(CourseSession.programme_id == enrolment.programme_id,
               CourseSession.module.in_(modules),
               CourseSession.status == SessionStatus.SCHEDULED,
               CourseSession.starts_at > clock.now(),
               CourseSession.booked < CourseSession.capacity)
        .options(so.joinedload(CourseSession.venue))
        .order_by(CourseSession.starts_at, CourseSession.id)
        .limit(limit)
    ))


def get_session(session_id: int) -> CourseSession:
    session = db.session.get(CourseSession, session_id)
    if session is None:
        raise NotFound("session")
    return session


def lock_session(session_id: int) -> CourseSession:
    """Load a session row locked for this transaction (FOR UPDATE on PostgreSQL)."""
    session = db.session.scalar(
        sa.select(CourseSession).where(CourseSession.id == session_id)
        .options(so.joinedload(CourseSession.venue, innerjoin=True),
                 so.joinedload(CourseSession.programme, innerjoin=True))
        .with_for_update(of=CourseSession)
        .execution_options(populate_existing=True)
    )
    if session is None:
        raise NotFound("session")
    return session


def register(actor: Actor, session_id: int) -> list[Booking]:
    """Return the session's bookings (not cancelled) with their participants; audited."""
    actor.require(Role.COORDINATOR)
    rows = list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.session_id == session_id, Booking.status != BookingStatus.CANCELLED)
            .options(so.joinedload(Booking.enrolment).joinedload(Enrolment.case))
            .order_by(Booking.id)
        )
    )
    # The register names the participants: reading it is a read of their enrolments.
    with transaction():
        audit.record(actor, "read", "session_register", session_id, detail={
            "enrolment_ids": sorted({b.enrolment_id for b in rows})})
    return rows


def move_session(
    actor: Actor,
    session_id: int,
    *,
    starts_at: datetime | None = None,
    venue_id: int | None = None,
    capacity: int | None = None,
    room: str | None = None,
    facilitator: str | None = None,
) -> CourseSession:
    """Change a session's time, venue or capacity; every booked participant is told."""
    actor.require(Role.COORDINATOR)
    with transaction():
        session = lock_session(session_id)
        if session.status == SessionStatus.CANCELLED:
            raise RuleViolation("session_cancelled", "This session has been cancelled.")
        if session.starts_at <= clock.now():
            raise RuleViolation("session_in_past", "A session that has started cannot be moved.")
        programme = session.programme
        changed_time_or_place = False
        if capacity is not None:
            _check_capacity(capacity)
            if capacity < session.booked:
                raise InvalidInput(
                    f"{session.booked} people are booked; capacity cannot go below that",
                    field="capacity", code="capacity_below_booked", status=409,
                )
            session.capacity = capacity
        if venue_id is not None and venue_id != session.venue_id:
            session.venue_id = get_venue(venue_id).id
            changed_time_or_place = True
        if room is not None and room.strip() != session.room:
            session.room = room.strip()
            changed_time_or_place = True
        if facilitator is not None:
            session.facilitator = facilitator.strip()
        if starts_at is not None:
            starts_at = in_programme_time(programme, starts_at)
            if starts_at != session.starts_at:
                _check_slot(programme, starts_at)
                session.starts_at = starts_at
                session.ends_at = starts_at + timedelta(minutes=programme.session_minutes)
                changed_time_or_place = True
        session.updated_at = clock.now()
        db.session.flush()
        db.session.refresh(session, ["venue"])
        if changed_time_or_place:
            for booking in _booked(session.id):
                booking.sequence += 1
                booking.updated_at = clock.now()
                db.session.flush()
                outbox.queue(booking, MessageKind.UPDATE)
                outbox.schedule_reminder(booking, programme.reminder_hours)
        audit.record(actor, "update", "session", session.id,
                     detail={"moved": changed_time_or_place, "capacity": session.capacity})
        progress.reassess(*(b.enrolment for b in _booked(session.id)))
    return session


def _booked(session_id: int) -> list[Booking]:
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.session_id == session_id, Booking.status == BookingStatus.BOOKED)
            .options(so.joinedload(Booking.enrolment).joinedload(Enrolment.case))
            .order_by(Booking.id)
        )
    )


def local_date(session: CourseSession) -> date:
    return session.starts_at.astimezone(ZoneInfo(session.programme.timezone)).date()


@dataclass(frozen=True)
class Affected:
    """A participant whose booking went with a cancelled session, and where they are now."""

    booking: Booking
    now_booked: Booking | None


def affected_by_cancellation(session: CourseSession) -> list[Affected]:
    """List the bookings a cancelled session took away, each with its current replacement."""
    cancelled = list(db.session.scalars(
        sa.select(Booking)
        .where(Booking.session_id == session.id, Booking.status == BookingStatus.CANCELLED)
        .options(so.joinedload(Booking.enrolment).joinedload(Enrolment.case))
        .order_by(Booking.id)
    ))
    if not cancelled:
        return []
    replacements = db.session.scalars(
        sa.select(Booking)
        .where(Booking.enrolment_id.in_([b.enrolment_id for b in cancelled]),
               Booking.module == session.module,
               Booking.session_id != session.id,
               Booking.status.in_(HOLDS_MODULE))
        .options(so.joinedload(Booking.session).joinedload(CourseSession.venue))
    )
    by_enrolment = {b.enrolment_id: b for b in replacements}
    return [Affected(b, by_enrolment.get(b.enrolment_id)) for b in cancelled]
