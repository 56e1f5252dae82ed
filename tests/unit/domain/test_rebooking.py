"""Re-planning after a change: who a move breaks, and the plan that puts them right."""

import pytest

from diversion.domain.errors import RuleViolation
from diversion.domain.programme import ProgrammeRules
from diversion.domain.rebooking import breach_if_moved, replan

from .builders import NOW, day, make_booking, make_enrolment, make_session

RULES = ProgrammeRules()


def test_a_move_one_day_after_the_previous_module_breaks_the_spacing():
    enrolment = make_enrolment(bookings=[
        make_booking(id=9, module=1, starts_at=day(0)),
        make_booking(id=1, module=2, starts_at=day(7)),
        make_booking(id=2, module=3, starts_at=day(14), session_id=30),
    ])
    moved = make_session(id=30, module=3, starts_at=day(8), booked=6, capacity=6)

    breach = breach_if_moved(RULES, enrolment, 2, moved, NOW)

    assert breach is not None and breach.code == "spacing"


def test_a_move_that_keeps_the_spacing_breaks_nothing_even_in_a_full_session():
    enrolment = make_enrolment(bookings=[
        make_booking(id=9, module=1, starts_at=day(0)),
        make_booking(id=1, module=2, starts_at=day(7)),
        make_booking(id=2, module=3, starts_at=day(14), session_id=30),
    ])
    moved = make_session(id=30, module=3, starts_at=day(15), booked=6, capacity=6)

    assert breach_if_moved(RULES, enrolment, 2, moved, NOW) is None


def test_a_move_before_the_previous_module_breaks_the_order():
    enrolment = make_enrolment(bookings=[
        make_booking(id=9, module=1, starts_at=day(0)),
        make_booking(id=1, module=2, starts_at=day(14)),
        make_booking(id=2, module=3, starts_at=day(28), session_id=30),
    ])
    moved = make_session(id=30, module=3, starts_at=day(3))

    breach = breach_if_moved(RULES, enrolment, 2, moved, NOW)

    assert breach is not None and breach.code == "module_order"


def test_a_move_past_the_core_deadline_is_found():
    enrolment = make_enrolment(bookings=[make_booking(id=2, module=1, session_id=30)])
    moved = make_session(id=30, module=1, starts_at=day(200))

    breach = breach_if_moved(RULES, enrolment, 2, moved, NOW)

    assert breach is not None and breach.code == "after_deadline"


def test_a_missing_module_is_booked_between_the_bookings_that_are_kept():
    enrolment = make_enrolment(bookings=[
        make_booking(id=1, module=1, starts_at=day(0), status="attended"),
        make_booking(id=2, module=2, starts_at=day(7), status="absent_unexcused"),
        make_booking(id=3, module=3, starts_at=day(28)),
    ])
    sessions = [make_session(id=20, module=2, starts_at=day(14))]

    found = replan(RULES, enrolment, [2], sessions, day(8))

    assert found.release == ()
    assert [s.id for s in found.sessions] == [20]


def test_when_nothing_fits_between_them_the_later_bookings_are_released_and_planned_again():
    # Module 2 was missed; 3, 4 and 5 are booked a week apart straight after it.
    enrolment = make_enrolment(bookings=[
        make_booking(id=1, module=1, starts_at=day(0), status="attended"),
        make_booking(id=2, module=2, starts_at=day(7), status="absent_unexcused"),
        make_booking(id=3, module=3, starts_at=day(14), session_id=30),
        make_booking(id=4, module=4, starts_at=day(21), session_id=40),
        make_booking(id=5, module=5, starts_at=day(28), session_id=50),
    ])
    sessions = [
        make_session(id=21, module=2, starts_at=day(15)),
        make_session(id=30, module=3, starts_at=day(14), booked=1),
        make_session(id=31, module=3, starts_at=day(22)),
        make_session(id=40, module=4, starts_at=day(21), booked=1),
        make_session(id=41, module=4, starts_at=day(29)),
        make_session(id=50, module=5, starts_at=day(28), booked=1),
        make_session(id=51, module=5, starts_at=day(36)),
    ]

    found = replan(RULES, enrolment, [2], sessions, day(8))

    assert found.release == (3, 4, 5)
    assert [(s.module, s.id) for s in found.sessions] == [(2, 21), (3, 31), (4, 41), (5, 51)]


def test_a_released_place_in_a_full_session_can_be_taken_again():
    enrolment = make_enrolment(bookings=[
        make_booking(id=1, module=1, starts_at=day(0), status="attended"),
        make_booking(id=2, module=2, starts_at=day(7), status="absent_unexcused"),
        make_booking(id=3, module=3, starts_at=day(28), session_id=30),
        make_booking(id=4, module=4, starts_at=day(36), session_id=40),
    ])
    sessions = [
        make_session(id=21, module=2, starts_at=day(22)),
        make_session(id=30, module=3, starts_at=day(28), booked=1),
        make_session(id=31, module=3, starts_at=day(29)),
        make_session(id=40, module=4, starts_at=day(36), booked=4, capacity=4),
    ]

    found = replan(RULES, enrolment, [2], sessions, day(8))

    assert found.release == (3, 4)
    assert [s.id for s in found.sessions] == [21, 31, 40]


def test_no_plan_is_refused_in_words_and_nothing_is_released():
    enrolment = make_enrolment(bookings=[
        make_booking(id=2, module=1, starts_at=day(7), status="absent_unexcused"),
    ])

    with pytest.raises(RuleViolation) as refused:
        replan(RULES, enrolment, [1], [], day(8))

    assert refused.value.code == "after_deadline"
    assert "module 1" in refused.value.message.lower()


def test_a_register_never_taken_blocks_the_plan_and_says_which_one():
    enrolment = make_enrolment(bookings=[
        make_booking(id=3, module=3, starts_at=day(7)),
    ])

    with pytest.raises(RuleViolation) as refused:
        replan(RULES, enrolment, [1], [make_session(id=20, module=1, starts_at=day(20))], day(8))

    assert refused.value.code == "register_overdue"
    assert "Record the register for module 3 on 9 November 2026 first" in refused.value.message
