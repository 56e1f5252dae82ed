"""The capacity forecast: the places each module needs week by week, against those published.

Read set-wise, in a fixed number of statements whatever the number of enrolments: the
enrolments in progress with the modules they hold (one grouped statement), the dates
of their recent and future core bookings (one), and the programmes' sessions around
the weeks forecast (one). The projection itself is ``diversion.domain.forecast``. It
shows counts only, no one's details, so reading it is not an audited read.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from diversion import clock
from diversion.domain import forecast as projection
from diversion.domain.forecast import (
    MAX_WEEKS,
    WEEK,
    EnrolmentOutlook,
    Forecast,
    Horizon,
    PublishedSession,
)
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules
from diversion.domain.vocabulary import (
    HOLDS_MODULE,
    LONDON,
    OPEN_ENROLMENT,
    Role,
    SessionStatus,
)
from diversion.extensions import db
from diversion.models import Booking, CourseSession, Enrolment, Programme
from diversion.services import Actor, InvalidInput
from diversion.services.programmes import get_programme, list_programmes, rules_for

# How far back the usual capacity, day, time and venue of a module's sessions is learnt.
WEEKS_LEARNT_FROM = 8


@dataclass(frozen=True)
class ProgrammeForecast:
    programme: Programme
    forecast: Forecast


@dataclass(frozen=True)
class ForecastReport:
    """The forecast of each programme asked for, as of one day."""

    as_of: date
    weeks: int
    programmes: list[ProgrammeForecast]


def forecast(actor: Actor, *, weeks: int, programme_id: int | None = None) -> ForecastReport:
    """Forecast the places each module needs in the next weeks and the sessions to publish."""
    actor.require(Role.COORDINATOR)
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput(f"Weeks must be between 1 and {MAX_WEEKS}", field="weeks")
    programmes = ([get_programme(programme_id)] if programme_id is not None
                  else list_programmes())
    now, today = clock.now(), clock.today()
    rules = {p.id: rules_for(p) for p in programmes}
    horizon = Horizon(today, weeks)
    outlooks = _outlooks(rules, today)
    sessions = _sessions(list(rules), since=_midnight(horizon.first - WEEK * WEEKS_LEARNT_FROM),
                         until=_midnight(horizon.end))
    return ForecastReport(today, weeks, [
        ProgrammeForecast(p, projection.forecast(rules[p.id], outlooks[p.id], sessions[p.id],
                                                 now, weeks))
        for p in programmes
    ])


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON)


def _held_bit() -> sa.ColumnElement[int]:
    # One bit per module (the follow-up is bit 0): summed over distinct values, the
    # modules an enrolment holds come back as one number per enrolment.
    return sa.literal_column("1", sa.Integer).op("<<", return_type=sa.Integer)(Booking.module)


def _outlooks(rules: dict[int, ProgrammeRules],
              today: date) -> defaultdict[int, list[EnrolmentOutlook]]:
    """Read every enrolment in progress of these programmes as the forecast reads it."""
    held = sa.func.coalesce(sa.func.sum(sa.distinct(_held_bit())), 0)
    columns = (Enrolment.id, Enrolment.programme_id, Enrolment.status, Enrolment.start_date,
               Enrolment.core_deadline, Enrolment.follow_up_opens, Enrolment.follow_up_closes)
    rows = db.session.execute(
        sa.select(*columns, held)
        .select_from(Enrolment)
        .outerjoin(Booking, sa.and_(Booking.enrolment_id == Enrolment.id,
                                    Booking.status.in_(HOLDS_MODULE)))
        .where(Enrolment.status.in_(OPEN_ENROLMENT), Enrolment.programme_id.in_(list(rules)))
        .group_by(*columns)
    ).all()
    dated = _recent_core_bookings(rules, today)
    # Many enrolments look alike (same start, nothing booked yet): each look is projected
    # once, for as many enrolments as share it.
    alike: Counter[tuple] = Counter()
    for (enrolment_id, programme_id, status, start, deadline, opens, closes, held_sum) in rows:
        held_on = tuple(sorted(dated[enrolment_id])) if enrolment_id in dated else ()
        alike[(programme_id, status, start, deadline, opens, closes, int(held_sum),
               held_on)] += 1
    outlooks: defaultdict[int, list[EnrolmentOutlook]] = defaultdict(list)
    for (programme_id, status, start, deadline, opens, closes, mask, held_on), count in (
            alike.items()):
        outlooks[programme_id].append(EnrolmentOutlook(
            status=status,
            start_date=start,
            core_deadline=deadline,
            follow_up_window=(opens, closes) if opens is not None else None,
            held=frozenset(m for m in range(mask.bit_length()) if mask >> m & 1),
            held_on=held_on,
            count=count,
        ))
    return outlooks


def _recent_core_bookings(rules: dict[int, ProgrammeRules],
                          today: date) -> dict[int, list[tuple[int, date]]]:
    """Return the local day of each held core booking that can still constrain the forecast.

    A booking further back than the spacing before today is clear of every day the
    forecast places, so only those since then are read (the domain takes any other held
    module as earlier than that). Read by session, not by enrolment: the few recent ones
    of enrolments no longer open are simply not asked for.
    """
    if not rules:
        return {}
    spacing = max(r.min_days_between_sessions for r in rules.values())
    rows = db.session.execute(
        sa.select(Booking.enrolment_id, Booking.module, CourseSession.starts_at)
        .join(CourseSession, CourseSession.id == Booking.session_id)
        .where(CourseSession.programme_id.in_(list(rules)),
               CourseSession.starts_at >= _midnight(today - timedelta(days=spacing)),
               Booking.status.in_(HOLDS_MODULE),
               Booking.module != FOLLOW_UP)
    )
    dated: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for enrolment_id, module, starts_at in rows:
        dated[enrolment_id].append((module, starts_at.astimezone(LONDON).date()))
    return dated


def _sessions(programme_ids: list[int], *, since: datetime,
              until: datetime) -> defaultdict[int, list[PublishedSession]]:
    """Read the scheduled sessions of these programmes starting in [since, until)."""
    rows = db.session.execute(
        sa.select(CourseSession.programme_id, CourseSession.module, CourseSession.starts_at,
                  CourseSession.capacity, CourseSession.booked, CourseSession.venue_id)
        .where(CourseSession.programme_id.in_(programme_ids),
               CourseSession.status == SessionStatus.SCHEDULED,
               CourseSession.starts_at >= since, CourseSession.starts_at < until)
    )
    sessions: defaultdict[int, list[PublishedSession]] = defaultdict(list)
    for programme_id, module, starts_at, capacity, booked, venue_id in rows:
        sessions[programme_id].append(PublishedSession(
            module=module, starts_at=starts_at, capacity=capacity, booked=booked,
            venue_id=venue_id))
    return sessions
