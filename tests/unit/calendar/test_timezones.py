from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Timezone

from diversion.calendar.timezones import vtimezone

LONDON = ZoneInfo("Europe/London")

# Daylight-saving changes in the UK, all at 01:00 UTC on a Sunday.
LONDON_CHANGES = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2027, 3, 28, 1, tzinfo=UTC),
    datetime(2027, 10, 31, 1, tzinfo=UTC),
    datetime(2028, 3, 26, 1, tzinfo=UTC),
    datetime(2028, 10, 29, 1, tzinfo=UTC),
]
SESSION_TIMES = [time(9, 30), time(13, 0), time(18, 30)]


def component_tz(tzid: str):
    """Read a zone from our VTIMEZONE alone, never from the system's tz database."""
    return vtimezone(tzid).to_tz(lookup_tzid=False)


def session_days_around(change: datetime) -> list[date]:
    day = change.date()
    return [day + timedelta(days=offset) for offset in (-2, -1, 1, 2)]


def test_the_london_changes_used_below_are_the_real_ones():
    for change in LONDON_CHANGES:
        before = (change - timedelta(minutes=1)).astimezone(LONDON).utcoffset()
        after = change.astimezone(LONDON).utcoffset()
        assert before != after


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


@pytest.mark.parametrize("change", LONDON_CHANGES, ids=lambda c: c.date().isoformat())
def test_the_vtimezone_alone_gives_london_offsets_for_sessions_either_side_of_a_change(change):
    from_component = component_tz("Europe/London")
    for day in session_days_around(change):
        for wall in SESSION_TIMES:
            local = datetime.combine(day, wall)
            expected = local.replace(tzinfo=LONDON).utcoffset()
            assert local.replace(tzinfo=from_component).utcoffset() == expected, local


@pytest.mark.parametrize("change", LONDON_CHANGES, ids=lambda c: c.date().isoformat())
def test_the_vtimezone_alone_changes_offset_at_the_same_instant_as_zoneinfo(change):
    from_component = component_tz("Europe/London")
    for instant in (change - timedelta(minutes=1), change, change + timedelta(minutes=1)):
        assert instant.astimezone(from_component).utcoffset() == (
            instant.astimezone(LONDON).utcoffset()
        ), instant


def test_the_offset_check_reads_the_component_and_not_the_tzid():
    # Same TZID, but offsets shifted by an hour: if to_tz looked the TZID up, the
    # London checks above could not tell a broken component from a good one.
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


@pytest.mark.parametrize("change", LONDON_CHANGES, ids=lambda c: c.date().isoformat())
def test_vobject_reads_the_same_london_offsets_from_the_vtimezone(change):
    wrapped = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        + vtimezone("Europe/London").to_ical().decode()
        + "END:VCALENDAR\r\n"
    )
    from_vobject = vobject.readOne(wrapped).vtimezone.gettzinfo()
    for day in session_days_around(change):
        for wall in SESSION_TIMES:
            local = datetime.combine(day, wall)
            assert local.replace(tzinfo=from_vobject).utcoffset() == (
                local.replace(tzinfo=LONDON).utcoffset()
            ), local


@pytest.mark.parametrize(
    "tzid",
    ["Europe/Paris", "America/New_York", "Australia/Sydney", "Pacific/Auckland", "Asia/Jerusalem"],
)
def test_zones_with_a_yearly_rule_get_an_rrule_vtimezone_that_matches_zoneinfo(tzid):
    tz = vtimezone(tzid)
    ical = tz.to_ical()
    assert b"RRULE:" in ical
    assert b"RDATE" not in ical
    assert_matches_zoneinfo(tz, tzid)


@pytest.mark.parametrize("tzid", ["UTC", "Asia/Kolkata", "Asia/Tokyo"])
def test_zones_without_daylight_saving_get_one_standard_observance(tzid):
    tz = vtimezone(tzid)
    assert len(tz.standard) == 1
    assert tz.daylight == []
    assert_matches_zoneinfo(tz, tzid)


def test_a_zone_no_yearly_rule_describes_gets_every_transition_as_a_date():
    # Morocco suspends its offset for Ramadan, which moves every year. icalendar's
    # own Timezone.from_tzid loses the 2024 and 2027 Ramadan periods here.
    tz = vtimezone("Africa/Casablanca")
    assert b"RDATE" in tz.to_ical()
    assert_matches_zoneinfo(tz, "Africa/Casablanca")


def test_an_unknown_zone_is_refused():
    with pytest.raises(ValueError, match="unknown time zone"):
        vtimezone("Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="unknown time zone"):
        vtimezone("../../etc/passwd")


def test_each_call_returns_a_component_the_caller_may_change():
    first = vtimezone("Europe/London")
    first["TZID"] = "Changed"
    assert vtimezone("Europe/London")["TZID"] == "Europe/London"


def assert_matches_zoneinfo(tz: Timezone, tzid: str) -> None:
    """Compare wall-clock times, as DTSTART;TZID carries them, every 3 hours of 2026-28."""
    zone = ZoneInfo(tzid)
    from_component = tz.to_tz(lookup_tzid=False)
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2029, 1, 1, tzinfo=UTC)
    while instant < end:
        local = instant.astimezone(zone).replace(tzinfo=None)
        if not is_skipped_or_repeated(local, zone):
            assert local.replace(tzinfo=from_component).utcoffset() == (
                instant.astimezone(zone).utcoffset()
            ), local
        instant += timedelta(hours=3)


def is_skipped_or_repeated(local: datetime, zone: ZoneInfo) -> bool:
    return (
        local.replace(tzinfo=zone, fold=0).utcoffset()
        != local.replace(tzinfo=zone, fold=1).utcoffset()
    )
