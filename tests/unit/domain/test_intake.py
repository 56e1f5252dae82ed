from datetime import date

import pytest

from diversion.domain.dates import days_after, session_day_problem
from diversion.domain.errors import RuleViolation
from diversion.domain.intake import (
    age_on,
    check_start_date,
    date_of_birth_problem,
    email_problem,
    start_date_range,
)
from diversion.domain.text import has_unusable_characters, without_unusable_characters

TODAY = date(2027, 1, 4)


@pytest.mark.parametrize("born", [date(2030, 1, 1), date(9999, 12, 31), TODAY])
def test_a_date_of_birth_today_or_later_is_refused(born):
    assert date_of_birth_problem(born, TODAY) == "Enter a date of birth in the past"


def test_a_date_of_birth_before_1900_is_refused_and_a_real_one_is_accepted():
    assert date_of_birth_problem(date(1, 1, 1), TODAY) == (
        "Enter a date of birth after 1 January 1900")
    assert date_of_birth_problem(date(1990, 4, 2), TODAY) is None


def test_age_counts_whole_years_and_a_birthday_makes_the_next_year():
    assert age_on(date(2009, 1, 4), TODAY) == 18
    assert age_on(date(2009, 1, 5), TODAY) == 17
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


@pytest.mark.parametrize("start", [date(2026, 12, 5), TODAY, date(2027, 7, 4)])
def test_a_start_date_within_30_days_back_and_6_months_ahead_is_accepted(start):
    check_start_date(start, TODAY)


@pytest.mark.parametrize(
    "start", [date(1, 1, 1), date(1900, 1, 1), date(2026, 12, 4), date(2027, 7, 5),
              date(2100, 1, 1), date(9999, 9, 30)])
def test_a_start_date_outside_the_range_is_refused_with_the_range_in_words(start):
    with pytest.raises(RuleViolation) as refused:
        check_start_date(start, TODAY)
    assert refused.value.code == "start_date_out_of_range"
    assert refused.value.field == "start_date"
    assert refused.value.status == 422
    assert "5 December 2026 and 4 July 2027" in refused.value.message
    assert start_date_range(TODAY) == (date(2026, 12, 5), date(2027, 7, 4))


@pytest.mark.parametrize("address", ["sam@example.com", "first.last+tag@example.gov.uk",
                                     "o'brien@example.co.uk"])
def test_an_ordinary_address_is_deliverable(address):
    assert email_problem(address) is None


@pytest.mark.parametrize("address", [
    '"x"@example.com', '"a b"@example.com', "x@[127.0.0.1]", "Sam <sam@example.com>",
    "sam@localhost", "sam@example", "zoë@example.com", "sam@exam ple.com", "sam@@example.com",
    "sam@example.com\x00", "sam@example.invalid", ".sam@example.com", "sam@example..com",
])
def test_an_address_that_smtp_delivery_would_refuse_is_refused(address):
    assert email_problem(address) == (
        "Enter an email address in the correct format, like name@example.com")


def test_the_test_domain_is_accepted_only_where_allowed():
    assert email_problem("sam@example.test") is not None
    assert email_problem("sam@example.test", allow_test_domain=True) is None
    assert email_problem("sam@test", allow_test_domain=True) is not None


def test_nul_bytes_and_lone_surrogates_are_unusable_but_emoji_and_line_breaks_are_not():
    assert has_unusable_characters("V\x00")
    assert has_unusable_characters("V\ud800")
    assert has_unusable_characters("\udc00V")
    assert not has_unusable_characters("Hall 😀\r\nRoom 1\t")
    assert without_unusable_characters("Sa\x00m\ud800") == "Sam"


def test_session_days_lie_between_2000_and_2100():
    assert session_day_problem(date(2000, 1, 1)) is None
    assert session_day_problem(date(2100, 12, 31)) is None
    assert session_day_problem(date(9999, 12, 31)) == (
        "Enter a date between 1 January 2000 and 31 December 2100")
    assert session_day_problem(date(1999, 12, 31)) is not None


def test_days_after_the_last_day_of_9999_are_none_not_an_overflow():
    assert days_after(date(9999, 12, 1), 30) == date(9999, 12, 31)
    assert days_after(date(9999, 12, 1), 31) is None
