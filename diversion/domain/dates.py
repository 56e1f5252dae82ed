"""Dates and times as people in the UK write them, in fixed English words.

strftime's ``%A`` and ``%B`` (and Jinja's ``strftime``) follow the process locale,
so a server started with another ``LANG`` would name days and months in another
language. What a participant reads takes their language: English in the words
below, Welsh (or any other) in Babel's CLDR names and its 24-hour clock for that
locale. Every function here but ``format_london`` takes a local value: the caller
converts an instant to Europe/London first.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from babel import dates as cldr

from diversion.domain.vocabulary import LONDON, Language

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def format_date(d: date) -> str:
    """Write a date the way a coordinator reads it: 4 March 2027."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def format_day(d: date, language: str = Language.ENGLISH) -> str:
    """Write a day without its year, as a subject line names it: Thursday 4 March."""
    if language != Language.ENGLISH:
        return cldr.format_date(d, "EEEE d MMMM", locale=language)
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]}"


def format_weekday_date(d: date, language: str = Language.ENGLISH) -> str:
    """Write a date with its day of the week: Thursday 4 March 2027."""
    if language != Language.ENGLISH:
        return cldr.format_date(d, "EEEE d MMMM y", locale=language)
    return f"{format_day(d)} {d.year}"


def format_month(d: date) -> str:
    """Write the month a date falls in: March 2027."""
    return f"{MONTHS[d.month - 1]} {d.year}"


def format_short_month(d: date) -> str:
    """Write a month's name in three letters, as a chart's axis does: Mar."""
    return MONTHS[d.month - 1][:3]


def format_time(t: datetime | time, language: str = Language.ENGLISH) -> str:
    """Write a time of day in GOV.UK style: 6pm, 6:30pm, 12pm, 12am (Welsh: 18:00)."""
    if language != Language.ENGLISH:
        # The locale's own short pattern, on the wall clock of the value given.
        return cldr.format_time(t, "short", locale=language)
    hour = t.hour % 12 or 12
    minutes = f":{t.minute:02d}" if t.minute else ""
    return f"{hour}{minutes}{'am' if t.hour < 12 else 'pm'}"


def format_london(instant: datetime) -> str:
    """Write an instant as London's wall clock with its weekday: Monday 5 October 2026 at 6pm."""
    local = instant.astimezone(LONDON)
    return f"{format_weekday_date(local)} at {format_time(local)}"
# Sessions, and the dates that look them up, lie in these years: anything outside is
# a typing mistake, and date arithmetic near year 1 or 9999 would overflow.
FIRST_SESSION_DAY = date(2000, 1, 1)
LAST_SESSION_DAY = date(2100, 12, 31)


def session_day_problem(day: date) -> str | None:
    """Say what is wrong with a session's date, or None if it is within the years held."""
    if not FIRST_SESSION_DAY <= day <= LAST_SESSION_DAY:
        return (f"Enter a date between {format_date(FIRST_SESSION_DAY)} and "
                f"{format_date(LAST_SESSION_DAY)}")
    return None


def days_after(day: date, days: int) -> date | None:
    """Return the date some days after another, or None past the calendar's last year."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None
