from datetime import UTC, date, datetime, timedelta

import pytest

from diversion.domain.holidays import (
    is_public_holiday,
    next_working_day,
    region_holidays,
    series_dates,
)

from .builders import LONDON

TZ = "Europe/London"


def weekly(first: datetime, count: int, region: str = "GB-ENG"):
    return series_dates(first, count=count, interval_days=7, region=region, tz=TZ)


def test_easter_monday_2027_is_a_public_holiday_in_england_and_wales():
    assert is_public_holiday(date(2027, 3, 29), "GB-ENG")
    assert date(2027, 3, 29) in region_holidays("GB-ENG")


def test_an_ordinary_weekday_and_a_weekend_are_not_public_holidays():
    assert not is_public_holiday(date(2027, 3, 31), "GB-ENG")
    assert not is_public_holiday(date(2027, 3, 27), "GB-ENG")


def test_scotland_has_its_own_holidays():
    assert is_public_holiday(date(2027, 1, 4), "GB-SCT")  # 2 January, moved off a Saturday
    assert not is_public_holiday(date(2027, 1, 4), "GB-ENG")
    assert not is_public_holiday(date(2027, 3, 29), "GB-SCT")


def test_wales_and_northern_ireland_are_accepted():
    assert is_public_holiday(date(2027, 3, 29), "GB-WLS")
    assert is_public_holiday(date(2027, 3, 17), "GB-NIR")


def test_any_country_or_subdivision_code_is_accepted():
    assert is_public_holiday(date(2027, 7, 14), "FR")
    assert is_public_holiday(date(2027, 1, 6), "DE-BY")
    assert not is_public_holiday(date(2027, 1, 6), "DE-BE")


def test_the_holiday_calendar_of_a_region_is_built_once():
    assert region_holidays("GB-ENG") is region_holidays("gb-eng")


@pytest.mark.parametrize("region", ["XX", "GB-ZZ", "", "GB-"])
def test_an_unknown_region_is_refused(region):
    with pytest.raises(ValueError):
        is_public_holiday(date(2027, 1, 1), region)


def test_the_next_working_day_skips_only_public_holidays():
    assert next_working_day(date(2027, 3, 31), "GB-ENG") == date(2027, 3, 31)
    assert next_working_day(date(2027, 3, 29), "GB-ENG") == date(2027, 3, 30)
    # Weekends are fine days: Good Friday moves to the Saturday.
    assert next_working_day(date(2027, 3, 26), "GB-ENG") == date(2027, 3, 27)


def test_a_weekly_evening_series_keeps_its_wall_clock_time_across_the_spring_change():
    dates = weekly(datetime(2027, 3, 18, 18, 0), 4)

    local = [d.starts_at for d in dates]
    assert [d.date() for d in local] == [
        date(2027, 3, 18),
        date(2027, 3, 25),
        date(2027, 4, 1),
        date(2027, 4, 8),
    ]
    assert {(d.hour, d.minute) for d in local} == {(18, 0)}
    assert [d.utcoffset() for d in local] == [timedelta(0)] * 2 + [timedelta(hours=1)] * 2
    assert all(d.moved_from is None for d in dates)


def test_a_weekly_evening_series_keeps_its_wall_clock_time_across_the_autumn_change():
    dates = weekly(datetime(2027, 10, 21, 18, 0, tzinfo=LONDON), 3)

    assert [d.starts_at.isoformat() for d in dates] == [
        "2027-10-21T18:00:00+01:00",
        "2027-10-28T18:00:00+01:00",
        "2027-11-04T18:00:00+00:00",
    ]


def test_an_aware_first_start_is_read_in_the_programme_time_zone():
    dates = weekly(datetime(2027, 3, 18, 18, 0, tzinfo=UTC), 3)

    assert [d.starts_at.astimezone(UTC).hour for d in dates] == [18, 18, 17]
    assert all(d.starts_at.tzinfo.key == TZ for d in dates)


def test_a_start_in_the_spring_gap_moves_to_the_first_real_instant_after_it():
    dates = series_dates(datetime(2027, 3, 21, 1, 30), 3, 7, "GB-ENG", TZ)

    assert [d.starts_at.isoformat() for d in dates] == [
        "2027-03-21T01:30:00+00:00",
        "2027-03-28T02:30:00+01:00",
        "2027-04-04T01:30:00+01:00",
    ]


def test_easter_monday_in_a_monday_series_moves_to_tuesday_and_says_so():
    dates = weekly(datetime(2027, 3, 22, 18, 0), 3)

    assert dates[1].starts_at.date() == date(2027, 3, 30)
    assert dates[1].moved_from == date(2027, 3, 29)
    assert dates[1].starts_at.hour == 18
    assert dates[0].moved_from is None and dates[2].moved_from is None
    assert dates[2].starts_at.date() == date(2027, 4, 5)


def test_good_friday_in_a_friday_series_moves_to_the_next_day():
    dates = weekly(datetime(2027, 3, 19, 10, 0), 3)

    assert [d.starts_at.date() for d in dates] == [
        date(2027, 3, 19),
        date(2027, 3, 27),
        date(2027, 4, 2),
    ]
    assert dates[1].moved_from == date(2027, 3, 26)


def test_christmas_2026_moves_past_christmas_day_and_the_boxing_day_holidays():
    # The library lists 25 December (Friday), 26 December (Saturday) and the Boxing Day
    # substitute on Monday 28 December 2026.
    fridays = weekly(datetime(2026, 12, 18, 18, 0), 2)
    mondays = weekly(datetime(2026, 12, 21, 18, 0), 3)

    assert fridays[1].starts_at.date() == date(2026, 12, 27)
    assert fridays[1].moved_from == date(2026, 12, 25)
    assert mondays[1].starts_at.date() == date(2026, 12, 29)
    assert mondays[1].moved_from == date(2026, 12, 28)
    assert mondays[2].starts_at.date() == date(2027, 1, 4)


def test_christmas_2027_on_a_saturday_moves_past_all_four_holidays():
    dates = weekly(datetime(2027, 12, 18, 18, 0), 2)

    assert dates[1].starts_at.date() == date(2027, 12, 29)
    assert dates[1].moved_from == date(2027, 12, 25)


def test_a_moved_date_does_not_push_later_dates_along():
    dates = series_dates(datetime(2027, 3, 26, 18, 0), 5, 1, "GB-ENG", TZ)

    assert [d.starts_at.date() for d in dates] == [
        date(2027, 3, 27),
        date(2027, 3, 27),
        date(2027, 3, 28),
        date(2027, 3, 30),
        date(2027, 3, 30),
    ]
    assert [d.moved_from for d in dates] == [
        date(2027, 3, 26),
        None,
        None,
        date(2027, 3, 29),
        None,
    ]


@pytest.mark.parametrize(("count", "interval"), [(0, 7), (201, 7), (4, 0), (4, 366)])
def test_a_series_out_of_bounds_is_refused(count, interval):
    with pytest.raises(ValueError):
        series_dates(datetime(2027, 3, 18, 18, 0), count, interval, "GB-ENG", TZ)


def test_the_largest_series_is_accepted():
    assert len(series_dates(datetime(2027, 1, 5, 18, 0), 200, 365, "GB-ENG", TZ)) == 200
