"""What intake accepts: a real date of birth, a start date that can be planned, and an
email address that mail can be delivered to."""

from __future__ import annotations

from datetime import date, timedelta

from email_validator import EmailNotValidError, validate_email

from diversion.domain.dates import format_date
from diversion.domain.errors import RuleViolation
from diversion.domain.programme import add_months

ADULT_AGE = 18
EARLIEST_BIRTH = date(1900, 1, 1)

# An enrolment starts when the agreement is signed: it may be recorded a little late,
# or planned ahead, but a start years away is a typing mistake, and planning would
# book it into sessions that fall long before it.
START_DAYS_BACK = 30
START_MONTHS_AHEAD = 6

# Reserved for tests and demonstrations (RFC 2606); never a real mailbox.
TEST_DOMAIN = "test"


def date_of_birth_problem(born: date, today: date) -> str | None:
    """Say what is wrong with a date of birth, or None if it could be real."""
    if born >= today:
        return "Enter a date of birth in the past"
    if born < EARLIEST_BIRTH:
        return f"Enter a date of birth after {format_date(EARLIEST_BIRTH)}"
    return None


def age_on(born: date, day: date) -> int:
    """Return someone's age in whole years on a day (a 29 February birthday counts
    from 1 March in other years)."""
    had_birthday = (day.month, day.day) >= (born.month, born.day)
    return day.year - born.year - (0 if had_birthday else 1)


def start_date_range(today: date) -> tuple[date, date]:
    """Return the earliest and latest start date an enrolment recorded today may have."""
    return today - timedelta(days=START_DAYS_BACK), add_months(today, START_MONTHS_AHEAD)


def check_start_date(start: date, today: date) -> None:
    """Refuse a start date more than 30 days back or more than 6 months ahead."""
    earliest, latest = start_date_range(today)
    if not earliest <= start <= latest:
        raise RuleViolation(
            "start_date_out_of_range",
            f"The start date must be between {format_date(earliest)} and "
            f"{format_date(latest)}",
            field="start_date",
        )


def email_problem(address: str, *, allow_test_domain: bool = False) -> str | None:
    """Say why mail could not be delivered to this address, or None if it could.

    Plain ASCII addresses only (no quoted local part, no IP literal, no address that
    needs SMTPUTF8): what the outbox's SMTP delivery and an iCalendar ATTENDEE take.
    The ``.test`` domain is allowed where ``allow_test_domain`` says so (demo data).
    """
    message = "Enter an email address in the correct format, like name@example.com"
    if not address.isascii() or any(ch.isspace() or ord(ch) < 32 for ch in address):
        return message
    domain = address.rpartition("@")[2].lower().rstrip(".")
    testing = allow_test_domain and domain.endswith("." + TEST_DOMAIN)
    try:
        validate_email(
            address,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            test_environment=testing,
        )
    except EmailNotValidError:
        return message
    return None
