"""VTIMEZONE components that calendar clients read correctly.

icalendar's own ``Timezone.from_tzid`` lists every transition as RDATEs, a shape
Outlook desktop has been reported to misread; calendar.md asks for RRULE-based
zones. Europe/London is written out by hand; other zones get yearly rules derived
from zoneinfo when such rules describe them exactly, and an RDATE list otherwise.

That RDATE list is built here rather than by ``Timezone.from_tzid``: icalendar 7.3
scans for transitions in 64-day steps and so drops offset periods shorter than
that (Africa/Casablanca's Ramadan hours in 2024 and 2027, for instance).
"""

from __future__ import annotations

import calendar as _calendar
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

__all__ = ["vtimezone"]

# Derived rules are checked against zoneinfo over these years. The service has no
# appointments before 2020, so a zone whose current rule started before then can
# be described by that rule alone; one that changed later keeps the exact RDATEs.
_RULE_MUST_HOLD_FROM = 2020
_LAST_CHECKED_YEAR = 2037
_EARLIEST_YEAR = 1970

_MONTH = timedelta(days=30)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def vtimezone(tzid: str) -> Timezone:
    """Return a VTIMEZONE for tzid, RRULE-based wherever the zone allows it."""
    # Components are mutable: sharing one cached object would let one caller's
    # change leak into every later calendar, so each caller gets its own. Europe/London,
    # in every calendar the service writes by default (the feed, each invitation), is
    # built afresh: a sixth of the cost of parsing it back from cached text.
    if tzid == "Europe/London":
        return _europe_london()
    return Timezone.from_ical(_vtimezone_ical(tzid))


@functools.lru_cache(maxsize=64)
def _vtimezone_ical(tzid: str) -> bytes:
    try:
        zone = ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tzid!r}") from exc
    derived = _derive_rrule_zone(tzid, zone) or _derive_rdate_zone(tzid, zone)
    return derived.to_ical()


def _europe_london() -> Timezone:
    # The UK rule since 1996 (EU summer time): both changes at 01:00 UTC on the last
    # Sunday of March and of October. DTSTART 1970 is the conventional epoch used by
    # most producers; no appointment predates 1996, so the earlier history is moot.
    return _component(
        "Europe/London",
        [
            _Observance(
                standard=True,
                offset_from=timedelta(hours=1),
                offset_to=timedelta(0),
                name="GMT",
                start=datetime(1970, 10, 25, 2, 0, 0),
                rrule={"FREQ": "YEARLY", "BYMONTH": 10, "BYDAY": "-1SU"},
            ),
            _Observance(
                standard=False,
                offset_from=timedelta(0),
                offset_to=timedelta(hours=1),
                name="BST",
                start=datetime(1970, 3, 29, 1, 0, 0),
                rrule={"FREQ": "YEARLY", "BYMONTH": 3, "BYDAY": "-1SU"},
            ),
        ],
    )


@dataclass(frozen=True)
class _Observance:
    standard: bool
    offset_from: timedelta
    offset_to: timedelta
    name: str
    start: datetime  # local wall time in offset_from, as RFC 5545 wants
    rrule: dict | None = None


def _component(tzid: str, observances: list[_Observance]) -> Timezone:
    tz = Timezone()
    tz.add("TZID", tzid)
    for obs in observances:
        sub = TimezoneStandard() if obs.standard else TimezoneDaylight()
        sub.add("TZNAME", obs.name)
        sub.TZOFFSETFROM = obs.offset_from
        sub.TZOFFSETTO = obs.offset_to
        sub.DTSTART = obs.start
        if obs.rrule is not None:
            # Each part as a list, the shape icalendar parses RRULEs into.
            sub.add("RRULE", vRecur({part: value if isinstance(value, list) else [value]
                                     for part, value in obs.rrule.items()}))
        tz.add_component(sub)
    return tz


@dataclass(frozen=True)
class _Transition:
    at: datetime  # UTC
    offset_from: timedelta
    offset_to: timedelta
    name: str  # abbreviation in force after the transition

    @property
    def local(self) -> datetime:
        return (self.at + self.offset_from).replace(tzinfo=None)


def _offset(zone: ZoneInfo, at: datetime) -> timedelta:
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _transitions_in(zone: ZoneInfo, year: int) -> list[_Transition]:
    """Find the UTC instants in year where the zone's offset changes."""
    found = []
    day = timedelta(days=1)
    at = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    before = _offset(zone, at)
    while at < end:
        nxt = at + day
        after = _offset(zone, nxt)
        if after != before:
            # Bisect to the minute: no zone changes offset twice within a day.
            lo, hi = 0, 24 * 60
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(zone, at + timedelta(minutes=mid)) == before:
                    lo = mid
                else:
                    hi = mid
            changed = at + timedelta(minutes=hi)
            name = changed.astimezone(zone).tzname() or _offset_name(after)
            found.append(_Transition(changed, before, after, name))
        at, before = nxt, after
    return found


def _offset_name(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{mins:02d}"


@dataclass(frozen=True)
class _YearlyRule:
    """A transition on a weekday picked within a month, at a fixed local time."""

    month: int
    weekday: int  # 0 = Monday
    ordinal: int | None  # 1..4 or -1 (last); None means "first on or after on_or_after"
    on_or_after: int | None
    wall: timedelta  # local time of day, in the offset before the change

    def date_in(self, year: int) -> date:
        days_in_month = _calendar.monthrange(year, self.month)[1]
        if self.ordinal == -1:
            last = date(year, self.month, days_in_month)
            return last - timedelta(days=(last.weekday() - self.weekday) % 7)
        first_day = 1 + 7 * (self.ordinal - 1) if self.ordinal else self.on_or_after
        assert first_day is not None
        first = date(year, self.month, first_day)
        return first + timedelta(days=(self.weekday - first.weekday()) % 7)

    def local_in(self, year: int) -> datetime:
        return datetime.combine(self.date_in(year), datetime.min.time()) + self.wall

    def rrule(self) -> dict:
        day = _WEEKDAYS[self.weekday]
        if self.ordinal is not None:
            return {"FREQ": "YEARLY", "BYMONTH": self.month, "BYDAY": f"{self.ordinal}{day}"}
        assert self.on_or_after is not None
        days = list(range(self.on_or_after, self.on_or_after + 7))
        return {"FREQ": "YEARLY", "BYMONTH": self.month, "BYDAY": day, "BYMONTHDAY": days}


def _candidate_rules(local: datetime) -> list[_YearlyRule]:
    """List the yearly rules that would put a transition at this local time."""
    day = local.day
    month = local.month
    weekday = local.weekday()
    wall = local - datetime.combine(local.date(), datetime.min.time())
    days_in_month = _calendar.monthrange(local.year, month)[1]
    rules = []
    if day + 7 > days_in_month:
        rules.append(_YearlyRule(month, weekday, -1, None, wall))
    if day <= 28:
        rules.append(_YearlyRule(month, weekday, (day - 1) // 7 + 1, None, wall))
    # Rules like Israel's "Fri>=23" fit neither of the above.
    for first in range(max(1, day - 6), min(day, days_in_month - 6) + 1):
        if (first - 1) % 7:
            rules.append(_YearlyRule(month, weekday, None, first, wall))
    return rules


def _rule_fits(rule: _YearlyRule, transition: _Transition) -> bool:
    return rule.local_in(transition.at.year) == transition.local


def _derive_rrule_zone(tzid: str, zone: ZoneInfo) -> Timezone | None:
    """Describe zone with yearly rules if they match zoneinfo exactly since 2020."""
    reference = _transitions_in(zone, _LAST_CHECKED_YEAR)
    if not reference:
        return _derive_fixed_zone(tzid, zone)
    if len(reference) != 2:
        return None
    per_year = {
        year: _transitions_in(zone, year)
        for year in range(_RULE_MUST_HOLD_FROM, _LAST_CHECKED_YEAR + 1)
    }
    if any(len(found) != 2 for found in per_year.values()):
        return None

    rules: list[_YearlyRule] = []
    for index, ref in enumerate(reference):
        fitting = [
            rule
            for rule in _candidate_rules(ref.local)
            if all(
                found[index].offset_from == ref.offset_from
                and found[index].offset_to == ref.offset_to
                and _rule_fits(rule, found[index])
                for found in per_year.values()
            )
        ]
        if not fitting:
            return None
        rules.append(fitting[0])

    # Walk back from 2020 while the rule still holds, so DTSTART is honest about
    # where the description starts being true.
    first_year = _RULE_MUST_HOLD_FROM
    while first_year > _EARLIEST_YEAR:
        earlier = _transitions_in(zone, first_year - 1)
        if len(earlier) != 2 or not all(
            earlier[i].offset_from == reference[i].offset_from
            and earlier[i].offset_to == reference[i].offset_to
            and _rule_fits(rules[i], earlier[i])
            for i in range(2)
        ):
            break
        first_year -= 1

    daylight_offset = max(ref.offset_to for ref in reference)
    observances = [
        _Observance(
            standard=ref.offset_to != daylight_offset,
            offset_from=ref.offset_from,
            offset_to=ref.offset_to,
            name=ref.name,
            start=rule.local_in(first_year),
            rrule=rule.rrule(),
        )
        for ref, rule in zip(reference, rules, strict=True)
    ]
    # Standard first, as Europe/London and most producers write it.
    observances.sort(key=lambda obs: not obs.standard)
    component = _component(tzid, observances)
    if not _agrees_with_zoneinfo(component, zone, per_year):
        return None
    return component


def _derive_fixed_zone(tzid: str, zone: ZoneInfo) -> Timezone | None:
    """Describe a zone without daylight saving as one STANDARD observance."""
    first_year = _LAST_CHECKED_YEAR
    while first_year > _EARLIEST_YEAR and not _transitions_in(zone, first_year - 1):
        first_year -= 1
    if first_year > _RULE_MUST_HOLD_FROM:
        return None
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    offset = _offset(zone, start)
    name = start.astimezone(zone).tzname() or _offset_name(offset)
    return _component(
        tzid,
        [
            _Observance(
                standard=True,
                offset_from=offset,
                offset_to=offset,
                name=name,
                start=(start + offset).replace(tzinfo=None),
            )
        ],
    )


def _derive_rdate_zone(tzid: str, zone: ZoneInfo) -> Timezone:
    """List every transition from 1970 to 2037 as RDATEs, grouped by observance."""
    start = datetime(_EARLIEST_YEAR, 1, 1, tzinfo=UTC)
    first_offset = _offset(zone, start)
    local_start = start.astimezone(zone)
    groups: dict[tuple[bool, timedelta, timedelta, str], list[datetime]] = {
        (
            local_start.dst() == timedelta(0),
            first_offset,
            first_offset,
            local_start.tzname() or _offset_name(first_offset),
        ): [(start + first_offset).replace(tzinfo=None)]
    }
    for year in range(_EARLIEST_YEAR, _LAST_CHECKED_YEAR + 1):
        for transition in _transitions_in(zone, year):
            standard = transition.at.astimezone(zone).dst() == timedelta(0)
            key = (standard, transition.offset_from, transition.offset_to, transition.name)
            groups.setdefault(key, []).append(transition.local)

    tz = _component(
        tzid,
        [
            _Observance(standard, offset_from, offset_to, name, starts[0])
            for (standard, offset_from, offset_to, name), starts in groups.items()
        ],
    )
    for sub, starts in zip(tz.subcomponents, groups.values(), strict=True):
        if len(starts) > 1:
            sub.add("RDATE", starts[1:])
    return tz


def _agrees_with_zoneinfo(
    component: Timezone, zone: ZoneInfo, per_year: dict[int, list[_Transition]]
) -> bool:
    """Check, through icalendar's own reading of the component, every transition."""
    derived = component.to_tz(lookup_tzid=False)
    for transitions in per_year.values():
        for transition in transitions:
            # Wall times, as DTSTART;TZID carries them, just clear of the skipped or
            # repeated hour, where the answer would depend on fold conventions.
            margin = abs(transition.offset_to - transition.offset_from) + timedelta(minutes=1)
            for at in (transition.at - margin, transition.at + margin, transition.at + _MONTH):
                local = at.astimezone(zone).replace(tzinfo=None)
                if local.replace(tzinfo=derived).utcoffset() != _offset(zone, at):
                    return False
    return True
