from datetime import UTC, date, datetime, time, timedelta

import pytest

from diversion.domain.dates import (
    format_date,
    format_day,
    format_month,
    format_short_month,
    format_time,
    format_weekday_date,
)
from diversion.domain.vocabulary import LONDON


def test_dates_are_written_in_words():
    assert format_date(date(2027, 3, 4)) == "4 March 2027"
    assert format_date(date(2027, 2, 28)) == "28 February 2027"


def test_a_date_with_its_weekday_names_the_day_first():
    assert format_weekday_date(date(2027, 1, 5)) == "Tuesday 5 January 2027"
    assert format_weekday_date(datetime(2027, 3, 28, 18, 30, tzinfo=UTC)) == (
        "Sunday 28 March 2027"
    )


def test_a_day_without_its_year_is_weekday_day_and_month():
    assert format_day(date(2027, 4, 6)) == "Tuesday 6 April"


def test_every_weekday_and_month_has_its_english_name():
    week = [format_day(date(2027, 1, 4) + timedelta(days=n)).split()[0] for n in range(7)]
    assert week == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                    "Sunday"]
    months = [format_month(date(2027, m, 1)) for m in range(1, 13)]
    assert months == [f"{name} 2027" for name in (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December")]


def test_a_chart_axis_gets_three_letter_months():
    assert [format_short_month(date(2027, m, 1)) for m in (1, 5, 6, 9, 12)] == [
        "Jan", "May", "Jun", "Sep", "Dec"]


@pytest.mark.parametrize(("hour", "minute", "said"), [
    (0, 0, "12am"), (9, 5, "9:05am"), (11, 59, "11:59am"), (12, 0, "12pm"), (18, 0, "6pm"),
    (19, 30, "7:30pm")])
def test_times_follow_gov_uk_style(hour, minute, said):
    assert format_time(time(hour, minute)) == said
    assert format_time(datetime(2027, 1, 5, hour, minute, tzinfo=UTC)) == said


# A Welsh-speaking participant's dates: Babel's Welsh (CLDR) names and 24-hour clock.


def test_a_welsh_date_names_the_weekday_and_month_in_welsh():
    assert format_weekday_date(date(2027, 3, 4), "cy") == "Dydd Iau 4 Mawrth 2027"
    assert format_day(date(2027, 1, 5), "cy") == "Dydd Mawrth 5 Ionawr"


def test_every_weekday_and_month_has_its_welsh_name():
    week = [format_day(date(2027, 1, 4) + timedelta(days=n), "cy").rsplit(" ", 2)[0]
            for n in range(7)]
    assert week == ["Dydd Llun", "Dydd Mawrth", "Dydd Mercher", "Dydd Iau", "Dydd Gwener",
                    "Dydd Sadwrn", "Dydd Sul"]
    months = [format_day(date(2027, m, 1), "cy").rsplit(" ", 1)[1] for m in range(1, 13)]
    assert months == ["Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin",
                      "Gorffennaf", "Awst", "Medi", "Hydref", "Tachwedd", "Rhagfyr"]


def test_a_welsh_time_is_on_the_24_hour_clock_of_the_value_given():
    assert format_time(time(18, 0), "cy") == "18:00"
    assert format_time(time(9, 5), "cy") == "09:05"
    summer = datetime(2027, 7, 6, 18, 30, tzinfo=LONDON)
    assert format_time(summer, "cy") == "18:30"


def test_english_stays_in_the_services_own_words_whatever_else_is_asked_for():
    assert format_weekday_date(date(2027, 3, 4), "en") == "Thursday 4 March 2027"
    assert format_time(time(18, 30), "en") == "6:30pm"
