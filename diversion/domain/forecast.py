"""How many places each module needs, week by week, against the places published.

Each enrolment in progress needs its modules still to book (neither booked nor
attended). The projection places each one, in module order, on the earliest day the
booking rules allow: on or after today and the enrolment's start, at the programme's
spacing from every booking it holds and every module placed before it, in order where
the programme says so, and on or before the core deadline (the follow-up: inside its
window). A module that cannot be placed so is not needed from the forecast: the
enrolment can no longer take it, and the compliance sweep says so.

Invariant: for each module, the places needed over all weeks add up to the enrolments
in progress that still need that module and whose earliest day falls within the weeks
forecast.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any, TypeVar

from diversion.domain.booking import EnrolmentFacts
from diversion.domain.holidays import is_public_holiday
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules
from diversion.domain.vocabulary import (
    HOLDS_MODULE,
    OPEN_ENROLMENT,
    EnrolmentStatus,
    SessionStatus,
)

T = TypeVar("T", bound=Hashable)

WEEK = timedelta(days=7)
MAX_WEEKS = 52
# What a suggested session looks like when the programme has no sessions to learn from.
DEFAULT_CAPACITY = 12
DEFAULT_WEEKDAY = 1  # Tuesday: Monday is the day most bank holidays fall on
DEFAULT_START = time(18, 0)


def week_start(day: date) -> date:
    """Return the Monday of the week a day falls in."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Horizon:
    """The weeks forecast: from the Monday of today's week, ``weeks`` weeks long."""

    today: date
    weeks: int

    def __post_init__(self) -> None:
        if not 1 <= self.weeks <= MAX_WEEKS:
            raise ValueError(f"weeks must be between 1 and {MAX_WEEKS}")

    @cached_property
    def first(self) -> date:
        return week_start(self.today)

    @cached_property
    def end(self) -> date:
        """Return the day after the last day forecast."""
        return self.first + WEEK * self.weeks

    @property
    def week_starts(self) -> list[date]:
        return [self.first + WEEK * n for n in range(self.weeks)]

    def covers(self, day: date) -> bool:
        return self.first <= day < self.end


@dataclass(frozen=True)
class EnrolmentOutlook:
    """What the forecast reads of an enrolment.

    ``held`` is every module booked or attended. ``held_on`` gives the local day of
    held core bookings; a held core module it leaves out is taken to have been held
    before today by more than the spacing, so it constrains nothing the forecast places
    except the order of modules. ``count`` is how many enrolments look exactly like
    this: they all need the same places.
    """

    status: str
    start_date: date
    core_deadline: date
    follow_up_window: tuple[date, date] | None = None
    held: frozenset[int] = frozenset()
    held_on: tuple[tuple[int, date], ...] = ()
    count: int = 1


def outlook(rules: ProgrammeRules, enrolment: EnrolmentFacts) -> EnrolmentOutlook:
    """Summarise an enrolment and its bookings as the forecast reads them."""
    holding = [b for b in enrolment.bookings if b.status in HOLDS_MODULE]
    return EnrolmentOutlook(
        status=enrolment.status,
        start_date=enrolment.start_date,
        core_deadline=enrolment.core_deadline,
        follow_up_window=enrolment.follow_up_window,
        held=frozenset(b.module for b in holding),
        held_on=tuple(sorted((b.module, rules.local_date(b.starts_at))
                             for b in holding if b.module != FOLLOW_UP)),
    )


def earliest_days(rules: ProgrammeRules, enrolment: EnrolmentOutlook,
                  today: date) -> dict[int, date]:
    """Return the earliest day each module still needed could be taken, by module.

    Modules are placed one after another in module order, each on the earliest day the
    booking rules allow given the bookings held and the modules placed before it.
    """
    if enrolment.status not in OPEN_ENROLMENT:
        return {}
    needed = [m for m in rules.core_module_numbers if m not in enrolment.held]
    if not needed:
        return _follow_up_day(enrolment, today)
    placed = list(enrolment.held_on)
    dated = {module for module, _ in placed}
    undated_held = {m for m in enrolment.held if m != FOLLOW_UP and m not in dated}
    spacing = rules.min_days_between_sessions
    days: dict[int, date] = {}
    for module in needed:
        low, high = max(today, enrolment.start_date), enrolment.core_deadline
        if rules.modules_in_order:
            if any(m > module for m in undated_held):
                break  # a later module was held in the past: this one can never come first
            for other, on in placed:
                if other < module:
                    low = max(low, on + timedelta(days=1))
                elif other > module:
                    high = min(high, on - timedelta(days=1))
        day = _first_free_day(low, high, [on for _, on in placed], spacing)
        if day is None:
            if rules.modules_in_order:
                break  # every later module needs this one booked before it
            continue
        days[module] = day
        placed.append((module, day))
    return days


def _follow_up_day(enrolment: EnrolmentOutlook, today: date) -> dict[int, date]:
    # The follow-up is due once the core is attended, which the status records.
    window = enrolment.follow_up_window
    if (enrolment.status != EnrolmentStatus.AWAITING_FOLLOW_UP or window is None
            or FOLLOW_UP in enrolment.held):
        return {}
    day = max(today, window[0])
    return {FOLLOW_UP: day} if day <= window[1] else {}


def _first_free_day(low: date, high: date, taken: list[date], spacing: int) -> date | None:
    """Return the first day in [low, high] at least ``spacing`` days from every taken day."""
    day = low
    # Taken days in order: once pushed past one, the day stays clear of every earlier one.
    for other in sorted(taken):
        if abs((day - other).days) < spacing:
            day = other + timedelta(days=spacing)
    return day if day <= high else None


def seats_needed(rules: ProgrammeRules, enrolments: Iterable[EnrolmentOutlook],
                 horizon: Horizon) -> Counter[tuple[date, int]]:
    """Count the places needed per (week start, module) within the horizon."""
    needed: Counter[tuple[date, int]] = Counter()
    for enrolment in enrolments:
        for module, day in earliest_days(rules, enrolment, horizon.today).items():
            if horizon.covers(day):
                needed[(week_start(day), module)] += enrolment.count
    return needed


@dataclass(frozen=True)
class PublishedSession:
    """A session of the programme as the forecast reads it."""

    module: int
    starts_at: datetime
    capacity: int
    booked: int = 0
    venue_id: int | None = None
    status: str = SessionStatus.SCHEDULED


def seats_published(rules: ProgrammeRules, sessions: Iterable[PublishedSession],
                    horizon: Horizon, now: datetime) -> Counter[tuple[date, int]]:
    """Count the places still free per (week start, module) in sessions still to come."""
    free: Counter[tuple[date, int]] = Counter()
    for s in sessions:
        if s.status != SessionStatus.SCHEDULED or s.starts_at <= now:
            continue
        day = rules.local_date(s.starts_at)
        if horizon.covers(day):
            free[(week_start(day), s.module)] += max(s.capacity - s.booked, 0)
    return free


@dataclass(frozen=True)
class UsualSession:
    """The shape of a module's sessions: capacity, weekday, start time and venue."""

    capacity: int = DEFAULT_CAPACITY
    weekday: int = DEFAULT_WEEKDAY
    start: time = DEFAULT_START
    venue_id: int | None = None


def _most_common(values: list[Any], *, prefer_larger: bool = False) -> Any:
    """Return the most common value; a tie goes to the smallest (or the largest)."""
    if not values:
        return None
    counts = Counter(values)
    top = max(counts.values())
    tied = sorted(v for v, n in counts.items() if n == top)
    return tied[-1] if prefer_larger else tied[0]


def usual_sessions(rules: ProgrammeRules,
                   sessions: Iterable[PublishedSession]) -> dict[int, UsualSession]:
    """Learn each module's usual session from the sessions given (cancelled ones aside).

    Each setting is the module's most common one, else the programme's, else the default.
    """
    held = [_Shape.of(rules, s) for s in sessions if s.status != SessionStatus.CANCELLED]
    modules = [*rules.core_module_numbers, FOLLOW_UP]
    usual: dict[int, UsualSession] = {}
    for module in modules:
        own = [s for s in held if s.module == module]
        usual[module] = UsualSession(
            capacity=_learn(own, held, lambda s: s.capacity, DEFAULT_CAPACITY, larger=True),
            weekday=_learn(own, held, lambda s: s.weekday, DEFAULT_WEEKDAY),
            start=_learn(own, held, lambda s: s.start, DEFAULT_START),
            venue_id=_learn(own, held, lambda s: s.venue_id, None),
        )
    return usual


@dataclass(frozen=True)
class _Shape:
    """A session's settings as a usual session has them, its local day and time read once."""

    module: int
    capacity: int
    weekday: int
    start: time
    venue_id: int | None

    @classmethod
    def of(cls, rules: ProgrammeRules, session: PublishedSession) -> _Shape:
        local = session.starts_at.astimezone(rules.tz)
        return cls(session.module, session.capacity, local.weekday(), local.time(),
                   session.venue_id)


def _learn(own: list[_Shape], every: list[_Shape], read: Callable[[_Shape], T | None],
           default: T, larger: bool = False) -> T:
    for pool in (own, every):
        values = [value for value in map(read, pool) if value is not None]
        if values:
            found: T = _most_common(values, prefer_larger=larger)
            return found
    return default


@dataclass(frozen=True)
class WeekLine:
    """One module in one week: places needed, places published and the shortfall."""

    week_start: date
    module: int
    seats_needed: int
    seats_published: int

    @property
    def shortfall(self) -> int:
        return max(self.seats_needed - self.seats_published, 0)


@dataclass(frozen=True)
class SuggestedSession:
    """A session to publish: one of those that cover a week's shortfall for a module."""

    module: int
    week_start: date
    capacity: int
    starts_at: datetime | None
    venue_id: int | None = None


@dataclass(frozen=True)
class Forecast:
    horizon: Horizon
    lines: list[WeekLine] = field(default_factory=list)
    suggestions: list[SuggestedSession] = field(default_factory=list)

    def module_lines(self, module: int) -> list[WeekLine]:
        return [line for line in self.lines if line.module == module]


def module_order(module: int) -> tuple[bool, int]:
    """Sort core modules by number, the follow-up last."""
    return (module == FOLLOW_UP, module)


def forecast(
    rules: ProgrammeRules,
    enrolments: Iterable[EnrolmentOutlook],
    sessions: Sequence[PublishedSession],
    now: datetime,
    weeks: int,
) -> Forecast:
    """Forecast a programme's places week by week and suggest the sessions to publish.

    ``sessions`` are the programme's sessions from some weeks back to the end of the
    horizon: those still to come are the places published, and all of them together show
    the usual capacity, day, time and venue of a suggested session.
    """
    horizon = Horizon(rules.local_date(now), weeks)
    needed = seats_needed(rules, enrolments, horizon)
    published = seats_published(rules, sessions, horizon, now)
    modules = sorted([*rules.core_module_numbers, FOLLOW_UP], key=module_order)
    lines = [
        WeekLine(week, module, needed[(week, module)], published[(week, module)])
        for week in horizon.week_starts
        for module in modules
    ]
    usual = usual_sessions(rules, sessions)
    suggestions = [
        suggestion
        for line in lines if line.shortfall
        for suggestion in suggest(rules, line, usual[line.module], now)
    ]
    return Forecast(horizon, lines, suggestions)


def suggest(rules: ProgrammeRules, line: WeekLine, usual: UsualSession,
            now: datetime) -> list[SuggestedSession]:
    """Suggest enough sessions of the usual capacity to cover a week's shortfall."""
    count = math.ceil(line.shortfall / usual.capacity)
    starts_at = suggested_start(rules, line.week_start, usual, now)
    return [SuggestedSession(line.module, line.week_start, usual.capacity, starts_at,
                             usual.venue_id)] * count


def suggested_start(rules: ProgrammeRules, week: date, usual: UsualSession,
                    now: datetime) -> datetime | None:
    """Return the usual day and time in a week, or the nearest day of that week that can
    take a session (not past, not a public holiday); None if no day of the week can."""
    days = [week + timedelta(days=n) for n in range(7)]
    ordered = days[usual.weekday:] + days[:usual.weekday][::-1]
    for day in ordered:
        # Through UTC and back: a wall-clock time in the spring-forward gap becomes real.
        local = datetime.combine(day, usual.start, tzinfo=rules.tz)
        starts_at = local.astimezone(UTC).astimezone(rules.tz)
        if starts_at > now and not is_public_holiday(day, rules.holiday_region):
            return starts_at
    return None

