from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from diversion.domain.errors import RuleViolation
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules
from diversion.domain.progress import (
    check_attendance,
    check_outcome,
    derive_progress,
    status_after,
)

from .builders import START, attended_core, day, make_booking, make_enrolment

RULES = ProgrammeRules()
FIFTH_ON = START + timedelta(days=35)  # attended_core(): days 7, 14, 21, 28, 35


def test_an_enrolment_with_modules_still_to_attend_is_enrolled():
    progress = derive_progress(RULES, make_enrolment(bookings=attended_core(count=4)))

    assert progress.status == "enrolled"
    assert progress.core_completed_on is None
    assert progress.follow_up_due is None
    assert progress.follow_up_window is None


def test_five_attended_modules_make_the_follow_up_due_eight_months_after_the_fifth():
    progress = derive_progress(RULES, make_enrolment(bookings=attended_core()))

    assert progress.status == "awaiting_follow_up"
    assert progress.core_completed_on == FIFTH_ON == date(2026, 12, 7)
    assert progress.follow_up_due == date(2027, 8, 7)
    assert progress.follow_up_window == (date(2027, 7, 24), date(2027, 8, 21))


def test_the_core_is_completed_on_the_latest_attended_module_whatever_its_number():
    bookings = attended_core()
    bookings[2] = replace(bookings[2], starts_at=day(60))
    progress = derive_progress(RULES, make_enrolment(bookings=bookings))

    assert progress.core_completed_on == START + timedelta(days=60)


def test_the_completion_date_is_the_london_date_of_the_session():
    bookings = attended_core()
    bookings[4] = replace(bookings[4], starts_at=datetime(2027, 6, 30, 23, 30, tzinfo=UTC))
    progress = derive_progress(RULES, make_enrolment(bookings=bookings))

    assert progress.core_completed_on == date(2027, 7, 1)


def test_an_attended_follow_up_completes_the_enrolment():
    follow_up = make_booking(id=9, module=FOLLOW_UP, starts_at=day(280), status="attended")
    enrolment = make_enrolment(status="awaiting_follow_up", bookings=[*attended_core(), follow_up])

    assert derive_progress(RULES, enrolment).status == "completed"


def test_a_follow_up_only_booked_leaves_the_enrolment_awaiting_it():
    follow_up = make_booking(id=9, module=FOLLOW_UP, starts_at=day(280), status="booked")
    enrolment = make_enrolment(status="awaiting_follow_up", bookings=[*attended_core(), follow_up])

    assert derive_progress(RULES, enrolment).status == "awaiting_follow_up"


def test_a_corrected_attendance_record_moves_the_status_back():
    corrected = attended_core()
    corrected[4] = replace(corrected[4], status="absent_excused")
    enrolment = make_enrolment(status="awaiting_follow_up", bookings=corrected)

    assert derive_progress(RULES, enrolment).status == "enrolled"


@pytest.mark.parametrize("status", ["referred", "withdrawn"])
def test_a_closed_enrolment_keeps_its_status(status):
    assert derive_progress(RULES, make_enrolment(status=status)).status == status
    progress = derive_progress(RULES, make_enrolment(status=status, bookings=attended_core()))
    assert progress.status == status
    assert progress.core_completed_on == FIFTH_ON


@pytest.mark.parametrize(("decision", "closed_as"),
                         [("refer", "referred"), ("withdraw", "withdrawn")])
@pytest.mark.parametrize("status", ["enrolled", "awaiting_follow_up"])
def test_a_referral_or_a_withdrawal_closes_the_enrolment_whatever_its_stage(
        decision, closed_as, status):
    assert status_after(decision, status) == closed_as


@pytest.mark.parametrize("status", ["enrolled", "awaiting_follow_up"])
def test_a_decision_to_continue_leaves_the_enrolment_where_it_stands(status):
    assert status_after("continue", status) == status


def test_an_extension_moves_only_the_closing_day_of_the_follow_up_window():
    progress = derive_progress(
        RULES, make_enrolment(bookings=attended_core()), follow_up_extension_days=10
    )

    assert progress.follow_up_due == date(2027, 8, 7)
    assert progress.follow_up_window == (date(2027, 7, 24), date(2027, 8, 31))


def test_attendance_may_not_be_recorded_before_the_session_starts():
    starts = datetime(2027, 3, 4, 18, 0, tzinfo=UTC)
    with pytest.raises(RuleViolation) as caught:
        check_attendance(starts, starts - timedelta(seconds=1))
    assert caught.value.code == "attendance_before_start"


def test_attendance_may_be_recorded_from_the_moment_the_session_starts():
    starts = datetime(2027, 3, 4, 18, 0, tzinfo=UTC)
    check_attendance(starts, starts)
    check_attendance(starts, starts + timedelta(days=3))


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_an_excused_absence_needs_a_reason(reason):
    with pytest.raises(RuleViolation) as caught:
        check_outcome("absent_excused", reason)
    assert (caught.value.code, caught.value.field) == ("reason_required", "reason")


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [("absent_excused", "In hospital"), ("attended", None), ("absent_unexcused", None)],
)
def test_the_known_outcomes_are_accepted(outcome, reason):
    check_outcome(outcome, reason)


def test_an_unknown_outcome_is_refused():
    with pytest.raises(RuleViolation) as caught:
        check_outcome("late", None)
    assert caught.value.field == "outcome"


def test_correcting_an_outcome_without_a_reason_is_refused():
    with pytest.raises(RuleViolation) as refused:
        check_outcome("attended", None, recorded="absent_unexcused")
    assert refused.value.code == "reason_required"
    assert refused.value.field == "reason"


def test_recording_the_same_outcome_again_or_a_first_outcome_needs_no_reason():
    check_outcome("attended", None, recorded="attended")
    check_outcome("attended", None, recorded="booked")
    check_outcome("absent_unexcused", None)


def test_a_correction_with_its_reason_is_accepted():
    check_outcome("attended", "Register was taken against the wrong name",
                  recorded="absent_unexcused")
