"""After an unexcused absence: the day by which to rebook, and which absence a letter is about."""

from __future__ import annotations

from datetime import date

from diversion.domain.notices import (
    handover_problem,
    latest_to_make_up,
    latest_unexcused,
    rebook_by,
    still_to_make_up,
)
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules
from tests.unit.domain.builders import DEADLINE, day, make_booking, make_enrolment

RULES = ProgrammeRules()
TODAY = date(2026, 11, 17)


def missed(module: int = 2, *, id: int = 102, on: int = 14, status: str = "absent_unexcused"):
    return make_booking(id=id, module=module, starts_at=day(on), status=status)


def attended(module: int, on: int):
    return make_booking(id=100 + module, module=module, starts_at=day(on), status="attended")


def test_a_missed_module_must_leave_room_for_the_later_modules_before_the_deadline():
    enrolment = make_enrolment(bookings=[attended(1, 7), missed(2)])
    # Modules 3, 4 and 5 still follow module 2, each at least 7 days after the one before.
    assert rebook_by(RULES, enrolment, 2, TODAY) == date(2027, 2, 9)
    assert DEADLINE == date(2027, 3, 2)


def test_the_last_module_missed_may_be_made_up_on_the_core_deadline_itself():
    enrolment = make_enrolment(bookings=[*(attended(m, 7 * m) for m in (1, 2, 3, 4)),
                                         missed(5, id=105, on=35)])
    assert rebook_by(RULES, enrolment, 5, TODAY) == DEADLINE


def test_later_modules_already_attended_need_no_room_kept():
    rules = ProgrammeRules(modules_in_order=False)
    enrolment = make_enrolment(bookings=[attended(1, 7), attended(4, 14), attended(5, 21),
                                         missed(2, on=28)])
    # Only module 3 is still to attend after module 2.
    assert rebook_by(RULES, enrolment, 2, TODAY) == date(2027, 2, 23)
    assert rebook_by(rules, enrolment, 2, TODAY) == DEADLINE


def test_in_any_order_the_missed_module_can_be_the_last_one_taken():
    rules = ProgrammeRules(modules_in_order=False)
    enrolment = make_enrolment(bookings=[attended(1, 7), missed(2)])
    assert rebook_by(rules, enrolment, 2, TODAY) == DEADLINE


def test_the_spacing_setting_sets_the_room_kept_for_each_later_module():
    rules = ProgrammeRules(min_days_between_sessions=14)
    enrolment = make_enrolment(bookings=[attended(1, 7), missed(2)])
    assert rebook_by(rules, enrolment, 2, TODAY) == date(2027, 1, 19)


def test_an_extended_deadline_moves_the_day_by_which_to_rebook():
    enrolment = make_enrolment(core_deadline=date(2027, 3, 16),
                               bookings=[attended(1, 7), missed(2)])
    assert rebook_by(RULES, enrolment, 2, TODAY) == date(2027, 2, 23)


def test_a_missed_follow_up_must_be_made_up_before_its_window_closes():
    window = (date(2027, 10, 1), date(2027, 10, 29))
    enrolment = make_enrolment(status="awaiting_follow_up", follow_up_window=window,
                               bookings=[missed(FOLLOW_UP, on=330)])
    assert rebook_by(RULES, enrolment, FOLLOW_UP, date(2027, 10, 5)) == date(2027, 10, 29)


def test_no_day_is_given_once_there_is_no_day_left_after_today():
    enrolment = make_enrolment(bookings=[attended(1, 7), missed(2)])
    assert rebook_by(RULES, enrolment, 2, date(2027, 2, 9)) is None
    assert rebook_by(RULES, enrolment, 2, date(2027, 2, 8)) == date(2027, 2, 9)
    window = (date(2027, 10, 1), date(2027, 10, 29))
    follow_up = make_enrolment(status="awaiting_follow_up", follow_up_window=window)
    assert rebook_by(RULES, follow_up, FOLLOW_UP, date(2027, 10, 29)) is None


def test_only_an_unexcused_absence_of_an_open_enrolment_not_made_up_is_still_to_make_up():
    absence = missed(2)
    assert still_to_make_up(make_enrolment(bookings=[absence]), absence)
    for status in ("absent_excused", "attended", "booked", "cancelled"):
        other = missed(2, status=status)
        assert not still_to_make_up(make_enrolment(bookings=[other]), other), status
    for closed in ("referred", "withdrawn", "completed"):
        assert not still_to_make_up(make_enrolment(status=closed, bookings=[absence]), absence)
    made_up = make_enrolment(bookings=[absence, attended(2, 21)])
    assert not still_to_make_up(made_up, absence)


def test_the_letter_is_about_the_latest_absence_still_to_make_up():
    first, second = missed(2, id=102, on=14), missed(3, id=103, on=28)
    enrolment = make_enrolment(bookings=[attended(1, 7), first, attended(2, 21), second])
    assert latest_to_make_up(enrolment) == second
    assert latest_to_make_up(make_enrolment(bookings=[attended(1, 7), first, attended(2, 21)])) \
        is None
    excused = missed(3, id=104, on=35, status="absent_excused")
    assert latest_to_make_up(make_enrolment(bookings=[first, excused])) == first


def test_a_handover_is_recorded_for_the_latest_unexcused_absence_even_once_made_up():
    first, second = missed(2, id=102, on=14), missed(3, id=103, on=28)
    enrolment = make_enrolment(status="referred",
                               bookings=[first, attended(2, 21), second, attended(3, 35)])
    assert latest_unexcused(enrolment) == second
    assert latest_unexcused(make_enrolment(bookings=[attended(1, 7)])) is None


def test_a_letter_is_handed_over_between_the_missed_day_and_today():
    missed_on, today = date(2027, 1, 12), date(2027, 1, 20)
    assert handover_problem(missed_on, missed_on, today) is None
    assert handover_problem(today, missed_on, today) is None
    assert handover_problem(date(2027, 1, 21), missed_on, today) == (
        "The date the letter was handed over must be today or in the past")
    assert handover_problem(date(2027, 1, 11), missed_on, today) == (
        "The date the letter was handed over must be on or after the missed appointment, "
        "12 January 2027")
