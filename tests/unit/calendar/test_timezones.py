from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Timezone

from diversion.calendar.timezones import vtimezone

# The truth the VTIMEZONE is held to: the system's tz database, not our rules.
LONDON = ZoneInfo("Europe/London")
YEARS = range(2000, 2101)
SESSION_TIMES = [time(9, 30), time(13, 0), time(18, 30)]


def find_changes(zone: ZoneInfo, years: range) -> list[datetime]:
    """Return every UTC instant in years at which zoneinfo's offset changes."""
    changes = []
    day = datetime(years.start, 1, 1, tzinfo=UTC)
    end = datetime(years.stop, 1, 1, tzinfo=UTC)
    while day < end:
        following = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            at = day
            while at.astimezone(zone).utcoffset() == day.astimezone(zone).utcoffset():
                at += timedelta(minutes=1)
            changes.append(at)
        day = following
    return changes


CHANGES = find_changes(LONDON, YEARS)


@pytest.fixture(scope="module")
def from_component():
    """Read the zone from our VTIMEZONE alone, never from the system's tz database."""
    return vtimezone("Europe/London").to_tz(lookup_tzid=False)


def session_times_around(change: datetime) -> list[datetime]:
    """Wall times of sessions on the days either side of a change, and on the day."""
    day = change.date()
    return [
        datetime.combine(day + timedelta(days=offset), wall)
        for offset in (-7, -2, -1, 0, 1, 2, 7)
        for wall in SESSION_TIMES
    ]


def wall_times_just_clear_of(change: datetime) -> list[datetime]:
    """Wall times a minute outside the hour skipped in March or repeated in October."""
    margin = timedelta(hours=1, minutes=1)
    return [(change + step).astimezone(LONDON).replace(tzinfo=None) for step in (-margin, margin)]


def wrong_offsets(zone, wall_times: list[datetime]) -> list[tuple[datetime, object, object]]:
    return [
        (local, local.replace(tzinfo=zone).utcoffset(), local.replace(tzinfo=LONDON).utcoffset())
        for local in wall_times
        if local.replace(tzinfo=zone).utcoffset() != local.replace(tzinfo=LONDON).utcoffset()
    ]


def test_the_changes_checked_below_are_every_uk_change_from_2000_to_2100():
    assert len(CHANGES) == 2 * len(YEARS)
    for change in CHANGES:
        # The last Sunday of March or October, at 01:00 UTC.
        assert change.month in (3, 10)
        assert change.weekday() == 6
        assert (change + timedelta(days=7)).month != change.month
        assert change.time() == time(1, 0)


def test_europe_london_is_written_as_yearly_rules_not_dates():
    tz = vtimezone("Europe/London")
    assert tz["TZID"] == "Europe/London"
    assert len(tz.standard) == 1
    assert len(tz.daylight) == 1
    standard, daylight = tz.standard[0], tz.daylight[0]

    assert standard.TZOFFSETFROM == timedelta(hours=1)
    assert standard.TZOFFSETTO == timedelta(0)
    assert str(standard["TZNAME"]) == "GMT"
    assert standard.DTSTART == datetime(1970, 10, 25, 2, 0)
    assert dict(standard["RRULE"]) == {"FREQ": ["YEARLY"], "BYMONTH": [10], "BYDAY": ["-1SU"]}

    assert daylight.TZOFFSETFROM == timedelta(0)
    assert daylight.TZOFFSETTO == timedelta(hours=1)
    assert str(daylight["TZNAME"]) == "BST"
    assert daylight.DTSTART == datetime(1970, 3, 29, 1, 0)
    assert dict(daylight["RRULE"]) == {"FREQ": ["YEARLY"], "BYMONTH": [3], "BYDAY": ["-1SU"]}

    assert b"RDATE" not in tz.to_ical()


def test_europe_london_dtstart_values_are_floating_local_times():
    text = vtimezone("Europe/London").to_ical().decode()
    assert "DTSTART:19701025T020000\r\n" in text
    assert "DTSTART:19700329T010000\r\n" in text


def test_the_component_reads_back_from_its_text_unchanged():
    tz = vtimezone("Europe/London")
    assert Timezone.from_ical(tz.to_ical()) == tz


def test_the_vtimezone_alone_gives_london_offsets_for_sessions_either_side_of_every_change(
    from_component,
):
    wrong = [w for change in CHANGES for w in wrong_offsets(from_component,
                                                            session_times_around(change))]
    assert wrong == []


def test_the_vtimezone_alone_gives_london_offsets_just_clear_of_every_changed_hour(
    from_component,
):
    wrong = [w for change in CHANGES for w in wrong_offsets(from_component,
                                                            wall_times_just_clear_of(change))]
    assert wrong == []


def test_the_vtimezone_alone_changes_offset_at_the_same_instant_as_zoneinfo(from_component):
    wrong = [
        instant
        for change in CHANGES
        for instant in (change - timedelta(minutes=1), change, change + timedelta(minutes=1))
        if instant.astimezone(from_component).utcoffset() != instant.astimezone(LONDON).utcoffset()
    ]
    assert wrong == []


def test_the_offset_check_reads_the_component_and_not_the_tzid():
    # Same TZID, but offsets shifted by two hours: if to_tz looked the TZID up, the
    # checks above could not tell a broken component from a good one.
    wrong = Timezone.from_ical(
        vtimezone("Europe/London")
        .to_ical()
        .replace(b"TZOFFSETTO:+0000", b"TZOFFSETTO:+0200")
        .replace(b"TZOFFSETFROM:+0000", b"TZOFFSETFROM:+0200")
    )
    winter_session = datetime(2027, 1, 12, 10, 0)
    assert winter_session.replace(tzinfo=wrong.to_tz(lookup_tzid=False)).utcoffset() == (
        timedelta(hours=2)
    )


def test_vobject_reads_the_same_london_offsets_from_the_vtimezone():
    wrapped = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        + vtimezone("Europe/London").to_ical().decode()
        + "END:VCALENDAR\r\n"
    )
    from_vobject = vobject.readOne(wrapped).vtimezone.gettzinfo()
    wrong = [w for change in CHANGES for w in wrong_offsets(from_vobject,
                                                            session_times_around(change))]
    assert wrong == []


@pytest.mark.parametrize(
    "tzid", ["Europe/Paris", "Europe/Dublin", "UTC", "GMT", "europe/london", "Mars/Olympus_Mons",
             "../../etc/passwd", ""],
)
def test_any_other_zone_is_refused(tzid):
    with pytest.raises(ValueError, match="every programme runs in Europe/London"):
        vtimezone(tzid)


def test_each_call_returns_a_component_the_caller_may_change():
    first = vtimezone("Europe/London")
    first["TZID"] = "Changed"
    first.standard[0].TZOFFSETTO = timedelta(hours=3)
    second = vtimezone("Europe/London")
    assert second["TZID"] == "Europe/London"
    assert second.standard[0].TZOFFSETTO == timedelta(0)
