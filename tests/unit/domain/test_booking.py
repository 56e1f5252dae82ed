from datetime import UTC, date, datetime, timedelta

import pytest

from diversion.domain.booking import attended_modules, check_booking, core_complete
from diversion.domain.errors import RuleViolation
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules

from .builders import (
    DEADLINE,
    NOW,
    attended_core,
    day,
    london,
    make_booking,
    make_enrolment,
    make_session,
)

RULES = ProgrammeRules()
ANY_ORDER = ProgrammeRules(modules_in_order=False)
WINDOW = (date(2027, 10, 20), date(2027, 11, 17))


def refusal(enrolment, session, *, rules=RULES, now=NOW) -> str:
    with pytest.raises(RuleViolation) as caught:
        check_booking(rules, enrolment, session, now)
    return caught.value.code


def allowed(enrolment, session, *, rules=RULES, now=NOW) -> bool:
    check_booking(rules, enrolment, session, now)
    return True


def first_modules_booked(upto: int, first_day: int = 7) -> list:
    return [
        make_booking(id=100 + m, module=m, starts_at=day(first_day + 7 * (m - 1)))
        for m in range(1, upto + 1)
    ]


def awaiting_follow_up(**kwargs):
    return make_enrolment(
        status="awaiting_follow_up",
        follow_up_window=kwargs.pop("follow_up_window", WINDOW),
        bookings=kwargs.pop("bookings", attended_core()),
        **kwargs,
    )


class TestEnrolmentAndSession:
    def test_a_fresh_enrolment_may_book_module_one(self):
        assert allowed(make_enrolment(), make_session())

    @pytest.mark.parametrize("status", ["completed", "referred", "withdrawn"])
    def test_a_closed_enrolment_may_not_book(self, status):
        assert refusal(make_enrolment(status=status), make_session()) == "enrolment_closed"

    def test_a_cancelled_session_is_refused(self):
        assert refusal(make_enrolment(), make_session(status="cancelled")) == "session_cancelled"

    def test_a_session_starting_now_is_refused_and_one_a_minute_later_is_not(self):
        assert refusal(make_enrolment(), make_session(starts_at=NOW)) == "session_in_past"
        assert allowed(make_enrolment(), make_session(starts_at=NOW + timedelta(minutes=1)))

    def test_an_attended_module_may_not_be_booked_again(self):
        enrolment = make_enrolment(bookings=[make_booking(module=1, status="attended")])
        assert (
            refusal(enrolment, make_session(id=2, starts_at=day(20))) == "module_already_attended"
        )

    def test_a_module_already_booked_in_another_session_is_refused(self):
        enrolment = make_enrolment(bookings=[make_booking(module=1, session_id=1)])
        assert refusal(enrolment, make_session(id=2, starts_at=day(20))) == "already_booked"

    def test_booking_the_same_session_twice_is_refused(self):
        enrolment = make_enrolment(bookings=[make_booking(module=1, session_id=1)])
        assert refusal(enrolment, make_session(id=1)) == "already_booked"

    @pytest.mark.parametrize("status", ["absent_excused", "absent_unexcused", "cancelled"])
    def test_a_module_missed_or_cancelled_may_be_rebooked(self, status):
        enrolment = make_enrolment(bookings=[make_booking(module=1, status=status)])
        assert allowed(enrolment, make_session(id=2, starts_at=day(8)))

    def test_a_full_session_is_refused_and_the_last_place_is_not(self):
        assert refusal(make_enrolment(), make_session(capacity=10, booked=10)) == "session_full"
        assert allowed(make_enrolment(), make_session(capacity=10, booked=9))


class TestCoreDeadline:
    def test_a_session_on_the_deadline_day_is_allowed(self):
        session = make_session(starts_at=london(DEADLINE))
        assert allowed(make_enrolment(), session, rules=ANY_ORDER)

    def test_a_session_the_day_after_the_deadline_is_refused(self):
        session = make_session(starts_at=london(DEADLINE + timedelta(days=1)))
        assert refusal(make_enrolment(), session, rules=ANY_ORDER) == "after_deadline"

    def test_the_deadline_is_judged_on_the_london_date_not_the_utc_date(self):
        enrolment = make_enrolment(core_deadline=date(2027, 7, 1))
        just_after_midnight_bst = make_session(starts_at=datetime(2027, 7, 1, 23, 30, tzinfo=UTC))
        assert refusal(enrolment, just_after_midnight_bst, rules=ANY_ORDER) == "after_deadline"

    def test_the_refusal_names_the_deadline_in_words(self):
        session = make_session(starts_at=london(DEADLINE + timedelta(days=1)))
        with pytest.raises(RuleViolation) as caught:
            check_booking(ANY_ORDER, make_enrolment(), session, NOW)
        assert "2 March 2027" in caught.value.message
        assert "3 March 2027" in caught.value.message

    def test_an_extended_deadline_allows_a_later_session(self):
        later = DEADLINE + timedelta(days=14)
        session = make_session(starts_at=london(later))
        assert allowed(make_enrolment(core_deadline=later), session, rules=ANY_ORDER)


class TestModuleOrder:
    def test_module_two_before_module_one_is_booked_is_refused(self):
        assert refusal(make_enrolment(), make_session(module=2)) == "module_order"

    def test_module_two_after_a_booked_module_one_is_allowed(self):
        enrolment = make_enrolment(bookings=first_modules_booked(1, first_day=0))
        assert allowed(enrolment, make_session(module=2, starts_at=day(7)))

    def test_module_two_after_an_attended_module_one_is_allowed(self):
        enrolment = make_enrolment(bookings=attended_core(first_day=0, count=1))
        assert allowed(enrolment, make_session(module=2, starts_at=day(7)))

    def test_module_two_before_the_booked_module_one_is_refused(self):
        enrolment = make_enrolment(bookings=first_modules_booked(1, first_day=20))
        assert refusal(enrolment, make_session(module=2, starts_at=day(7))) == "module_order"

    def test_a_module_missed_earlier_leaves_a_gap_in_the_order(self):
        missed = make_booking(module=1, starts_at=day(0), status="absent_excused")
        enrolment = make_enrolment(bookings=[missed])
        assert refusal(enrolment, make_session(module=2, starts_at=day(7))) == "module_order"

    def test_module_two_after_a_booked_module_three_is_refused(self):
        enrolment = make_enrolment(
            bookings=[
                make_booking(id=1, module=1, starts_at=day(0)),
                make_booking(id=3, module=3, starts_at=day(7)),
            ]
        )
        assert refusal(enrolment, make_session(module=2, starts_at=day(14))) == "module_order"

    def test_module_two_between_module_one_and_a_booked_module_three_is_allowed(self):
        enrolment = make_enrolment(
            bookings=[
                make_booking(id=1, module=1, starts_at=day(0)),
                make_booking(id=3, module=3, starts_at=day(14)),
            ]
        )
        assert allowed(enrolment, make_session(module=2, starts_at=day(7)))

    def test_an_any_order_programme_takes_module_five_first(self):
        assert allowed(make_enrolment(), make_session(module=5), rules=ANY_ORDER)


class TestSpacing:
    def test_a_session_exactly_seven_days_after_another_is_allowed(self):
        enrolment = make_enrolment(bookings=first_modules_booked(1, first_day=0))
        assert allowed(enrolment, make_session(module=2, starts_at=day(7)))

    def test_a_session_six_days_after_another_is_refused(self):
        enrolment = make_enrolment(bookings=first_modules_booked(1, first_day=0))
        assert refusal(enrolment, make_session(module=2, starts_at=day(6))) == "spacing"

    def test_spacing_counts_calendar_days_not_hours(self):
        enrolment = make_enrolment(bookings=[make_booking(module=1, starts_at=day(0, hour=20))])
        assert allowed(enrolment, make_session(module=2, starts_at=day(7, hour=9)))

    def test_spacing_holds_in_both_directions_in_an_any_order_programme(self):
        enrolment = make_enrolment(bookings=[make_booking(module=3, starts_at=day(20))])
        assert refusal(enrolment, make_session(module=1, starts_at=day(14)), rules=ANY_ORDER) == (
            "spacing"
        )
        assert allowed(enrolment, make_session(module=1, starts_at=day(13)), rules=ANY_ORDER)
        assert refusal(enrolment, make_session(module=1, starts_at=day(26)), rules=ANY_ORDER) == (
            "spacing"
        )
        assert allowed(enrolment, make_session(module=1, starts_at=day(27)), rules=ANY_ORDER)

    @pytest.mark.parametrize("status", ["absent_excused", "absent_unexcused", "cancelled"])
    def test_bookings_that_hold_no_module_do_not_count_for_spacing(self, status):
        enrolment = make_enrolment(
            bookings=[make_booking(module=3, starts_at=day(20), status=status)]
        )
        assert allowed(enrolment, make_session(module=1, starts_at=day(19)), rules=ANY_ORDER)

    def test_the_programme_setting_changes_the_spacing(self):
        rules = ProgrammeRules(min_days_between_sessions=3)
        enrolment = make_enrolment(bookings=first_modules_booked(1, first_day=0))
        assert allowed(enrolment, make_session(module=2, starts_at=day(3)), rules=rules)
        assert refusal(enrolment, make_session(module=2, starts_at=day(2)), rules=rules) == (
            "spacing"
        )


class TestFollowUp:
    def test_the_follow_up_before_the_core_is_complete_is_refused(self):
        enrolment = make_enrolment(
            status="awaiting_follow_up",
            follow_up_window=WINDOW,
            bookings=attended_core(count=4),
        )
        session = make_session(module=FOLLOW_UP, starts_at=london(WINDOW[0]))
        assert refusal(enrolment, session) == "follow_up_not_due"

    def test_the_follow_up_without_a_window_is_refused(self):
        session = make_session(module=FOLLOW_UP, starts_at=london(WINDOW[0]))
        assert refusal(awaiting_follow_up(follow_up_window=None), session) == "follow_up_not_due"

    @pytest.mark.parametrize("on", WINDOW)
    def test_the_follow_up_on_the_first_or_last_day_of_the_window_is_allowed(self, on):
        session = make_session(module=FOLLOW_UP, starts_at=london(on))
        assert allowed(awaiting_follow_up(), session)

    @pytest.mark.parametrize("on", [WINDOW[0] - timedelta(days=1), WINDOW[1] + timedelta(days=1)])
    def test_the_follow_up_a_day_outside_the_window_is_refused(self, on):
        session = make_session(module=FOLLOW_UP, starts_at=london(on))
        assert refusal(awaiting_follow_up(), session) == "outside_follow_up_window"

    def test_the_follow_up_ignores_the_core_deadline_and_spacing(self):
        session = make_session(module=FOLLOW_UP, starts_at=london(WINDOW[0]))
        assert allowed(awaiting_follow_up(bookings=attended_core(first_day=300)), session)

    def test_an_attended_follow_up_may_not_be_booked_again(self):
        done = make_booking(id=9, module=FOLLOW_UP, starts_at=london(WINDOW[0]), status="attended")
        enrolment = awaiting_follow_up(bookings=[*attended_core(), done])
        session = make_session(module=FOLLOW_UP, starts_at=london(WINDOW[1]))
        assert refusal(enrolment, session) == "module_already_attended"


class TestOrderOfChecks:
    def test_a_closed_enrolment_is_reported_before_a_cancelled_session(self):
        session = make_session(status="cancelled")
        assert refusal(make_enrolment(status="referred"), session) == "enrolment_closed"

    def test_a_cancelled_session_is_reported_before_it_being_in_the_past(self):
        session = make_session(status="cancelled", starts_at=NOW - timedelta(days=1))
        assert refusal(make_enrolment(), session) == "session_cancelled"

    def test_a_past_session_is_reported_before_an_attended_module(self):
        enrolment = make_enrolment(bookings=[make_booking(module=1, status="attended")])
        session = make_session(id=2, starts_at=NOW - timedelta(days=1))
        assert refusal(enrolment, session) == "session_in_past"

    def test_already_booked_is_reported_before_the_session_being_full(self):
        enrolment = make_enrolment(bookings=[make_booking(module=1, session_id=1)])
        assert refusal(enrolment, make_session(id=1, booked=10)) == "already_booked"

    def test_a_full_session_is_reported_before_the_deadline(self):
        session = make_session(starts_at=london(DEADLINE + timedelta(days=1)), booked=10)
        assert refusal(make_enrolment(), session) == "session_full"

    def test_the_deadline_is_reported_before_the_module_order(self):
        session = make_session(module=3, starts_at=london(DEADLINE + timedelta(days=1)))
        assert refusal(make_enrolment(), session) == "after_deadline"

    def test_the_module_order_is_reported_before_the_spacing(self):
        enrolment = make_enrolment(bookings=first_modules_booked(1, first_day=0))
        assert refusal(enrolment, make_session(module=3, starts_at=day(1))) == "module_order"

    def test_an_incomplete_core_is_reported_before_a_date_outside_the_window(self):
        enrolment = awaiting_follow_up(bookings=attended_core(count=4))
        session = make_session(module=FOLLOW_UP, starts_at=london(date(2028, 6, 1)))
        assert refusal(enrolment, session) == "follow_up_not_due"


def test_attended_modules_ignore_bookings_not_attended():
    enrolment = make_enrolment(
        bookings=[
            make_booking(id=1, module=1, status="attended"),
            make_booking(id=2, module=2, status="booked"),
            make_booking(id=3, module=3, status="absent_excused"),
        ]
    )
    assert attended_modules(enrolment) == {1}
    assert not core_complete(RULES, enrolment)
    assert core_complete(RULES, make_enrolment(bookings=attended_core()))


class TestRegisterOverdue:
    """A booking in the way whose session happened without an outcome: take the register."""

    def test_module_two_before_a_module_three_never_registered_asks_for_that_register(self):
        enrolment = make_enrolment(bookings=[
            make_booking(id=1, module=1, starts_at=day(0), status="attended"),
            make_booking(id=2, module=2, starts_at=day(7), status="absent_unexcused"),
            make_booking(id=3, module=3, starts_at=day(14)),
        ])
        session = make_session(module=2, starts_at=day(28))

        with pytest.raises(RuleViolation) as refused:
            check_booking(RULES, enrolment, session, now=day(20))

        assert refused.value.code == "register_overdue"
        assert refused.value.message.startswith(
            "Record the register for module 3 on 16 November 2026 first")

    def test_the_same_booking_still_to_come_is_an_ordinary_order_refusal(self):
        enrolment = make_enrolment(bookings=[
            make_booking(id=1, module=1, starts_at=day(0), status="attended"),
            make_booking(id=3, module=3, starts_at=day(14)),
        ])
        session = make_session(module=2, starts_at=day(21))

        assert refusal(enrolment, session, now=day(10)) == "module_order"

    def test_a_session_too_close_to_one_never_registered_asks_for_that_register(self):
        enrolment = make_enrolment(bookings=[make_booking(id=1, module=1, starts_at=day(0))])

        assert refusal(enrolment, make_session(module=2, starts_at=day(3)),
                       now=day(1)) == "register_overdue"

    def test_the_module_itself_booked_in_the_past_without_an_outcome_asks_for_its_register(
            self):
        enrolment = make_enrolment(bookings=[make_booking(id=1, module=1, starts_at=day(0))])

        assert refusal(enrolment, make_session(module=1, starts_at=day(14)),
                       now=day(1)) == "register_overdue"

    def test_a_register_never_taken_that_is_not_in_the_way_refuses_nothing(self):
        enrolment = make_enrolment(bookings=[make_booking(id=1, module=1, starts_at=day(0))])

        assert allowed(enrolment, make_session(module=2, starts_at=day(14)), now=day(1))

    def test_an_attended_session_in_the_way_is_an_ordinary_spacing_refusal(self):
        enrolment = make_enrolment(bookings=[
            make_booking(id=1, module=1, starts_at=day(0), status="attended")])

        assert refusal(enrolment, make_session(module=2, starts_at=day(3)),
                       now=day(1)) == "spacing"
