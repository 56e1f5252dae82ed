"""When each kind of record is due for erasure: whole calendar months elapsed, in UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from diversion.domain.retention import (
    AUDIT_FLOOR_MONTHS,
    RecordType,
    RetentionSchedule,
    audit_cutoff,
    cutoff,
    longest,
)

DEFAULTS = RetentionSchedule()
NOW = datetime(2027, 3, 31, 2, 30, tzinfo=UTC)


def test_the_defaults_keep_screenings_and_messages_a_year_enrolments_six_and_audit_seven():
    assert [DEFAULTS.months(record) for record in RecordType] == [12, 72, 12, 84]


@pytest.mark.parametrize("record, since, due", [
    (RecordType.INELIGIBLE_SCREENING, datetime(2026, 3, 31, 2, 30, tzinfo=UTC), True),
    (RecordType.INELIGIBLE_SCREENING, datetime(2026, 3, 31, 2, 31, tzinfo=UTC), False),
    (RecordType.CLOSED_ENROLMENT, datetime(2021, 3, 31, 2, 30, tzinfo=UTC), True),
    (RecordType.CLOSED_ENROLMENT, datetime(2021, 4, 1, tzinfo=UTC), False),
    (RecordType.MESSAGE_BODY, datetime(2026, 3, 30, tzinfo=UTC), True),
    (RecordType.MESSAGE_BODY, datetime(2026, 4, 30, tzinfo=UTC), False),
    (RecordType.AUDIT_ROW, datetime(2020, 3, 31, 2, 30, tzinfo=UTC), True),
    (RecordType.AUDIT_ROW, datetime(2020, 3, 31, 2, 30, 1, tzinfo=UTC), False),
])
def test_a_record_is_due_once_its_whole_period_has_elapsed(record, since, due):
    assert DEFAULTS.is_due(record, since, NOW) is due


def test_a_month_back_from_the_31st_lands_on_the_last_day_of_a_shorter_month():
    assert cutoff(1, NOW) == datetime(2027, 2, 28, 2, 30, tzinfo=UTC)
    assert cutoff(13, NOW) == datetime(2026, 2, 28, 2, 30, tzinfo=UTC)


def test_instants_in_another_offset_are_compared_in_utc():
    london_summer = timezone(timedelta(hours=1))
    # 03:30 at +01:00 is 02:30 UTC: exactly a year before, so due.
    since = datetime(2026, 3, 31, 3, 30, tzinfo=london_summer)
    assert DEFAULTS.is_due(RecordType.INELIGIBLE_SCREENING, since, NOW)
    assert cutoff(12, NOW.astimezone(london_summer)).tzinfo == UTC


def test_naive_times_and_periods_under_a_month_are_refused():
    with pytest.raises(ValueError):
        DEFAULTS.is_due(RecordType.MESSAGE_BODY, datetime(2020, 1, 1), NOW)
    with pytest.raises(ValueError):
        cutoff(0, NOW)


def test_a_programme_shorter_on_one_record_type_changes_only_that_type():
    schedule = RetentionSchedule(retention_message_months=1)
    since = datetime(2027, 2, 28, tzinfo=UTC)
    assert schedule.is_due(RecordType.MESSAGE_BODY, since, NOW)
    assert not schedule.is_due(RecordType.INELIGIBLE_SCREENING, since, NOW)


def test_a_record_of_no_programme_is_kept_for_the_longest_period_any_programme_sets():
    schedules = [RetentionSchedule(retention_ineligible_months=6),
                 RetentionSchedule(retention_ineligible_months=18)]
    assert longest(schedules, RecordType.INELIGIBLE_SCREENING) == 18
    assert longest([], RecordType.INELIGIBLE_SCREENING) == 12


def test_the_audit_trail_is_kept_for_the_longest_period_and_never_less_than_the_floor():
    schedules = [RetentionSchedule(retention_audit_months=84),
                 RetentionSchedule(retention_audit_months=120)]
    assert audit_cutoff(schedules, NOW) == datetime(2017, 3, 31, 2, 30, tzinfo=UTC)
    below = [RetentionSchedule(retention_audit_months=1)]
    assert audit_cutoff(below, NOW) == cutoff(AUDIT_FLOOR_MONTHS, NOW)
