"""The VTIMEZONE for Europe/London, the only zone the service writes.

icalendar's own ``Timezone.from_tzid`` lists every change as an RDATE, a shape
Outlook desktop has been reported to misread (docs/calendar.md). The UK's changes
since 1996 follow two yearly rules, so the zone is written as those two RRULEs.
Every programme runs in London (``domain.programme``): any other zone is refused
rather than derived.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from diversion.domain.vocabulary import LONDON_TZID

__all__ = ["vtimezone"]

_GMT = timedelta(0)
_BST = timedelta(hours=1)


def vtimezone(tzid: str = LONDON_TZID) -> Timezone:
    """Return a new Europe/London VTIMEZONE; refuse any other zone."""
    if tzid != LONDON_TZID:
        raise ValueError(f"no VTIMEZONE for {tzid!r}: every programme runs in {LONDON_TZID}")
    # Both changes fall at 01:00 UTC on the last Sunday of the month. DTSTART is each
    # rule's first occurrence in 1970, the epoch most producers write; the rules have
    # held since 1996, and no appointment is older than that.
    tz = Timezone()
    tz.add("TZID", LONDON_TZID)
    tz.add_component(_observance(
        TimezoneStandard(), "GMT", _BST, _GMT, datetime(1970, 10, 25, 2, 0), month=10))
    tz.add_component(_observance(
        TimezoneDaylight(), "BST", _GMT, _BST, datetime(1970, 3, 29, 1, 0), month=3))
    return tz


def _observance(
    sub: TimezoneStandard | TimezoneDaylight,
    name: str,
    offset_from: timedelta,
    offset_to: timedelta,
    start: datetime,
    *,
    month: int,
) -> TimezoneStandard | TimezoneDaylight:
    # DTSTART is the local wall time in offset_from, as RFC 5545 §3.6.5 wants.
    sub.DTSTART = start
    # Each part a list, the shape icalendar parses an RRULE into, so the component
    # equals its own round trip through text.
    sub.add("RRULE", {"FREQ": ["YEARLY"], "BYDAY": ["-1SU"], "BYMONTH": [month]})
    sub.add("TZNAME", name)
    sub.TZOFFSETFROM = offset_from
    sub.TZOFFSETTO = offset_to
    return sub
