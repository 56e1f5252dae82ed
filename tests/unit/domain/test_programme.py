from datetime import UTC, date, datetime

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from diversion.domain.programme import ProgrammeRules, add_months

RULES = ProgrammeRules()


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        (date(2026, 10, 31), date(2027, 2, 28)),
        (date(2027, 10, 31), date(2028, 2, 29)),
        # The day is kept when the target month has it: 30 September gives 30 January.
        (date(2026, 9, 30), date(2027, 1, 30)),
        (date(2026, 8, 31), date(2026, 12, 31)),
        (date(2028, 2, 29), date(2028, 6, 29)),
        (date(2026, 11, 2), date(2027, 3, 2)),
    ],
)
def test_the_core_deadline_is_four_calendar_months_clamped_to_month_end(start, deadline):
    assert RULES.core_deadline(start) == deadline


def test_the_follow_up_is_due_eight_calendar_months_after_the_last_core_module():
    assert RULES.follow_up_due(date(2027, 6, 30)) == date(2028, 2, 29)
    assert RULES.follow_up_due(date(2027, 3, 4)) == date(2027, 11, 4)


def test_the_follow_up_window_spans_the_configured_days_either_side_inclusive():
    assert RULES.follow_up_window(date(2027, 11, 4)) == (date(2027, 10, 21), date(2027, 11, 18))
    assert ProgrammeRules(follow_up_window_days=0).follow_up_window(date(2027, 11, 4)) == (
        date(2027, 11, 4),
        date(2027, 11, 4),
    )


def test_a_programme_with_other_settings_uses_them_for_its_deadlines():
    rules = ProgrammeRules(core_months=6, follow_up_months=12)
    assert rules.core_deadline(date(2026, 8, 31)) == date(2027, 2, 28)
    assert rules.follow_up_due(date(2027, 2, 28)) == date(2028, 2, 28)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31)), st.integers(0, 120))
def test_adding_months_matches_relativedelta_and_never_leaves_the_target_month(d, months):
    result = add_months(d, months)
    assert result == d + relativedelta(months=months)
    target = (d.year * 12 + d.month - 1) + months
    assert (result.year, result.month - 1) == divmod(target, 12)
    next_month_first = date(result.year + result.month // 12, result.month % 12 + 1, 1)
    days_in_month = (next_month_first - date(result.year, result.month, 1)).days
    assert result.day == min(d.day, days_in_month)


def test_the_local_date_of_a_late_summer_evening_session_is_the_london_date():
    late = datetime(2027, 7, 1, 23, 30, tzinfo=UTC)
    assert RULES.local_date(late) == date(2027, 7, 2)
    assert RULES.local_date(datetime(2027, 1, 1, 23, 30, tzinfo=UTC)) == date(2027, 1, 1)


def test_a_naive_date_time_is_refused_rather_than_guessed():
    with pytest.raises(ValueError):
        RULES.local_date(datetime(2027, 7, 1, 23, 30))


def test_a_programme_runs_in_london_time():
    assert ProgrammeRules().tz.key == "Europe/London"
    assert ProgrammeRules(timezone="Europe/London").tz.key == "Europe/London"


@pytest.mark.parametrize(
    "timezone", ["Europe/Dublin", "America/New_York", "UTC", "GMT", "europe/london", ""]
)
def test_a_programme_in_any_other_time_zone_is_refused(timezone):
    with pytest.raises(ValueError, match="time zone must be Europe/London"):
        ProgrammeRules(timezone=timezone)


@pytest.mark.parametrize(
    "settings",
    [{"core_modules": 0}, {"min_days_between_sessions": -1}, {"timezone": "Mars/Olympus"}],
)
def test_nonsense_programme_settings_are_refused(settings):
    with pytest.raises(ValueError):
        ProgrammeRules(**settings)


def test_a_local_day_ends_at_the_next_local_midnight_whatever_the_clock_change():
    assert RULES.day_ends(date(2027, 3, 27)) == datetime(2027, 3, 28, 0, 0, tzinfo=UTC)
    # 28 March 2027 is the day the clocks go forward: it ends at 23:00 UTC.
    assert RULES.day_ends(date(2027, 3, 28)) == datetime(2027, 3, 28, 23, 0, tzinfo=UTC)


def test_an_enrolment_keeps_its_own_terms_whatever_the_programme_says_now():
    enrolled_under = ProgrammeRules().terms
    changed_since = ProgrammeRules(core_months=6, follow_up_months=12, follow_up_window_days=3,
                                   min_days_between_sessions=14)
    rules = changed_since.under(enrolled_under)
    assert rules.core_deadline(date(2027, 1, 4)) == date(2027, 5, 4)
    assert rules.follow_up_window(rules.follow_up_due(date(2027, 3, 4))) == (
        date(2027, 10, 21), date(2027, 11, 18))
    # Spacing is not a term: it is whatever the programme says at the time of booking.
    assert rules.min_days_between_sessions == 14


def test_the_terms_of_an_enrolment_made_today_are_the_programmes_deadline_settings():
    terms = ProgrammeRules(core_months=6, follow_up_months=10, follow_up_window_days=7).terms
    assert (terms.core_months, terms.follow_up_months, terms.follow_up_window_days) == (6, 10, 7)
