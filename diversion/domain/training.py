"""The training environment's clock: how far an administrator may move it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from diversion.domain.dates import format_date
from diversion.domain.errors import RuleViolation

# Far enough to follow a participant to their follow-up and beyond; a date further
# off is a typing mistake.
FURTHEST = timedelta(days=3 * 366)
# Where the clock lands on a chosen date: the start of a working day.
MORNING = time(9, 0)


class ClockMove(StrEnum):
    DAY = "day"
    WEEK = "week"
    DATE = "date"


def moved_clock(now: datetime, move: str, day: date | None, tz: ZoneInfo) -> datetime:
    """Return where the clock reads after this move; never earlier than now.

    A day or a week keeps the wall-clock time (9am stays 9am across a clock change);
    a date lands at 9am there.
    """
    local = now.astimezone(tz)
    if move == ClockMove.DAY:
        return _wall_clock(local + timedelta(days=1), tz)
    if move == ClockMove.WEEK:
        return _wall_clock(local + timedelta(days=7), tz)
    if move != ClockMove.DATE or day is None:
        raise RuleViolation("invalid_clock_move", "Choose a day, a week or a date", "move")
    target = datetime.combine(day, MORNING, tzinfo=tz)
    if target <= now:
        first = local.date() + timedelta(days=0 if local.time() < MORNING else 1)
        raise RuleViolation("clock_backwards", "The training clock only moves forward: "
                            f"choose {format_date(first)} or later", "day")
    if target - now > FURTHEST:
        raise RuleViolation("clock_too_far",
                            "Choose a date within three years of the training clock", "day")
    return target


def _wall_clock(value: datetime, tz: ZoneInfo) -> datetime:
    # Python adds days to an aware time on the wall clock; normalise the offset after it.
    return datetime.combine(value.date(), value.time(), tzinfo=tz)
