"""After an unexcused absence: what the participant is told, and by when they must rebook.

An unexcused absence leaves its module to be attended again before the core deadline
(the follow-up: before its window closes). The participant is sent a notice at once,
and the case officer may print a warning letter to hand over in person; both say the
day by which the missed module must be attended again.
"""

from __future__ import annotations

from datetime import date, timedelta

from diversion.domain.booking import BookingFacts, EnrolmentFacts, attended_modules
from diversion.domain.dates import format_date
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules
from diversion.domain.vocabulary import OPEN_ENROLMENT, BookingStatus


def still_to_make_up(enrolment: EnrolmentFacts, absence: BookingFacts) -> bool:
    """Tell whether an absence still calls for the participant to rebook its module.

    Only an unexcused absence does, on an enrolment still open, while its module has
    not been attended in another session: a correction, a module made up or a closed
    enrolment leaves nothing to tell the participant.
    """
    return (enrolment.status in OPEN_ENROLMENT
            and absence.status == BookingStatus.ABSENT_UNEXCUSED
            and absence.module not in attended_modules(enrolment))


def latest_to_make_up(enrolment: EnrolmentFacts) -> BookingFacts | None:
    """Return the latest unexcused absence still to make up: what a warning letter is about."""
    return max((b for b in enrolment.bookings if still_to_make_up(enrolment, b)),
               key=lambda b: (b.starts_at, b.id), default=None)


def latest_unexcused(enrolment: EnrolmentFacts) -> BookingFacts | None:
    """Return the latest unexcused absence, made up or not: what a letter handed over was about."""
    return max((b for b in enrolment.bookings if b.status == BookingStatus.ABSENT_UNEXCUSED),
               key=lambda b: (b.starts_at, b.id), default=None)


def handover_problem(handed_over_on: date, missed_on: date, today: date) -> str | None:
    """Say what is wrong with the day a letter was handed over, or None if it could be so.

    A letter about a missed session is handed over after it was missed, and the day
    recorded has happened.
    """
    if handed_over_on > today:
        return "The date the letter was handed over must be today or in the past"
    if handed_over_on < missed_on:
        return ("The date the letter was handed over must be on or after the missed "
                f"appointment, {format_date(missed_on)}")
    return None


def rebook_by(rules: ProgrammeRules, enrolment: EnrolmentFacts, module: int,
              today: date) -> date | None:
    """Return the last day the missed module can be attended again, or None if none is left.

    A missed follow-up must be attended before its window closes. A missed core module
    must be attended early enough that the core modules that must come after it (the
    later modules still to attend, where modules are taken in order) fit before the
    core deadline at the programme's spacing. A day that is not after today is no day
    to rebook by: the participant is then asked to call as soon as they can, and the
    flags tell the case officer.
    """
    if module == FOLLOW_UP:
        latest = enrolment.follow_up_window[1] if enrolment.follow_up_window else None
    else:
        attended = attended_modules(enrolment)
        after = [m for m in rules.core_module_numbers
                 if m > module and m not in attended] if rules.modules_in_order else []
        latest = enrolment.core_deadline - timedelta(
            days=rules.min_days_between_sessions * len(after))
    return latest if latest is not None and latest > today else None
