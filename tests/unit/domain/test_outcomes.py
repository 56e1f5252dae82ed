from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diversion.domain.outcomes import (
    InvalidPeriod,
    Outcomes,
    check_period,
    default_period,
    months_between,
    total,
)


def test_the_completion_rate_is_completed_over_every_enrolment_closed():
    outcomes = Outcomes(in_progress=7, completed=6, referred=3, withdrawn=1)
    assert outcomes.completion_rate == 6 / 10
    assert outcomes.enrolled == 17


def test_no_completion_rate_is_given_while_none_has_closed():
    assert Outcomes(in_progress=5).completion_rate is None
    assert Outcomes().completion_rate is None


def test_enrolled_and_awaiting_follow_up_both_count_as_in_progress():
    outcomes = Outcomes.from_statuses({"enrolled": 4, "awaiting_follow_up": 2, "completed": 3,
                                       "referred": 1, "withdrawn": 2})
    assert outcomes == Outcomes(in_progress=6, completed=3, referred=1, withdrawn=2)


def test_outcomes_of_several_forces_add_up():
    assert total([Outcomes(1, 2, 3, 4), Outcomes(10, 20, 30, 40)]) == Outcomes(11, 22, 33, 44)


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_every_enrolment_is_in_progress_or_closed_and_the_rate_is_a_share(a, b, c, d):
    outcomes = Outcomes(a, b, c, d)
    assert outcomes.enrolled == outcomes.in_progress + outcomes.closed
    rate = outcomes.completion_rate
    assert rate is None if outcomes.closed == 0 else 0 <= rate <= 1


def test_the_months_of_a_period_run_across_the_new_year():
    assert months_between(date(2026, 11, 20), date(2027, 2, 1)) == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]


def test_without_dates_the_report_covers_this_month_and_the_eleven_before():
    assert default_period(date(2027, 1, 15)) == (date(2026, 2, 1), date(2027, 1, 15))


def test_a_period_of_one_day_is_a_period():
    check_period(date(2027, 1, 4), date(2027, 1, 4))


def test_a_period_that_ends_before_it_starts_is_refused_on_its_end():
    with pytest.raises(InvalidPeriod) as refused:
        check_period(date(2027, 2, 1), date(2027, 1, 31))
    assert refused.value.field == "to"


@pytest.mark.parametrize(("start", "end", "field"), [
    (date(1999, 12, 31), date(2027, 1, 1), "from"),
    (date(2027, 1, 1), date(2101, 1, 1), "to"),
])
def test_dates_outside_2000_to_2100_are_refused(start, end, field):
    with pytest.raises(InvalidPeriod) as refused:
        check_period(start, end)
    assert refused.value.field == field
